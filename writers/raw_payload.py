"""Write a payload as it stands: one ``.npy`` per array, one JSON for everything else.

For debugging and for tests through the CLI (``scenesmith capture``). Arrays keep their exact
dtype and shape (structured dtypes included); in ``payload.json`` each array is replaced by
``{"$npy": "<relative path>", "dtype": ..., "shape": [...]}``. JSON object keys must be strings,
so integer ids become ``"3"`` and colorized RGBA keys ``"(r, g, b, a)"`` — as Replicator's own
writers write them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["json_key", "read_payload", "write_payload"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def json_key(key: Any) -> str:
    """``3`` → ``"3"``; ``(35, 198, 233, 255)`` → ``"(35, 198, 233, 255)"``."""
    if isinstance(key, tuple):
        return "(" + ", ".join(str(int(k)) for k in key) + ")"
    return str(key)


def _encode(value: Any, folder: Path, rel: str) -> Any:
    if isinstance(value, np.ndarray):
        path = folder / f"{rel}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, value, allow_pickle=False)
        return {
            "$npy": f"{rel}.npy",
            "dtype": value.dtype.str if value.dtype.names is None else value.dtype.descr,
            "shape": list(value.shape),
        }
    if isinstance(value, dict):
        return {json_key(k): _encode(v, folder, f"{rel}/{_SAFE.sub('_', json_key(k))}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, folder, f"{rel}/{i}") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_payload(payload: dict[str, Any], folder: Path) -> None:
    """Write ``payload`` into ``folder`` (which must exist and be empty)."""
    encoded = _encode(payload, folder, "payload")
    (folder / "payload.json").write_text(json.dumps(encoded, indent=1, sort_keys=True, allow_nan=True) + "\n")


def _decode(value: Any, folder: Path) -> Any:
    if isinstance(value, dict):
        if "$npy" in value:
            return np.load(folder / value["$npy"], allow_pickle=False)
        return {k: _decode(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, folder) for v in value]
    return value


def read_payload(folder: Path) -> dict[str, Any]:
    """The payload back, with arrays loaded (dict keys stay strings)."""
    return _decode(json.loads((folder / "payload.json").read_text()), folder)
