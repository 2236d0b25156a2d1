"""HDF5 writer: one file per shard, every annotator of every sensor, growing along frames.

Layout of ``hdf5/shard_<id:06d>.h5`` (also in the README):

- root attributes: ``schema_version``, ``tool_version``, ``scenario_digest``,
  ``randomization_digest``, ``seed``, ``frame_start``, ``frame_stop``, ``conventions`` (JSON:
  units, matrix and quaternion conventions, camera axes), ``layout`` (a short description);
- ``frames`` (N,) int64 frame indices; ``frame_params`` (N,) JSON lineage of each frame;
  ``reference_time`` (N, 2) int64 (numerator, denominator) seconds;
- ``cameras/<camera>/<annotator>/<key>`` and ``lidars/<lidar>/<annotator>/<key>``, one entry
  per key of Replicator's flat annotator output:
  - image-like arrays (``rgb``, depths, normals, segmentations, ``camera_params`` arrays):
    a dataset (N, …) chunked one frame per chunk, compressed;
  - ragged arrays (boxes, occlusion, point clouds, LiDAR returns) and string lists
    (``primPaths``): ``<key>/values`` concatenated over frames plus ``<key>/frame_offsets``
    (N + 1) int64 — frame i is ``values[offsets[i]:offsets[i+1]]`` (DESIGN §9);
  - mappings (``idToLabels``, ``idToSemantics``): (N,) JSON strings per frame (integer ids as
    ``"3"``, colorized keys as ``"(r, g, b, a)"``); ids are stable across frames;
  - scalars and strings: (N,) datasets.
- ``physics/…``: the physics state (see the physics writer section of the README).

Files are byte-identical across identical runs: no timestamps are stored, datasets are created
in sorted order and written under a temporary name, renamed when complete.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.outputs import PHYSICS_STATE_KEY, SCENESMITH_KEY
from ..sensors.physics_state import PHYSICS_FIELDS
from .base import ShardContext, Writer, tmp_path_for
from .content_hash import canonical

__all__ = ["CONVENTIONS", "FIXED_KEYS", "Hdf5Writer"]

FIXED_KEYS: dict[str, tuple[str, ...]] = {
    "rgb": ("data",),
    "distance_to_camera": ("data",),
    "distance_to_image_plane": ("data",),
    "normals": ("data",),
    "instance_segmentation": ("data",),
    "instance_id_segmentation": ("data",),
    "semantic_segmentation": ("data",),
}
"""Arrays of the same shape every frame (stored as (N, …) datasets); camera_params arrays too."""

UNITS = {
    ("distance_to_camera", "data"): "m",
    ("distance_to_image_plane", "data"): "m",
    ("pointcloud", "data"): "m",
    ("bounding_box_2d_tight", "data"): "px (x_max, y_max inclusive)",
    ("bounding_box_2d_loose", "data"): "px (x_max, y_max inclusive)",
    ("bounding_box_3d", "data"): "stage units (m), local frame before scale",
}

UNITS.update({("physics_state", key): field.units for key, field in PHYSICS_FIELDS.items() if field.units})

CONVENTIONS = {
    "units": "metres, seconds, kilograms; angles in radians unless a name says _deg",
    "matrices": "row-major, row vectors: p_world = p_local @ M (translation in the last row)",
    "quaternions": "wxyz",
    "camera": "USD: looks down -Z, +Y up; pixels (u right, v down), pixel centres at +0.5",
    "cameraViewTransform": "world to camera",
    "bounding_box_3d.transform": "local to world",
    "depth_no_hit": "+inf",
}


BIG_BYTES = 1 << 16
"""Per-frame size from which an array counts as bulk data (fast compression in ``auto``)."""
PROBE_BYTES = 1 << 16
PROBE_KEEP_RAW = 0.8
"""``auto`` stores bulk data raw when zlib level 1 saves less than 20% on its first 64 KiB."""


CHUNK_BYTES = (16 << 10, 1 << 20)
"""Bounds of a ragged dataset's chunk size in bytes."""


