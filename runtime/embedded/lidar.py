"""LiDAR scans ray cast on the same Embree scene as the cameras.

Output: the fields of Isaac Sim 5.1's ``IsaacCreateRTXLidarScanBuffer`` annotator (flat, as in
Replicator's ``annotator`` data structure) plus what Isaac Sim lacks — per-point semantic ids:

``data`` (N, 3) f32 points in the sensor frame at the frame's time (scan start); ``azimuth``,
``elevation`` f32 radians (emitted direction, sensor frame); ``distance`` f32 m; ``intensity``
f32 in [0, 1]; ``objectId`` u32 (instance-segmentation ids: 1 unlabelled, 2 + labelled prim
index); ``timestamp`` u64 ns since the frame's time; ``emitterId``, ``beamId`` (= emitter),
``index`` (ray index in the scan · numEchos + echo), ``materialId`` (0) u32; ``normal`` and
``velocity`` (N, 3) f32 (hit normal in world space, zero velocity); extras ``numChannels``,
``numEchos`` (1: first return only; 2 with ``returns``), ``numReturnsPerScan`` (rays ·
numEchos), ``renderProductPath``, ``ticksPerScan``, ``transform`` (sensor→world at the frame's
time, row-vector); with ``returns``, ``echoId`` u8 (Isaac Sim 6.0's name: 0 the strongest echo,
1 the last or second strongest), points ordered by ``index``. Ours: ``semanticId`` u32
(semantic-segmentation ids), ``channelId`` u32, ``data_world`` (N, 3) f32, ``idToLabels``
(objectId → prim path) and ``semanticIdToLabels`` (semanticId → {class: label}).

Noise (profile σ, angle errors, range quantisation) is drawn from the frame's generator keyed
by the LiDAR's prim path, so reruns are bit-identical. A sensor with ``motion`` or
``pose_path`` fires every ray from where it is at that ray's time, so its points show the
matching distortion in the scan-start sensor frame. The realism models (``intensity``,
``dropout``, ``returns``; maths in ``sensors.models``) are off unless the LiDAR's spec turns
them on; off, the scan is the single-return scan byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ...scenarios.model import Keyframe, LidarSpec
from ...scenarios.sensor_draws import beam_draw
from ...sensors.conventions import normalize_quat, quat_multiply, quat_to_rotation_matrix, transform_matrix
from ...sensors.lidar import LidarProfile, ScanPattern
from ...sensors.models.lidar_returns import (
    DEFAULT_MIN_ECHO_SEPARATION_M,
    ECHOES,
    Beam,
    Surfaces,
    footprint_offsets,
    strongest_and_last,
)
from ...sensors.models.lidar_signal import (
    calibrated_intensity,
    detection_probability,
    legacy_intensity,
    relative_signal,
)
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


def _to_world(vectors: np.ndarray, rots: np.ndarray) -> np.ndarray:
    """Sensor-frame row vectors (N, 3), or (N, 3, 3) stacks of them, rotated by each ray's (N, 3, 3)."""
    if rots.strides[0] == 0:
        # one (rows, 3) @ (3, 3) product: BLAS, where a stack of 3 × 3 products is a slow loop
        return (vectors.reshape(-1, 3) @ rots[0]).reshape(vectors.shape)
    if vectors.ndim == 3:
        return np.einsum("nij,njk->nik", vectors, rots)
    return np.einsum("ij,ijk->ik", vectors, rots)


def _cast(frame: FrameGeometry, origins: np.ndarray, dirs: np.ndarray, times_s: np.ndarray) -> dict[str, np.ndarray]:
    """First hits of the scan's rays. Hook for objects that move during the sweep (issue 17 item
    5, not built here): each ray should meet the scene as it is at its ``times_s`` (a beam's
    sub-rays share the beam's time); today the scene is the frame's and ``times_s`` is unused."""
    del times_s
    return frame.cast(np.ascontiguousarray(origins), dirs)


