"""Moving geometry: ray casting where every ray has its own time (motion blur, rolling shutter).

What moves in a frame (:class:`FrameMotion`): physics bodies at their simulated velocities,
prims a ``velocity`` randomizer drew velocities for, and cameras; each is a rigid motion about
the capture instant (``sensors/motion.py``). A gprim moves with its nearest moving ancestor.

:class:`MovingScene` casts a ray at time t exactly without rebuilding Embree per time: the
static geometry is one Embree scene; each moving rigid group is a scene of its own triangles
at their t = 0 pose, and a ray at time t is mapped into that group's t = 0 frame
(``RigidMotion.backward``: rigid, so hit distances, barycentrics and triangle ids are the same
in both frames) and cast there; the nearest hit over the static scene and every group wins.
Rays that cannot come near a group (a conservative sphere around everything it sweeps during
the times asked for) skip it. Cost grows with the number of moving groups, not with the number
of distinct times. Hits keep :meth:`FrameGeometry.cast`'s keys, in the world at each ray's time
(``face_normal`` turned with its group), plus ``group`` (−1 static) and the ray and normal in
the hit group's t = 0 frame (``origins_rest``, ``directions_rest``, ``face_normal_rest``), where
the renderer shades it, so textures, normal maps and smooth normals need no change.

:meth:`MovingScene.cast` and :meth:`MovingScene.occluded` are the entry points for any sensor
whose rays have times (a LiDAR's firings relative to the frame's capture instant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np

from ...sensors.motion import RigidMotion
from ...sensors.shutter import Shutter
from ..usd.motion_attrs import read_velocity
from .camera_rays import CameraRays
from .scene import FrameGeometry, build_raycasting_scene

if TYPE_CHECKING:
    from .annotators import CameraHits
    from .render import _Surface

__all__ = ["CameraTiming", "FrameMotion", "MovingScene", "frame_motion", "motion_vectors", "moved_rays"]


@dataclass
class FrameMotion:
    """Everything that moves about one frame's capture instant."""

    groups: list[RigidMotion] = field(default_factory=list)
    """Moving rigid parts of the scene."""
    gprim_group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """(gprims,) index into ``groups`` of each gprim, −1 where it stands still."""
    paths: list[str] = field(default_factory=list)
    """Prim path of each group's moving prim."""
    cameras: dict[str, RigidMotion] = field(default_factory=dict)
    """Moving cameras by prim path."""


def _ancestry(path: str) -> list[str]:
    """``path`` and its ancestors, nearest first (``/World/a/b``, ``/World/a``, ``/World``)."""
    parts = path.split("/")
    return ["/".join(parts[:k]) for k in range(len(parts), 1, -1)]


def frame_motion(frame: FrameGeometry, camera_paths: list[str], bodies: dict[str, RigidMotion]) -> FrameMotion:
    """The frame's motion: ``bodies`` (physics, by prim path) and the stage's velocity draws
    (``scenesmith:motion:*`` on a prim, pivoting about the prim's world origin now)."""
    from pxr import UsdGeom

    stage = frame.index.stage
    cache = UsdGeom.XformCache()

    def drawn(path: str) -> RigidMotion | None:
        prim = stage.GetPrimAtPath(path)
        velocity = read_velocity(prim) if prim else None
        if velocity is None:
            return None
        pivot = np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64)[3, :3]
        motion = RigidMotion.of(pivot, *velocity)
        return motion if motion.moving else None

    movers: dict[str, RigidMotion | None] = {p: m for p, m in bodies.items() if m.moving}
    out = FrameMotion(gprim_group=np.full(len(frame.index.gprims), -1, dtype=np.int64))
    group_of: dict[str, int] = {}
    for g in frame.index.gprims:
        if not frame.visible[g.index]:
            continue
        for path in _ancestry(g.path):
            if path not in movers:
                movers[path] = drawn(path)
            motion = movers[path]
            if motion is not None:
                if path not in group_of:
                    group_of[path] = len(out.groups)
                    out.groups.append(motion)
                    out.paths.append(path)
                out.gprim_group[g.index] = group_of[path]
                break
    for path in camera_paths:
        motion = drawn(path)
        if motion is not None:
            out.cameras[path] = motion
    return out


def moved_rays(rays: CameraRays, motion: RigidMotion, times: np.ndarray) -> CameraRays:
    """Camera rays from where the camera is at each ray's time (``eyes`` per ray)."""
    eyes = motion.forward(np.broadcast_to(rays.eye, rays.origins.shape), times)
    return replace(
        rays,
        origins=motion.forward(rays.origins, times),
        directions=np.ascontiguousarray(motion.rotate(rays.directions, times)),
        eyes=eyes,
    )


_NONE = np.zeros(0, dtype=np.bool_)
"""No ray skipped (``_candidates``)."""


