"""Pictures of single frames for the report: RGB with box and mask overlays, depth, normals,
instance segmentation and a LiDAR bird's-eye view, read straight from the HDF5 shards.

Only the datasets a view needs are read, frame by frame (one HDF5 chunk per frame), so a
sample of a 10^6-frame run costs what the sample costs.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.outputs import LIDAR_ANNOTATOR, colorize_id
from ..writers.hdf5_reader import decode_label_map

__all__ = [
    "FrameView",
    "View",
    "depth_image",
    "encode_data_uri",
    "frame_index",
    "lidar_bev_image",
    "normals_image",
    "overlay_image",
    "read_frame_views",
    "segmentation_image",
]

logger = logging.getLogger(__name__)

MASK_ALPHA = 0.45
"""Opacity of the instance colours over RGB: the image stays readable under the masks."""

BEV_SIZE_PX = 480
"""Side of the square LiDAR bird's-eye view."""


@dataclass(frozen=True)
class View:
    """One picture: what it shows (``kind``: rgb, depth, normals, segmentation, lidar), the
    sensor it comes from and the encoded image as a ``data:`` URI."""

    kind: str
    sensor: str
    data_uri: str
    width_px: int
    height_px: int
    caption: str = ""


@dataclass
class FrameView:
    frame: int
    split: str
    views: list[View] = field(default_factory=list)


def frame_index(out: Path) -> dict[int, tuple[Path, int]]:
    """Frame number -> (shard file, row) over every HDF5 shard of the run."""
    import h5py

    index: dict[int, tuple[Path, int]] = {}
    for path in sorted((out / "hdf5").glob("shard_*.h5")):
        with h5py.File(path, "r") as f:
            for row, frame in enumerate(f["frames"][:]):
                index[int(frame)] = (path, row)
    return index


def encode_data_uri(image: np.ndarray, fmt: str = "jpeg", quality: int = 85) -> str:
    """RGB uint8 (H, W, 3) -> ``data:image/...;base64,...`` (JPEG for photos, PNG for labels,
    whose flat colours JPEG would smear)."""
    import cv2

    bgr = np.ascontiguousarray(image[..., ::-1])
    if fmt == "jpeg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        mime = "image/jpeg"
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        mime = "image/png"
    if not ok:
        raise ValueError(f"could not encode a {image.shape} image as {fmt}")
    return f"data:{mime};base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _id_colours(ids: np.ndarray) -> np.ndarray:
    """RGB of ``colorize_id`` for every id in ``ids`` (computed once per distinct id)."""
    uniq, inverse = np.unique(ids, return_inverse=True)
    table = np.array([colorize_id(int(k))[:3] for k in uniq], dtype=np.uint8).reshape(-1, 3)
    return table[inverse].reshape(*ids.shape, 3)


def segmentation_image(instance_ids: np.ndarray) -> np.ndarray:
    """Instance ids -> the run's own id colours (background and unlabelled black)."""
    return _id_colours(instance_ids)


def overlay_image(
    rgb: np.ndarray,
    instance_ids: np.ndarray | None,
    boxes: np.ndarray | None,
    box_labels: list[str],
) -> np.ndarray:
    """RGB with every labelled instance's mask tinted in its id colour and its tight 2D box
    drawn with the class name (boxes are inclusive pixel bounds, DESIGN §9)."""
    import cv2

    img = np.ascontiguousarray(rgb[..., :3]).astype(np.float32)
    if instance_ids is not None:
        labelled = instance_ids > 1
        colours = _id_colours(instance_ids).astype(np.float32)
        img[labelled] = (1.0 - MASK_ALPHA) * img[labelled] + MASK_ALPHA * colours[labelled]
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if boxes is not None:
        for box, label in zip(boxes, box_labels, strict=True):
            x0, y0, x1, y1 = int(box["x_min"]), int(box["y_min"]), int(box["x_max"]), int(box["y_max"])
            cv2.rectangle(out, (x0, y0), (x1, y1), (255, 255, 0), 1)
            cv2.putText(out, label, (x0, max(y0 - 3, 9)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 0), 1, cv2.LINE_AA)
    return out


