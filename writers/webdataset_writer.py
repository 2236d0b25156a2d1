"""webdataset writer: tar shards of samples for streaming training, one sample per frame.

Layout: ``webdataset/<split>/shard_<shard:06d>.tar`` — each of our shards writes one tar per
split its frames fall in. A sample is the tar members sharing the key ``<frame:06d>`` (webdataset
groups consecutive members by the file name up to its first dot)::

    000042.json                  labels of every camera
    000042.<camera>.rgb.png      RGB, 8-bit
    000042.<camera>.depth.npy    distance_to_image_plane, float32 metres (+inf where nothing is hit)
    000042.<camera>.instance.npy instance ids of ``instance_segmentation``, uint16

(``webdataset``'s decoders pick by the last extension: ``.png`` as an image, ``.npy`` with NumPy,
``.json`` as JSON. The ids are NumPy, not a 16-bit PNG, because webdataset's image decoders all
convert to 8-bit L/RGB/RGBA and would destroy them; uint16 holds every id of a payload, whose
labelled instances are capped at 10,000, and a larger id fails the frame.) The JSON
holds per camera: the ``objects`` (the COCO writer's: instance id, class label, COCO
``category_id``, prim path, ``bbox`` ``[x, y, w, h]`` enclosing the mask, visible pixel
``area``, ``occlusion``, ``truncation``), ``instances`` (every id in the id image → its
``idToSemantics`` and prim path, so unlabelled ids resolve too), the camera's resolution and
intrinsics ``K`` (pixel centres at +0.5, ``sensors.camera``) and its ``cameraViewTransform``;
and the frame's index and split.

Byte-reproducible: members in frame order, then camera name order, then the fixed order
above; every member has mtime 0, uid/gid 0, empty user and group names, mode 0644; POSIX
(pax) tar; the PNGs and NumPy files are deterministic encodings. Each tar is written under a
temporary name and renamed when the shard closes.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..sensors.spec_base import PosInt, Spec
from .base import Writer, final_path_of, output_write_error, tmp_path_for
from .cuboid import camera_model
from .image_files import png_bytes
from .instances import camera_instances, instance_ids, prim_paths

__all__ = ["WEBDATASET_DIR", "WebdatasetWriter", "WebdatasetWriterSpec", "tar_member", "tar_path"]

WEBDATASET_DIR = Path("webdataset")
MEMBER_MODE = 0o644
DEPTH_ANNOTATOR = "distance_to_image_plane"


class WebdatasetWriterSpec(Spec):
    """Options of the webdataset writer (``output.writers.webdataset``)."""

    min_visible_pixels: PosInt = 1
    """Instances with fewer visible pixels are left out of a sample's objects."""


def tar_path(split: str, shard_id: int) -> Path:
    """A shard's tar of one split, relative to the output folder."""
    return WEBDATASET_DIR / split / f"shard_{shard_id:06d}.tar"


