"""The output contract: annotator payloads exactly as ``omni.replicator.core`` 1.12.27 emits them.

Backends produce these; writers consume only these (DESIGN §1). Sources: Replicator 1.12.27's
``scripts/utils/annotator_utils.py`` (how payload dicts are built), ``ogn/python/impl/nodes/
OgnWriter.py`` (the ``annotator`` data structure: ``camera`` and ``resolution`` sit inside
``payload["annotators"]``) and ``docs/annotators_details.rst``, as transcribed in
``reference/replicator-and-peers.md`` §2. Where the docs and emitted data disagree the emitted
data win: no-hit depth is ``+inf`` (Isaac Sim 6.0.1 golden ``distance_to_camera_float32.tiff``).

This is a leaf module: numpy only.
"""

from __future__ import annotations

import colorsys
from typing import Any, Literal, get_args

import numpy as np

__all__ = [
    "AMODAL_ANNOTATOR",
    "ANNOTATORS",
    "LIDAR_ANNOTATOR",
    "MAX_INSTANCES",
    "MODEL_ANNOTATORS",
    "AnnotatorName",
    "BBOX2D_DTYPE",
    "BBOX3D_DTYPE",
    "BACKGROUND",
    "CAMERA_PARAMS_KEYS",
    "OCCLUSION_DTYPE",
    "PAYLOAD_TOP_KEYS",
    "PHYSICS_STATE_KEY",
    "SCENESMITH_KEY",
    "UNLABELLED",
    "amodal_crops",
    "amodal_full",
    "amodal_masks",
    "amodal_payload",
    "annotator_payload",
    "camera_payload",
    "lineage_payload",
    "stereo_payload",
    "colorize_id",
    "empty_payload",
    "pack_rgba",
]

AnnotatorName = Literal[
    "rgb",
    "HdrColor",
    "distance_to_camera",
    "distance_to_image_plane",
    "normals",
    "instance_segmentation",
    "instance_id_segmentation",
    "semantic_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "bounding_box_3d",
    "occlusion",
    "camera_params",
    "pointcloud",
    "DiffuseAlbedo",
    "raw",
    "depth_sensor",
    "motion_vectors",
    "instance_segmentation_amodal",
]
"""Camera annotators, with ``omni.replicator.core`` 1.12.27's names (the scenario's
``annotators`` key takes these). ``DiffuseAlbedo`` is an RTX AOV of that name;
``motion_vectors`` is Replicator's ``MotionVectors`` (float32 (H, W, 4): x, y image motion in
pixels, left and up positive, z and w unused; its docstring in ``annotators_default.py``), which
the registry also names ``motion_vectors``; ``raw`` (the camera sensor model's DN) and
``depth_sensor`` (the depth sensor model) are scenesmith's, made by ``sensors/models`` from the
others (issue 17); ``instance_segmentation_amodal`` is scenesmith's too (issue 18; Replicator
and Isaac Sim 6.0 have no amodal annotator): see :data:`AMODAL_ANNOTATOR`."""
MODEL_ANNOTATORS = ("raw", "depth_sensor")
AMODAL_ANNOTATOR = "instance_segmentation_amodal"
"""Our extension: per labelled instance, its full silhouette as if it were alone in the scene
(occluders removed, the image border still cuts it), sampled at pixel centres like
``instance_segmentation``. Flat output (:func:`amodal_payload`):

- ``bboxIds`` (K,) uint32: the instances' ``instance_segmentation`` ids, ascending;
- ``boxes`` (K, 4) int32: each silhouette's inclusive pixel box ``x_min, y_min, x_max, y_max``;
- ``data`` (N,) uint8: each mask cropped to its box, row-major, 1 inside the silhouette,
  concatenated in ``bboxIds`` order (N = sum of the boxes' areas);
- ``primPaths``: the instances' prim paths.

The instances are the labelled ones whose silhouette reaches a pixel centre of the image (the
set ``bounding_box_2d_loose`` reports); each mask contains that instance's pixels of
``instance_segmentation``. :func:`amodal_masks` decodes it."""
"""Annotators the sensor models make after capture (a backend never captures them)."""
ANNOTATORS: tuple[str, ...] = get_args(AnnotatorName)
MAX_INSTANCES = 10_000
"""Labelled instances per frame a payload may carry: the scenario checks it and COCO's
annotation ids (``image_id * MAX_INSTANCES + j + 1``) rely on it (DESIGN §9)."""
LIDAR_ANNOTATOR = "IsaacCreateRTXLidarScanBuffer"
"""The RTX LiDAR annotator whose output is the LiDAR payload (one per LiDAR render product)."""


