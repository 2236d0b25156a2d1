"""HDF5 writer: one file per shard, every annotator of every sensor, growing along frames.

Layout of ``hdf5/shard_<id:06d>.h5`` (also in the README):

- root attributes: ``schema_version``, ``tool_version``, ``scenario_digest``,
  ``randomization_digest``, ``seed``, ``frame_start``, ``frame_stop``, ``conventions`` (JSON:
  units, matrix and quaternion conventions, camera axes), ``layout`` (a short description);
- ``frames`` (N,) int64 frame indices; ``frame_params`` (N,) JSON lineage of each frame;
  ``reference_time`` (N, 2) int64 (numerator, denominator) seconds; with ``output.splits``,
  ``split`` (N,) each frame's split name and the root attribute ``splits`` (JSON
  ``[[name, fraction], ...]``); without them (one split, ``train``) neither is written;
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
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from ..sensors.lens import lens_of_camera_params
from ..sensors.outputs import PHYSICS_STATE_KEY, SCENESMITH_KEY
from ..sensors.physics_state import PHYSICS_FIELDS
from ..sensors.spec_base import Spec
from ..sensors.stereo import STEREO_KEY
from .base import ShardContext, Writer, tmp_path_for
from .content_hash import canonical
from .hdf5_chunks import DirectChunks, deflate_level
from .splits import DEFAULT_SPLITS

__all__ = ["CONVENTIONS", "FIXED_KEYS", "Hdf5Writer", "Hdf5WriterSpec"]

FIXED_KEYS: dict[str, tuple[str, ...]] = {
    "rgb": ("data",),
    "HdrColor": ("data",),
    "distance_to_camera": ("data",),
    "distance_to_image_plane": ("data",),
    "normals": ("data",),
    "instance_segmentation": ("data",),
    "instance_id_segmentation": ("data",),
    "semantic_segmentation": ("data",),
    "DiffuseAlbedo": ("data",),
    "raw": ("data",),
    "depth_sensor": ("data",),
    "motion_vectors": ("data",),
}
"""Arrays of the same shape every frame (stored as (N, …) datasets); camera_params arrays too."""

UNITS = {
    ("HdrColor", "data"): "linear radiance, the scene's light units (README: Lighting)",
    ("distance_to_camera", "data"): "m",
    ("distance_to_image_plane", "data"): "m",
    ("raw", "data"): "DN (sensor counts, black level included, before white balance and gamma)",
    ("depth_sensor", "data"): "m along the optical axis; NaN no depth, -inf too near, +inf too far (REP 118)",
    ("DiffuseAlbedo", "data"): "diffuse reflectance x 255 (linear)",
    ("pointcloud", "data"): "m",
    ("bounding_box_2d_tight", "data"): "px (x_max, y_max inclusive)",
    ("bounding_box_2d_loose", "data"): "px (x_max, y_max inclusive)",
    ("bounding_box_3d", "data"): "stage units (m), local frame before scale",
    ("motion_vectors", "data"): "px over the frame interval before the frame: x left, y up positive",
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


_CREATE: dict[str, Any] = {"track_times": False, "fill_time": "alloc"}
"""Every dataset: no timestamps, and chunks filled with the fill value when allocated, so the
part of a last chunk beyond the dataset's extent is defined rather than left to the library
(reproducible bytes also need a deterministic codec: see ``open``)."""

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


class Hdf5WriterSpec(Spec):
    """Options of the HDF5 writer (``output.writers.hdf5``)."""

    compression: Literal["auto", "gzip", "lzf", "none"] = "auto"
    """``auto``: gzip level 1 + shuffle for bulk arrays (raw when they barely compress), gzip at
    ``compression_level`` for small ones — readable by any HDF5 reader and byte-reproducible;
    ``lzf`` is faster but needs h5py to read and is *not* byte-reproducible across runs."""
    compression_level: Annotated[int, Field(strict=True, ge=0, le=9)] = 4
    """gzip level for small arrays (0-9)."""


class Hdf5Writer(Writer):
    name = "hdf5"
    options_spec = Hdf5WriterSpec
    enabled_by_default = True
    summary = "HDF5 shards of every annotator"
    replicator_class_name = "ScenesmithHdf5Writer"
    output_patterns = ("hdf5/shard_<n>.h5",)
    required_annotators = ()

    def open(self, context: ShardContext) -> None:
        import h5py

        super().open(context)
        self.final = context.out_dir / "hdf5" / f"shard_{context.shard_id:06d}.h5"
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_path_for(self.final)
        self.file = h5py.File(self.tmp, "w", track_order=False)
        self.count = 0
        self._groups: dict[str, Any] = {}
        self._datasets: dict[tuple[str, str], Any] = {}
        self._ends: dict[tuple[str, str], int] = {}
        """Rows in each concatenated ``values`` dataset (so appending never reads the file)."""
        self._pending: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self._deferred: set[tuple[str, str]] = set()
        """Concatenated datasets whose frames are held back for one write at close."""
        self._direct: dict[tuple[str, str], DirectChunks] = {}
        """Bulk datasets whose chunks this writer filters and writes itself (``auto``)."""
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
        self.with_splits = tuple(run.splits) != DEFAULT_SPLITS
        if self.with_splits:  # a default run's file stays as it was: every frame is train
            attrs["splits"] = json.dumps([[name, fraction] for name, fraction in run.splits])
        compression = self.options.get("compression", "auto")
        gzip = {
            "compression": "gzip",
            "compression_opts": int(self.options.get("compression_level", 4)),
            "shuffle": True,
        }
        # in ``auto`` the bulk chunks are shuffled and deflated here, by ISA-L (hdf5_chunks.py)
        fast_gzip = {"compression": "gzip", "compression_opts": deflate_level(), "shuffle": True}
        # LZF is faster, but h5py's liblzf leaves its hash table uninitialised (INIT_HTAB 0): the
        # same chunk can compress to different bytes from run to run (seen: a 3-byte difference
        # in one LiDAR chunk), which breaks byte-identical shards. zlib is deterministic.
        lzf = {"compression": "lzf", "shuffle": True}
        none: dict[str, Any] = {}
        # bulk arrays (>= BIG_BYTES a frame) and small ones may compress differently
        self.compress_images, self.compress = {
            "auto": (fast_gzip, gzip),
            "gzip": (gzip, gzip),
            "lzf": (lzf, lzf),
            "none": (none, none),
        }[compression]
        self.probe_bulk = self.direct_bulk = compression == "auto"

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

    def _group(self, path: str) -> Any:
        """The group at ``path`` ("" is the root), looked up in HDF5 once per shard."""
        group = self._groups.get(path)
        if group is None:
            group = self._groups[path] = self.file.require_group(path) if path else self.file
        return group

    def _fixed(self, path: str, key: str, value: np.ndarray, units: str | None) -> None:
        ds = self._datasets.get((path, key))
        if ds is None:
            ds = self._group(path).create_dataset(
                key,
                shape=(0, *value.shape),
                maxshape=(None, *value.shape),
                dtype=value.dtype,
                chunks=(1, *value.shape) if value.size else None,
                **_CREATE,
                **(self._settings(value) if value.size else {}),
            )
            if units:
                ds.attrs["units"] = units
            self._datasets[(path, key)] = ds
            self._maybe_direct(path, key, ds, value)
        if value.nbytes < BIG_BYTES:
            self._pending.setdefault((path, key), []).append((self.count, value))
            return
        direct = self._direct.get((path, key))
        if direct is not None and direct.rows == self.count:
            direct.append(value[None])
            return
        ds.resize(self.count + 1, axis=0)
        ds[self.count] = value

    def _maybe_direct(self, path: str, key: str, ds: Any, value: np.ndarray) -> None:
        """Bulk datasets in ``auto`` get their chunks written by ``DirectChunks``."""
        if self.direct_bulk and value.nbytes >= BIG_BYTES and ds.chunks is not None:
            self._direct[(path, key)] = DirectChunks(ds, deflate=ds.compression == "gzip")

    def _concatenated(
        self, path: str, key: str, create: Callable[[Any], Any], units: str | None = None
    ) -> tuple[Any, Any]:
        """``<key>/values`` (made by ``create`` in the new group) and ``<key>/frame_offsets``."""
        handles = self._datasets.get((path, key))
        if handles is None:
            sub = self._group(path).create_group(key)
            values = create(sub)
            offsets = sub.create_dataset(
                "frame_offsets", shape=(1,), maxshape=(None,), dtype=np.int64, chunks=(4096,), **_CREATE
            )
            offsets[0] = 0
            if units:
                sub.attrs["units"] = units
            handles = self._datasets[(path, key)] = (values, offsets)
            self._ends[(path, key)] = 0
        return handles

    def _append(self, path: str, key: str, handles: tuple[Any, Any], value: np.ndarray) -> None:
        if (path, key) in self._deferred:
            self._pending.setdefault((path, key), []).append((self.count, value))
            return
        values, offsets = handles
        start = self._ends[(path, key)]
        end = self._ends[(path, key)] = start + len(value)
        direct = self._direct.get((path, key))
        if direct is not None:
            direct.append(value)
        else:
            values.resize(end, axis=0)
            if len(value):
                values[start:] = value
        offsets.resize(self.count + 2, axis=0)
        offsets[self.count + 1] = end

    def _ragged(self, path: str, key: str, value: np.ndarray, units: str | None) -> None:
        def create(sub: Any) -> Any:
            tail = value.shape[1:]
            if value.nbytes < BIG_BYTES:
                self._deferred.add((path, key))
            values = sub.create_dataset(
                "values",
                shape=(0, *tail),
                maxshape=(None, *tail),
                dtype=value.dtype,
                chunks=(_chunk_rows(value), *tail),
                **_CREATE,
                **self._settings(value),
            )
            self._maybe_direct(path, key, values, value)
            return values

        self._append(path, key, self._concatenated(path, key, create, units), value)

    def _strings(self, path: str, key: str, value: list[str]) -> None:
        import h5py

        def create(sub: Any) -> Any:
            self._deferred.add((path, key))
            return sub.create_dataset(
                "values", shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(1024,), **_CREATE
            )

        arr = np.array([s.encode("utf-8") for s in value], dtype=object)
        self._append(path, key, self._concatenated(path, key, create), arr)

    def _scalar(self, path: str, key: str, value: Any, units: str | None = None) -> None:
        import h5py

        ds = self._datasets.get((path, key))
        if ds is None:
            if isinstance(value, str) or isinstance(value, (dict, list)):
                dtype: Any = h5py.string_dtype()
            elif isinstance(value, (bool, np.bool_)):
                dtype = np.bool_
            elif isinstance(value, (int, np.integer)):
                dtype = np.int64
            else:
                dtype = np.float64
            ds = self._group(path).create_dataset(
                key, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(1024,), **_CREATE
            )
            if units:
                ds.attrs["units"] = units
            self._datasets[(path, key)] = ds
        if isinstance(value, (dict, list)):
            value = json.dumps(canonical(value), sort_keys=True, default=_json_default)
        self._pending.setdefault((path, key), []).append((self.count, value))

    def _store(self, path: str, annotator: str, output: dict[str, Any]) -> None:
        for key in sorted(output):
            value = output[key]
            units = UNITS.get((annotator, key))
            if isinstance(value, np.ndarray):
                if _is_fixed(annotator, key, value):
                    self._fixed(path, key, value, units)
                else:
                    self._ragged(path, key, value if value.ndim else value.reshape(1), units)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                self._strings(path, key, value)
            else:
                self._scalar(path, key, value, units)

    # ------------------------------------------------------------------ frames

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        lidars = set(self.context.run.lidars)
        annotators = payload["annotators"]
        for annotator in sorted(k for k in annotators if k not in ("camera", "resolution")):
            for rp in sorted(annotators[annotator]):
                kind = "lidars" if rp in lidars else "cameras"
                self._store(f"{kind}/{rp}/{annotator}", annotator, annotators[annotator][rp])
        for rp in sorted(annotators.get("camera", {})):
            group = self._group(f"cameras/{rp}")
            group.attrs["camera"] = annotators["camera"][rp]
            group.attrs["resolution"] = np.asarray(annotators["resolution"][rp], dtype=np.int64)
            lens = lens_of_camera_params(annotators.get("camera_params", {}).get(rp, {}))
            if lens is not None:  # the model and every coefficient (pinhole cameras: no attribute, as before)
                group.attrs["lens"] = json.dumps(lens.document(), sort_keys=True)
        for rp, rig in sorted(payload.get(SCENESMITH_KEY, {}).get(STEREO_KEY, {}).items()):
            self._group(f"cameras/{rp}").attrs["stereo"] = json.dumps(rig, sort_keys=True)
        lineage = payload.get(SCENESMITH_KEY, {}).get("frame_params")
        for rp, models in sorted(((lineage or {}).get("sensors") or {}).items()):
            # the sensor models on this camera (or LiDAR); their parameters are drawn per frame: /frame_params
            kind = "lidars" if rp in lidars else "cameras"
            self._group(f"{kind}/{rp}").attrs["sensor_models"] = json.dumps(
                {"models": sorted(models), "parameters": f"per frame: /frame_params -> sensors.{rp}"}
            )
        self._scalar("", "frames", int(payload["swhFrameNumber"]))
        if self.with_splits:
            self._scalar("", "split", self.context.run.split_of(int(payload["swhFrameNumber"])))
        self._scalar("", "frame_params", json.dumps(lineage, sort_keys=True) if lineage is not None else "")
        self._fixed("", "reference_time", np.asarray(payload["reference_time"], dtype=np.int64), "s (num, den)")
        state = payload.get(PHYSICS_STATE_KEY)
        if state is not None:
            self._store("physics", "physics_state", state)
        self.count += 1
        # compress this frame's cached chunks now, while the next frame is being captured,
        # instead of all of them in close()
        self.file.flush()

    def _write_pending(self) -> None:
        """Small per-frame data, held back so each dataset gets one resize and one write for the
        shard instead of a few HDF5 calls per frame (~0.1 ms each, dozens of datasets)."""
        for key, items in self._pending.items():
            rows = [i for i, _ in items]
            handles = self._datasets[key]
            if isinstance(handles, tuple):  # concatenated: values + frame_offsets
                values, offsets = handles
                start = self._ends[key]
                ends = start + np.cumsum([len(v) for _, v in items])
                self._ends[key] = int(ends[-1])
                values.resize(self._ends[key], axis=0)
                if self._ends[key] > start:
                    values[start:] = np.concatenate([v for _, v in items])
                offsets.resize(rows[-1] + 2, axis=0)
                self._put_rows(offsets, [r + 1 for r in rows], ends)
            else:
                handles.resize(rows[-1] + 1, axis=0)
                data = [v for _, v in items]
                if handles.dtype.kind == "O":
                    stacked: Any = np.array(data, dtype=object)
                else:
                    stacked = np.stack([np.asarray(v, dtype=handles.dtype) for v in data])
                self._put_rows(handles, rows, stacked)
        self._pending.clear()

    @staticmethod
    def _put_rows(ds: Any, rows: list[int], data: Any) -> None:
        if rows == list(range(rows[0], rows[0] + len(rows))):
            ds[rows[0] : rows[0] + len(rows)] = data
        else:  # frames without this key leave their rows at the fill value, as before
            for k, row in enumerate(rows):
                ds[row] = data[k]

    def abort(self) -> None:
        # Close what can be closed; after a failed write (a full disk) libhdf5 cannot close the
        # file cleanly, which the CLI handles by not finalising the process (scripts/cli.py).
        try:
            self.file.close()
        except Exception:  # best effort on an already failed file
            pass
        self.tmp.unlink(missing_ok=True)

    def close(self) -> list[Path]:
        self._write_pending()
        for direct in self._direct.values():
            direct.close()
        self.file.flush()
        self.file.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.tmp, self.final)
        return [self._rel(self.final)]
