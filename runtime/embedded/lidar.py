"""LiDAR scans ray cast on the same Embree scene as the cameras.

Output: the fields of Isaac Sim 5.1's ``IsaacCreateRTXLidarScanBuffer`` annotator (flat, as in
Replicator's ``annotator`` data structure) plus what Isaac Sim lacks — per-point semantic ids:

``data`` (N, 3) f32 points in the sensor frame at the frame's time (scan start); ``azimuth``,
``elevation`` f32 radians (emitted direction, sensor frame); ``distance`` f32 m; ``intensity``
f32 in [0, 1]; ``objectId`` u32 (instance-segmentation ids: 1 unlabelled, 2 + labelled prim
index); ``timestamp`` u64 ns since the frame's time; ``emitterId``, ``beamId`` (= emitter),
``index`` (ray index in the scan), ``materialId`` (0) u32; ``normal`` and ``velocity`` (N, 3)
f32 (hit normal in world space, zero velocity); extras ``numChannels``, ``numEchos`` (1: first
return only), ``numReturnsPerScan``, ``renderProductPath``, ``ticksPerScan``, ``transform``
(sensor→world at the frame's time, row-vector). Ours: ``semanticId`` u32 (semantic-segmentation
ids), ``channelId`` u32, ``data_world`` (N, 3) f32, ``idToLabels`` (objectId → prim path) and
``semanticIdToLabels`` (semanticId → {class: label}).

Noise (profile σ, angle errors, range quantisation) is drawn from the frame's generator keyed
by the LiDAR's prim path, so reruns are bit-identical. A sensor with ``motion`` or
``pose_path`` fires every ray from where it is at that ray's time, so its points show the
matching distortion in the scan-start sensor frame.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...scenarios.model import Keyframe, LidarSpec
from ...sensors.conventions import normalize_quat, quat_multiply, quat_to_rotation_matrix, transform_matrix
from ...sensors.lidar import LidarProfile, ScanPattern
from .materials import MaterialParams
from .scene import FrameGeometry, SceneIndex

__all__ = ["scan", "sensor_pose"]


def sensor_pose(prim: Any) -> np.ndarray:
    """Sensor-to-world matrix of an ``OmniLidar`` prim from its translate/orient ops."""
    t = prim.GetAttribute("xformOp:translate").Get()
    q = prim.GetAttribute("xformOp:orient").Get()
    quat = (q.GetReal(), *q.GetImaginary()) if q is not None else (1.0, 0.0, 0.0, 0.0)
    return transform_matrix(tuple(t) if t is not None else (0.0, 0.0, 0.0), quat)


def _slerp(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    dot = np.clip(np.sum(a * b), -1.0, 1.0)
    if dot < 0:
        b, dot = -b, -dot
    if dot > 0.9995:
        out = a + (b - a) * u[:, None]
        return out / np.linalg.norm(out, axis=1, keepdims=True)
    theta = math.acos(dot)
    return (np.sin((1 - u) * theta)[:, None] * a + np.sin(u * theta)[:, None] * b) / math.sin(theta)


def _poses(spec: LidarSpec, base: np.ndarray, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-ray sensor origin (M, 3) and rotation (M, 3, 3) at each ray's time."""
    m = len(times_s)
    if spec.pose_path is not None:
        keys: list[Keyframe] = spec.pose_path
        kt = np.array([k.time_s for k in keys])
        idx = np.clip(np.searchsorted(kt, times_s, side="right") - 1, 0, len(keys) - 2)
        u = np.clip((times_s - kt[idx]) / (kt[idx + 1] - kt[idx]), 0.0, 1.0)
        pos = np.array([k.position_m for k in keys])
        quats = np.array([normalize_quat(k.quat_wxyz) for k in keys])
        origins = pos[idx] + (pos[idx + 1] - pos[idx]) * u[:, None]
        rots = np.empty((m, 3, 3))
        for i in np.unique(idx):
            sel = idx == i
            for j, q in zip(np.nonzero(sel)[0], _slerp(quats[i], quats[i + 1], u[sel])):
                rots[j] = quat_to_rotation_matrix(q)
        return origins, rots
    origin = base[3, :3]
    rot = base[:3, :3]
    if spec.motion is None:
        return np.broadcast_to(origin, (m, 3)), np.broadcast_to(rot, (m, 3, 3))
    v = np.asarray(spec.motion.linear_velocity_m_s)
    w = np.radians(np.asarray(spec.motion.angular_velocity_deg_s))
    origins = origin + times_s[:, None] * v
    speed = float(np.linalg.norm(w))
    if speed == 0:
        return origins, np.broadcast_to(rot, (m, 3, 3))
    axis = w / speed
    q0 = _quat_of(rot)
    rots = np.empty((m, 3, 3))
    for j, t in enumerate(times_s):
        half = speed * t / 2
        dq = np.array([math.cos(half), *(axis * math.sin(half))])
        rots[j] = quat_to_rotation_matrix(quat_multiply(q0, dq))  # body rates: rotate in the sensor frame
    return origins, rots