def colorize_id(k: int) -> tuple[int, int, int, int]:
    """Replicator-style colours: BACKGROUND transparent black, UNLABELLED opaque black, then a
    deterministic golden-ratio hue sequence (Replicator's own palette changed in 1.12.26 and is
    not published, so colours are ours; ids and labels are what to rely on)."""
    if k == 0:
        return (0, 0, 0, 0)
    if k == 1:
        return (0, 0, 0, 255)
    r, g, b = colorsys.hsv_to_rgb((k * 0.618033988749895) % 1.0, 0.8, 0.95)
    return (int(r * 255), int(g * 255), int(b * 255), 255)


BBOX2D_DTYPE = np.dtype(
    [
        ("semanticId", "<u4"),
        ("x_min", "<i4"),
        ("y_min", "<i4"),
        ("x_max", "<i4"),
        ("y_max", "<i4"),
        ("occlusionRatio", "<f4"),
    ]
)
"""``bounding_box_2d_tight`` / ``_loose``: pixel boxes; ``x_max``/``y_max`` inclusive (DESIGN §9)."""

BBOX3D_DTYPE = np.dtype(
    [
        ("semanticId", "<u4"),
        ("x_min", "<f4"),
        ("y_min", "<f4"),
        ("z_min", "<f4"),
        ("x_max", "<f4"),
        ("y_max", "<f4"),
        ("z_max", "<f4"),
        ("transform", "<f4", (4, 4)),
        ("occlusionRatio", "<f4"),
    ]
)
"""``bounding_box_3d``: local extents before scale; ``transform`` local→world, row-vector."""

OCCLUSION_DTYPE = np.dtype([("instanceId", "<u4"), ("semanticId", "<u4"), ("occlusionRatio", "<f4")])

CAMERA_PARAMS_KEYS = (
    "cameraAperture",
    "cameraApertureOffset",
    "cameraFisheyeLensP",
    "cameraFisheyeLensS",
    "cameraFisheyeMaxFOV",
    "cameraFisheyeNominalHeight",
    "cameraFisheyeNominalWidth",
    "cameraFisheyeOpticalCentre",
    "cameraFisheyePolynomial",
    "cameraFocalLength",
    "cameraFocusDistance",
    "cameraFStop",
    "cameraModel",
    "cameraNearFar",
    "cameraProjection",
    "cameraViewTransform",
    "metersPerSceneUnit",
    "renderProductResolution",
)

BACKGROUND = "BACKGROUND"
UNLABELLED = "UNLABELLED"

PAYLOAD_TOP_KEYS = (
    "annotators",
    "swhFrameNumber",
    "reference_time",
    "distribution_outputs",
    "trigger_outputs",
    "named_outputs",
)
"""Top-level keys of a writer payload in the ``annotator`` data structure (``OgnWriter.py``)."""

PHYSICS_STATE_KEY = "physics_state"
"""Our addition next to ``annotators``: the backend-neutral physics state of the frame."""
SCENESMITH_KEY = "scenesmith"
"""Our addition: frame lineage (``FrameParams``) and run metadata writers may record."""


def empty_payload(frame_number: int, reference_time: tuple[int, int]) -> dict[str, Any]:
    """A writer payload with no annotator data yet (``annotator`` data structure)."""
    return {
        "annotators": {"camera": {}, "resolution": {}},
        "swhFrameNumber": int(frame_number),
        "reference_time": reference_time,
        "distribution_outputs": {},
        "trigger_outputs": {},
        "named_outputs": {},
    }


def annotator_payload(payload: dict[str, Any], name: str, render_product: str, value: dict[str, Any]) -> None:
    """Store one annotator's flat output for one render product."""
    payload["annotators"].setdefault(name, {})[render_product] = value


