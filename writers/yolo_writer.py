"""YOLO writer: the Ultralytics dataset layout, for detection or segmentation training.

Layout (Ultralytics' own: a label file beside each image, ``images`` → ``labels`` in the path)::

    yolo/data.yaml
    yolo/images/<split>/<camera>_<frame:06d>.png
    yolo/labels/<split>/<camera>_<frame:06d>.txt

Flat file names (no camera folders) because Datumaro's YOLO importer takes the folder above a
label file as its subset and pairs labels with images by file name. Every frame's image gets a
label file; a frame without objects has an empty one (Ultralytics: a background image).

Labels: one object per line, class id first — ``class = COCO category id − 1``, the 0-based index
in the run's sorted class labels (DESIGN §9) — then normalised coordinates (by image width and
height) with 6 decimals:

- ``task: detect``: ``class cx cy w h`` of the visible mask's box; the box encloses its pixels,
  ``[x_min, x_max + 1]`` in continuous coordinates, so it is the COCO ``bbox`` exactly;
- ``task: segment``: ``class x1 y1 x2 y2 …``, one polygon through the centres of the mask's
  boundary pixels (``(x + 0.5) / W``), its holes and separate parts joined by zero-width bridges
  (``mask_polygons``). Ultralytics rasterises a polygon by truncating its pixel coordinates to
  integers and filling with ``cv2.fillPoly``; that gives the mask back (plus the bridges'
  pixels between separate parts), and the half-pixel offset keeps the truncation exact.

Objects are those of the COCO writer (same classes, ``min_visible_pixels``; ``instances``).
``data.yaml`` has ``train``/``val``/``test``/… — one key per split of ``output.splits`` that
received frames, in declared order, as image folders relative to the file — plus ``nc`` and
``names`` (``{id: name}``, names JSON-quoted so any label is a valid YAML string). It has no
``path`` key: Ultralytics then resolves the folders against the YAML file's own folder (a
relative ``path`` is resolved against its datasets directory, an absolute one would tie the
dataset to one machine). Ultralytics requires a ``val`` key: declare a ``val`` split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from ..sensors.spec_base import PosInt, Spec
from .base import RunInfo, Writer, atomic_write_bytes
from .image_files import png_bytes
from .instances import Instance, camera_instances, instance_ids
from .mask_polygons import mask_polygon

__all__ = ["DATA_YAML", "YOLO_DIR", "YoloWriter", "YoloWriterSpec", "data_yaml"]

YOLO_DIR = Path("yolo")
DATA_YAML = YOLO_DIR / "data.yaml"


class YoloWriterSpec(Spec):
    """Options of the YOLO writer (``output.writers.yolo``)."""

    task: Literal["detect", "segment"] = "detect"
    """detect: a box per object (class cx cy w h); segment: a polygon per object from its mask (class x1 y1 …)."""
    min_visible_pixels: PosInt = 1
    """Instances with fewer visible pixels get no label."""


def _number(value: float) -> str:
    return f"{value:.6f}"


def _box_line(instance: Instance, width: int, height: int) -> str:
    x0, y0, x1, y1 = instance.box
    values = ((x0 + x1 + 1) / 2 / width, (y0 + y1 + 1) / 2 / height, (x1 - x0 + 1) / width, (y1 - y0 + 1) / height)
    return " ".join([str(instance.category), *map(_number, values)])


def _polygon_line(instance: Instance, ids: Any, width: int, height: int) -> str:
    x0, y0, x1, y1 = instance.box
    polygon = mask_polygon(ids[y0 : y1 + 1, x0 : x1 + 1] == instance.instance_id)
    coords = [_number(v) for x, y in polygon.tolist() for v in ((x + x0 + 0.5) / width, (y + y0 + 0.5) / height)]
    return " ".join([str(instance.category), *coords])


def data_yaml(run: RunInfo, splits: list[str]) -> str:
    """``data.yaml`` for a run whose images fill the ``splits`` folders."""
    lines = [f"# Ultralytics YOLO dataset written by scenesmith {run.tool_version}; folders relative to this file"]
    lines += [f"{split}: images/{split}" for split in splits]
    lines.append(f"nc: {len(run.categories)}")
    lines.append("names:" if run.categories else "names: {}")
    lines += [f"  {i}: {json.dumps(label)}" for i, label in enumerate(run.categories)]
    return "\n".join(lines) + "\n"


class YoloWriter(Writer):
    name = "yolo"
    options_spec = YoloWriterSpec
    summary = "Ultralytics YOLO images, labels and data.yaml (detect or segment)"
    replicator_class_name = "ScenesmithYoloWriter"
    output_patterns = (
        DATA_YAML.as_posix(),
        "yolo/images/<split>/*_<n>.png",
        "yolo/labels/<split>/*_<n>.txt",
    )
    required_annotators = ("rgb", "instance_segmentation")

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        split = self.context.run.split_of(frame)
        annotators = payload["annotators"]
        segment = self.options.get("task", "detect") == "segment"
        min_pixels = int(self.options.get("min_visible_pixels", 1))
        for camera in sorted(annotators.get("camera", {})):
            rgb = annotators.get("rgb", {}).get(camera)
            segmentation = annotators.get("instance_segmentation", {}).get(camera)
            if rgb is None or segmentation is None:
                continue
            height, width = rgb["data"].shape[:2]
            instances = camera_instances(annotators, camera, self.context.run.categories, min_pixels)
            if segment:
                ids = instance_ids(segmentation)[0]
                lines = [_polygon_line(i, ids, width, height) for i in instances]
            else:
                lines = [_box_line(i, width, height) for i in instances]
            stem = f"{camera}_{frame:06d}"
            image = self.context.out_dir / YOLO_DIR / "images" / split / f"{stem}.png"
            label = self.context.out_dir / YOLO_DIR / "labels" / split / f"{stem}.txt"
            atomic_write_bytes(image, png_bytes(rgb["data"]))
            atomic_write_bytes(label, "".join(line + "\n" for line in lines).encode())
            self.files += [self._rel(image), self._rel(label)]

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        filled = [name for name, _ in run.splits if (out_dir / YOLO_DIR / "images" / name).is_dir()]
        atomic_write_bytes(out_dir / DATA_YAML, data_yaml(run, filled).encode())
        return [DATA_YAML]