@dataclass
class _Part:
    """Some of the frame's triangles as their own Embree scene (vertices compacted)."""

    scene: Any
    faces: np.ndarray
    """Frame-global triangle index of each of the part's triangles."""
    centre: np.ndarray
    radius: float

    @classmethod
    def of(cls, frame: FrameGeometry, faces: np.ndarray) -> _Part:
        tri = frame.faces[faces]
        used, local = np.unique(tri, return_inverse=True)
        vertices = frame.vertices[used]
        centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2 if len(used) else np.zeros(3)
        radius = float(np.linalg.norm(vertices - centre, axis=1).max()) if len(used) else 0.0
        return cls(build_raycasting_scene(vertices, local.reshape(-1, 3)), faces, centre, radius)

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> dict[str, np.ndarray]:
        import open3d as o3d

        rays = np.hstack([origins, directions]).astype(np.float32)
        out = self.scene.cast_rays(o3d.core.Tensor.from_numpy(rays))
        t = out["t_hit"].numpy().astype(np.float64)
        hit = np.isfinite(t)
        ids = out["primitive_ids"].numpy()
        face = np.where(hit, self.faces[np.where(hit, ids, 0)] if len(self.faces) else 0, 0)
        return {
            "t": t,
            "face": face.astype(np.int64),
            "uv": out["primitive_uvs"].numpy(),
            "face_normal": out["primitive_normals"].numpy().astype(np.float64),
        }

    def occluded(self, rays: np.ndarray) -> np.ndarray:
        import open3d as o3d

        return self.scene.test_occlusions(o3d.core.Tensor.from_numpy(rays), tnear=0.0, tfar=1.0).numpy().astype(bool)


@nb.njit(parallel=True, cache=True)
def _candidates(
    origins: np.ndarray, directions: np.ndarray, skip: np.ndarray, centre: np.ndarray, radius: float, far: float
) -> np.ndarray:
    """Indices of rays (directions not necessarily unit) passing within ``radius`` of ``centre``
    between their start and ``far`` (in units of their direction's length; < 0: unbounded),
    leaving out rays marked in ``skip`` (empty: none)."""
    n = origins.shape[0]
    near = np.zeros(n, dtype=np.bool_)
    skipping = skip.shape[0] > 0
    r2 = radius * radius
    for i in nb.prange(n):
        if skipping and skip[i]:
            continue
        dd, rd = 0.0, 0.0
        for k in range(3):
            dd += float(directions[i, k]) * float(directions[i, k])
            rd += (centre[k] - float(origins[i, k])) * float(directions[i, k])
        s = rd / dd if dd > 0.0 else 0.0
        s = max(s, 0.0)
        if far >= 0.0:
            s = min(s, far)
        gap = 0.0
        for k in range(3):
            c = float(origins[i, k]) + float(directions[i, k]) * s - centre[k]
            gap += c * c
        near[i] = gap <= r2
    return np.flatnonzero(near)


