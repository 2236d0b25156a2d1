"""Camera annotators of ``omni.replicator.core`` 1.12.27, computed from Embree hits.

Names, dtypes, shapes and extras follow ``sensors.outputs`` (the transcription of
Replicator's schemas). Label annotators use one ray through each pixel centre (DESIGN §9);
only RGB is anti-aliased. Id spaces (DESIGN §9 "Ids"):

- ``instance_segmentation``: 0 BACKGROUND, 1 UNLABELLED, then 2 + index of the labelled prim
  among all labelled prims in prim-path order (stable across frames).
- ``instance_id_segmentation``: 0 where nothing is hit, else 1 + index of the gprim among all
  gprims in prim-path order; ``idToLabels`` maps it to the gprim's path.
- ``semantic_segmentation``: 0 BACKGROUND, 1 UNLABELLED, then 2 + index in the sorted class
  labels of the scene.
- boxes: ``semanticId`` indexes the box annotators' own ``idToLabels`` (sorted class labels
  from 0); ``bboxIds`` are instance-segmentation ids, linking tight, loose and 3D boxes.

Occlusion comes from a second pass per object: the object alone, ray cast over its projected
window; its unoccluded pixels give the loose box and the denominator of ``occlusionRatio``
(1 − visible / unoccluded; 0 fully visible, 1 fully hidden). With
``instance_segmentation_amodal`` wanted, the same pass keeps those pixels as each object's
amodal mask (``occlusion_pass.alone_mask``), and the boxes and ratios come from the masks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ...scenarios.model import CameraSpec
from ...sensors.camera import PinholeCamera
from ...sensors.lens import camera_params_fields
from ...sensors.outputs import (
    AMODAL_ANNOTATOR,
    BACKGROUND,
    BBOX2D_DTYPE,
    BBOX3D_DTYPE,
    OCCLUSION_DTYPE,
    UNLABELLED,
    amodal_payload,
    colorize_id,
    pack_rgba,
)
from .camera_rays import CameraRays, camera_rays
from .motion import CameraTiming
from .occlusion_pass import alone_mask, swept_window, unoccluded_pixels
from .scene import FrameGeometry, Instance, SceneIndex

__all__ = ["CameraHits", "camera_annotators", "cast_camera"]


@dataclass
class CameraHits:
    model: PinholeCamera
    cam_to_world: np.ndarray
    rays: CameraRays
    hits: dict[str, np.ndarray]
    valid: np.ndarray  # (H*W,) hit within the clipping range
    distance: np.ndarray  # (H*W,) eye-to-hit distance, inf where invalid
    depth: np.ndarray  # (H*W,) distance along the optical axis, inf where invalid
    normals: np.ndarray | None = None  # world shading normals, computed once on first use
    timing: CameraTiming | None = None  # the shutter and what moves while it is open (None: a still frame)
    times: np.ndarray | None = None  # (H*W,) each label ray's time: its row's (rolling shutter), else None (t = 0)

    def shading_normals(self, frame: FrameGeometry) -> np.ndarray:
        if self.normals is None:
            moving = self.timing.moving if self.timing is not None else None
            if self.times is not None and moving is not None:
                self.normals = moving.smooth_normals(self.hits, self.times)
            else:
                self.normals = frame.smooth_normals(self.hits)
        return self.normals


def cast_camera(
    frame: FrameGeometry, model: PinholeCamera, cam_to_world: np.ndarray, timing: CameraTiming | None = None
) -> CameraHits:
    """The label rays' hits: one ray per pixel centre at the capture instant, or, with a
    rolling shutter and something moving, at the middle of the pixel's row's exposure."""
    rays = camera_rays(model, cam_to_world)
    if timing is None or not timing.shutter.rolling:
        hits = frame.cast(rays.origins, rays.directions)
        valid, distance, depth = rays.clip(hits, model.far_m)
        return CameraHits(model, cam_to_world, rays, hits, valid, distance, depth, timing=timing)
    times = timing.shutter.label_times(model.height, model.width)
    rays = timing.rays_at(rays, times)
    hits = timing.cast(frame, rays, times)
    valid, distance, depth = rays.clip(hits, model.far_m)
    return CameraHits(model, cam_to_world, rays, hits, valid, distance, depth, timing=timing, times=times)


@nb.njit(cache=True)
def _pixel_ids(
    valid: np.ndarray, gprim: np.ndarray, gprim_instance: np.ndarray, sem_of_instance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: the gprim hit (−1 if none), the instance-segmentation id and the semantic id
    (0 nothing hit, 1 hit but unlabelled, else the labelled prim's id)."""
    n = valid.shape[0]
    hit_gprim = np.full(n, -1, dtype=np.int64)
    inst_ids, sem_ids = np.zeros(n, dtype=np.uint32), np.zeros(n, dtype=np.uint32)
    for i in range(n):
        if not valid[i]:
            continue
        g = gprim[i]
        hit_gprim[i] = g
        owner = gprim_instance[g] if g >= 0 else -1
        if owner >= 0:
            inst_ids[i], sem_ids[i] = owner + 2, sem_of_instance[owner]
        else:
            inst_ids[i], sem_ids[i] = 1, 1
    return hit_gprim, inst_ids, sem_ids


