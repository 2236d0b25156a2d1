"""Pascal VOC writer: per-image XML annotations, JPEG images and split lists.

Layout (VOCdevkit's ``VOC2012`` folder)::

    voc/Annotations/<camera>_<frame:06d>.xml
    voc/JPEGImages/<camera>_<frame:06d>.jpg
    voc/ImageSets/Main/<split>.txt        (image ids of the split, one per line)
    voc/labelmap.txt                      (Datumaro's and CVAT's class list; VOC readers ignore it)

Images are JPEG, as VOC's (readers such as torchvision's ``VOCDetection`` and Datumaro look for
``<id>.jpg``), baseline at ``jpeg_quality`` (default 95, Pillow's 4:2:0 chroma subsampling).

Each ``object`` has ``name`` (the class label), ``pose`` ``Unspecified``, ``truncated`` 1 when
more than 15 % of its projected 3D box lies outside the image (the VOC annotation guidelines
mark an object truncated when 15–20 % of it is outside), ``occluded`` 1 when more than 5 % of
it is hidden (the threshold of the KITTI writer's level 0), ``difficult`` 1 when more than
``difficult_occlusion_above`` of it is hidden (VOC's evaluation ignores difficult objects; an
unknown occlusion, Replicator's −1 for a prim of several meshes, counts as visible), and
``bndbox`` in VOC's 1-based inclusive pixel coordinates: ``xmin = x_min + 1`` … ``xmax = x_max +
1`` of the COCO writer's box (Datumaro reads them with ``coordinate_mode="voc-one-based"``).
Objects are those of the COCO writer (``instances``), in instance-id order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import escape

from pydantic import Field

from ..sensors.spec_base import PosInt, Spec, Unit
from .base import RunInfo, Writer, atomic_write_bytes, atomic_write_chunks
from .disk_sort import SortedOnDisk, names_in
from .image_files import jpeg_bytes
from .instances import Instance, camera_instances

__all__ = ["VOC_DIR", "VocWriter", "VocWriterSpec", "annotation_xml", "label_map", "voc_colour"]

VOC_DIR = Path("voc")
TRUNCATED_ABOVE = 0.15
OCCLUDED_ABOVE = 0.05
_IMAGE_ID = re.compile(r"(.+)_(\d+)\.xml")


class VocWriterSpec(Spec):
    """Options of the Pascal VOC writer (``output.writers.voc``)."""

    jpeg_quality: Annotated[int, Field(strict=True, ge=1, le=100)] = 95
    """JPEG quality of the images (1-100)."""
    difficult_occlusion_above: Unit = 0.5
    """Objects hidden by more than this share are marked difficult (1 marks none)."""
    min_visible_pixels: PosInt = 1
    """Instances with fewer visible pixels get no object."""


def voc_colour(index: int) -> tuple[int, int, int]:
    """The VOC palette's colour of class ``index`` (VOCdevkit's ``labelcolormap``: the index's
    bits spread over the high bits of r, g and b)."""
    r = g = b = 0
    for shift in range(7, -1, -1):
        r |= ((index >> 0) & 1) << shift
        g |= ((index >> 1) & 1) << shift
        b |= ((index >> 2) & 1) << shift
        index >>= 3
    return r, g, b


def label_map(categories: tuple[str, ...]) -> str:
    """``labelmap.txt`` (``name:r,g,b:parts:actions``): background, then the classes in id order."""
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    lines += [f"{name}:{','.join(map(str, voc_colour(i + 1)))}::" for i, name in enumerate(categories)]
    return "\n".join(lines) + "\n"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def annotation_xml(image_id: str, width: int, height: int, objects: list[Instance], difficult_above: float) -> str:
    """The VOC XML of one image."""
    out = [
        "<annotation>",
        "\t<folder>JPEGImages</folder>",
        f"\t<filename>{escape(image_id)}.jpg</filename>",
        "\t<source><database>scenesmith</database></source>",
        f"\t<size><width>{width}</width><height>{height}</height><depth>3</depth></size>",
        "\t<segmented>0</segmented>",
    ]
    for obj in objects:
        occlusion = 0.0 if obj.occlusion is None else obj.occlusion
        x0, y0, x1, y1 = obj.box
        out += [
            "\t<object>",
            f"\t\t<name>{escape(obj.label)}</name>",
            "\t\t<pose>Unspecified</pose>",
            f"\t\t<truncated>{_flag(obj.truncation > TRUNCATED_ABOVE)}</truncated>",
            f"\t\t<occluded>{_flag(occlusion > OCCLUDED_ABOVE)}</occluded>",
            f"\t\t<difficult>{_flag(occlusion > difficult_above)}</difficult>",
            "\t\t<bndbox>"
            f"<xmin>{x0 + 1}</xmin><ymin>{y0 + 1}</ymin><xmax>{x1 + 1}</xmax><ymax>{y1 + 1}</ymax>"
            "</bndbox>",
            "\t</object>",
        ]
    out.append("</annotation>")
    return "\n".join(out) + "\n"


def _list_rows(annotations: Path, run: RunInfo) -> Iterator[tuple[str, int, str, str]]:
    """``ImageSets/Main`` rows (split, frame, image id, line) of the files in ``annotations``."""
    for name in names_in(annotations):
        match = _IMAGE_ID.fullmatch(name)
        if match:
            frame = int(match[2])
            image_id = f"{match[1]}_{match[2]}"
            yield run.split_of(frame), frame, image_id, f"{image_id}\n"


class VocWriter(Writer):
    name = "voc"
    options_spec = VocWriterSpec
    summary = "Pascal VOC XML annotations, JPEG images and ImageSets/Main split lists"
    replicator_class_name = "ScenesmithVocWriter"
    output_patterns = (
        "voc/Annotations/*_<n>.xml",
        "voc/JPEGImages/*_<n>.jpg",
        "voc/ImageSets/Main/<split>.txt",
        "voc/labelmap.txt",
    )
    required_annotators = ("rgb", "instance_segmentation", "bounding_box_2d_loose")

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        annotators = payload["annotators"]
        quality = int(self.options.get("jpeg_quality", 95))
        difficult = float(self.options.get("difficult_occlusion_above", 0.5))
        min_pixels = int(self.options.get("min_visible_pixels", 1))
        for camera in sorted(annotators.get("camera", {})):
            rgb = annotators.get("rgb", {}).get(camera)
            if rgb is None or camera not in annotators.get("instance_segmentation", {}):
                continue
            height, width = rgb["data"].shape[:2]
            image_id = f"{camera}_{frame:06d}"
            objects = camera_instances(annotators, camera, self.context.run.categories, min_pixels)
            image = self.context.out_dir / VOC_DIR / "JPEGImages" / f"{image_id}.jpg"
            xml = self.context.out_dir / VOC_DIR / "Annotations" / f"{image_id}.xml"
            atomic_write_bytes(image, jpeg_bytes(rgb["data"], quality))
            atomic_write_bytes(xml, annotation_xml(image_id, width, height, objects, difficult).encode())
            self.files += [self._rel(image), self._rel(xml)]

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        root = out_dir / VOC_DIR
        written = []
        root.mkdir(parents=True, exist_ok=True)
        # sorted on disk: a list of every image would grow with the dataset (issue 19)
        with SortedOnDisk(root / "labelmap.txt") as ids:
            ids.add(_list_rows(root / "Annotations", run))
            filled = ids.groups()
            for split in (name for name, _ in run.splits if name in filled):
                path = root / "ImageSets" / "Main" / f"{split}.txt"
                atomic_write_chunks(path, (line.encode() for line in ids.values(split)))
                written.append(path.relative_to(out_dir))
        atomic_write_bytes(root / "labelmap.txt", label_map(run.categories).encode())
        return [*written, (root / "labelmap.txt").relative_to(out_dir)]
