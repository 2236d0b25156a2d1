"""``scenesmith preview``: the first picture a user opens.

A grid of equal cells. Per camera one row of four: the RGB exactly as the dataset holds it;
the same RGB with each labelled object's mask outline, its tight 2D box and its class on a
tag of its colour (only outline, box and tag pixels differ from the image: no tint, so what is
judged is the data); the depth (distance to the image plane, near = bright); the instance segmentation in
colour. LiDAR sensors share one more row, split evenly, each a bird's-eye view of its points
coloured by semantic class. Cameras of another resolution are scaled into the cells (nearest
neighbour, letterboxed), so the grid has no holes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sensors.outputs import LIDAR_ANNOTATOR, colorize_id

__all__ = [
    "PREVIEW_ANNOTATORS",
    "PREVIEW_FORMATS",
    "PREVIEW_PANELS",
    "TITLE_PX",
    "compose_preview",
    "outline_mask",
]

PREVIEW_ANNOTATORS = ("rgb", "distance_to_image_plane", "instance_segmentation", "bounding_box_2d_tight")
PREVIEW_PANELS = ("rgb", "labels", "depth", "instance segmentation")
"""Cells of a camera's row, left to right."""
PREVIEW_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
"""Output file suffix → Pillow format."""
TITLE_PX = 16
"""Height of the title strip above every cell."""
BACKGROUND = (20, 20, 20)


def _font(size_px: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size_px)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


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


def outline_mask(ids: np.ndarray) -> np.ndarray:
    """Pixels of a labelled instance (id >= 2) with a 4-neighbour of another id: its outline."""
    edge = np.zeros(ids.shape, dtype=bool)
    differs_v = ids[1:, :] != ids[:-1, :]
    differs_h = ids[:, 1:] != ids[:, :-1]
    edge[1:, :] |= differs_v
    edge[:-1, :] |= differs_v
    edge[:, 1:] |= differs_h
    edge[:, :-1] |= differs_h
    return edge & (ids >= 2)


def _labels_image(rgb: np.ndarray, ids: np.ndarray, boxes: dict[str, Any]) -> Any:
    from PIL import Image, ImageDraw

    out = rgb.copy()
    edge = outline_mask(ids)
    out[edge] = _instance_image(ids)[edge]
    panel = Image.fromarray(out)
    draw = ImageDraw.Draw(panel)
    font = _font(max(10, ids.shape[0] // 24))
    labels = boxes["idToLabels"]
    for row, iid in zip(boxes["data"], boxes["bboxIds"]):
        color = colorize_id(int(iid))[:3]
        x0, y0, x1, y1 = (int(row[k]) for k in ("x_min", "y_min", "x_max", "y_max"))
        draw.rectangle([x0, y0, x1, y1], outline=color)
        text = labels[int(row["semanticId"])]["class"]
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tag_h = bottom - top + 2
        ty = y0 - tag_h if y0 - tag_h >= 0 else y0 + 1  # above the box, or inside its top edge
        # the tag in the object's colour, its text black or white, whichever contrasts more
        luma = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
        draw.rectangle([x0, ty, x0 + right - left + 3, ty + tag_h], fill=color)
        draw.text((x0 + 2 - left, ty + 1 - top), text, fill=(0, 0, 0) if luma > 140 else (255, 255, 255), font=font)
    return panel


def _fit(img: Any, size: tuple[int, int]) -> Any:
    """``img`` in a cell of ``size``: as it is when it already fits exactly, else scaled
    (nearest: label colours stay exact) and centred."""
    from PIL import Image

    if img.size == size:
        return img
    scale = min(size[0] / img.width, size[1] / img.height)
    scaled = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
    cell = Image.new("RGB", size, BACKGROUND)
    cell.paste(scaled, ((size[0] - scaled.width) // 2, (size[1] - scaled.height) // 2))
    return cell


def _titled(img: Any, title: str, size: tuple[int, int]) -> Any:
    from PIL import Image, ImageDraw

    cell = Image.new("RGB", (size[0], size[1] + TITLE_PX), BACKGROUND)
    cell.paste(_fit(img, size), (0, TITLE_PX))
    ImageDraw.Draw(cell).text((4, 2), title, fill=(230, 230, 230), font=_font(11))
    return cell


def _camera_panels(annotators: dict[str, Any], camera: str) -> list[tuple[Any, str]]:
    from PIL import Image

    rgb = np.ascontiguousarray(annotators["rgb"][camera]["data"][..., :3])
    ids = annotators["instance_segmentation"][camera]["data"]
    images = (
        Image.fromarray(rgb),
        _labels_image(rgb, ids, annotators["bounding_box_2d_tight"][camera]),
        Image.fromarray(_depth_image(annotators["distance_to_image_plane"][camera]["data"])),
        Image.fromarray(_instance_image(ids)),
    )
    return [(img, f"{camera}: {name}" if k == 0 else name) for k, (img, name) in enumerate(zip(images, PREVIEW_PANELS))]


def _lidar_panel(points: np.ndarray, semantic: np.ndarray, size: tuple[int, int]) -> Any:
    """Bird's-eye view in the sensor frame, +x up, filling ``size``."""
    from PIL import Image

    w, h = size
    arr = np.full((h, w, 3), (15, 15, 20), dtype=np.uint8)
    if len(points):
        extent = max(float(np.percentile(np.abs(points[:, :2]), 90)), 1.0)
        half = min(w, h) / 2
        px = (w / 2 - points[:, 1] / extent * half).astype(int)
        py = (h / 2 - points[:, 0] / extent * half).astype(int)
        ok = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        colors = np.array(
            [colorize_id(int(s))[:3] if s >= 2 else (140, 140, 140) for s in semantic[ok]], dtype=np.uint8
        ).reshape(-1, 3)
        arr[py[ok], px[ok]] = colors
    return Image.fromarray(arr)


def compose_preview(payload: dict[str, Any]) -> Any:
    """One image: a row of four cells per camera, then one row shared by the LiDARs."""
    from PIL import Image

    annotators = payload["annotators"]
    cameras = sorted(annotators.get("camera", {}))
    lidars = sorted(annotators.get(LIDAR_ANNOTATOR, {}).items())
    if not cameras and not lidars:
        raise ValueError("the scenario has no cameras or LiDARs to preview")
    # the cell is the first camera's image, so its panels are shown pixel for pixel
    if cameras:
        h, w = annotators["instance_segmentation"][cameras[0]]["data"].shape
    else:
        w, h = 320, 240
    columns = len(PREVIEW_PANELS)
    rows: list[list[Any]] = [
        [_titled(img, title, (w, h)) for img, title in _camera_panels(annotators, cam)] for cam in cameras
    ]
    if lidars:
        # the LiDARs split the row evenly (the last takes the rounding), so it is as wide as a camera row
        widths = [columns * w // len(lidars)] * len(lidars)
        widths[-1] += columns * w - sum(widths)
        rows.append(
            [
                _titled(
                    _lidar_panel(value["data"], value.get("semanticId", np.zeros(len(value["data"]))), (cw, h)),
                    f"{name}: bird's-eye view (sensor frame, +x up)",
                    (cw, h),
                )
                for (name, value), cw in zip(lidars, widths)
            ]
        )
    out = Image.new("RGB", (columns * w, len(rows) * (h + TITLE_PX)), BACKGROUND)
    for r, cells in enumerate(rows):
        x = 0
        for cell in cells:
            out.paste(cell, (x, r * (h + TITLE_PX)))
            x += cell.width
    return out
