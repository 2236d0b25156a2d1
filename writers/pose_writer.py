"""PoseWriter-compatible JSON: ``pose/<camera>/<frame:06d>.json``, Isaac Sim's default format.

Field for field what ``isaacsim.replicator.writers.PoseWriter`` writes (golden:
``_out_test_pose_writer_pinhole``), including its rounding: ``camera_view_matrix`` and
``camera_projection_matrix`` to 5 decimals, ``visibility`` to 3, projected keypoints to the
nearest integer. With ``isaac_quirks: true`` (the default, so files match Isaac Sim's) it also
copies PoseWriter's two quirks:

1. ``location_camera_frame``, ``rotation_matrix_camera_frame`` and ``quat_wxyz_camera_frame``
   come from ``world_to_camera @ local_to_world`` although both are row-vector matrices, which
   is wrong for any object away from the origin (the cuboid keypoints are right);
2. the principal point is ``width/2 + aperture_offset`` (millimetres added to pixels).

With ``isaac_quirks: false`` the camera-frame pose is ``local_to_world @ world_to_camera`` and the
principal point follows the camera model (``sensors.camera``). Objects with visibility at or
below ``visibility_threshold`` are skipped; frames without objects write no file (PoseWriter's
``skip_empty_frames``).

A keypoint behind the camera's near plane (depth −z below ``cameraNearFar[0]``, the scenario
camera's ``clipping_range_m[0]``) has no image position, and its ``cuboid_keypoints_projected``
entry is ``[null, null]`` — in either mode. Isaac Sim projects it anyway (6.0.1
``scripts/utils.py`` ``project_pinhole``: divided by a negative ``w`` it lands mirrored through
the image centre, and at ``|w| < 1e-10`` it is the image centre; 5.1.0 divides by 0 and
``round`` raises); our integer cast of that ``inf`` used to write ``-9223372036854775808``.
``[null, null]`` keeps the 9 × 2 shape: ``np.asarray(points, dtype=float)`` reads it as ``nan``
and a loop over ``[x, y]`` pairs still unpacks; a consumer that needs numbers must skip such a
corner. ``truncation_ratio`` counts the part of the box behind the near plane as outside the
view (``cuboid.box_truncation``); for boxes wholly in front it is Isaac's bounding-rectangle
ratio.

Splits: every file stays where and as Isaac Sim's PoseWriter writes it; a run with
``output.splits`` also gets ``pose/<split>.txt`` per split with files, listing that split's
files (``<camera>/<frame:06d>.json``, one a line, sorted), as Pascal VOC's ``ImageSets`` do. A
run with the default single split writes no list (all its files are ``train``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..sensors.conventions import matrices_to_quat_wxyz
from ..sensors.outputs import SCENESMITH_KEY
from ..sensors.spec_base import Spec, Unit
from ..sensors.stereo import STEREO_KEY
from .base import RunInfo, Writer, atomic_write_bytes, atomic_write_chunks
from .cuboid import KEYPOINT_ORDER, Pinhole, box_truncation, camera_model, cuboid_corners, project_camera, to_camera
from .disk_sort import SortedOnDisk, names_in
from .splits import DEFAULT_SPLITS

__all__ = ["PoseJsonWriter", "PoseWriterSpec", "pose_document", "projected_keypoints"]

_MAX_EXACT = 2.0**53
"""Beyond it float64 pixel values are no longer whole numbers, and orjson refuses integers
past int64: such a point (in front of a near plane of nanometres) is written as absent too."""


def _rounded(matrix: np.ndarray, digits: int) -> list:
    return np.round(np.asarray(matrix, dtype=np.float64), digits).tolist()


def projected_keypoints(uv: np.ndarray) -> list[list[list[int] | list[None]]]:
    """Per box, ``cuboid_keypoints_projected``: pixels (uv: (n, 9, 2), ``nan`` where a keypoint
    has no image position) rounded to the nearest integer as PoseWriter does, ``[None, None]``
    (JSON ``[null, null]``) for a keypoint without one. Never an integer cast of ``nan``/``inf``."""
    rounded = np.round(uv)
    ok = (np.isfinite(rounded) & (np.abs(rounded) < _MAX_EXACT)).all(axis=-1)
    return [
        [[int(u), int(v)] if keep else [None, None] for (u, v), keep in zip(points, flags)]
        for points, flags in zip(rounded.tolist(), ok.tolist())
    ]


def _labels(boxes: dict[str, Any]) -> dict[int, str]:
    return {int(k): (v.get("class", "") if isinstance(v, dict) else str(v)) for k, v in boxes["idToLabels"].items()}


def pose_document(
    boxes: dict[str, Any], params: dict[str, Any], quirks: bool = True, visibility_threshold: float = 0.0
) -> dict[str, Any]:
    """The PoseWriter JSON of one camera's ``bounding_box_3d`` and ``camera_params`` outputs."""
    model = camera_model(params)
    w, h = model.width, model.height
    aperture = np.asarray(params["cameraAperture"], dtype=np.float32)
    offset = np.asarray(params["cameraApertureOffset"], dtype=np.float32)
    focal = float(params["cameraFocalLength"])
    fx = focal / (float(aperture[0]) / w)
    if quirks:
        cx, cy = w / 2 + float(offset[0]), h / 2 + float(offset[1])
    else:
        cx, cy = model.cx, model.cy
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    projection = np.asarray(params["cameraProjection"], dtype=np.float64).reshape(4, 4)
    labels = _labels(boxes)
    rows = boxes["data"]
    visible = 1.0 - rows["occlusionRatio"].astype(np.float64) > visibility_threshold
    rows = rows[visible]
    paths = [p for p, keep in zip(boxes["primPaths"], visible) if keep]
    # every box at once: corners, camera frame, projection, quaternions
    local_to_world = np.asarray(rows["transform"], dtype=np.float64).reshape(-1, 4, 4)
    obj_to_camera = view @ local_to_world if quirks else local_to_world @ view
    corners_world = cuboid_corners(rows)
    corners_camera = to_camera(corners_world, params)
    pinhole = Pinhole(fx, fx, cx, cy, model.near_m, model.lens)  # a lens projects by itself
    projected = projected_keypoints(project_camera(corners_camera, pinhole))
    lo = np.stack([rows["x_min"], rows["y_min"], rows["z_min"]], axis=-1).astype(np.float64)
    hi = np.stack([rows["x_max"], rows["y_max"], rows["z_max"]], axis=-1).astype(np.float64)
    size = (hi - lo) * np.linalg.norm(local_to_world[:, :3, :3], axis=2)
    quat_world = matrices_to_quat_wxyz(local_to_world)
    quat_camera = matrices_to_quat_wxyz(obj_to_camera)
    truncation = box_truncation(corners_camera, pinhole, w, h)
    visibility = 1.0 - rows["occlusionRatio"].astype(np.float64)
    objects = [
        {
            "label": labels.get(int(rows["semanticId"][i]), ""),
            "prim_path": str(path),
            "visibility": round(float(visibility[i]), 3),
            "local_to_world_transform": local_to_world[i].tolist(),
            "location_world_frame": local_to_world[i, 3, :3].tolist(),
            "rotation_matrix_world_frame": local_to_world[i, :3, :3].tolist(),
            "quat_wxyz_world_frame": quat_world[i].tolist(),
            "location_camera_frame": obj_to_camera[i, 3, :3].tolist(),
            "rotation_matrix_camera_frame": obj_to_camera[i, :3, :3].tolist(),
            "quat_wxyz_camera_frame": quat_camera[i].tolist(),
            "size": size[i].tolist(),
            "cuboid_keypoints_world_frame": corners_world[i].tolist(),
            "cuboid_keypoints_camera_frame": corners_camera[i].tolist(),
            "cuboid_keypoints_projected": projected[i],
            "truncation_ratio": float(truncation[i]),
        }
        for i, path in enumerate(paths)
    ]
    camera_data: dict[str, Any] = {
        "aperture": [float(a) for a in aperture],
        "aperture_offset": [float(o) for o in offset],
        "focal_length": focal,
        "resolution": [w, h],
        "meters_per_scene_unit": float(params["metersPerSceneUnit"]),
        "intrinsics": {"fx": fx, "fy": fx, "cx": cx, "cy": cy},
        "camera_view_matrix": _rounded(view, 5),
        "camera_projection_matrix": _rounded(projection, 5),
    }
    if model.lens is not None:  # keypoints went through it; Isaac's PoseWriter has no such entry
        camera_data["lens"] = model.lens.document()
    return {"camera_data": camera_data, "keypoint_order": list(KEYPOINT_ORDER), "objects": objects}