def tar_member(name: str, size: int) -> tarfile.TarInfo:
    """A regular file's header with nothing of the machine or the time in it."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = MEMBER_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _uint16_ids(ids: np.ndarray) -> np.ndarray:
    if ids.size and int(ids.max()) > 0xFFFF:
        raise ValueError(f"webdataset writer: instance id {int(ids.max())} does not fit the uint16 id image")
    return ids.astype("<u2")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _present(ids: np.ndarray) -> list[int]:
    """The ids in an id image, ascending (a histogram when they are small, as ours are: no sort)."""
    if ids.size == 0:
        return []
    if int(ids.max()) < 1 << 20:
        return np.flatnonzero(np.bincount(ids.reshape(-1))).tolist()
    return np.unique(ids).tolist()


class WebdatasetWriter(Writer):
    name = "webdataset"
    options_spec = WebdatasetWriterSpec
    summary = "webdataset tar shards, a sample per frame (RGB, depth, instance ids, JSON labels)"
    replicator_class_name = "ScenesmithWebdatasetWriter"
    output_patterns = ("webdataset/<split>/shard_<n>.tar",)
    required_annotators = ("rgb", DEPTH_ANNOTATOR, "instance_segmentation", "bounding_box_2d_loose")

    def open(self, context: Any) -> None:
        super().open(context)
        self._tars: dict[str, tuple[tarfile.TarFile, BinaryIO, Path]] = {}

    def _tar(self, split: str) -> tarfile.TarFile:
        if split not in self._tars:
            assert self.context is not None
            final = self.context.out_dir / tar_path(split, self.context.shard_id)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = tmp_path_for(final)
            handle = open(tmp, "wb")  # closed in close() or abort()
            self._tars[split] = (tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT), handle, tmp)
        return self._tars[split][0]

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        split = self.context.run.split_of(frame)
        annotators = payload["annotators"]
        key = f"{frame:06d}"
        labels: dict[str, Any] = {"frame": frame, "split": split, "cameras": {}}
        members: list[tuple[str, bytes]] = []
        for camera in sorted(annotators.get("camera", {})):
            rgb = annotators.get("rgb", {}).get(camera)
            segmentation = annotators.get("instance_segmentation", {}).get(camera)
            if rgb is None or segmentation is None:
                continue
            labels["cameras"][camera] = self._camera_labels(annotators, camera)
            members.append((f"{key}.{camera}.rgb.png", png_bytes(rgb["data"])))
            depth = annotators.get(DEPTH_ANNOTATOR, {}).get(camera)
            if depth is not None:
                members.append((f"{key}.{camera}.depth.npy", _npy_bytes(depth["data"].astype("<f4"))))
            members.append((f"{key}.{camera}.instance.npy", _npy_bytes(_uint16_ids(instance_ids(segmentation)[0]))))
        if not labels["cameras"]:
            return
        text = json.dumps(labels, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
        tar = self._tar(split)
        try:
            for name, data in [(f"{key}.json", text), *members]:
                tar.addfile(tar_member(name, len(data)), io.BytesIO(data))
        except OSError as exc:
            known = output_write_error(exc, final_path_of(self._tars[split][2]))
            if known is None:
                raise
            raise known from None

    def _camera_labels(self, annotators: dict[str, Any], camera: str) -> dict[str, Any]:
        assert self.context is not None
        segmentation = annotators["instance_segmentation"][camera]
        ids, semantics = instance_ids(segmentation)
        paths = prim_paths(segmentation)
        min_pixels = int(self.options.get("min_visible_pixels", 1))
        objects = [
            {
                "instance_id": i.instance_id,
                "label": i.label,
                "category_id": i.category + 1,
                "prim_path": i.prim_path,
                "bbox": [i.box[0], i.box[1], i.box[2] - i.box[0] + 1, i.box[3] - i.box[1] + 1],
                "area": i.pixels,
                "occlusion": None if i.occlusion is None else round(i.occlusion, 6),
                "truncation": round(i.truncation, 6),
            }
            for i in camera_instances(annotators, camera, self.context.run.categories, min_pixels)
        ]
        present = _present(ids)
        entry: dict[str, Any] = {
            "width": int(ids.shape[1]),
            "height": int(ids.shape[0]),
            "objects": objects,
            "instances": {
                str(i): {"semantics": _jsonable(semantics.get(i, {})), "prim_path": paths.get(i, "")} for i in present
            },
        }
        params = annotators.get("camera_params", {}).get(camera)
        if params is not None:
            entry["K"] = camera_model(params).intrinsics().tolist()
            view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
            entry["camera_view_transform"] = view.tolist()
        return entry

    def close(self) -> list[Path]:
        assert self.context is not None
        for split in sorted(self._tars):
            tar, handle, tmp = self._tars[split]
            try:
                tar.close()  # the end-of-archive blocks
                handle.close()
            except OSError as exc:
                handle.close()
                tmp.unlink(missing_ok=True)
                known = output_write_error(exc, final_path_of(tmp))
                if known is None:
                    raise
                raise known from None
            final = final_path_of(tmp)
            os.replace(tmp, final)
            self.files.append(self._rel(final))
        self._tars = {}
        return list(self.files)

    def abort(self) -> None:
        for _tar, handle, tmp in getattr(self, "_tars", {}).values():
            try:
                handle.close()  # not tar.close(): a partial tar must not get end-of-archive blocks
            except OSError:
                pass
            tmp.unlink(missing_ok=True)
        self._tars = {}
        super().abort()
