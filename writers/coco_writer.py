"""COCO writer: PNG images and instance annotations with RLE masks, merged at the end.

Layout (the standard one Datumaro, FiftyOne, supervision and pycocotools users expect): per frame
and camera ``coco/images/<split>/<camera>/<frame:06d>.png`` with ``file_name =
<camera>/<frame:06d>.png`` (relative to ``coco/images/<split>/``), and one merged
``coco/annotations/instances_<split>.json`` per split that has images. A frame's split is
``RunInfo.split_of`` (``output.splits``, a hash of seed and frame; ``train`` by default); every
camera of a frame is in its split. Ids are the run's, whatever the split, so they never collide
when splits are merged.

Ids (DESIGN §9): ``image_id = frame × cameras + camera index``, annotation id ``= image_id ×
10,000 + j + 1`` (from 1: pycocotools' COCOeval reads id 0 as "unmatched"), category id ``= 1 +
index`` in the sorted class labels of the scenario. ``image_id`` fits int32 while frames × cameras
< 2^31; annotation ids need int64 beyond 214,748 images and stay below 2^53 (exact as float64,
which COCOeval's matching and JavaScript use) while frames × cameras < 9.007 × 10^11 — at the
10^8-frame maximum, up to 9,007 cameras; a shard past that bound fails before writing (``open``).
Categories come from ``idToSemantics`` labels (ids are never compared across annotators). Masks are
pycocotools RLE of Fortran-ordered masks with ``counts`` as text; ``area`` is the mask's pixel
count; ``bbox = [x_min, y_min, x_max − x_min + 1, y_max − y_min + 1]`` encloses the mask exactly
(inclusive max, DESIGN §9); with ``keypoints: true``, ``keypoints`` holds the 9 projected cuboid
keypoints in PoseWriter's order as ``x, y, v`` triples: ``v = 2`` inside the image, ``v = 0``
outside it (with its pixel position), and ``0, 0, 0`` — COCO's "not labelled" — for a keypoint
behind the camera's near plane, which has no image position (``cuboid``; never a mirrored point).

Our extra fields live in one ``"scenesmith"`` object per annotation (``instance_id``,
``prim_path``, ``occlusion`` 0 visible … 1 hidden, ``visibility`` = 1 − occlusion, ``truncation``:
share of the 2D extent of the object's projected 3D box outside the image, the part behind the
near plane counted as outside (``cuboid.box_truncation``)) and per image (``frame_index``,
``camera``): consumers turn top-level keys into attributes of their own label objects, and
FiftyOne's ``Detection`` reserves ``instance_id``; one namespaced key cannot clash with theirs.
With ``amodal: true`` each annotation's ``scenesmith`` object also holds ``segmentation_amodal``
(the instance's full silhouette as if alone, from the ``instance_segmentation_amodal``
annotator, as a pycocotools RLE like ``segmentation``) and ``area_amodal`` (its pixel count).

Each shard writes a fragment ``fragments/coco/shard_<id:06d>.json`` (outside ``coco/``, whose
folder tree importers scan for annotation files); the fragments stay after the run, listed with
sha256 in the shard records, so ``--resume`` of a finished run re-merges from them.
``on_final_frame`` streams them, in shard order, into the annotations files (an image's split is
recomputed from its frame, so fragments do not depend on the splits) — identical for any shard
size or worker count. No timestamps anywhere.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.outputs import AMODAL_ANNOTATOR, MAX_INSTANCES, amodal_crops, amodal_full
from ..sensors.spec_base import PosInt, Spec
from .base import RunInfo, ShardContext, Writer, atomic_write_bytes, tmp_path_for
from .cuboid import KEYPOINT_ORDER, Pinhole, box_truncation, camera_model, cuboid_corners, project_points, to_camera

__all__ = [
    "ANNOTATIONS_PATH",
    "ANNOTATIONS_PER_IMAGE",
    "EXTRA_KEY",
    "FRAGMENTS_DIR",
    "IMAGES_DIR",
    "MAX_EXACT_ID",
    "SPLIT",
    "CocoWriter",
    "CocoWriterSpec",
    "annotations_path",
    "fragment_path",
    "id_range_problem",
    "images_dir",
    "rle_encode",
]

ANNOTATIONS_PER_IMAGE = MAX_INSTANCES
"""Per-image instance cap (the payload contract's): annotation ids are ``image_id × 10,000 + 1 … + 10,000``."""
SPLIT = "train"
"""The split of every frame when ``output.splits`` is not given."""


def annotations_path(split: str) -> Path:
    """A split's merged annotations, relative to the output folder."""
    return Path("coco") / "annotations" / f"instances_{split}.json"


def images_dir(split: str) -> Path:
    """A split's images root, relative to the output folder; images' ``file_name`` is relative to it."""
    return Path("coco") / "images" / split


ANNOTATIONS_PATH = annotations_path(SPLIT)
"""The merged annotations of the default split."""
IMAGES_DIR = images_dir(SPLIT)
"""The default split's images root."""
FRAGMENTS_DIR = Path("fragments") / "coco"
EXTRA_KEY = "scenesmith"
"""The one key under which our extra fields sit, in annotations and in images."""
MAX_EXACT_ID = 2**53 - 1
"""Largest id every consumer holds exactly (float64 in COCOeval's matching, JavaScript numbers)."""


def id_range_problem(stop_frame: int, cameras: int) -> str | None:
    """Why a run of frames ``< stop_frame`` with ``cameras`` cameras cannot have exact COCO
    ids, or None when its last annotation id is at most ``MAX_EXACT_ID``."""
    last_id = ((stop_frame - 1) * cameras + cameras) * ANNOTATIONS_PER_IMAGE
    if last_id <= MAX_EXACT_ID:
        return None
    return (
        f"COCO ids of frames up to {stop_frame - 1} with {cameras} cameras reach {last_id}, beyond "
        f"{MAX_EXACT_ID} (2^53 - 1, the largest id COCOeval and JSON readers hold exactly)"
    )


def fragment_path(shard_id: int) -> Path:
    """A shard's fragment, relative to the output folder."""
    return FRAGMENTS_DIR / f"shard_{shard_id:06d}.json"


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    as_u8 = mask.view(np.uint8) if mask.dtype == np.bool_ else mask.astype(np.uint8)
    rle = mask_utils.encode(np.asfortranarray(as_u8))  # no copy for a Fortran-ordered mask
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def instance_rles(ids: np.ndarray, wanted: set[int]) -> dict[int, tuple[dict[str, Any], int, list[int]]]:
    """COCO RLE, pixel count and inclusive box (x0, y0, x1, y1) of every id in ``wanted``,
    from one pass over the id image's column-major runs (instead of one full-image mask and
    one encode per instance). The counts strings equal pycocotools' ``encode`` of each mask."""
    from pycocotools import mask as mask_utils

    h, w = ids.shape
    flat = np.ascontiguousarray(ids.T).reshape(-1)  # column-major, as COCO RLE runs
    if flat.size == 0:
        return {}
    starts = np.concatenate([[0], np.flatnonzero(flat[1:] != flat[:-1]) + 1])
    lengths = np.diff(np.append(starts, flat.size))
    values = flat[starts]
    order = np.argsort(values, kind="stable")  # runs grouped by id, in image order within each
    groups = np.split(order, np.flatnonzero(np.diff(values[order])) + 1)
    out: dict[int, tuple[dict[str, Any], int, list[int]]] = {}
    for group in groups:
        iid = int(values[group[0]])
        if iid not in wanted:
            continue
        s, n = starts[group], lengths[group]
        ends = s + n - 1  # inclusive
        counts = np.empty(2 * len(s) + 1, dtype=np.int64)  # zeros, ones, zeros, ..., trailing zeros
        counts[0], counts[1::2], counts[-1] = s[0], n, flat.size - (ends[-1] + 1)
        counts[2:-1:2] = s[1:] - (ends[:-1] + 1)
        if counts[-1] == 0:  # pycocotools ends on the last run of ones
            counts = counts[:-1]
        rle = mask_utils.frPyObjects({"counts": counts.tolist(), "size": [h, w]}, h, w)
        # a run crossing into the next column covers that column's top and the previous one's bottom
        wraps = (s // h) != (ends // h)
        y0 = 0 if wraps.any() else int((s % h).min())
        y1 = h - 1 if wraps.any() else int((ends % h).max())
        box = [int(s[0] // h), y0, int(ends[-1] // h), y1]
        out[iid] = ({"size": [h, w], "counts": rle["counts"].decode("ascii")}, int(n.sum()), box)
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _instance_ids(output: dict[str, Any]) -> tuple[np.ndarray, dict[int, Any]]:
    """Instance-segmentation ids and semantics, undoing ``colorize`` if it was on."""
    data = output["data"]
    semantics = output["idToSemantics"]
    if semantics and isinstance(next(iter(semantics)), tuple):
        packed = {int(np.array(k, dtype=np.uint8).view("<u4")[0]): v for k, v in semantics.items()}
        return data, packed
    return data, {int(k): v for k, v in semantics.items()}


class CocoWriterSpec(Spec):
    """Options of the COCO writer (``output.writers.coco``)."""

    keypoints: bool = False
    """Add the 9 projected cuboid corners as a keypoints field (PoseWriter's order)."""
    min_visible_pixels: PosInt = 1
    """Instances with fewer visible pixels get no annotation."""
    amodal: bool = False
    """Add each instance's amodal mask (full silhouette, also where occluded) as an RLE in
    ``scenesmith.segmentation_amodal`` (reads the instance_segmentation_amodal annotator)."""


class CocoWriter(Writer):
    name = "coco"
    options_spec = CocoWriterSpec
    enabled_by_default = True
    summary = "COCO instances with RLE masks"
    replicator_class_name = "ScenesmithCocoWriter"
    output_patterns = (
        "coco/annotations/instances_<split>.json",
        "coco/images/<split>/*/<n>.png",
        "fragments/coco/shard_<n>.json",
    )
    required_annotators = ("rgb", "instance_segmentation", "bounding_box_2d_loose")

    @classmethod
    def run_problem(cls, stop_frame: int, cameras: int) -> tuple[str, str, str] | None:
        problem = id_range_problem(stop_frame, cameras)
        return (
            None
            if problem is None
            else ("too many frames for exact COCO ids", "fewer frames or cameras per run", problem)
        )

    def requires(self) -> tuple[str, ...]:
        extra = ("bounding_box_3d", "camera_params") if self.options.get("keypoints") else ()
        if self.options.get("amodal"):
            extra += (AMODAL_ANNOTATOR,)
        return self.required_annotators + extra

    def open(self, context: ShardContext) -> None:
        problem = id_range_problem(context.frames[1], len(context.run.cameras))
        if problem is not None:  # prepare_run refuses such a run first; this guards other callers
            raise ValueError(problem)
        super().open(context)
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []
        self.category = {label: 1 + i for i, label in enumerate(context.run.categories)}

    def _image(self, frame: int, camera: str, rgba: np.ndarray) -> dict[str, Any]:
        from PIL import Image

        assert self.context is not None
        cameras = self.context.run.cameras
        image_id = frame * len(cameras) + cameras.index(camera)
        rel = Path(camera) / f"{frame:06d}.png"
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buffer, format="PNG", compress_level=1)
        path = self.context.out_dir / images_dir(self.context.run.split_of(frame)) / rel
        atomic_write_bytes(path, buffer.getvalue())
        self.files.append(self._rel(path))
        h, w = rgba.shape[:2]
        return {
            "id": image_id,
            "file_name": rel.as_posix(),
            "width": int(w),
            "height": int(h),
            EXTRA_KEY: {"frame_index": frame, "camera": camera},
        }

    def write(self, payload: dict[str, Any]) -> None:
        frame = int(payload["swhFrameNumber"])
        annotators = payload["annotators"]
        min_pixels = int(self.options.get("min_visible_pixels", 1))
        for camera in sorted(annotators.get("camera", {})):
            if camera not in annotators.get("instance_segmentation", {}) or camera not in annotators.get("rgb", {}):
                continue
            image = self._image(frame, camera, annotators["rgb"][camera]["data"])
            self.images.append(image)
            ids, semantics = _instance_ids(annotators["instance_segmentation"][camera])
            occlusion, loose = self._occlusion(annotators, camera)
            paths = self._paths(annotators, camera)
            keypoints = self._keypoints(annotators, camera) if self.options.get("keypoints") else {}
            amodal = amodal_crops(annotators[AMODAL_ANNOTATOR][camera]) if self.options.get("amodal") else {}
            labelled = {iid for iid, sem in semantics.items() if sem.get("class") in self.category}
            j = 0
            for iid, (rle, count, (x0, y0, x1, y1)) in sorted(instance_rles(ids, labelled).items()):
                if count < min_pixels:
                    continue
                if j >= ANNOTATIONS_PER_IMAGE:  # the next id would be the next image's first
                    raise ValueError(
                        f"frame {frame}, camera {camera}: more than {ANNOTATIONS_PER_IMAGE} instances in one image"
                    )
                label = semantics[iid]["class"]  # BACKGROUND, UNLABELLED, other taxonomies: not in ``labelled``
                ratio = float(occlusion.get(int(iid), 0.0))
                entry = {
                    "id": image["id"] * ANNOTATIONS_PER_IMAGE + j + 1,
                    "image_id": image["id"],
                    "category_id": self.category[label],
                    "segmentation": rle,
                    "area": int(count),
                    "bbox": [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
                    "iscrowd": 0,
                    EXTRA_KEY: {
                        "instance_id": int(iid),
                        "prim_path": paths.get(int(iid), ""),
                        "occlusion": round(ratio, 6),
                        "visibility": round(1.0 - ratio, 6),
                        "truncation": round(float(loose.get(int(iid), 0.0)), 6),
                    },
                }
                if int(iid) in amodal:
                    full = amodal_full(*amodal[int(iid)], *ids.shape)
                    entry[EXTRA_KEY]["segmentation_amodal"] = rle_encode(full)
                    entry[EXTRA_KEY]["area_amodal"] = int(full.sum())
                if int(iid) in keypoints:
                    entry["keypoints"] = keypoints[int(iid)]
                    entry["num_keypoints"] = sum(1 for k in range(9) if keypoints[int(iid)][3 * k + 2] > 0)
                self.annotations.append(entry)
                j += 1

    @staticmethod
    def _paths(annotators: dict[str, Any], camera: str) -> dict[int, str]:
        """Instance id → prim path, from ``idToLabels`` (colorized keys are RGBA bytes of the id)."""
        labels = annotators["instance_segmentation"][camera]["idToLabels"]
        return {
            (int(np.array(key, dtype=np.uint8).view("<u4")[0]) if isinstance(key, tuple) else int(key)): str(value)
            for key, value in labels.items()
        }

    @staticmethod
    def _occlusion(annotators: dict[str, Any], camera: str) -> tuple[dict[int, float], dict[int, float]]:
        """Per instance id: occlusion ratio, and truncation (projected 3D box outside the image)."""
        occlusion: dict[int, float] = {}
        truncation: dict[int, float] = {}
        loose = annotators.get("bounding_box_2d_loose", {}).get(camera)
        if loose is not None:
            ratios = loose["data"]["occlusionRatio"].astype(np.float64)
            occlusion = dict(zip(np.asarray(loose["bboxIds"]).tolist(), ratios.tolist()))
        boxes = annotators.get("bounding_box_3d", {}).get(camera)
        params = annotators.get("camera_params", {}).get(camera)
        if boxes is not None and params is not None:
            model = camera_model(params)
            corners = to_camera(cuboid_corners(boxes["data"]), params)
            ratios = box_truncation(corners, Pinhole.of(model), model.width, model.height)
            truncation = dict(zip(np.asarray(boxes["bboxIds"]).tolist(), ratios.tolist()))
        return occlusion, truncation

    @staticmethod
    def _keypoints(annotators: dict[str, Any], camera: str) -> dict[int, list[float]]:
        boxes = annotators["bounding_box_3d"][camera]
        params = annotators["camera_params"][camera]
        w, h = (int(v) for v in params["renderProductResolution"])
        uv = project_points(cuboid_corners(boxes["data"]), params)  # (n, 9, 2); nan: behind the near plane
        inside = (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
        placed = np.isfinite(uv).all(axis=-1)
        uv = np.where(placed[..., None], uv, 0.0)  # COCO: an unlabelled keypoint is 0, 0, 0
        out = {}
        for iid, points, flags in zip(np.asarray(boxes["bboxIds"]).tolist(), uv.tolist(), inside.tolist()):
            out[int(iid)] = [x for (u, v), f in zip(points, flags) for x in (round(u, 3), round(v, 3), 2 if f else 0)]
        return out

    def close(self) -> list[Path]:
        assert self.context is not None
        fragment = self.context.out_dir / fragment_path(self.context.shard_id)
        body = {
            "images": sorted(self.images, key=lambda i: i["id"]),
            "annotations": sorted(self.annotations, key=lambda a: a["id"]),
        }
        atomic_write_bytes(fragment, _dumps(body).encode())
        self.files.append(self._rel(fragment))
        return list(self.files)

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        categories = [{"id": 1 + i, "name": label, "supercategory": "object"} for i, label in enumerate(run.categories)]
        if self.options.get("keypoints"):
            for cat in categories:
                cat["keypoints"] = [k.lower() for k in KEYPOINT_ORDER]
                cat["skeleton"] = [
                    [2, 3],
                    [2, 4],
                    [2, 6],
                    [3, 5],
                    [3, 7],
                    [4, 5],
                    [4, 8],
                    [5, 9],
                    [6, 7],
                    [6, 8],
                    [7, 9],
                    [8, 9],
                ]
        info = {
            "description": "scenesmith synthetic dataset",
            "version": run.tool_version,
            "scenario_digest": run.scenario_digest,
            "seed": run.seed,
        }
        head = '{"info":' + _dumps(info) + ',"licenses":[],"categories":' + _dumps(categories) + ',"images":['
        outs: dict[str, tuple[Path, Any]] = {}  # split -> (final path, open temporary file)
        first: dict[str, bool] = {}

        def out_of(split: str) -> Any:
            if split not in outs:
                final = out_dir / annotations_path(split)
                final.parent.mkdir(parents=True, exist_ok=True)
                handle = open(tmp_path_for(final), "w", encoding="utf-8")
                handle.write(head)
                outs[split], first[split] = (final, handle), True
            return outs[split][1]

        cameras = max(1, len(run.cameras))
        try:
            for section in ("images", "annotations"):
                if section == "annotations":
                    if not outs:  # no image at all: the first split's file, empty (as before splits)
                        out_of(run.splits[0][0])
                    for split, (_, handle) in outs.items():
                        handle.write('],"annotations":[')
                        first[split] = True
                for shard in sorted(shard_ids):
                    path = out_dir / fragment_path(shard)
                    for item in json.loads(path.read_text(encoding="utf-8"))[section]:
                        frame = item["id"] // cameras if section == "images" else item["image_id"] // cameras
                        split = run.split_of(frame)
                        handle = out_of(split)
                        handle.write(("" if first[split] else ",") + _dumps(item))
                        first[split] = False
            for _, handle in outs.values():
                handle.write("]}\n")
        finally:
            for _, handle in outs.values():
                handle.close()
        written = []
        for final, handle in sorted(outs.values(), key=lambda o: str(o[0])):
            Path(handle.name).replace(final)
            written.append(final.relative_to(out_dir))
        return written