@nb.njit(parallel=True, cache=True)
def _to_rest(
    origins: np.ndarray,
    directions: np.ndarray,
    times: np.ndarray,
    rows: np.ndarray,
    pivot: np.ndarray,
    velocity: np.ndarray,
    omega: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rays ``rows`` mapped to a rigid group's t = 0 frame at each ray's time (``RigidMotion.
    backward`` for origins, ``unrotate`` for directions; same maths, compiled)."""
    m = rows.shape[0]
    o_out, d_out = np.empty((m, 3)), np.empty((m, 3))
    speed = math.sqrt(omega[0] ** 2 + omega[1] ** 2 + omega[2] ** 2)
    kx, ky, kz = (omega[0] / speed, omega[1] / speed, omega[2] / speed) if speed > 0.0 else (0.0, 0.0, 1.0)
    for j in nb.prange(m):
        i = rows[j]
        t = times[i]
        theta = -speed * t
        c, s = math.cos(theta), math.sin(theta)
        px = float(origins[i, 0]) - pivot[0] - velocity[0] * t
        py = float(origins[i, 1]) - pivot[1] - velocity[1] * t
        pz = float(origins[i, 2]) - pivot[2] - velocity[2] * t
        dx, dy, dz = float(directions[i, 0]), float(directions[i, 1]), float(directions[i, 2])
        for vec in range(2):
            x, y, z = (px, py, pz) if vec == 0 else (dx, dy, dz)
            dot = (kx * x + ky * y + kz * z) * (1.0 - c)
            rx = x * c + (ky * z - kz * y) * s + kx * dot
            ry = y * c + (kz * x - kx * z) * s + ky * dot
            rz = z * c + (kx * y - ky * x) * s + kz * dot
            if vec == 0:
                o_out[j, 0], o_out[j, 1], o_out[j, 2] = rx + pivot[0], ry + pivot[1], rz + pivot[2]
            else:
                d_out[j, 0], d_out[j, 1], d_out[j, 2] = rx, ry, rz
    return o_out, d_out


class MovingScene:
    """A frame's geometry with its moving groups, cast at per-ray times (module docstring)."""

    def __init__(self, frame: FrameGeometry, motion: FrameMotion) -> None:
        self.frame = frame
        self.motion = motion
        self._parts: tuple[_Part, list[_Part]] | None = None

    def _build(self) -> tuple[_Part, list[_Part]]:
        """The Embree scenes, built on the first cast (a frame whose labels are all it makes
        under a global shutter never casts at a time)."""
        if self._parts is None:
            frame, groups = self.frame, len(self.motion.groups)
            gprim_group = self.motion.gprim_group
            face_group = gprim_group[frame.face_gprim] if len(frame.face_gprim) else np.zeros(0, dtype=np.int64)
            static = _Part.of(frame, np.flatnonzero(face_group < 0))
            self._parts = (static, [_Part.of(frame, np.flatnonzero(face_group == g)) for g in range(groups)])
        return self._parts

    @property
    def static(self) -> _Part:
        return self._build()[0]

    @property
    def parts(self) -> list[_Part]:
        return self._build()[1]

    def _reach(self, g: int, times: np.ndarray) -> tuple[np.ndarray, float]:
        """Centre and radius of a sphere holding group ``g`` at every time in ``times``: its
        points stay within (distance to the pivot) of the moving pivot."""
        m, part = self.motion.groups[g], self.parts[g]
        lo, hi = (float(times.min()), float(times.max())) if len(times) else (0.0, 0.0)
        spin = float(np.linalg.norm(part.centre - m.pivot_m)) + part.radius if m.angular_rad_s.any() else 0.0
        if spin:  # turning: everything stays within reach of the pivot
            centre, radius = m.pivot_m + m.linear_m_s * (lo + hi) / 2, spin
        else:
            centre, radius = part.centre + m.linear_m_s * (lo + hi) / 2, part.radius
        return centre, radius + float(np.linalg.norm(m.linear_m_s)) * (hi - lo) / 2

    def cast(self, origins: np.ndarray, directions: np.ndarray, times: np.ndarray) -> dict[str, np.ndarray]:
        """First hits of rays (N, 3) + (N, 3) at ``times`` (N,) seconds from the capture instant."""
        times = np.ascontiguousarray(times, dtype=np.float64)
        best = self.static.cast(origins, directions)
        group = np.full(len(origins), -1, dtype=np.int64)
        o_rest, d_rest = np.array(origins, dtype=np.float64), np.array(directions, dtype=np.float64)
        for g, m in enumerate(self.motion.groups):
            centre, radius = self._reach(g, times)
            rows = _candidates(origins, directions, _NONE, centre, radius, -1.0)
            if len(rows) == 0:
                continue
            o, d = _to_rest(origins, directions, times, rows, m.pivot_m, m.linear_m_s, m.angular_rad_s)
            hits = self.parts[g].cast(o, d)
            closer = hits["t"] < best["t"][rows]
            win = rows[closer]
            for key in ("t", "face", "uv", "face_normal"):
                best[key][win] = hits[key][closer]
            o_rest[win], d_rest[win], group[win] = o[closer], d[closer], g
        hit = np.isfinite(best["t"])
        gprim = np.where(hit, self.frame.face_gprim[best["face"]] if len(self.frame.face_gprim) else -1, -1)
        rest_normal = best["face_normal"]
        return {
            "t": best["t"],
            "hit": hit,
            "gprim": gprim.astype(np.int64),
            "face": best["face"],
            "uv": best["uv"],
            "face_normal": self.turned(rest_normal, group, times),
            "group": group,
            "origins_rest": o_rest,
            "directions_rest": d_rest,
            "face_normal_rest": rest_normal,
        }

    def occluded(self, rays: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Any-hit test of float32 rays (K, 6), directions scaled so t = 1 is their end, at ``times``."""
        times = np.ascontiguousarray(times, dtype=np.float64)
        blocked = self.static.occluded(rays)
        origins, directions = rays[:, :3], rays[:, 3:]
        for g, m in enumerate(self.motion.groups):
            centre, radius = self._reach(g, times)
            rows = _candidates(origins, directions, blocked, centre, radius, 1.0)
            if len(rows) == 0:
                continue
            o, d = _to_rest(origins, directions, times, rows, m.pivot_m, m.linear_m_s, m.angular_rad_s)
            blocked[rows] |= self.parts[g].occluded(np.hstack([o, d]).astype(np.float32))
        return blocked

    def rest_rays(
        self, g: int, origins: np.ndarray, directions: np.ndarray, times: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rays ``rows`` (at ``times[rows]``) in group ``g``'s t = 0 frame."""
        m = self.motion.groups[g]
        times = np.ascontiguousarray(times, dtype=np.float64)
        return _to_rest(origins, directions, times, rows, m.pivot_m, m.linear_m_s, m.angular_rad_s)

    def smooth_normals(self, hits: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
        """World shading normals of ``cast`` hits at their times."""
        normals = self.frame.smooth_normals({**hits, "face_normal": hits["face_normal_rest"]})
        return self.turned(normals, hits["group"], times)

    def turned(self, vectors: np.ndarray, group: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Rest-frame vectors of each row's group turned to that row's time."""
        out = np.array(vectors, dtype=np.float64)
        for g, m in enumerate(self.motion.groups):
            rows = np.flatnonzero(group == g)
            if len(rows):
                out[rows] = m.rotate(out[rows], times[rows])
        return out

    def surface_to_time(self, s: _Surface, group: np.ndarray) -> None:
        """A surface shaded in its groups' t = 0 frames, moved to its points' times (``s.time``)."""
        assert s.time is not None
        for g, m in enumerate(self.motion.groups):
            rows = np.flatnonzero(group == g)
            if len(rows) == 0:
                continue
            t = s.time[rows]
            s.points[rows] = m.forward(s.points[rows], t)
            for vectors in (s.normals, s.geo_normals, s.view):
                vectors[rows] = m.rotate(vectors[rows], t)


@dataclass(frozen=True)
class CameraTiming:
    """A camera's shutter with what moves while it is open (only made when something does)."""

    shutter: Shutter
    camera: RigidMotion | None
    """The camera's own motion (None: it stands still)."""
    moving: MovingScene | None
    """The frame's moving geometry (None: only the camera moves)."""

    def rays_at(self, rays: CameraRays, times: np.ndarray) -> CameraRays:
        return rays if self.camera is None else moved_rays(rays, self.camera, times)

    def cast(self, frame: FrameGeometry, rays: CameraRays, times: np.ndarray) -> dict[str, np.ndarray]:
        if self.moving is None:
            return frame.cast(rays.origins, rays.directions)
        return self.moving.cast(rays.origins, rays.directions, times)


def motion_vectors(hits: CameraHits, motion: FrameMotion, camera_path: str, interval_s: float) -> np.ndarray:
    """Replicator's ``MotionVectors`` (float32 (H, W, 4)): per pixel, where the surface its
    label ray sees was ``interval_s`` earlier, in pixels relative to where it is now, with
    Replicator's signs: x positive for motion to the left, y positive for motion up (so
    (x, y) = earlier (u, v) − now (u, v)); z, w zero. The surface moves back with its group's
    motion, the camera with its own (both first order: the velocities of this instant); where
    nothing is hit the direction at infinity moves with the camera's rotation. NaN where the
    earlier place projects to no pixel (behind the camera, beyond a lens's field)."""
    model = hits.model
    h, w = model.height, model.width
    n = h * w
    times = hits.times if hits.times is not None else np.zeros(n)
    before = times - interval_s
    group = hits.hits.get("group")
    if group is None:
        gprim = hits.hits["gprim"]
        group = np.where(gprim >= 0, motion.gprim_group[np.maximum(gprim, 0)], -1) if len(motion.gprim_group) else gprim
    points = hits.rays.origins + hits.rays.directions * np.where(hits.valid, hits.hits["t"], 0.0)[:, None]
    earlier = points.copy()
    for g, m in enumerate(motion.groups):
        rows = np.flatnonzero(hits.valid & (group == g))
        if len(rows):
            earlier[rows] = m.forward(m.backward(points[rows], times[rows]), before[rows])
    camera = motion.cameras.get(camera_path)
    world_to_cam = np.linalg.inv(hits.cam_to_world)
    directions = hits.rays.directions
    earlier_directions = directions
    if camera is not None:  # in the t = 0 camera's frame, as seen by the camera where it was
        earlier = camera.backward(earlier, before)
        earlier_directions = camera.unrotate(directions, before)
        points = camera.backward(points, times)
        directions = camera.unrotate(directions, times)

    def pixels(p: np.ndarray, d: np.ndarray) -> np.ndarray:
        cam = np.where(hits.valid[:, None], p @ world_to_cam[:3, :3] + world_to_cam[3, :3], d @ world_to_cam[:3, :3])
        with np.errstate(invalid="ignore", divide="ignore"):
            uv = model.project(cam)
        if model.lens is None:
            uv[cam[:, 2] >= 0.0] = np.nan
        return uv

    # both ends through the same projection, so whatever stands still moves by exactly 0
    flow = pixels(earlier, earlier_directions) - pixels(points, directions)
    if hits.rays.in_view is not None:
        flow[~hits.rays.in_view] = np.nan
    out = np.zeros((n, 4), dtype=np.float32)
    out[:, :2] = flow
    return out.reshape(h, w, 4)
