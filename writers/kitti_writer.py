"""KITTI writer: the KITTI 3D object benchmark layout, one tree per camera.

KITTI describes one camera (its ``image_2``, the left colour camera), so each of our cameras
gets its own tree, readable on its own::

    kitti/<camera>/training/image_2/<frame:06d>.png
    kitti/<camera>/training/label_2/<frame:06d>.txt
    kitti/<camera>/training/calib/<frame:06d>.txt
    kitti/<camera>/training/velodyne/<frame:06d>.bin     (with a LiDAR)
    kitti/<camera>/testing/…                              (frames of the ``test`` split)
    kitti/<camera>/ImageSets/<split>.txt                 (frame ids per split)

Splits: KITTI has ``training`` and ``testing`` folders, and readers (mmdetection3d, OpenPCDet)
take train/val lists from ``ImageSets/<split>.txt``. Frames of a split named ``test`` go to
``testing/``, every other split's to ``training/``; each split's frame ids are listed in
``ImageSets/<split>.txt``. Unlike KITTI's, our ``testing`` frames keep their ``label_2``.

Labels (devkit ``readme.txt``, 15 space-separated fields per object): type, truncated,
occluded, alpha, bbox (left top right bottom), dimensions (h w l), location (x y z), rotation_y.

- type: the class label, whitespace replaced by ``_`` (fields are space-separated);
- truncated: our truncation (share of the projected 3D box outside the image, 0–1);
- occluded: 0 fully visible (occlusion ≤ 0.05), 1 partly (≤ 0.5), 2 largely, 3 unknown — the
  visibility thresholds (0.95, 0.5) of Replicator's KittiWriter, applied to the occlusion ratio;
- bbox: the visible mask's extent in pixel indices, right and bottom inclusive (KITTI's own
  boxes run 0 … width − 1), the COCO writer's box;
- dimensions, location, rotation_y, alpha: the enclosing KITTI box (``kitti_geometry``),
  exact for upright objects and a level camera. An object without a 3D box gets KITTI's
  ``DontCare`` values (−1 dimensions, −1000 location, −10 angles).

Numbers: truncated and bbox with 2 decimals as KITTI's files; metres and radians with 4
(KITTI's 2 are centimetres, coarse for tabletop objects). ``calib`` and the LiDAR frame are
``kitti_geometry``'s; ``velodyne`` holds the first LiDAR's (in sorted name order) scan as
float32 x, y, z, intensity in its sensor frame, as KITTI's, one return per beam (of dual
returns, echo 0, the strongest, as KITTI's HDL-64E reports). Cameras with a lens model are
refused (the scenario's with exit 2, a Replicator payload's when written): KITTI's ``P2``
describes a rectified pinhole image. Objects are those of the COCO writer (``instances``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.outputs import LIDAR_ANNOTATOR
from ..sensors.spec_base import PosInt, Spec
from .base import RunInfo, Writer, atomic_write_bytes, atomic_write_chunks
from .cuboid import camera_model
from .disk_sort import SortedOnDisk, names_in
from .image_files import png_bytes
from .instances import Instance, camera_instances
from .kitti_geometry import calibration, kitti_boxes, observation_angle

__all__ = ["KITTI_DIR", "TESTING_SPLIT", "KittiWriter", "KittiWriterSpec", "label_line", "occlusion_level"]

KITTI_DIR = Path("kitti")
TESTING_SPLIT = "test"
"""The split whose frames go to ``testing/``."""
FULLY_VISIBLE_MAX_OCCLUSION = 0.05
PARTLY_OCCLUDED_MAX_OCCLUSION = 0.5
DONT_CARE_3D = (-1.0, -1.0, -1.0, -1000.0, -1000.0, -1000.0, -10.0)
_FRAME_FILE = re.compile(r"(\d+)\.txt")


class KittiWriterSpec(Spec):
    """Options of the KITTI writer (``output.writers.kitti``)."""

    min_visible_pixels: PosInt = 1
    """Instances with fewer visible pixels get no label."""


def occlusion_level(ratio: float | None) -> int:
    """KITTI's occluded field from an occlusion ratio (None: unknown, 3)."""
    if ratio is None:
        return 3
    if ratio <= FULLY_VISIBLE_MAX_OCCLUSION:
        return 0
    return 1 if ratio <= PARTLY_OCCLUDED_MAX_OCCLUSION else 2


def _fixed(value: float, decimals: int) -> str:
    return f"{round(float(value), decimals) + 0.0:.{decimals}f}"  # + 0.0: no "-0.0000"


def label_line(instance: Instance, box3d: tuple[float, ...] | None) -> str:
    """One object's 15 fields; ``box3d`` is ``h, w, l, x, y, z, rotation_y`` or None."""
    h, w, length, x, y, z, ry = DONT_CARE_3D if box3d is None else box3d
    alpha = -10.0 if box3d is None else float(observation_angle(ry, x, z))
    x0, y0, x1, y1 = instance.box
    fields = [
        re.sub(r"\s", "_", instance.label),
        _fixed(instance.truncation, 2),
        str(occlusion_level(instance.occlusion)),
        _fixed(alpha, 4),
        *(_fixed(v, 2) for v in (x0, y0, x1, y1)),
        *(_fixed(v, 4) for v in (h, w, length, x, y, z, ry)),
    ]
    return " ".join(fields)