def camera_payload(payload: dict[str, Any], render_product: str, prim_path: str, resolution: tuple[int, int]) -> None:
    """Record which camera prim a render product views and at what (width, height) — the
    ``camera`` and ``resolution`` entries ``OgnWriter.py`` puts inside ``payload["annotators"]``."""
    payload["annotators"]["camera"][render_product] = prim_path
    payload["annotators"]["resolution"][render_product] = [int(resolution[0]), int(resolution[1])]


def lineage_payload(payload: dict[str, Any], frame_params: dict[str, Any] | None, scenario_digest: str) -> None:
    """Our addition: the frame's lineage (``FrameParams.to_dict()``, or None when Replicator drew
    the values) and the scenario digest, under :data:`SCENESMITH_KEY`."""
    payload.setdefault(SCENESMITH_KEY, {}).update({"frame_params": frame_params, "scenario_digest": scenario_digest})


def stereo_payload(payload: dict[str, Any], render_product: str, rig: dict[str, Any]) -> None:
    """Our addition: a stereo rig camera's rectification metadata (``sensors.stereo``), under
    :data:`SCENESMITH_KEY` → ``stereo`` → render product."""
    payload.setdefault(SCENESMITH_KEY, {}).setdefault("stereo", {})[render_product] = rig


def amodal_payload(entries: list[tuple[int, tuple[int, int, int, int], np.ndarray, str]]) -> dict[str, Any]:
    """The :data:`AMODAL_ANNOTATOR` output of (instance id, inclusive box, cropped bool mask,
    prim path) entries, sorted by id."""
    entries = sorted(entries, key=lambda e: e[0])
    crops = [np.ascontiguousarray(crop, dtype=np.uint8).reshape(-1) for _, _, crop, _ in entries]
    return {
        "data": np.concatenate(crops) if crops else np.zeros(0, dtype=np.uint8),
        "bboxIds": np.array([e[0] for e in entries], dtype=np.uint32),
        "boxes": np.array([e[1] for e in entries], dtype=np.int32).reshape(-1, 4),
        "primPaths": [e[3] for e in entries],
    }


def amodal_crops(output: dict[str, Any]) -> dict[int, tuple[tuple[int, int, int, int], np.ndarray]]:
    """Instance id → (inclusive box, bool mask cropped to it), from an :data:`AMODAL_ANNOTATOR` output."""
    data = np.asarray(output["data"], dtype=np.uint8)
    boxes = np.asarray(output["boxes"], dtype=np.int64).reshape(-1, 4)
    crops: dict[int, tuple[tuple[int, int, int, int], np.ndarray]] = {}
    start = 0
    for iid, (x0, y0, x1, y1) in zip(np.asarray(output["bboxIds"]).tolist(), boxes.tolist()):
        h, w = y1 - y0 + 1, x1 - x0 + 1
        crops[int(iid)] = ((x0, y0, x1, y1), data[start : start + h * w].reshape(h, w) != 0)
        start += h * w
    if start != data.size:
        raise ValueError(f"{AMODAL_ANNOTATOR}: data holds {data.size} values, the boxes cover {start}")
    return crops


def amodal_full(box: tuple[int, int, int, int], crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """One crop of :func:`amodal_crops` placed in a (height, width) bool image."""
    x0, y0, x1, y1 = box
    mask = np.zeros((height, width), dtype=bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = crop
    return mask


def amodal_masks(output: dict[str, Any], height: int, width: int) -> dict[int, np.ndarray]:
    """Instance id → full-image (height, width) bool amodal mask (every instance at once: for
    few instances; writers expand one crop at a time with :func:`amodal_full`)."""
    return {iid: amodal_full(box, crop, height, width) for iid, (box, crop) in amodal_crops(output).items()}


def pack_rgba(rgba: np.ndarray) -> np.ndarray:
    """Pack (..., 4) uint8 RGBA into uint32 as Replicator's ``colorize`` does (``view(np.uint8)``
    of the result gives back R, G, B, A in that byte order)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    return rgba.view("<u4")[..., 0]
