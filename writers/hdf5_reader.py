"""Read scenesmith HDF5 shards back into per-frame payloads (the writer's inverse)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .splits import DEFAULT_SPLITS

__all__ = ["decode_label_map", "read_frames"]

_RGBA = re.compile(r"^\((\d+), (\d+), (\d+), (\d+)\)$")


def _key(text: str) -> Any:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = _RGBA.match(text)
    if match:
        return tuple(int(v) for v in match.groups())
    return text


def decode_label_map(text: str) -> Any:
    """JSON label map with its integer / RGBA-tuple keys restored."""
    value = json.loads(text)
    if isinstance(value, dict):
        return {_key(k): v for k, v in value.items()}
    return value


def _read_entry(node: Any, i: int) -> Any:
    import h5py

    if isinstance(node, h5py.Group):
        offsets = node["frame_offsets"]
        values = node["values"][offsets[i] : offsets[i + 1]]
        if values.dtype == object or h5py.check_string_dtype(node["values"].dtype):
            return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
        return values
    value = node[i]
    if h5py.check_string_dtype(node.dtype):
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        return decode_label_map(text) if text[:1] in "{[" else text
    if isinstance(value, np.ndarray):
        return value
    return value.item() if isinstance(value, np.generic) else value


def _output(group: Any, i: int) -> dict[str, Any]:
    return {key: _read_entry(group[key], i) for key in group}


def read_frames(path: Path) -> Iterator[dict[str, Any]]:
    """Every frame of a shard file as ``{"frame": i, "split": name, "annotators": {...},
    "physics_state": ...}`` (``split``: the file's ``split`` dataset, else the default split)."""
    import h5py

    with h5py.File(path, "r") as f:
        for i in range(len(f["frames"])):
            annotators: dict[str, Any] = {"camera": {}, "resolution": {}}
            for kind in ("cameras", "lidars"):
                for rp in f.get(kind, {}):
                    sensor = f[kind][rp]
                    if kind == "cameras":
                        annotators["camera"][rp] = sensor.attrs["camera"]
                        annotators["resolution"][rp] = [int(v) for v in sensor.attrs["resolution"]]
                    for annotator in sensor:
                        annotators.setdefault(annotator, {})[rp] = _output(sensor[annotator], i)
            split = f["split"][i] if "split" in f else DEFAULT_SPLITS[0][0]
            frame = {
                "frame": int(f["frames"][i]),
                "split": split.decode("utf-8") if isinstance(split, bytes) else str(split),
                "annotators": annotators,
                "reference_time": tuple(int(v) for v in f["reference_time"][i]),
            }
            if "physics" in f:
                frame["physics_state"] = _output(f["physics"], i)
            params = f["frame_params"][i]
            frame["frame_params"] = json.loads(params) if params else None
            yield frame