def _part(split: str) -> str:
    return "testing" if split == TESTING_SPLIT else "training"


def _list_rows(labels: Path, run: RunInfo) -> Iterator[tuple[str, int, int, str]]:
    """``ImageSets`` rows (split, frame, -, line) of the label files in ``labels``."""
    for name in names_in(labels):
        match = _FRAME_FILE.fullmatch(name)
        if match:
            frame = int(match[1])
            yield run.split_of(frame), frame, 0, f"{frame:06d}\n"


class KittiWriter(Writer):
    name = "kitti"
    options_spec = KittiWriterSpec
    summary = "KITTI object layout per camera: images, 15-field labels with 3D boxes, calib, velodyne"
    replicator_class_name = "ScenesmithKittiWriter"
    output_patterns = tuple(
        f"kitti/*/{part}/{folder}/<n>.{ext}"
        for part in ("training", "testing")
        for folder, ext in (("image_2", "png"), ("label_2", "txt"), ("calib", "txt"), ("velodyne", "bin"))
    ) + ("kitti/*/ImageSets/<split>.txt",)
    required_annotators = ("rgb", "instance_segmentation", "bounding_box_2d_loose", "bounding_box_3d", "camera_params")

    @classmethod
    def scenario_problems(cls, scenario: Any) -> list[tuple[tuple[str | int, ...], str, str, Any]]:
        return [
            (
                ("cameras", name, "lens", "model"),
                "KITTI's calib describes rectified pinhole images, not a lens",
                "a camera without lens (or kitti: false)",
                camera.lens.model,
            )
            for name, camera in scenario.cameras.items()
            if camera.lens is not None
        ]

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        part = _part(self.context.run.split_of(frame))
        annotators = payload["annotators"]
        min_pixels = int(self.options.get("min_visible_pixels", 1))
        lidars = annotators.get(LIDAR_ANNOTATOR, {})
        lidar = lidars[sorted(lidars)[0]] if lidars else None
        for camera in sorted(annotators.get("camera", {})):
            rgb = annotators.get("rgb", {}).get(camera)
            params = annotators.get("camera_params", {}).get(camera)
            if rgb is None or params is None or camera not in annotators.get("instance_segmentation", {}):
                continue
            model = camera_model(params)
            if model.lens is not None:
                raise ValueError(
                    f"kitti writer: camera {camera!r} has a {params.get('cameraModel')} lens; KITTI's calib "
                    "describes rectified pinhole images (turn the lens off or the kitti writer off)"
                )
            instances = camera_instances(annotators, camera, self.context.run.categories, min_pixels)
            boxes3d = self._boxes3d(annotators, camera, params)
            lines = [label_line(i, boxes3d.get(i.instance_id)) for i in instances]
            root = self.context.out_dir / KITTI_DIR / camera / part
            name = f"{frame:06d}"
            files = {
                root / "image_2" / f"{name}.png": png_bytes(rgb["data"]),
                root / "label_2" / f"{name}.txt": "".join(line + "\n" for line in lines).encode(),
                root / "calib" / f"{name}.txt": calibration(
                    model, params, None if lidar is None else lidar["transform"]
                ).encode(),
            }
            if lidar is not None:
                points = np.column_stack([lidar["data"], lidar["intensity"]]).astype("<f4")
                if "echoId" in lidar:  # dual returns: KITTI's scans hold one, the strongest (echo 0)
                    points = points[np.asarray(lidar["echoId"]) == 0]
                files[root / "velodyne" / f"{name}.bin"] = points.tobytes()
            for path, data in files.items():
                atomic_write_bytes(path, data)
                self.files.append(self._rel(path))

    @staticmethod
    def _boxes3d(annotators: dict[str, Any], camera: str, params: dict[str, Any]) -> dict[int, tuple[float, ...]]:
        boxes = annotators.get("bounding_box_3d", {}).get(camera)
        if boxes is None:
            return {}
        values = kitti_boxes(boxes["data"], params)
        return {int(i): tuple(float(v) for v in row) for i, row in zip(np.asarray(boxes["bboxIds"]).tolist(), values)}

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        root = out_dir / KITTI_DIR
        written: list[Path] = []
        for camera in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
            sets = root / camera / "ImageSets"
            created = not sets.exists()
            # sorted on disk: a list of every frame would grow with the dataset (issue 19)
            with SortedOnDisk(sets / f"{run.splits[0][0]}.txt") as frames:
                for part in ("training", "testing"):
                    frames.add(_list_rows(root / camera / part / "label_2", run))
                filled = frames.groups()
                for split in (name for name, _ in run.splits if name in filled):
                    path = sets / f"{split}.txt"
                    atomic_write_chunks(path, (line.encode() for line in frames.values(split)))
                    written.append(path.relative_to(out_dir))
            if created and not any(sets.iterdir()):
                sets.rmdir()  # no frames: no lists, and no folder left by the scratch table
        return written
