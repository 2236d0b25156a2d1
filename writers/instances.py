"""The labelled instances of one camera image, as the detection formats (YOLO, KITTI, VOC,
webdataset) describe them: class, visible pixels, box, occlusion and truncation.

The rules are the COCO writer's (``coco_writer``), so every format agrees with it: an instance
is labelled when its ``idToSemantics`` class is one of the run's categories (ids are never
compared across annotators, DESIGN §9); instances with fewer visible pixels than the writer's
``min_visible_pixels`` are left out; the box is the visible mask's inclusive extent (x_max,
y_max inclusive, DESIGN §9); occlusion is ``bounding_box_2d_loose``'s ``occlusionRatio`` and
truncation the share of the projected 3D box outside the image (``cuboid.box_truncation``).
Instances are in instance-id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cuboid import Pinhole, box_truncation, camera_model, cuboid_corners, to_camera

__all__ = ["Instance", "camera_instances", "instance_ids", "prim_paths"]


@dataclass(frozen=True)
class Instance:
    """One labelled instance seen by a camera."""

    instance_id: int
    label: str
    """Its class label, one of the run's categories."""
    category: int
    """0-based index of ``label`` in the run's sorted categories (COCO category id − 1)."""
    prim_path: str
    pixels: int
    """Visible pixels."""
    box: tuple[int, int, int, int]
    """Visible extent ``(x_min, y_min, x_max, y_max)``, inclusive pixel indices."""
    occlusion: float | None
    """Share of the object hidden by others (0 visible … 1 hidden); None when unknown (no
    ``bounding_box_2d_loose``, or Replicator's −1 for a prim of several meshes)."""
    truncation: float
    """Share of the 2D extent of its projected 3D box outside the image (0 without a 3D box)."""


def instance_ids(output: dict[str, Any]) -> tuple[np.ndarray, dict[int, Any]]:
    """An ``instance_segmentation`` output's id image and ``idToSemantics`` keyed by integer
    id, undoing Replicator's ``colorize`` (RGBA-tuple keys, ids packed in uint32)."""
    semantics = output["idToSemantics"]
    if semantics and isinstance(next(iter(semantics)), tuple):
        return output["data"], {int(np.array(k, dtype=np.uint8).view("<u4")[0]): v for k, v in semantics.items()}
    return output["data"], {int(k): v for k, v in semantics.items()}


def prim_paths(output: dict[str, Any]) -> dict[int, str]:
    """Instance id → prim path, from an ``instance_segmentation`` output's ``idToLabels``."""
    return {
        (int(np.array(k, dtype=np.uint8).view("<u4")[0]) if isinstance(k, tuple) else int(k)): str(v)
        for k, v in output["idToLabels"].items()
    }


def _extents(ids: np.ndarray, wanted: set[int]) -> dict[int, tuple[int, tuple[int, int, int, int]]]:
    """Pixel count and inclusive box of every id in ``wanted``, from the id image's row runs:
    one pass over the pixels, then work proportional to the number of runs."""
    h, w = ids.shape
    flat = np.ascontiguousarray(ids).reshape(-1)
    if flat.size == 0 or not wanted:
        return {}
    breaks = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.union1d(breaks, np.arange(0, flat.size, w))  # a run never crosses a row end
    ends = np.append(starts[1:], flat.size) - 1  # inclusive
    values = flat[starts].astype(np.int64)
    keep = np.isin(values, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
    starts, ends, values = starts[keep], ends[keep], values[keep]
    order = np.argsort(values, kind="stable")
    out: dict[int, tuple[int, tuple[int, int, int, int]]] = {}
    for group in np.split(order, np.flatnonzero(np.diff(values[order])) + 1):
        if group.size == 0:
            continue
        s, e = starts[group], ends[group]
        rows = s // w
        box = (int((s % w).min()), int(rows.min()), int((e % w).max()), int(rows.max()))
        out[int(values[group[0]])] = (int((e - s + 1).sum()), box)
    return out


def _occlusion(annotators: dict[str, Any], camera: str) -> dict[int, float]:
    """Instance id → occlusion ratio; Replicator's −1 (a labelled prim of several meshes,
    reference §2) is no ratio and is left out, so the instance's occlusion is unknown."""
    loose = annotators.get("bounding_box_2d_loose", {}).get(camera)
    if loose is None:
        return {}
    ratios = loose["data"]["occlusionRatio"].astype(np.float64)
    return {i: r for i, r in zip(np.asarray(loose["bboxIds"]).tolist(), ratios.tolist()) if r >= 0}


def _truncation(annotators: dict[str, Any], camera: str) -> dict[int, float]:
    boxes = annotators.get("bounding_box_3d", {}).get(camera)
    params = annotators.get("camera_params", {}).get(camera)
    if boxes is None or params is None or len(boxes["data"]) == 0:
        return {}
    model = camera_model(params)
    corners = to_camera(cuboid_corners(boxes["data"]), params)
    ratios = box_truncation(corners, Pinhole.of(model), model.width, model.height)
    return dict(zip(np.asarray(boxes["bboxIds"]).tolist(), ratios.tolist()))


def camera_instances(
    annotators: dict[str, Any], camera: str, categories: tuple[str, ...], min_pixels: int = 1
) -> list[Instance]:
    """The labelled instances ``camera`` sees with at least ``min_pixels`` visible pixels, in
    instance-id order (empty when the camera has no ``instance_segmentation``)."""
    output = annotators.get("instance_segmentation", {}).get(camera)
    if output is None:
        return []
    index = {label: i for i, label in enumerate(categories)}
    ids, semantics = instance_ids(output)
    labelled = {iid: sem["class"] for iid, sem in semantics.items() if sem.get("class") in index}
    extents = _extents(ids, set(labelled))
    occlusion, truncation, paths = _occlusion(annotators, camera), _truncation(annotators, camera), prim_paths(output)
    return [
        Instance(
            iid,
            labelled[iid],
            index[labelled[iid]],
            paths.get(iid, ""),
            pixels,
            box,
            occlusion.get(iid),
            float(truncation.get(iid, 0.0)),
        )
        for iid, (pixels, box) in sorted(extents.items())
        if pixels >= min_pixels
    ]