def _colormap(values01: np.ndarray) -> np.ndarray:
    import cv2

    grey = np.clip(values01 * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(grey, cv2.COLORMAP_TURBO)[..., ::-1]


def depth_image(depth_m: np.ndarray) -> tuple[np.ndarray, str]:
    """Depth in metres -> a colour map over its 1st–99th percentile; no hit (inf, NaN) black.
    Returns the picture and a caption with the range shown."""
    finite = np.isfinite(depth_m)
    if not finite.any():
        return np.zeros((*depth_m.shape, 3), np.uint8), "no hit"
    lo, hi = np.percentile(depth_m[finite], [1.0, 99.0])
    span = max(float(hi - lo), 1e-6)
    img = _colormap(np.where(finite, (depth_m - lo) / span, 0.0))
    img[~finite] = 0
    return img, f"{lo:.2f}–{hi:.2f} m"


def normals_image(normals: np.ndarray) -> np.ndarray:
    """World-space unit normals -> RGB as (n + 1) / 2; pixels without a hit (a zero vector)
    black."""
    xyz = normals[..., :3]
    rgb = np.clip((xyz + 1.0) * 0.5 * 255.0 + 0.5, 0, 255).astype(np.uint8)
    rgb[~np.any(xyz != 0, axis=-1)] = 0
    return rgb


def lidar_bev_image(
    points_m: np.ndarray, intensity: np.ndarray | None, size_px: int = BEV_SIZE_PX
) -> tuple[np.ndarray, str]:
    """Points in the sensor frame seen from above (x right, y up), square, centred on the
    sensor, scaled to the 99th percentile of horizontal range; coloured by intensity (else
    height). Returns the picture and a caption naming the range shown."""
    img = np.zeros((size_px, size_px, 3), np.uint8)
    pts = np.asarray(points_m, dtype=np.float64).reshape(-1, 3)
    keep = np.isfinite(pts).all(axis=1)
    pts = pts[keep]
    if len(pts) == 0:
        return img, "no returns"
    radius = max(float(np.percentile(np.hypot(pts[:, 0], pts[:, 1]), 99.0)), 1e-3)
    scale = (size_px / 2 - 1) / radius
    col = np.round(size_px / 2 + pts[:, 0] * scale).astype(np.int64)
    row = np.round(size_px / 2 - pts[:, 1] * scale).astype(np.int64)
    inside = (col >= 0) & (col < size_px) & (row >= 0) & (row < size_px)
    value = np.asarray(intensity, dtype=np.float64)[keep] if intensity is not None else pts[:, 2]
    lo, hi = np.percentile(value, [1.0, 99.0]) if len(value) else (0.0, 1.0)
    # Turbo from 0.15 up: its darkest blues would vanish on the black background.
    level = 0.15 + 0.85 * np.clip((value - lo) / max(float(hi - lo), 1e-9), 0.0, 1.0)
    colours = _colormap(level.reshape(-1, 1)).reshape(-1, 3)
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):  # 2 x 2 px dots: single pixels read as noise
        r, c = np.minimum(row + dr, size_px - 1), np.minimum(col + dc, size_px - 1)
        img[r[inside], c[inside]] = colours[inside]
    img[size_px // 2 - 1 : size_px // 2 + 2, size_px // 2 - 1 : size_px // 2 + 2] = 255  # the sensor
    return img, f"±{radius:.1f} m, coloured by {'intensity' if intensity is not None else 'height'}"


def _ragged(group: Any, row: int) -> np.ndarray:
    offsets = group["frame_offsets"]
    return group["values"][offsets[row] : offsets[row + 1]]


def _label(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("class", next(iter(entry.values()), "")))
    return str(entry)


def _camera_views(cam: Any, name: str, row: int) -> list[View]:
    views: list[View] = []
    instance = cam["instance_segmentation/data"][row] if "instance_segmentation" in cam else None
    if "rgb" in cam:
        boxes, labels = None, []
        if "bounding_box_2d_tight" in cam:
            group = cam["bounding_box_2d_tight"]
            boxes = _ragged(group["data"], row)
            id_to_labels = decode_label_map(group["idToLabels"][row].decode("utf-8"))
            labels = [_label(id_to_labels.get(int(b["semanticId"]), "?")) for b in boxes]
        rgb = overlay_image(cam["rgb/data"][row], instance, boxes, labels)
        h, w = rgb.shape[:2]
        views.append(View("rgb", name, encode_data_uri(rgb), w, h, f"{len(labels)} boxes"))
    if "distance_to_image_plane" in cam:
        img, caption = depth_image(cam["distance_to_image_plane/data"][row])
        views.append(View("depth", name, encode_data_uri(img), img.shape[1], img.shape[0], caption))
    if "normals" in cam:
        img = normals_image(cam["normals/data"][row])
        views.append(View("normals", name, encode_data_uri(img), img.shape[1], img.shape[0]))
    if instance is not None:
        img = segmentation_image(instance)
        n = int(np.count_nonzero(np.unique(instance) > 1))
        views.append(
            View("segmentation", name, encode_data_uri(img, "png"), img.shape[1], img.shape[0], f"{n} instances")
        )
    return views


def _lidar_view(lidar: Any, name: str, row: int) -> View | None:
    if LIDAR_ANNOTATOR not in lidar:
        return None
    scan = lidar[LIDAR_ANNOTATOR]
    points = _ragged(scan["data"], row)
    intensity = _ragged(scan["intensity"], row) if "intensity" in scan else None
    img, caption = lidar_bev_image(points, intensity)
    return View("lidar", name, encode_data_uri(img), img.shape[1], img.shape[0], f"{len(points)} points, {caption}")


def read_frame_views(out: Path, frames: list[int]) -> list[FrameView]:
    """The views of each requested frame that the run holds (frames it lacks are skipped with a
    warning: a sample must never fail a report)."""
    import h5py

    index = frame_index(out)
    result: list[FrameView] = []
    for frame in frames:
        if frame not in index:
            logger.warning("frame %d is not in %s/hdf5; left out of the sample grid", frame, out)
            continue
        path, row = index[frame]
        with h5py.File(path, "r") as f:
            split = f["split"][row].decode("utf-8") if "split" in f else "train"
            view = FrameView(frame, split)
            for name in sorted(f.get("cameras", {})):
                view.views += _camera_views(f["cameras"][name], name, row)
            for name in sorted(f.get("lidars", {})):
                lidar = _lidar_view(f["lidars"][name], name, row)
                if lidar is not None:
                    view.views.append(lidar)
            result.append(view)
    return result


def frame_params(out: Path, frame: int) -> dict[str, Any] | None:
    """The lineage of one frame (``frame_params``), for the enlarged view's details."""
    import h5py

    index = frame_index(out)
    if frame not in index:
        return None
    path, row = index[frame]
    with h5py.File(path, "r") as f:
        text = f["frame_params"][row]
    return json.loads(text) if text else None
