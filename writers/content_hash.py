"""A frame's content hash (DESIGN §9 "Shards and manifest", with BLAKE3 for sha256).

BLAKE3 over the frame's annotations serialised as (annotator, render product, key, dtype,
shape, bytes) in sorted order; non-array values as canonical JSON. The physics state, when
present, is hashed the same way under the annotator name ``physics_state``.

Why not sha256, as DESIGN §9 says: a frame of the reference scene is ~21 MB of arrays, which
sha256 (with SHA-NI) hashes in ~12 ms and BLAKE3 in ~3 ms on one core — 9 ms a frame of the
writers' budget (issue 6: ≤ 20% of an ~100 ms capture). The digest is as strong (256 bits,
cryptographic) and only ever compared with other scenesmith runs; files keep sha256
(``manifest.json`` ``files``) so ``sha256sum`` checks them. ``FRAME_HASH`` names the algorithm
in the run parameters, so ``--resume`` refuses a folder hashed otherwise.
"""

from __future__ import annotations

import json
from typing import Any

import blake3
import numpy as np

from ..sensors.outputs import PHYSICS_STATE_KEY

__all__ = ["FRAME_HASH", "canonical", "frame_content_hash"]

FRAME_HASH = "blake3"
"""The content hash's algorithm, recorded in ``run.json`` and the manifest."""


def canonical(value: Any) -> Any:
    """JSON-ready form with string keys (tuple keys as "(r, g, b, a)") and sorted structure."""
    if isinstance(value, dict):
        return {
            (("(" + ", ".join(str(int(x)) for x in k) + ")") if isinstance(k, tuple) else str(k)): canonical(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return canonical(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _update(h: Any, parts: tuple[str, ...], value: Any) -> None:
    for part in parts:
        h.update(part.encode() + b"\0")
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        h.update(str(arr.dtype.descr if arr.dtype.names else arr.dtype.str).encode() + b"\0")
        h.update(str(arr.shape).encode() + b"\0")
        h.update(arr.reshape(-1).view(np.uint8).data if arr.size else b"")  # the bytes, without a copy
    else:
        h.update(json.dumps(canonical(value), sort_keys=True, separators=(",", ":")).encode())
    h.update(b"\1")


def frame_content_hash(payload: dict[str, Any]) -> str:
    h = blake3.blake3()
    annotators = payload["annotators"]
    for name in sorted(k for k in annotators if k not in ("camera", "resolution")):
        for rp in sorted(annotators[name]):
            output = annotators[name][rp]
            for key in sorted(output):
                _update(h, (name, rp, key), output[key])
    for group in ("camera", "resolution"):
        _update(h, (group,), annotators.get(group, {}))
    state = payload.get(PHYSICS_STATE_KEY)
    if state is not None:
        for key in sorted(state):
            _update(h, (PHYSICS_STATE_KEY, key), state[key])
    return h.hexdigest()