@nb.njit(cache=True)
def _normals4(valid: np.ndarray, normals: np.ndarray) -> np.ndarray:
    out = np.zeros((valid.shape[0], 4), dtype=np.float32)
    for i in range(valid.shape[0]):
        if valid[i]:
            for k in range(3):
                out[i, k] = normals[i, k]
    return out


@nb.njit(cache=True)
def _id_boxes(ids: np.ndarray, width: int, n_ids: int) -> np.ndarray:
    """Inclusive pixel box (x0, y0, x1, y1) of every id in one pass (empty ids keep x0 > x1)."""
    box = np.empty((n_ids, 4), dtype=np.int64)
    box[:, 0], box[:, 1], box[:, 2], box[:, 3] = width, ids.shape[0], -1, -1
    for i in range(ids.shape[0]):
        k, row, col = ids[i], i // width, i % width
        box[k, 0], box[k, 1] = min(box[k, 0], col), min(box[k, 1], row)
        box[k, 2], box[k, 3] = max(box[k, 2], col), max(box[k, 3], row)
    return box


@nb.njit(parallel=True, cache=True)
def _pointcloud(
    sel: np.ndarray,
    eyes: np.ndarray,
    directions: np.ndarray,
    distance: np.ndarray,
    rgb: np.ndarray,
    normals4: np.ndarray,
    sem_ids: np.ndarray,
    inst_ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``pointcloud`` arrays of pixels ``sel``: world points (float32, N×3), flat RGBA,
    flat normals (N×4), semantic and instance ids. ``eyes``: one eye (1×3), or each ray's."""
    n = sel.shape[0]
    per_ray = eyes.shape[0] > 1
    flat_rgb = rgb.reshape(-1, 4)
    points, colors = np.empty((n, 3), dtype=np.float32), np.empty(n * 4, dtype=np.uint8)
    normals, sem, inst = np.empty(n * 4, dtype=np.float32), np.empty(n, dtype=np.uint32), np.empty(n, dtype=np.uint32)
    for j in nb.prange(n):
        i = sel[j]
        e = i if per_ray else 0
        for k in range(3):
            points[j, k] = eyes[e, k] + directions[i, k] * distance[i]
        for k in range(4):
            colors[4 * j + k] = flat_rgb[i, k]
            normals[4 * j + k] = normals4[i, k]
        sem[j], inst[j] = sem_ids[i], inst_ids[i]
    return points, colors, normals, sem, inst


def _boxes(rows: list[tuple], dtype: np.dtype) -> np.ndarray:
    return np.array(rows, dtype=dtype) if rows else np.zeros((0,), dtype=dtype)


def camera_annotators(
    index: SceneIndex,
    frame: FrameGeometry,
    camera: str,
    spec: CameraSpec,
    ch: CameraHits,
    render: Callable[[], Any],
    albedo: Callable[[], np.ndarray] | None = None,
    flow: Callable[[], np.ndarray] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every annotator ``spec`` asks for, as Replicator's flat outputs (``annotator`` structure);
    ``render`` makes the camera's image, ``albedo`` its ``DiffuseAlbedo``, ``flow`` its
    ``motion_vectors`` (``motion.motion_vectors``). The sensor models' outputs (``raw``,
    ``depth_sensor``) are not the backend's: ``runtime/sensor_stage.py``."""
    model = ch.model
    h, w = model.height, model.width
    wanted = set(spec.annotators)
    out: dict[str, dict[str, Any]] = {}
    gprim_instance = np.array([g.instance for g in index.gprims], dtype=np.int64)
    sem_of_instance = np.array(
        [index.semantic_ids.get(i.class_label, 1) if i.class_label else 1 for i in index.instances], dtype=np.uint32
    )
    gprim, inst_ids, sem_ids = _pixel_ids(ch.valid, ch.hits["gprim"], gprim_instance, sem_of_instance)
    world_to_cam = np.linalg.inv(ch.cam_to_world)

    if "distance_to_camera" in wanted:
        out["distance_to_camera"] = {
            "data": ch.distance.reshape(h, w).astype(np.float32) * np.float32(index.meters_per_unit)
        }
    if "distance_to_image_plane" in wanted:
        out["distance_to_image_plane"] = {
            "data": ch.depth.reshape(h, w).astype(np.float32) * np.float32(index.meters_per_unit)
        }
    normals4 = None  # (H*W, 4) float32, zero where nothing is hit
    if {"normals", "pointcloud"} & wanted:
        normals4 = _normals4(ch.valid, ch.shading_normals(frame))
    if "normals" in wanted:
        out["normals"] = {"data": normals4.reshape(h, w, 4)}

    present = [int(i) for i in np.flatnonzero(np.bincount(inst_ids)) if i >= 2]
    if "instance_segmentation" in wanted:
        colorize = spec.annotator_options.instance_segmentation_colorize
        id_to_labels: dict[Any, Any] = {0: BACKGROUND, 1: UNLABELLED}
        id_to_sem: dict[Any, Any] = {0: {"class": BACKGROUND}, 1: {"class": UNLABELLED}}
        for iid in present:
            inst = index.instances[iid - 2]
            id_to_labels[iid] = inst.path
            id_to_sem[iid] = dict(inst.labels)
        data = inst_ids.reshape(h, w)
        if colorize:
            lut = {k: colorize_id(k) for k in id_to_labels}
            rgba = np.zeros((h * w, 4), dtype=np.uint8)
            for k, color in lut.items():
                rgba[inst_ids == k] = color
            data = pack_rgba(rgba.reshape(h, w, 4))
            id_to_labels = {lut[k]: v for k, v in id_to_labels.items()}
            id_to_sem = {lut[k]: v for k, v in id_to_sem.items()}
        out["instance_segmentation"] = {"data": data, "idToLabels": id_to_labels, "idToSemantics": id_to_sem}

    if "instance_id_segmentation" in wanted:
        ids = np.where(gprim >= 0, gprim + 1, 0).astype(np.uint32)
        labels = {int(i): index.gprims[int(i) - 1].path for i in np.flatnonzero(np.bincount(ids)) if i > 0}
        out["instance_id_segmentation"] = {"data": ids.reshape(h, w), "idToLabels": labels}

    if "semantic_segmentation" in wanted:
        present_sem = [int(s) for s in np.flatnonzero(np.bincount(sem_ids))]
        label_of = {v: k for k, v in index.semantic_ids.items()}
        id_to_labels = {
            s: {"class": BACKGROUND if s == 0 else UNLABELLED if s == 1 else label_of[s]}
            for s in sorted(set(present_sem) | {0, 1})
        }
        data = sem_ids.reshape(h, w)
        if spec.annotator_options.semantic_segmentation_colorize:
            rgba = np.zeros((h * w, 4), dtype=np.uint8)
            for s in id_to_labels:
                rgba[sem_ids == s] = colorize_id(s)
            data = pack_rgba(rgba.reshape(h, w, 4))
            id_to_labels = {colorize_id(s): v for s, v in id_to_labels.items()}
        out["semantic_segmentation"] = {"data": data, "idToLabels": id_to_labels}

    box_annotators = {"bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "occlusion"}
    box_annotators.add(AMODAL_ANNOTATOR)  # the per-object pass makes the amodal masks too
    if box_annotators & wanted:
        out.update(_box_outputs(index, frame, ch, inst_ids, world_to_cam, wanted))

    if "DiffuseAlbedo" in wanted and albedo is not None:
        out["DiffuseAlbedo"] = {"data": albedo()}
    if "motion_vectors" in wanted:
        assert flow is not None, "motion_vectors needs the frame's motion"
        out["motion_vectors"] = {"data": flow()}

    if "camera_params" in wanted:
        out["camera_params"] = camera_params(
            model, world_to_cam, index.meters_per_unit, spec.focus_distance_m, spec.f_stop
        )

    rgb = None
    if {"rgb", "pointcloud", "HdrColor"} & wanted:
        image = render()  # one render per camera and frame, for every annotator made from it
        if {"rgb", "pointcloud"} & wanted:
            rgb = image.rgba()
        if "rgb" in wanted:
            out["rgb"] = {"data": rgb}
        if "HdrColor" in wanted:
            out["HdrColor"] = {"data": image.hdr()}
    if "pointcloud" in wanted:
        include = ch.valid if spec.annotator_options.pointcloud_include_unlabelled else inst_ids >= 2
        assert normals4 is not None and rgb is not None
        points, point_rgb, point_normals, point_sem, point_inst = _pointcloud(
            np.flatnonzero(include),
            ch.rays.eye[None, :] if ch.rays.eyes is None else ch.rays.eyes,
            ch.rays.directions,
            ch.distance,
            rgb,
            normals4,
            sem_ids,
            inst_ids,
        )
        out["pointcloud"] = {
            "data": points,
            "pointRgb": point_rgb,
            "pointNormals": point_normals,
            "pointSemantic": point_sem,
            "pointInstance": point_inst,
        }
    return out


def _box_outputs(
    index: SceneIndex,
    frame: FrameGeometry,
    ch: CameraHits,
    inst_ids: np.ndarray,
    world_to_cam: np.ndarray,
    wanted: set[str],
) -> dict[str, dict[str, Any]]:
    model = ch.model
    w = model.width
    counts = np.bincount(inst_ids, minlength=len(index.instances) + 2)
    extents = _id_boxes(inst_ids, w, len(counts))
    tight, loose, box3d, occl = [], [], [], []
    tight_ids, loose_ids, paths_t, paths_l = [], [], [], []
    amodal = AMODAL_ANNOTATOR in wanted
    masks: list[tuple[int, tuple[int, int, int, int], np.ndarray, str]] = []
    for inst in index.visible_instances(frame):
        if inst.class_label is None:
            continue
        gi = inst.gprims[0]
        matrix = _instance_matrix(index, frame, inst, gi)
        rest, window = _rolling_rest(ch, inst, gi, matrix, world_to_cam)
        if amodal:  # the same pixels, kept: count and box from the mask
            unoccluded, loose_box, crop = alone_mask(inst, matrix, ch, world_to_cam, inst_ids, rest, window)
            if crop is not None:
                masks.append((inst.instance_id, loose_box, crop, inst.path))  # type: ignore[arg-type]
        else:
            unoccluded, loose_box = unoccluded_pixels(
                inst, matrix, ch, world_to_cam, inst_ids, extents[inst.instance_id], rest, window
            )
        if unoccluded == 0:
            continue
        visible = int(counts[inst.instance_id])
        ratio = float(np.clip(1.0 - visible / unoccluded, 0.0, 1.0))
        sem = index.box_semantic_ids[inst.class_label]
        loose.append((sem, *loose_box, ratio))
        loose_ids.append(inst.instance_id)
        paths_l.append(inst.path)
        occl.append((inst.instance_id, index.semantic_ids[inst.class_label], ratio))
        if inst.local_bounds is not None:
            lo, hi = inst.local_bounds
            box3d.append((sem, *lo, *hi, matrix.astype(np.float32), ratio))
        if visible > 0:
            tight.append((sem, *(int(v) for v in extents[inst.instance_id]), ratio))
            tight_ids.append(inst.instance_id)
            paths_t.append(inst.path)
    id_to_labels = {v: {"class": k} for k, v in index.box_semantic_ids.items()}
    out: dict[str, dict[str, Any]] = {}
    if "bounding_box_2d_tight" in wanted:
        out["bounding_box_2d_tight"] = {
            "data": _boxes(tight, BBOX2D_DTYPE),
            "idToLabels": id_to_labels,
            "bboxIds": np.array(tight_ids, dtype=np.uint32),
            "primPaths": paths_t,
        }
    if "bounding_box_2d_loose" in wanted:
        out["bounding_box_2d_loose"] = {
            "data": _boxes(loose, BBOX2D_DTYPE),
            "idToLabels": id_to_labels,
            "bboxIds": np.array(loose_ids, dtype=np.uint32),
            "primPaths": paths_l,
        }
    if "bounding_box_3d" in wanted:
        with_bounds = [i for i, p in enumerate(paths_l) if index.instances[loose_ids[i] - 2].local_bounds is not None]
        out["bounding_box_3d"] = {
            "data": _boxes(box3d, BBOX3D_DTYPE),
            "idToLabels": id_to_labels,
            "bboxIds": np.array([loose_ids[i] for i in with_bounds], dtype=np.uint32),
            "primPaths": [paths_l[i] for i in with_bounds],
        }
    if "occlusion" in wanted:
        out["occlusion"] = {"data": _boxes(occl, OCCLUSION_DTYPE)}
    if amodal:
        out[AMODAL_ANNOTATOR] = amodal_payload(masks)
    return out


def _rolling_rest(
    ch: CameraHits, inst: Instance, gi: int, matrix: np.ndarray, world_to_cam: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray] | None, tuple[int, int, int, int] | None]:
    """With per-row label times: the window the object (gprim ``gi``'s) sweeps over the rows
    (``swept_window``), and the label rays there mapped to the frame where the object is at its
    t = 0 pose (each row's ray undone by the object's motion at that row's time), so the object
    cast alone is seen as each row saw it. (None, None) when the rows share one time."""
    if ch.times is None or ch.timing is None:
        return None, None
    moving = ch.timing.moving
    group = int(moving.motion.gprim_group[gi]) if moving is not None else -1
    motion = moving.motion.groups[group] if moving is not None and group >= 0 else None
    model = ch.model
    window = swept_window(inst, matrix, model, world_to_cam, motion, ch.timing.camera, ch.times[:: model.width])
    if motion is None or window is None:
        return (ch.rays.origins, ch.rays.directions), window
    assert moving is not None
    x0, y0, x1, y1 = window
    rows = (np.arange(y0, y1)[:, None] * model.width + np.arange(x0, x1)[None, :]).reshape(-1)
    origins, directions = ch.rays.origins.copy(), ch.rays.directions.copy()
    origins[rows], directions[rows] = moving.rest_rays(group, ch.rays.origins, ch.rays.directions, ch.times, rows)
    return (origins, directions), window


def _instance_matrix(index: SceneIndex, frame: FrameGeometry, inst: Instance, gi: int) -> np.ndarray:
    from pxr import UsdGeom

    if index.gprims[gi].path == inst.path:
        return frame.matrices[gi]
    prim = index.stage.GetPrimAtPath(inst.path)
    return np.asarray(UsdGeom.XformCache().GetLocalToWorldTransform(prim), dtype=np.float64)


def camera_params(
    model: PinholeCamera,
    world_to_cam: np.ndarray,
    meters_per_unit: float,
    focus_distance: float = 0.0,
    f_stop: float = 0.0,
) -> dict[str, Any]:
    """``camera_params``: every key Replicator emits; fisheye fields zero for pinhole cameras
    (no fisheye attributes are authored on them); a lens fills them (``lens.camera_params_fields``)."""
    params = {
        "cameraAperture": np.array([model.horizontal_aperture_mm, model.vertical_aperture_mm], dtype=np.float32),
        "cameraApertureOffset": np.array(model.aperture_offset_mm, dtype=np.float32),
        "cameraFisheyeLensP": np.zeros(2, dtype=np.float32),
        "cameraFisheyeLensS": np.zeros(4, dtype=np.float32),
        "cameraFisheyeMaxFOV": 0.0,
        "cameraFisheyeNominalHeight": 0,
        "cameraFisheyeNominalWidth": 0,
        "cameraFisheyeOpticalCentre": np.zeros(2, dtype=np.float32),
        "cameraFisheyePolynomial": np.zeros(6, dtype=np.float32),
        "cameraFocalLength": float(model.focal_length_mm),
        "cameraFocusDistance": float(focus_distance),
        "cameraFStop": float(f_stop),
        "cameraModel": "pinhole",
        "cameraNearFar": np.array([model.near_m, model.far_m], dtype=np.float32),
        "cameraProjection": model.projection_matrix().reshape(-1).astype(np.float64),
        "cameraViewTransform": world_to_cam.reshape(-1).astype(np.float64),
        "metersPerSceneUnit": float(meters_per_unit),
        "renderProductResolution": np.array([model.width, model.height], dtype=np.int32),
    }
    if model.lens is not None:  # the model and its coefficients, in Replicator's keys
        params.update(camera_params_fields(model.lens))
    return params


__all__ += ["camera_params"]