@nb.njit(parallel=True, cache=True)
def _bundle(
    frames: np.ndarray, origins: np.ndarray, tilt: np.ndarray, shift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-ray origins and directions (n·k, 3), beam-major: sub-ray j of beam i starts at
    origin + Σ shift[j]·frame[i] and points along Σ tilt[j]·frame[i] (frame rows: the beam's
    axis, horizontal and vertical unit vectors). A kernel, because NumPy's loops over a last
    axis of length 3 are several times slower than the cast they feed."""
    n, k = frames.shape[0], tilt.shape[0]
    dirs = np.empty((n * k, 3))
    starts = np.empty((n * k, 3))
    for i in nb.prange(n):
        for j in range(k):
            for c in range(3):
                a, h, v = frames[i, 0, c], frames[i, 1, c], frames[i, 2, c]
                dirs[i * k + j, c] = tilt[j, 0] * a + tilt[j, 1] * h + tilt[j, 2] * v
                starts[i * k + j, c] = origins[i, c] + shift[j, 1] * h + shift[j, 2] * v
    return starts, dirs


@dataclass(frozen=True, eq=False)
class _Returns:
    """Candidate returns of a scan, ``slots`` echoes per ray, ray-major (index = ray·slots + echo)."""

    slots: int
    valid: np.ndarray
    distance: np.ndarray
    """True range (before noise); inf where there is no return."""
    gprim: np.ndarray
    normal: np.ndarray
    """World-space face normal of the hit that labels the return."""
    reflectivity: np.ndarray | None
    """ρ·cosθ of the return; None: computed for the kept returns only (first returns)."""


def _first_returns(frame: FrameGeometry, origins: np.ndarray, dirs: np.ndarray, times_s: np.ndarray) -> _Returns:
    """One ray per beam, its first hit (the model without ``returns``)."""
    hits = _cast(frame, origins, dirs, times_s)
    return _Returns(1, hits["hit"], hits["t"], hits["gprim"], hits["face_normal"], None)


def _dual_returns(
    frame: FrameGeometry,
    beam: Beam,
    profile: LidarProfile,
    reflectance: np.ndarray,
    az: np.ndarray,
    el: np.ndarray,
    dirs_sensor: np.ndarray,
    origins: np.ndarray,
    rots: np.ndarray,
    times_s: np.ndarray,
) -> _Returns:
    """Each beam cast as ``beam.sub_rays`` sub-rays over its footprint, grouped into echoes
    (``sensors.models.lidar_returns``): the strongest and the last or second strongest."""
    n, k = len(az), beam.sub_rays
    offsets = footprint_offsets(k)
    # each beam's frame: its axis, horizontal (increasing azimuth) and vertical (increasing
    # elevation) unit vectors, rotated to the world once per beam rather than once per sub-ray
    zero = np.zeros(n)
    across = np.stack([-np.sin(az), np.cos(az), zero], axis=1)
    up = np.stack([-np.sin(el) * np.cos(az), -np.sin(el) * np.sin(az), np.cos(el)], axis=1)
    frames = _to_world(np.stack([dirs_sensor, across, up], axis=1), rots)  # (n, 3, 3)
    div_h, div_v = (mrad * 1e-3 for mrad in beam.divergence_mrad)
    tilt = np.stack([np.ones(k), np.tan(offsets[:, 0] * div_h / 2), np.tan(offsets[:, 1] * div_v / 2)], axis=1)
    tilt /= np.linalg.norm(tilt, axis=1, keepdims=True)  # the frame is orthonormal: unit sub-rays
    radius = beam.diameter_m / 2
    shift = np.stack([np.zeros(k), offsets[:, 0] * radius, offsets[:, 1] * radius], axis=1)
    sub_origins, sub_dirs_world = _bundle(np.ascontiguousarray(frames), np.ascontiguousarray(origins), tilt, shift)
    hits = _cast(frame, sub_origins, sub_dirs_world, np.repeat(times_s, k))
    cos_inc = np.abs(np.einsum("ij,ij->i", hits["face_normal"], sub_dirs_world))
    share = np.where(hits["hit"], reflectance[hits["gprim"]] * cos_inc / k, 0.0)
    separation = beam.min_separation_m or profile.min_echo_separation_m or DEFAULT_MIN_ECHO_SEPARATION_M
    surfaces = Surfaces(
        sub_origins.reshape(n, k, 3),
        sub_dirs_world.reshape(n, k, 3),
        hits["face_normal"].reshape(n, k, 3),
        hits["gprim"].reshape(n, k),
    )
    echoes = strongest_and_last(hits["t"].reshape(n, k), share.reshape(n, k), separation, surfaces)
    labelled_by = (np.arange(n)[:, None] * k + echoes.sub_ray).ravel()
    return _Returns(
        ECHOES,
        echoes.valid.ravel(),
        echoes.distance_m.ravel(),
        hits["gprim"][labelled_by],
        hits["face_normal"][labelled_by],
        echoes.reflectivity.ravel(),
    )


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
    dropout_rng: np.random.Generator | None = None,
    drawn: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One full scan: the flat ``IsaacCreateRTXLidarScanBuffer`` output with semantic ids.

    ``rng`` draws the profile's noise, ``dropout_rng`` (required with ``spec.dropout``) one
    uniform number per return slot: a separate stream, so turning dropout on or changing its
    curve leaves every kept point's bytes as they were. ``drawn`` is the LiDAR's entry in the
    frame's ``FrameParams.sensors`` (required with ``dropout`` or ``returns``): their parameters
    for this frame.
    """
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
    dirs = _to_world(dirs_sensor, rots)
    reflectance = np.array([m.reflectance for m in materials] + [0.0])
    if spec.returns is None:
        returns = _first_returns(frame, origins, dirs, times_s)
    else:
        assert drawn is not None, "returns needs the frame's drawn beam"
        beam = beam_draw(drawn["returns"], spec.returns.sub_rays)
        returns = _dual_returns(frame, beam, profile, reflectance, az, el, dirs_sensor, origins, rots, times_s)
    slots = returns.slots
    distance = returns.distance
    if noise and profile.range_accuracy_m > 0:
        # slot 0's draws first: with one echo per ray these are the draws of the single-return scan
        jitter = np.stack([rng.standard_normal(n) for _ in range(slots)], axis=1).ravel()
        distance = distance + profile.range_accuracy_m * jitter
        if profile.range_resolution_m > 0:
            distance = np.round(distance / profile.range_resolution_m) * profile.range_resolution_m
    keep = returns.valid & (distance >= profile.near_m) & (distance <= profile.far_m)
    sel = np.nonzero(keep)[0]
    ray = sel // slots
    reflectivity = (
        returns.reflectivity[sel]
        if returns.reflectivity is not None
        else reflectance[returns.gprim[sel]] * np.abs(np.einsum("ij,ij->i", returns.normal[sel], dirs[ray]))
    )
    if spec.dropout is not None:
        assert dropout_rng is not None and drawn is not None, "dropout needs its stream and drawn width"
        draw = dropout_rng.random(n * slots)[sel]
        signal = relative_signal(
            reflectivity, returns.distance[sel], profile.min_reflectance, profile.min_reflectance_range_m
        )
        detected = draw < detection_probability(signal, drawn["dropout"]["width_db"])
        sel, ray, reflectivity = sel[detected], ray[detected], reflectivity[detected]
    d = distance[sel]
    world = origins[ray] + dirs[ray] * d[:, None]
    inv_rot = base[:3, :3].T
    local = (world - base[3, :3]) @ inv_rot
    normals = returns.normal[sel]
    if spec.intensity == "calibrated":
        intensity = calibrated_intensity(reflectivity, profile.intensity_mapping)
    else:
        intensity = legacy_intensity(reflectivity, d, profile.min_reflectance, profile.min_reflectance_range_m)
    gprim = returns.gprim[sel]
    owner = np.array([g.instance for g in index.gprims] + [-1], dtype=np.int64)[gprim]
    object_id = np.where(owner >= 0, owner + 2, 1).astype(np.uint32)
    sem_of = np.array(
        [index.semantic_ids.get(i.class_label, 1) if i.class_label else 1 for i in index.instances] + [1],
        dtype=np.uint32,
    )
    semantic = np.where(owner >= 0, sem_of[owner], 1).astype(np.uint32)
    labels = {v: k for k, v in index.semantic_ids.items()}
    out: dict[str, Any] = {
        "data": local.astype(np.float32),
        "azimuth": az[ray].astype(np.float32),
        "elevation": el[ray].astype(np.float32),
        "distance": d.astype(np.float32),
        "intensity": intensity.astype(np.float32),
        "objectId": object_id,
        "timestamp": pattern.time_ns[ray].astype(np.uint64),
        "emitterId": pattern.emitter[ray],
        "beamId": pattern.emitter[ray],
        "channelId": pattern.channel[ray],
        # ray·numEchos + echo, as Isaac Sim 5.1's scan buffer numbers its returns
        # ((tick·numChannels + channel)·numEchos + echo, OgnIsaacCreateRTXLidarScanBuffer.ogn)
        "index": sel.astype(np.uint32),
    }
    if slots > 1:
        out["echoId"] = (sel % slots).astype(np.uint8)
    out.update(
        {
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
            "numEchos": slots,
            "numReturnsPerScan": profile.rays_per_scan * slots,
            "renderProductPath": f"/Render/{name}",
            "ticksPerScan": profile.firings_per_scan,
            "transform": base.astype(np.float32),
        }
    )
    return out
