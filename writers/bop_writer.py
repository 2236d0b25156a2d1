"""BOP writer: the BOP-scenewise layout pose-estimation teams train from (``bop_toolkit``'s
``docs/bop_datasets_format.md``; read by its ``inout.py`` loaders).

Under ``bop/`` in the output folder::

    camera.json                                   fx, fy, cx, cy, width, height, depth_scale
    models/obj_<obj_id:06d>.ply                   ASCII PLY in mm with vertex normals
    models/models_info.json                       diameter, min_*, size_* (mm), symmetries
    <split>/<scene_id:06d>/rgb/<im_id:06d>.png    (or .jpg)
    <split>/<scene_id:06d>/depth/<im_id:06d>.png  uint16; depth_mm = value × depth_scale
    <split>/<scene_id:06d>/mask/<im_id:06d>_<gt_id:06d>.png        amodal silhouette, 0/255
    <split>/<scene_id:06d>/mask_visib/<im_id:06d>_<gt_id:06d>.png  visible part, 0/255
    <split>/<scene_id:06d>/scene_camera.json      per image: cam_K, depth_scale, cam_R_w2c, cam_t_w2c
    <split>/<scene_id:06d>/scene_gt.json          per image: [{obj_id, cam_R_m2c, cam_t_m2c}, …]
    <split>/<scene_id:06d>/scene_gt_info.json     per image: [{bbox_obj, bbox_visib, px_count_*, visib_fract}, …]

Objects: ``obj_id`` = 1 + the index of the asset among the scenario's assets with a ``class``
label, sorted by name (``RunInfo.objects``), so ids are stable across runs; every counted copy
shows the same object. Distractors are not BOP objects (their shapes are drawn per frame); they
still hide objects. The model frame is the asset's local frame with its scale applied; a scale
randomizer on a labelled asset is refused at its key (``scenario_problems``), and a frame whose
object still carries another scale (a USD file's own animation) fails.

Scenes: a scene holds at most 1000 images. Every camera of a frame is an image of the same
scene (image id = frame-in-scene × cameras + camera index, cameras sorted), so a scene holds
⌊1000 / cameras⌋ frames; a physics episode starts a new scene (and fills as many as its length
needs), so a sequence is a BOP scene. A split's folder holds the images of its frames; image
ids are the scene's, whatever the split.

Conventions: OpenCV camera (x right, y down, looking along +z) and pixel centres at integer
coordinates, so ``cam_K``'s principal point is ours − 0.5; rotations row-major, translations in
mm; ``cam_R_w2c``/``cam_t_w2c`` map world to camera. Depth is ``distance_to_image_plane``;
no hit, and depths beyond 65535 units, are 0 (no measurement). ``mask_visib`` is the exact
``instance_segmentation`` mask (never a depth test), ``mask`` the ``instance_segmentation_amodal``
silhouette: both are cut by the image border, so ``px_count_all`` and ``bbox_obj`` count the
in-image silhouette (``bop_toolkit``'s ``calc_gt_info`` renders a 3× larger canvas and counts
a truncated object's outside part too). Boxes are the toolkit's ``calc_2d_bbox``:
``[x_min, y_min, x_max − x_min, y_max − y_min]`` of pixel indices, ``[-1, -1, -1, -1]`` when
empty. A lensed camera's ``cam_K`` is its ideal pinhole's; the image's ``scenesmith.lens``
entry names the distortion (BOP has no key for it; masks, depth and poses are exact).

Shards write the images and a fragment ``fragments/bop/shard_<id:06d>.json`` (their images'
camera, gt and gt_info entries); ``on_final_frame`` merges the fragments scene by scene into
the three JSON files and writes ``camera.json`` and ``models/``, so resume and any worker count
give the same files.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from ..sensors.outputs import AMODAL_ANNOTATOR, amodal_crops, amodal_full
from ..sensors.spec_base import PosFloat, Spec
from .base import RunInfo, ShardContext, Writer, atomic_write_bytes
from .cuboid import camera_model
from .object_models import ObjectModel

__all__ = [
    "BOP_DIR",
    "BopWriter",
    "BopWriterSpec",
    "MAX_SCENE_IMAGES",
    "bbox_of",
    "fragment_path",
    "model_info",
    "ply_text",
    "scene_of",
]

BOP_DIR = Path("bop")
FRAGMENTS_DIR = Path("fragments") / "bop"
MAX_SCENE_IMAGES = 1000
"""Images per BOP scene at most (BOP's own training scenes hold 1000)."""
DEPTH_MAX = 65535
OPENCV = np.diag([1.0, -1.0, -1.0])
"""USD camera axes (x right, y up, looking down −z) to OpenCV's (x right, y down, looking +z)."""
SCALE_TOLERANCE = 1e-4
"""Relative difference between a frame's object scale and its model's beyond which the pose is not rigid."""


def fragment_path(shard_id: int) -> Path:
    return FRAGMENTS_DIR / f"shard_{shard_id:06d}.json"


def scene_of(frame: int, camera_index: int, cameras: int, episode_frames: int = 1) -> tuple[int, int]:
    """(scene id, image id) of one camera's image of a frame (see the module docstring)."""
    per_scene = MAX_SCENE_IMAGES // cameras
    if episode_frames > 1:
        episode, k = divmod(frame, episode_frames)
        scene = episode * math.ceil(episode_frames / per_scene) + k // per_scene
        local = k % per_scene
    else:
        scene, local = divmod(frame, per_scene)
    return scene, local * cameras + camera_index


def bbox_of(mask: np.ndarray) -> list[int]:
    """``bop_toolkit``'s ``calc_2d_bbox`` of a mask's pixels: [x, y, x_max − x, y_max − y]."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return [-1, -1, -1, -1]
    cols = np.flatnonzero(mask.any(axis=0))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0]), int(rows[-1] - rows[0])]


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _jpeg(array: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _bop_json(content: dict[int, Any]) -> bytes:
    """``bop_toolkit``'s ``save_json`` layout: one sorted key per line, values as sorted JSON."""
    lines = [f'  "{k}": {json.dumps(content[k], sort_keys=True, allow_nan=False)}' for k in sorted(content)]
    return ("{\n" + ",\n".join(lines) + ("\n" if lines else "") + "}").encode()


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Angle-weighted vertex normals (the weighting BOP's models were made with, MeshLab's)."""
    tri = vertices[faces]  # (F, 3, 3)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    out = np.zeros_like(vertices)
    for corner in range(3):
        a = tri[:, (corner + 1) % 3] - tri[:, corner]
        b = tri[:, (corner + 2) % 3] - tri[:, corner]
        cos = np.einsum("ij,ij->i", a, b) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)
        np.add.at(out, faces[:, corner], normal * np.arccos(np.clip(cos, -1.0, 1.0))[:, None])
    length = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, length, out=np.zeros_like(out), where=length > 0)


def ply_text(model: ObjectModel) -> bytes:
    """The model as BOP ships models: ASCII PLY, millimetres, vertex normals."""
    mm = model.vertices_m * 1000.0
    normals = vertex_normals(model.vertices_m, model.faces)
    head = (
        "ply\nformat ascii 1.0\n"
        f"comment scenesmith object {model.name} (obj_id {model.obj_id}), units mm\n"
        f"element vertex {len(mm)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property float nx\nproperty float ny\nproperty float nz\n"
        f"element face {len(model.faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = io.StringIO()
    np.savetxt(body, np.hstack([mm, normals]), fmt="%.6f")
    np.savetxt(body, np.hstack([np.full((len(model.faces), 1), 3), model.faces]), fmt="%d")
    return (head + body.getvalue()).encode("ascii")


def diameter(points: np.ndarray) -> float:
    """The largest distance between two points, exactly. Points that cannot end a pair longer
    than a lower bound (from extreme points) are dropped first: |p − q| ≤ |p − c| + r."""
    pts = np.unique(np.asarray(points, dtype=np.float64), axis=0)
    if len(pts) < 2:
        return 0.0
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    dist = np.linalg.norm(pts - centre, axis=1)
    radius = float(dist.max())
    directions = np.array(
        [(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1) if (x, y, z) != (0, 0, 0)]
    )
    extremes = pts[np.unique(np.argmax(pts @ directions.T, axis=0))]
    lower = float(np.max(np.linalg.norm(extremes[:, None] - extremes[None], axis=-1)))
    pts = pts[dist + radius >= lower]
    best = lower
    for start in range(0, len(pts), 2048):
        block = pts[start : start + 2048]
        best = max(best, float(np.sqrt(np.max(np.sum((block[:, None, :] - pts[None, :, :]) ** 2, axis=-1)))))
    return best


def _axis_rotation(axis: tuple[float, float, float], angle_deg: float) -> np.ndarray:
    """Right-handed rotation matrix (column vectors) about a unit axis (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = math.radians(angle_deg)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * cross + (1 - math.cos(a)) * cross @ cross


def model_info(model: ObjectModel) -> dict[str, Any]:
    """One ``models_info.json`` entry: diameter, bounding box, declared symmetries (mm)."""
    mm = model.vertices_m * 1000.0
    lo, hi = mm.min(axis=0), mm.max(axis=0)
    info: dict[str, Any] = {"diameter": diameter(mm)}
    for k, axis in enumerate("xyz"):
        info[f"min_{axis}"] = float(lo[k])
        info[f"size_{axis}"] = float(hi[k] - lo[k])
    if model.symmetries_discrete:
        matrices = []
        for axis, angle, offset in model.symmetries_discrete:
            rot = _axis_rotation(axis, angle)
            point = np.asarray(offset, dtype=np.float64) * 1000.0
            matrix = np.eye(4)
            matrix[:3, :3], matrix[:3, 3] = rot, point - rot @ point  # rotate about the axis through ``point``
            matrices.append([float(v) for v in matrix.reshape(-1)])
        info["symmetries_discrete"] = matrices
    if model.symmetries_continuous:
        info["symmetries_continuous"] = [
            {
                "axis": [float(v) for v in np.asarray(axis) / np.linalg.norm(axis)],
                "offset": [float(v) * 1000.0 for v in offset],
            }
            for axis, offset in model.symmetries_continuous
        ]
    return info


class BopWriterSpec(Spec):
    """Options of the BOP writer (``output.writers.bop``)."""

    rgb_format: Literal["png", "jpg"] = "png"
    """Colour images as PNG (lossless) or JPEG (as BOP's photorealistic training sets ship)."""
    jpeg_quality: Annotated[int, Field(strict=True, ge=1, le=100)] = 95
    """JPEG quality when rgb_format is jpg."""
    depth_unit_mm: PosFloat = 0.1
    """One unit of the uint16 depth PNGs in millimetres (BOP's depth_scale); 0.1 reaches 6.5535 m."""


class BopWriter(Writer):
    name = "bop"
    options_spec = BopWriterSpec
    enabled_by_default = False
    summary = "BOP-scenewise dataset (bop_toolkit layout: rgb, depth, amodal and visible masks, poses, models)"
    replicator_class_name = "ScenesmithBopWriter"
    needs_object_models = True
    output_patterns = (
        "bop/camera.json",
        "bop/models/obj_<n>.ply",
        "bop/models/models_info.json",
        "bop/<split>/<n>/rgb/<n>.png",
        "bop/<split>/<n>/rgb/<n>.jpg",
        "bop/<split>/<n>/depth/<n>.png",
        "bop/<split>/<n>/mask/<n>_<n>.png",
        "bop/<split>/<n>/mask_visib/<n>_<n>.png",
        "bop/<split>/<n>/scene_camera.json",
        "bop/<split>/<n>/scene_gt.json",
        "bop/<split>/<n>/scene_gt_info.json",
        "fragments/bop/shard_<n>.json",
    )

    @classmethod
    def scenario_problems(cls, scenario: Any) -> list[tuple[tuple[str | int, ...], str, str, Any]]:
        """A randomizer that scales a labelled asset: BOP poses are rigid transforms of one
        fixed model per object, so a drawn scale has no BOP pose (found here, at the key,
        instead of at the first frame that draws it)."""
        labelled = {name for name, asset in scenario.assets.items() if asset.semantics and "class" in asset.semantics}
        problems: list[tuple[tuple[str | int, ...], str, str, Any]] = []
        for name, randomizer in scenario.randomizers.items():
            if getattr(randomizer, "scale", None) is None:
                continue
            scaled = sorted(labelled & set(randomizer.matched_targets(scenario)))
            if scaled:
                problems.append(
                    (
                        ("randomizers", name, "scale"),
                        f"scales the labelled asset(s) {', '.join(scaled)}; BOP poses are rigid (one model per object)",
                        "no scale on labelled assets (set assets.<a>.scale instead), or bop: false",
                        "a scale",
                    )
                )
        return problems

    required_annotators = (
        "rgb",
        "distance_to_image_plane",
        "instance_segmentation",
        AMODAL_ANNOTATOR,
        "bounding_box_3d",
        "camera_params",
    )

    @classmethod
    def run_problem(cls, stop_frame: int, cameras: int) -> tuple[str, str, str] | None:
        if cameras > MAX_SCENE_IMAGES:
            return (
                "a BOP scene holds at most 1000 images, one per camera of a frame",
                f"at most {MAX_SCENE_IMAGES} cameras",
                f"{cameras} cameras",
            )
        return None

    def open(self, context: ShardContext) -> None:
        super().open(context)
        run = context.run
        self.models = {path: model for model in run.objects for path in model.prim_paths}
        # without models (a bare rep.Writer in Isaac Sim): objects numbered by class label
        self.by_label = {label: 1 + k for k, label in enumerate(run.categories)}
        self.entries: list[dict[str, Any]] = []
        self.intrinsics: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ per frame

    def write(self, payload: dict[str, Any]) -> None:
        assert self.context is not None
        frame = int(payload["swhFrameNumber"])
        annotators = payload["annotators"]
        run = self.context.run
        for camera in sorted(annotators.get("camera", {})):
            if any(camera not in annotators.get(a, {}) for a in self.required_annotators):
                continue
            index = run.cameras.index(camera) if camera in run.cameras else 0
            scene, image = scene_of(frame, index, max(1, len(run.cameras)), run.episode_frames)
            self._image(frame, camera, run.split_of(frame), scene, image, annotators)

    def _image(self, frame: int, camera: str, split: str, scene: int, image: int, annotators: dict[str, Any]) -> None:
        assert self.context is not None
        unit = float(self.options.get("depth_unit_mm", 0.1))
        folder = self.context.out_dir / BOP_DIR / split / f"{scene:06d}"
        params = annotators["camera_params"][camera]
        model = camera_model(params)
        view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
        r_w2c = OPENCV @ view[:3, :3].T
        t_w2c = OPENCV @ view[3, :3] * 1000.0
        k = [model.fx, 0.0, model.cx - 0.5, 0.0, model.fy, model.cy - 0.5, 0.0, 0.0, 1.0]
        cam_entry: dict[str, Any] = {
            "cam_K": [float(v) for v in k],
            "depth_scale": unit,
            "cam_R_w2c": [float(v) for v in r_w2c.reshape(-1)],
            "cam_t_w2c": [float(v) for v in t_w2c],
        }
        if model.lens is not None:
            cam_entry["scenesmith"] = {"lens": model.lens.document()}
        if camera not in self.intrinsics:
            self.intrinsics[camera] = {
                "cx": float(k[2]), "cy": float(k[5]), "depth_scale": unit, "fx": float(k[0]), "fy": float(k[4]),
                "height": model.height, "width": model.width,
            }  # fmt: skip
        # rgb and depth
        rgb = np.ascontiguousarray(annotators["rgb"][camera]["data"][..., :3])
        if self.options.get("rgb_format", "png") == "jpg":
            self._put(folder / "rgb" / f"{image:06d}.jpg", _jpeg(rgb, int(self.options.get("jpeg_quality", 95))))
        else:
            self._put(folder / "rgb" / f"{image:06d}.png", _png(rgb))
        depth_m = np.asarray(annotators["distance_to_image_plane"][camera]["data"], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            units = np.round(depth_m * 1000.0 / unit)
            depth = np.where(np.isfinite(units) & (units > 0) & (units <= DEPTH_MAX), units, 0).astype(np.uint16)
        self._put(folder / "depth" / f"{image:06d}.png", _png(depth))
        # objects
        ids = annotators["instance_segmentation"][camera]["data"]
        amodal = amodal_crops(annotators[AMODAL_ANNOTATOR][camera])
        gts, infos = [], []
        for obj_id, iid, transform in self._objects(annotators["bounding_box_3d"][camera], frame):
            visible = ids == iid
            full = amodal_full(*amodal[iid], *ids.shape) if iid in amodal else visible
            r_m2w = transform[:3, :3].T
            r_m2c = r_w2c @ r_m2w
            t_m2c = r_w2c @ (transform[3, :3] * 1000.0) + t_w2c
            gts.append(
                {
                    "obj_id": obj_id,
                    "cam_R_m2c": [float(v) for v in r_m2c.reshape(-1)],
                    "cam_t_m2c": [float(v) for v in t_m2c],
                }
            )
            px_all, px_visib = int(full.sum()), int(visible.sum())
            infos.append(
                {
                    "bbox_obj": bbox_of(full),
                    "bbox_visib": bbox_of(visible),
                    "px_count_all": px_all,
                    "px_count_valid": int((full & (depth > 0)).sum()),
                    "px_count_visib": px_visib,
                    "visib_fract": px_visib / px_all if px_all else 0.0,
                }
            )
            gt_id = len(gts) - 1
            self._put(folder / "mask" / f"{image:06d}_{gt_id:06d}.png", _png(full.astype(np.uint8) * 255))
            self._put(folder / "mask_visib" / f"{image:06d}_{gt_id:06d}.png", _png(visible.astype(np.uint8) * 255))
        self.entries.append(
            {"split": split, "scene": scene, "im": image, "camera": cam_entry, "gt": gts, "gt_info": infos}
        )

    def _objects(self, boxes: dict[str, Any], frame: int) -> list[tuple[int, int, np.ndarray]]:
        """(obj_id, instance id, rigid model-to-world transform (row vectors, metres)) of each
        box that is a BOP object, in instance-id order."""
        rows = boxes["data"]
        labels = {
            int(k): (v.get("class", "") if isinstance(v, dict) else str(v)) for k, v in boxes["idToLabels"].items()
        }
        out = []
        for row, iid, path in zip(rows, np.asarray(boxes["bboxIds"]).tolist(), boxes["primPaths"]):
            transform = np.asarray(row["transform"], dtype=np.float64).reshape(4, 4)
            scale = np.linalg.norm(transform[:3, :3], axis=1)
            model = self.models.get(str(path))
            if model is not None:
                if np.any(np.abs(scale - np.asarray(model.scale)) > SCALE_TOLERANCE * np.abs(model.scale)):
                    raise ValueError(
                        f"frame {frame}: {path} has scale {scale.round(6).tolist()}, its BOP model "
                        f"{list(model.scale)}: BOP poses are rigid (no per-frame scale)"
                    )
                obj_id = model.obj_id
            elif not self.models and labels.get(int(row["semanticId"])) in self.by_label:
                obj_id = self.by_label[labels[int(row["semanticId"])]]
            else:
                continue
            rigid = transform.copy()
            rigid[:3, :3] = transform[:3, :3] / scale[:, None]
            out.append((obj_id, int(iid), rigid))
        return sorted(out, key=lambda o: o[1])

    def _put(self, path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data)
        self.files.append(self._rel(path))

    def close(self) -> list[Path]:
        assert self.context is not None
        body = {
            "frames": list(self.context.frames),
            "cameras": self.intrinsics,
            "images": sorted(self.entries, key=lambda e: (e["split"], e["scene"], e["im"])),
        }
        self._put(
            self.context.out_dir / fragment_path(self.context.shard_id),
            json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode(),
        )
        return list(self.files)

    # ------------------------------------------------------------------ the run

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        written: list[Path] = []
        root = out_dir / BOP_DIR
        cameras = max(1, len(run.cameras))
        open_scenes: dict[tuple[str, int], dict[str, dict[int, Any]]] = {}
        intrinsics: dict[str, dict[str, Any]] = {}

        def flush(before: int | None) -> None:
            for key in sorted(k for k in open_scenes if before is None or k[1] < before):
                split, scene = key
                parts = open_scenes.pop(key)
                folder = root / split / f"{scene:06d}"
                for name in ("scene_camera", "scene_gt", "scene_gt_info"):
                    path = folder / f"{name}.json"
                    atomic_write_bytes(path, _bop_json(parts[name]))
                    written.append(path.relative_to(out_dir))

        for shard in sorted(shard_ids):
            fragment = json.loads((out_dir / fragment_path(shard)).read_text(encoding="utf-8"))
            # scenes grow with the frame: those before this shard's first frame are complete
            flush(scene_of(fragment["frames"][0], 0, cameras, run.episode_frames)[0])
            for camera, values in fragment["cameras"].items():
                intrinsics.setdefault(camera, values)
            for entry in fragment["images"]:
                parts = open_scenes.setdefault(
                    (entry["split"], entry["scene"]), {"scene_camera": {}, "scene_gt": {}, "scene_gt_info": {}}
                )
                parts["scene_camera"][entry["im"]] = entry["camera"]
                parts["scene_gt"][entry["im"]] = entry["gt"]
                parts["scene_gt_info"][entry["im"]] = entry["gt_info"]
        flush(None)
        first = next((c for c in sorted(run.cameras) if c in intrinsics), None)
        if first is not None:  # BOP's camera.json describes one sensor: the first camera
            path = root / "camera.json"
            atomic_write_bytes(path, (json.dumps(intrinsics[first], sort_keys=True, indent=2) + "\n").encode())
            written.append(path.relative_to(out_dir))
        if run.objects:
            for model in run.objects:
                path = root / "models" / f"obj_{model.obj_id:06d}.ply"
                atomic_write_bytes(path, ply_text(model))
                written.append(path.relative_to(out_dir))
            path = root / "models" / "models_info.json"
            atomic_write_bytes(path, _bop_json({m.obj_id: model_info(m) for m in run.objects}))
            written.append(path.relative_to(out_dir))
        return written