def _quat_of(rot: np.ndarray) -> np.ndarray:
    from ...sensors.conventions import rotation_matrix_to_quat

    return rotation_matrix_to_quat(rot)


def scan(
    frame: FrameGeometry,
    index: SceneIndex,
    materials: list[MaterialParams],
    name: str,
    spec: LidarSpec,
    profile: LidarProfile,
    pattern: ScanPattern,
    base: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One full scan: the flat ``IsaacCreateRTXLidarScanBuffer`` output with semantic ids."""
    az = pattern.azimuth_rad.copy()
    el = pattern.elevation_rad.copy()
    n = len(az)
    noise = spec.noise
    if noise and (profile.azimuth_error_std_deg or profile.azimuth_error_mean_deg):
        az += np.radians(profile.azimuth_error_mean_deg + profile.azimuth_error_std_deg * rng.standard_normal(n))
    if noise and (profile.elevation_error_std_deg or profile.elevation_error_mean_deg):
        el += np.radians(profile.elevation_error_mean_deg + profile.elevation_error_std_deg * rng.standard_normal(n))
    cos_el = np.cos(el)
    dirs_sensor = np.stack([cos_el * np.cos(az), cos_el * np.sin(az), np.sin(el)], axis=1)
    times_s = pattern.time_ns.astype(np.float64) * 1e-9
    origins, rots = _poses(spec, base, times_s)
    if rots.strides[0] == 0:
        dirs = dirs_sensor @ rots[0]
    else:
        dirs = np.einsum("ij,ijk->ik", dirs_sensor, rots)
    hits = frame.cast(np.ascontiguousarray(origins), dirs)
    distance = hits["t"]
    if noise and profile.range_accuracy_m > 0:
        distance = distance + profile.range_accuracy_m * rng.standard_normal(n)
        if profile.range_resolution_m > 0:
            distance = np.round(distance / profile.range_resolution_m) * profile.range_resolution_m
    keep = hits["hit"] & (distance >= profile.near_m) & (distance <= profile.far_m)
    sel = np.nonzero(keep)[0]
    d = distance[sel]
    world = origins[sel] + dirs[sel] * d[:, None]
    inv_rot = base[:3, :3].T
    local = (world - base[3, :3]) @ inv_rot
    normals = hits["face_normal"][sel]
    cos_inc = np.abs(np.einsum("ij,ij->i", normals, dirs[sel]))
    gprim = hits["gprim"][sel]
    reflectance = np.array([m.reflectance for m in materials] + [0.0])[gprim]
    intensity = np.clip(
        reflectance * cos_inc * (profile.min_reflectance_range_m / np.maximum(d, 1e-9)) ** 2 / profile.min_reflectance,
        0.0,
        1.0,
    )
    owner = np.array([g.instance for g in index.gprims] + [-1], dtype=np.int64)[gprim]
    object_id = np.where(owner >= 0, owner + 2, 1).astype(np.uint32)
    sem_of = np.array(
        [index.semantic_ids.get(i.class_label, 1) if i.class_label else 1 for i in index.instances] + [1],
        dtype=np.uint32,
    )
    semantic = np.where(owner >= 0, sem_of[owner], 1).astype(np.uint32)
    labels = {v: k for k, v in index.semantic_ids.items()}
    return {
        "data": local.astype(np.float32),
        "azimuth": az[sel].astype(np.float32),
        "elevation": el[sel].astype(np.float32),
        "distance": d.astype(np.float32),
        "intensity": intensity.astype(np.float32),
        "objectId": object_id,
        "timestamp": pattern.time_ns[sel].astype(np.uint64),
        "emitterId": pattern.emitter[sel],
        "beamId": pattern.emitter[sel],
        "channelId": pattern.channel[sel],
        "index": sel.astype(np.uint32),
        "materialId": np.zeros(len(sel), dtype=np.uint32),
        "normal": normals.astype(np.float32),
        "velocity": np.zeros((len(sel), 3), dtype=np.float32),
        "semanticId": semantic,
        "data_world": world.astype(np.float32),
        "idToLabels": {
            int(i): index.instances[int(i) - 2].path if i >= 2 else "UNLABELLED" for i in np.unique(object_id)
        },
        "semanticIdToLabels": {int(s): {"class": labels.get(int(s), "UNLABELLED")} for s in np.unique(semantic)},
        "numChannels": profile.channels,
        "numEchos": 1,
        "numReturnsPerScan": profile.rays_per_scan,
        "renderProductPath": f"/Render/{name}",
        "ticksPerScan": profile.firings_per_scan,
        "transform": base.astype(np.float32),
    }
