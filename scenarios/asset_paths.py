"""Confine asset paths to the scenario's folder and the user's ``--asset-root`` folders.

A path is resolved against the scenario folder first, then against each asset root in order;
its real path (symlinks followed) must lie inside one of those folders. Absolute paths are
accepted only when they too lie inside one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_ASSET_BYTES", "AssetPathError", "confine"]

MAX_ASSET_BYTES = 1 << 30
"""Largest single asset file accepted (1 GiB)."""


@dataclass(frozen=True)
class AssetPathError(Exception):
    message: str
    expected: str
    got: str


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def confine(raw: str, base_dir: Path, roots: tuple[Path, ...], suffixes: tuple[str, ...]) -> Path:
    """Real path of ``raw``, or :class:`AssetPathError` saying why it cannot be used."""
    if "\x00" in raw:
        raise AssetPathError("path contains a NUL character", "a file path", repr(raw))
    allowed = [os.path.realpath(base_dir), *(os.path.realpath(r) for r in roots)]
    where = "the scenario folder" + (" or an --asset-root" if roots else "")
    raw_path = Path(raw)
    candidates = [raw_path] if raw_path.is_absolute() else [base_dir / raw_path, *(r / raw_path for r in roots)]
    chosen = next((c for c in candidates if c.exists()), candidates[0])
    real = os.path.realpath(chosen)
    if not any(_inside(real, folder) for folder in allowed):
        raise AssetPathError(f"path escapes {where}", f"a file under {where}", raw)
    if not os.path.exists(real):
        raise AssetPathError("file not found", f"an existing file under {where}", raw)
    if not os.path.isfile(real):
        raise AssetPathError("not a regular file", "a file", raw)
    if suffixes and not real.lower().endswith(suffixes):
        raise AssetPathError("unsupported file type", "one of " + ", ".join(suffixes), Path(real).suffix or raw)
    size = os.path.getsize(real)
    if size > MAX_ASSET_BYTES:
        raise AssetPathError("file is too large", f"at most {MAX_ASSET_BYTES} bytes", f"{size} bytes")
    return Path(real)