def _chunk_rows(value: np.ndarray) -> int:
    """About one frame's rows per chunk, kept between 16 KiB and 1 MiB: appending a frame then
    rewrites (and recompresses) at most a chunk or two, never megabytes of empty rows."""
    row_bytes = max(1, value.dtype.itemsize * int(np.prod(value.shape[1:])))
    low, high = (max(1, b // row_bytes) for b in CHUNK_BYTES)
    return int(min(max(len(value), low), high))


def _is_fixed(annotator: str, key: str, value: Any) -> bool:
    if annotator == "camera_params":
        return True
    return key in FIXED_KEYS.get(annotator, ())


def _json_default(value: Any) -> Any:
    raise TypeError(f"cannot store {type(value).__name__} in HDF5 label maps")


class Hdf5Writer(Writer):
    name = "hdf5"
    required_annotators = ()

    def open(self, context: ShardContext) -> None:
        import h5py

        super().open(context)
        self.final = context.out_dir / "hdf5" / f"shard_{context.shard_id:06d}.h5"
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_path_for(self.final)
        self.file = h5py.File(self.tmp, "w", track_order=False)
        self.count = 0
        run = context.run
        attrs = self.file.attrs
        attrs["schema_version"] = run.schema_version
        attrs["tool_version"] = run.tool_version
        attrs["scenario_digest"] = run.scenario_digest
        attrs["randomization_digest"] = run.randomization_digest
        attrs["seed"] = np.int64(run.seed)
        attrs["frame_start"] = np.int64(context.frames[0])
        attrs["frame_stop"] = np.int64(context.frames[1])
        attrs["conventions"] = json.dumps(CONVENTIONS, sort_keys=True)
        attrs["layout"] = "see scenesmith README, 'HDF5 layout'"
        compression = self.options.get("compression", "auto")
        gzip = {
            "compression": "gzip",
            "compression_opts": int(self.options.get("compression_level", 4)),
            "shuffle": True,
        }
        lzf = {"compression": "lzf", "shuffle": True}
        none: dict[str, Any] = {}
        # bulk arrays (>= BIG_BYTES a frame) and small ones may compress differently
        self.compress_images, self.compress = {
            "auto": (lzf, gzip),
            "gzip": (gzip, gzip),
            "lzf": (lzf, lzf),
            "none": (none, none),
        }[compression]
        self.probe_bulk = compression == "auto"

    # ------------------------------------------------------------------ datasets

    def _settings(self, value: np.ndarray) -> dict[str, Any]:
        """Compression of a new dataset. In ``auto``, bulk data that barely compresses (point
        positions, noisy depth) is stored raw: a fast zlib probe of the first frame decides."""
        if value.nbytes < BIG_BYTES:
            return self.compress
        if self.probe_bulk:
            sample = np.ascontiguousarray(value).reshape(-1).view(np.uint8)[:PROBE_BYTES].tobytes()
            if len(zlib.compress(sample, 1)) > PROBE_KEEP_RAW * len(sample):
                return {}
        return self.compress_images

    def _fixed(self, group: Any, key: str, value: np.ndarray, units: str | None) -> None:
        if key not in group:
            ds = group.create_dataset(
                key,
                shape=(0, *value.shape),
                maxshape=(None, *value.shape),
                dtype=value.dtype,
                chunks=(1, *value.shape) if value.size else None,
                track_times=False,
                **(self._settings(value) if value.size else {}),
            )
            if units:
                ds.attrs["units"] = units
        ds = group[key]
        ds.resize(self.count + 1, axis=0)
        ds[self.count] = value

    def _ragged(self, group: Any, key: str, value: np.ndarray, units: str | None) -> None:
        if key not in group:
            sub = group.create_group(key)
            tail = value.shape[1:]
            chunk = (_chunk_rows(value), *tail)
            settings = self._settings(value)
            sub.create_dataset(
                "values",
                shape=(0, *tail),
                maxshape=(None, *tail),
                dtype=value.dtype,
                chunks=chunk,
                track_times=False,
                **settings,
            )
            offsets = sub.create_dataset(
                "frame_offsets", shape=(1,), maxshape=(None,), dtype=np.int64, chunks=(4096,), track_times=False
            )
            offsets[0] = 0
            if units:
                sub.attrs["units"] = units
        sub = group[key]
        values, offsets = sub["values"], sub["frame_offsets"]
        start = int(offsets[self.count])
        values.resize(start + len(value), axis=0)
        if len(value):
            values[start:] = value
        offsets.resize(self.count + 2, axis=0)
        offsets[self.count + 1] = start + len(value)

    def _strings(self, group: Any, key: str, value: list[str]) -> None:
        import h5py

        arr = np.array([s.encode("utf-8") for s in value], dtype=object)
        if key not in group:
            sub = group.create_group(key)
            sub.create_dataset(
                "values", shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(1024,), track_times=False
            )
            offsets = sub.create_dataset(
                "frame_offsets", shape=(1,), maxshape=(None,), dtype=np.int64, chunks=(4096,), track_times=False
            )
            offsets[0] = 0
        sub = group[key]
        values, offsets = sub["values"], sub["frame_offsets"]
        start = int(offsets[self.count])
        values.resize(start + len(arr), axis=0)
        if len(arr):
            values[start:] = arr
        offsets.resize(self.count + 2, axis=0)
        offsets[self.count + 1] = start + len(arr)

    def _scalar(self, group: Any, key: str, value: Any, units: str | None = None) -> None:
        import h5py

        if key not in group:
            if isinstance(value, str) or isinstance(value, (dict, list)):
                dtype: Any = h5py.string_dtype()
            elif isinstance(value, (bool, np.bool_)):
                dtype = np.bool_
            elif isinstance(value, (int, np.integer)):
                dtype = np.int64
            else:
                dtype = np.float64
            ds = group.create_dataset(key, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(1024,), track_times=False)
            if units:
                ds.attrs["units"] = units
        ds = group[key]
        ds.resize(self.count + 1, axis=0)
        if isinstance(value, (dict, list)):
            value = json.dumps(canonical(value), sort_keys=True, default=_json_default)
        ds[self.count] = value

    def _store(self, group: Any, annotator: str, output: dict[str, Any]) -> None:
        for key in sorted(output):
            value = output[key]
            units = UNITS.get((annotator, key))
            if isinstance(value, np.ndarray):
                if _is_fixed(annotator, key, value):
                    self._fixed(group, key, value, units)
                else:
                    self._ragged(group, key, value if value.ndim else value.reshape(1), units)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                self._strings(group, key, value)
            else:
                self._scalar(group, key, value, units)

    # ------------------------------------------------------------------ frames

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        root = self.file
        lidars = set(self.context.run.lidars)
        annotators = payload["annotators"]
        for annotator in sorted(k for k in annotators if k not in ("camera", "resolution")):
            for rp in sorted(annotators[annotator]):
                kind = "lidars" if rp in lidars else "cameras"
                group = root.require_group(f"{kind}/{rp}/{annotator}")
                self._store(group, annotator, annotators[annotator][rp])
        for rp in sorted(annotators.get("camera", {})):
            group = root.require_group(f"cameras/{rp}")
            group.attrs["camera"] = annotators["camera"][rp]
            group.attrs["resolution"] = np.asarray(annotators["resolution"][rp], dtype=np.int64)
        self._scalar(root, "frames", int(payload["swhFrameNumber"]))
        lineage = payload.get(SCENESMITH_KEY, {}).get("frame_params")
        self._scalar(root, "frame_params", json.dumps(lineage, sort_keys=True) if lineage is not None else "")
        self._fixed(root, "reference_time", np.asarray(payload["reference_time"], dtype=np.int64), "s (num, den)")
        state = payload.get(PHYSICS_STATE_KEY)
        if state is not None:
            self._store(root.require_group("physics"), "physics_state", state)
        self.count += 1

    def close(self) -> list[Path]:
        self.file.flush()
        self.file.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.tmp, self.final)
        return [self._rel(self.final)]
