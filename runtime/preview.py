"""``scenesmith preview``: the first picture a user opens.

Per camera one row: RGB with a tint of each object's mask, its tight 2D box and label; the
depth (distance to the image plane, near = bright); the instance segmentation in colour.
LiDAR sensors add a bird's-eye view of their points coloured by semantic class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .embedded.annotators import colorize_id

__all__ = ["PREVIEW_ANNOTATORS", "compose_preview"]

PREVIEW_ANNOTATORS = ("rgb", "distance_to_image_plane", "instance_segmentation", "bounding_box_2d_tight")


def _depth_image(depth: np.ndarray) -> np.ndarray:
    finite = np.isfinite(depth)
    out = np.zeros(depth.shape + (3,), dtype=np.uint8)
    if finite.any():
        lo, hi = np.percentile(depth[finite], [1, 99])
        norm = np.clip((depth - lo) / max(hi - lo, 1e-9), 0, 1)
        shade = (255 * (1 - norm) ** 0.8).astype(np.uint8)
        out[finite] = np.stack([shade, shade, (shade * 0.85).astype(np.uint8)], -1)[finite]
    return out


def _instance_image(ids: np.ndarray) -> np.ndarray:
    out = np.zeros(ids.shape + (3,), dtype=np.uint8)
    for k in np.unique(ids):
        if k >= 2:
            out[ids == k] = colorize_id(int(k))[:3]
        elif k == 1:
            out[ids == k] = (70, 70, 70)
    return out


def _camera_row(annotators: dict[str, Any], camera: str) -> Any:
    from PIL import Image, ImageDraw

    rgb = annotators["rgb"][camera]["data"][..., :3].astype(np.float64)
    ids = annotators["instance_segmentation"][camera]["data"]
    seg = _instance_image(ids)
    tinted = rgb.copy()
    mask = ids >= 2
    tinted[mask] = 0.7 * rgb[mask] + 0.3 * seg[mask]
    panel = Image.fromarray(tinted.astype(np.uint8))
    draw = ImageDraw.Draw(panel)
    boxes = annotators["bounding_box_2d_tight"][camera]
    labels = boxes["idToLabels"]
    for row, iid in zip(boxes["data"], boxes["bboxIds"]):
        color = colorize_id(int(iid))[:3]
        draw.rectangle([int(row["x_min"]), int(row["y_min"]), int(row["x_max"]), int(row["y_max"])], outline=color)
        text = labels[int(row["semanticId"])]["class"]
        draw.text((int(row["x_min"]) + 2, max(int(row["y_min"]) - 11, 0)), text, fill=color)
    depth = Image.fromarray(_depth_image(annotators["distance_to_image_plane"][camera]["data"]))
    h, w = ids.shape
    row_img = Image.new("RGB", (3 * w, h + 14), (20, 20, 20))
    for k, (img, title) in enumerate(
        [(panel, f"{camera}: rgb + labels"), (depth, "depth"), (Image.fromarray(seg), "instance segmentation")]
    ):
        row_img.paste(img, (k * w, 14))
        ImageDraw.Draw(row_img).text((k * w + 4, 1), title, fill=(230, 230, 230))
    return row_img


def _lidar_panel(points: np.ndarray, semantic: np.ndarray, name: str, size: int = 480) -> Any:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size + 14), (15, 15, 20))
    draw = ImageDraw.Draw(img)
    draw.text((4, 1), f"{name}: bird's-eye view (sensor frame, +x up)", fill=(230, 230, 230))
    if len(points):
        extent = max(float(np.percentile(np.abs(points[:, :2]), 90)), 1.0)
        px = (size / 2 - points[:, 1] / extent * size / 2).astype(int)
        py = (size / 2 - points[:, 0] / extent * size / 2).astype(int) + 14
        ok = (px >= 0) & (px < size) & (py >= 14) & (py < size + 14)
        arr = np.asarray(img).copy()
        colors = np.array(
            [colorize_id(int(s))[:3] if s >= 2 else (140, 140, 140) for s in semantic[ok]], dtype=np.uint8
        ).reshape(-1, 3)
        arr[py[ok], px[ok]] = colors
        img = Image.fromarray(arr)
    return img


def compose_preview(payload: dict[str, Any]) -> Any:
    """One image: a row per camera, then a bird's-eye panel per LiDAR."""
    from PIL import Image

    annotators = payload["annotators"]
    rows = [_camera_row(annotators, cam) for cam in sorted(annotators.get("camera", {}))]
    for name, value in sorted(annotators.get("IsaacCreateRTXLidarScanBuffer", {}).items()):
        rows.append(_lidar_panel(value["data"], value.get("semanticId", np.zeros(len(value["data"]))), name))
    if not rows:
        raise ValueError("the scenario has no cameras or LiDARs to preview")
    width = max(r.width for r in rows)
    out = Image.new("RGB", (width, sum(r.height for r in rows)), (20, 20, 20))
    y = 0
    for r in rows:
        out.paste(r, (0, y))
        y += r.height
    return out