class PoseWriterSpec(Spec):
    """Options of the PoseWriter-compatible JSON writer (``output.writers.pose``)."""

    isaac_quirks: bool = True
    """Copy Isaac Sim's PoseWriter quirks so files match it; false writes correct camera-frame values."""
    visibility_threshold: Unit = 0.0
    """Objects less visible than this fraction are left out (PoseWriter's visibility_threshold)."""


class PoseJsonWriter(Writer):
    name = "pose"
    options_spec = PoseWriterSpec
    enabled_by_default = True
    summary = "Isaac Sim PoseWriter-compatible JSON"
    replicator_class_name = "ScenesmithPoseWriter"
    output_patterns = ("pose/*/<n>.json", "pose/<split>.txt")
    required_annotators = ("bounding_box_3d", "camera_params")

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        annotators = payload["annotators"]
        quirks = bool(self.options.get("isaac_quirks", True))
        threshold = float(self.options.get("visibility_threshold", 0.0))
        for camera in sorted(annotators.get("camera", {})):
            boxes = annotators.get("bounding_box_3d", {}).get(camera)
            params = annotators.get("camera_params", {}).get(camera)
            if boxes is None or params is None:
                continue
            document = pose_document(boxes, params, quirks, threshold)
            if not document["objects"]:
                continue
            rig = payload.get(SCENESMITH_KEY, {}).get(STEREO_KEY, {}).get(camera)
            if rig is not None:  # a stereo rig camera: its rectification (Isaac's PoseWriter has none)
                document["camera_data"]["stereo"] = rig
            path = self.context.out_dir / "pose" / camera / f"{frame:06d}.json"
            # orjson: json.dumps(indent=2) runs the pure-Python encoder (~3 ms per document);
            # the layout is the same, exponents are written 1e-7 instead of 1e-07
            atomic_write_bytes(path, orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
            self.files.append(self._rel(path))

    def close(self) -> list[Path]:
        return list(self.files)

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        """``pose/<split>.txt``: the files of each split (from the published files' frames)."""
        if tuple(run.splits) == DEFAULT_SPLITS:
            return []
        root = out_dir / "pose"
        if not root.is_dir():
            return []
        written = []
        # sorted on disk: a list of every file would grow with the dataset (issue 19)
        with SortedOnDisk(root / f"{run.splits[0][0]}.txt") as names:
            names.add(_list_rows(root, run))
            for split in names.groups():
                final = root / f"{split}.txt"
                atomic_write_chunks(final, (line.encode() for line in names.values(split)))
                written.append(final.relative_to(out_dir))
        return written


def _list_rows(root: Path, run: RunInfo) -> Iterator[tuple[str, str, str, str]]:
    """``pose/<split>.txt`` rows (split, camera, file name, line) of the frames' documents
    (``<camera>/<frame>.json``; hidden names, as temporary files have, are not documents)."""
    for camera in names_in(root):
        if camera.startswith(".") or not (root / camera).is_dir():
            continue
        for name in names_in(root / camera):
            stem, dot, ext = name.rpartition(".")
            if dot and ext == "json" and stem.isdigit():
                yield run.split_of(int(stem)), camera, name, f"{camera}/{name}\n"
