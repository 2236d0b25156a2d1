"""A frame's content hash: BLAKE3 over (annotator, render product, key, dtype, shape, bytes) in
sorted order, non-array values as canonical JSON (writers/content_hash.py's docstring)."""

from __future__ import annotations

import json

import blake3
import numpy as np
from scenesmith.writers.content_hash import FRAME_HASH, frame_content_hash


def _payload(depth: np.ndarray) -> dict:
    return {
        "annotators": {
            "rgb": {"cam": {"data": np.arange(12, dtype=np.uint8).reshape(2, 2, 3)}},
            "distance_to_camera": {"cam": {"data": depth}},
            "camera": {"cam": "/World/Cam"},
            "resolution": {"cam": [2, 2]},
        }
    }


def _expected(payload: dict) -> str:
    """The documented serialisation, written out for this payload."""
    h = blake3.blake3()

    def part(*names: str) -> None:
        for name in names:
            h.update(name.encode() + b"\0")

    for annotator in ("distance_to_camera", "rgb"):  # sorted
        arr = payload["annotators"][annotator]["cam"]["data"]
        part(annotator, "cam", "data")
        h.update(arr.dtype.str.encode() + b"\0" + str(arr.shape).encode() + b"\0" + arr.tobytes() + b"\1")
    for group, value in (("camera", {"cam": "/World/Cam"}), ("resolution", {"cam": [2, 2]})):
        part(group)
        h.update(json.dumps(value, sort_keys=True, separators=(",", ":")).encode() + b"\1")
    return h.hexdigest()


def test_content_hash_is_blake3_of_the_documented_serialisation() -> None:
    assert FRAME_HASH == "blake3"
    payload = _payload(np.full((2, 2), 1.5, dtype=np.float32))
    assert frame_content_hash(payload) == _expected(payload)


def test_content_hash_sees_one_changed_value_and_ignores_insertion_order() -> None:
    depth = np.full((2, 2), 1.5, dtype=np.float32)
    base = frame_content_hash(_payload(depth))
    changed = depth.copy()
    changed[1, 1] = np.nextafter(np.float32(1.5), np.float32(2))
    assert frame_content_hash(_payload(changed)) != base
    reordered = _payload(depth)
    reordered["annotators"] = dict(reversed(list(reordered["annotators"].items())))
    assert frame_content_hash(reordered) == base
    assert frame_content_hash(_payload(depth.astype(np.float64))) != base  # dtype is part of it
