"""One episode's MuJoCo world: settle, step at the capture rate, log, write poses back.

The model comes from :mod:`.physics_model`. Settling steps until every body meets the speed
thresholds for the hold time, or the cap passes: bodies still on their support (or with none)
must be under both speeds; bodies that fell off their support need only have landed (vertical
speed under the linear threshold — they may still roll on the floor); bodies that left the
scene are waited for no longer. Nothing is damped to get there.

Logged state is read straight from MuJoCo's arrays (``qpos``, ``qvel``, mocap poses, contact
fields, ``efc_force``) without per-body Python calls, so logging every step stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...sensors.conventions import quat_to_rotation_matrix, rotation_matrix_to_quat
from ...sensors.physics_state import SETTLE_STATUS
from .physics_model import ModelParts, build_model

__all__ = ["BodyState", "PhysicsLog", "PhysicsWorld", "SceneBounds", "Support"]

LEFT_SCENE_MARGIN_M = 1.0
KINEMATIC_FD_S = 1e-4
"""Time step of the central difference giving kinematic bodies' velocities."""


@dataclass(frozen=True)
class Support:
    """The top a body was placed on: its prim, outline (K, 2, CCW) and height in world space."""

    path: str
    outline: np.ndarray
    height_m: float


@dataclass(frozen=True)
class SceneBounds:
    lo: np.ndarray
    hi: np.ndarray

    def outside(self, points: np.ndarray, margin: float = LEFT_SCENE_MARGIN_M) -> np.ndarray:
        return np.any((points < self.lo - margin) | (points > self.hi + margin), axis=1)


@dataclass
class BodyState:
    """Every body at one instant (world frame)."""

    time_s: float
    position_m: np.ndarray
    quat_wxyz: np.ndarray
    linear_velocity_m_s: np.ndarray
    angular_velocity_rad_s: np.ndarray


@dataclass
class PhysicsLog:
    """Logged steps and contacts, accumulated until a frame takes them."""

    every: int
    step_index: list[int] = field(default_factory=list)
    time_s: list[float] = field(default_factory=list)
    states: list[BodyState] = field(default_factory=list)
    contacts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def take(self, dynamic: np.ndarray) -> dict[str, np.ndarray]:
        """The logged arrays in the physics-state schema's ``step_*`` / ``contact_*`` form; clears.

        ``dynamic`` marks the bodies whose logged angular velocity is in the body frame."""
        steps, bodies = len(self.states), len(dynamic)

        def stack(attr: str, width: int) -> np.ndarray:
            if not steps:
                return np.zeros((0, width))
            return np.concatenate([getattr(s, attr) for s in self.states]).reshape(steps * bodies, width)

        angular = stack("angular_velocity_rad_s", 3)
        rows = np.tile(np.asarray(dynamic, dtype=bool), steps)
        if rows.any():
            angular[rows] = _to_world(stack("quat_wxyz", 4)[rows], angular[rows])

        c = self.contacts
        out = {
            "step_index": np.asarray(self.step_index, dtype=np.int64),
            "step_time_s": np.asarray(self.time_s, dtype=np.float64),
            "step_position_m": stack("position_m", 3),
            "step_quat_wxyz": stack("quat_wxyz", 4),
            "step_linear_velocity_m_s": stack("linear_velocity_m_s", 3),
            "step_angular_velocity_rad_s": angular,
            "contact_step_index": _cat(c, "step", (), np.int64),
            "contact_body": _cat(c, "body", (2,), np.int32),
            "contact_collider": _cat(c, "collider", (2,), np.int32),
            "contact_position_m": _cat(c, "position", (3,), np.float64),
            "contact_normal": _cat(c, "normal", (3,), np.float64),
            "contact_normal_force_n": _cat(c, "force", (), np.float64),
            "contact_penetration_m": _cat(c, "penetration", (), np.float64),
        }
        self.step_index, self.time_s, self.states, self.contacts = [], [], [], []
        return out


def _cat(chunks: list[dict[str, np.ndarray]], key: str, tail: tuple[int, ...], dtype: Any) -> np.ndarray:
    if not chunks:
        return np.zeros((0, *tail), dtype=dtype)
    return np.concatenate([c[key] for c in chunks]).astype(dtype, copy=False)


class PhysicsWorld:
    """The stage's physics as it stands now (call after the episode's first frame was applied)."""

    def __init__(
        self,
        stage: Any,
        timestep_s: float,
        gravity_m_s2: tuple[float, float, float] | None = None,
        ground_plane: bool = False,
        parts: ModelParts | None = None,
    ) -> None:
        import mujoco

        self.mujoco = mujoco
        self.stage = stage
        self.parts = parts if parts is not None else build_model(stage, timestep_s, gravity_m_s2, ground_plane)
        self.model = self.parts.model
        self.data = mujoco.MjData(self.model)
        self.bodies = self.parts.bodies
        self.body_kind = self.parts.body_kind
        self.colliders = self.parts.colliders
        m = self.model
        self.body_ids = np.array([m.body(p).id for p in self.bodies], dtype=np.int64)
        self.dynamic = np.array([k == "dynamic" for k in self.body_kind], dtype=bool)
        joints = [m.body_jntadr[b] for b, dyn in zip(self.body_ids, self.dynamic) if dyn]
        dofs = [m.jnt_dofadr[j] for j in joints]
        self._lin_dofs = np.array([[d, d + 1, d + 2] for d in dofs], dtype=np.int64).reshape(-1, 3)
        self._ang_dofs = self._lin_dofs + 3
        qpos = [m.jnt_qposadr[j] for j in joints]
        self._pos_q = np.array([[a, a + 1, a + 2] for a in qpos], dtype=np.int64).reshape(-1, 3)
        self._quat_q = np.array([[a + 3, a + 4, a + 5, a + 6] for a in qpos], dtype=np.int64).reshape(-1, 4)
        self._mocap = [(i, int(m.body_mocapid[b])) for i, b in enumerate(self.body_ids) if not self.dynamic[i]]
        # geom → logged body index (−1: static geometry)
        index = np.full(m.nbody, -1, dtype=np.int32)
        index[self.body_ids] = np.arange(len(self.body_ids), dtype=np.int32)
        self._geom_body = index[m.geom_bodyid]
        self.step_count = 0
        self.track_start_s: float | None = 0.0
        """Simulation time at which kinematic paths start (None: held while settling)."""
        self._kin_vel = np.zeros((len(self.bodies), 6))
        self._drive_kinematic()
        mujoco.mj_forward(m, self.data)
        self._set_initial_velocities()
        mujoco.mj_forward(m, self.data)
        self.bounds = self._scene_bounds()
        self.set_supports({})

    @property
    def timestep_s(self) -> float:
        return float(self.model.opt.timestep)

    # ------------------------------------------------------------------ state

    def _set_initial_velocities(self) -> None:
        for i, path in enumerate(self.bodies):
            if not self.dynamic[i]:
                continue
            v, w = self.parts.initial_velocity[path]
            k = int(np.sum(self.dynamic[:i]))
            self.data.qvel[self._lin_dofs[k]] = v
            # a free joint's angular velocity is in the body frame
            self.data.qvel[self._ang_dofs[k]] = self.data.xmat[self.body_ids[i]].reshape(3, 3).T @ w

    def _scene_bounds(self) -> SceneBounds:
        """Bounds of the finite static colliders and the bodies' start positions."""
        static = (self._geom_body < 0) & (self.model.geom_type != self.mujoco.mjtGeom.mjGEOM_PLANE)
        centers = self.data.geom_xpos[static]
        radius = self.model.geom_rbound[static][:, None]
        points = [centers - radius, centers + radius, self.data.xpos[self.body_ids]]
        allp = np.concatenate([p for p in points if len(p)]) if any(len(p) for p in points) else np.zeros((1, 3))
        return SceneBounds(allp.min(axis=0), allp.max(axis=0))

    def _drive_kinematic(self, sim_time_s: float | None = None) -> None:
        """Pose kinematic bodies for ``sim_time_s``; they hold their start pose while settling."""
        now = float(self.data.time) if sim_time_s is None else sim_time_s
        moving = self.track_start_s is not None
        t = max(0.0, now - self.track_start_s) if self.track_start_s is not None else 0.0
        h = KINEMATIC_FD_S
        for i, mocap in self._mocap:
            track = self.parts.kinematic[self.bodies[i]]
            p, q = track.pose(t)
            self.data.mocap_pos[mocap] = p
            self.data.mocap_quat[mocap] = q
            if not moving:
                self._kin_vel[i] = 0.0
                continue
            (p0, q0), (p1, q1) = track.pose(max(0.0, t - h)), track.pose(t + h)
            dt = t + h - max(0.0, t - h)
            self._kin_vel[i, :3] = (p1 - p0) / dt
            if np.dot(q0, q1) < 0:
                q1 = -q1
            dq = (q1 - q0) / dt  # ω = 2 · dq/dt ⊗ q*  (world frame)
            qc = np.array([q[0], -q[1], -q[2], -q[3]])
            self._kin_vel[i, 3:] = 2 * _quat_mul_vec(dq, qc)[1:]

    def snapshot(self) -> BodyState:
        """Poses and world-frame velocities of every body now.

        Read from ``qpos``/``qvel`` and the mocap arrays, which ``mj_step`` has advanced; the
        derived ``xpos``/``xquat`` still describe the start of the last step."""
        state = self._raw_state()
        if self.dynamic.any():
            dyn = self.dynamic
            state.angular_velocity_rad_s[dyn] = _to_world(state.quat_wxyz[dyn], state.angular_velocity_rad_s[dyn])
        return state

    def _raw_state(self) -> BodyState:
        """Like :meth:`snapshot`, but dynamic bodies' angular velocity stays in the body frame
        (as free joints hold it); the log rotates all of them at once when it is taken."""
        d = self.data
        n = len(self.bodies)
        pos, quat = np.empty((n, 3)), np.empty((n, 4))
        lin, ang = self._kin_vel[:, :3].copy(), self._kin_vel[:, 3:].copy()
        for i, mocap in self._mocap:
            pos[i], quat[i] = d.mocap_pos[mocap], d.mocap_quat[mocap]
        if len(self._lin_dofs):
            dyn = self.dynamic
            pos[dyn], quat[dyn] = d.qpos[self._pos_q], d.qpos[self._quat_q]
            lin[dyn], ang[dyn] = d.qvel[self._lin_dofs], d.qvel[self._ang_dofs]
        return BodyState(float(d.time), pos, quat, lin, ang)

    def _positions(self) -> np.ndarray:
        pos = np.empty((len(self.bodies), 3))
        for i, mocap in self._mocap:
            pos[i] = self.data.mocap_pos[mocap]
        if len(self._pos_q):
            pos[self.dynamic] = self.data.qpos[self._pos_q]
        return pos

    def contacts(self) -> dict[str, np.ndarray]:
        """The contacts MuJoCo resolved in the last step (found at the step's start): colliders,
        bodies, position, normal, normal force, penetration."""
        d = self.data
        n = d.ncon
        con = d.contact
        geoms = np.asarray(con.geom[:n], dtype=np.int32).reshape(n, 2)
        adr = np.asarray(con.efc_address[:n])
        # elliptic cones: the first constraint row of a contact is its normal force
        force = np.where(adr >= 0, d.efc_force[np.maximum(adr, 0)] if n else np.zeros(0), 0.0)
        return {
            "step": np.full(n, self.step_count, dtype=np.int64),
            "collider": geoms,
            "body": self._geom_body[geoms] if n else np.zeros((0, 2), dtype=np.int32),
            "position": np.asarray(con.pos[:n]).reshape(n, 3).copy(),
            "normal": np.asarray(con.frame[:n]).reshape(n, 9)[:, :3].copy(),
            "force": np.asarray(force, dtype=np.float64),
            "penetration": np.maximum(0.0, -np.asarray(con.dist[:n], dtype=np.float64)),
        }

    # ------------------------------------------------------------------ stepping

    def log_now(self, log: PhysicsLog) -> None:
        log.step_index.append(self.step_count)
        log.time_s.append(float(self.data.time))
        log.states.append(self._raw_state())
        log.contacts.append(self.contacts())

    def step(self, steps: int, log: PhysicsLog | None = None) -> None:
        mj_step, model, data = self.mujoco.mj_step, self.model, self.data
        kinematic = bool(self._mocap)
        for _ in range(steps):
            if kinematic:
                self._drive_kinematic(float(data.time) + float(model.opt.timestep))
            mj_step(model, data)
            self.step_count += 1
            if log is not None and self.step_count % log.every == 0:
                self.log_now(log)

    def settle(
        self,
        linear_m_s: float,
        angular_rad_s: float,
        hold_s: float,
        max_s: float,
        log: PhysicsLog | None = None,
    ) -> tuple[str, float]:
        """Step until settled (see the module docstring and :meth:`set_supports`); returns
        (status, simulated seconds)."""
        dt = self.timestep_s
        hold = max(1, int(round(hold_s / dt)))
        cap = int(math.ceil(max_s / dt - 1e-9))
        calm = 0
        self.track_start_s = None
        status, done = SETTLE_STATUS[1], cap
        for i in range(1, cap + 1):
            self.step(1, log)
            calm = calm + 1 if not self.dynamic.any() or self._calm(linear_m_s, angular_rad_s) else 0
            if calm >= hold:
                status, done = SETTLE_STATUS[0], i
                break
        self.track_start_s = float(self.data.time)  # the captured sequence starts now
        return status, done * dt

    def _calm(self, linear: float, angular: float) -> bool:
        d = self.data
        lin = d.qvel[self._lin_dofs]
        ang = d.qvel[self._ang_dofs]
        calm = (np.einsum("ij,ij->i", lin, lin) < linear * linear) & (np.einsum("ij,ij->i", ang, ang) < angular**2)
        if calm.all():
            return True
        fell, left = self.off_support(self._positions())
        landed = np.abs(lin[:, 2]) < linear
        return bool(np.all(calm | left[self.dynamic] | (fell[self.dynamic] & landed)))

    def set_supports(self, supports: dict[str, Support]) -> None:
        """Remember which top each body was placed on (grouped, for vectorised tests)."""
        groups: dict[str, list[int]] = {}
        self._supports = {p: s for p, s in supports.items() if p in set(self.bodies)}
        for i, path in enumerate(self.bodies):
            if path in self._supports:
                groups.setdefault(self._supports[path].path, []).append(i)
        self._support_groups = []
        for idx in groups.values():
            support = self._supports[self.bodies[idx[0]]]
            start = np.asarray(support.outline, dtype=np.float64)
            edge = np.roll(start, -1, axis=0) - start
            self._support_groups.append((np.array(idx), start, edge, support.height_m))

    def support_path(self, body: str) -> str:
        support = self._supports.get(body)
        return support.path if support is not None else ""

    def off_support(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per body: (fell off or below its support's top, left the scene's bounds)."""
        fell = np.zeros(len(positions), dtype=bool)
        for idx, start, edge, height in self._support_groups:
            p = positions[idx]
            rel = p[:, None, :2] - start[None]
            cross = edge[None, :, 0] * rel[..., 1] - edge[None, :, 1] * rel[..., 0]
            fell[idx] = (p[:, 2] < height) | np.any(cross < 0, axis=1)
        return fell, self.bounds.outside(positions)

    # ------------------------------------------------------------------ stage

    def write_back(self) -> None:
        """Put the bodies' poses on their prims' ``translate`` / ``orient`` (scale untouched)."""
        from pxr import Gf, Sdf, UsdGeom

        cache = UsdGeom.XformCache()
        state = self.snapshot()
        with Sdf.ChangeBlock():
            for i, path in enumerate(self.bodies):
                prim = self.stage.GetPrimAtPath(path)
                world = np.eye(4)
                world[:3, :3] = quat_to_rotation_matrix(state.quat_wxyz[i])
                world[3, :3] = state.position_m[i]
                parent = prim.GetParent()
                if parent and not parent.IsPseudoRoot():
                    world = world @ np.linalg.inv(np.asarray(cache.GetLocalToWorldTransform(parent)))
                rot = world[:3, :3] / np.linalg.norm(world[:3, :3], axis=1, keepdims=True)
                q = rotation_matrix_to_quat(rot)
                _set_pose(prim, world[3, :3], q, Gf)


def _set_pose(prim: Any, translate: np.ndarray, q: np.ndarray, gf: Any) -> None:
    """Set translate and orient, first reshaping the prim's ops to translate/orient/scale if needed."""
    from pxr import UsdGeom

    xf = UsdGeom.Xformable(prim)
    names = [op.GetOpName() for op in xf.GetOrderedXformOps()]
    if names[:2] != ["xformOp:translate", "xformOp:orient"] or names[2:] not in ([], ["xformOp:scale"]):
        local = np.asarray(xf.GetLocalTransformation(), dtype=np.float64)
        scale = np.linalg.norm(local[:3, :3], axis=1)
        xf.ClearXformOpOrder()
        xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble)
        xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble)
        xf.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(gf.Vec3d(*map(float, scale)))
    prim.GetAttribute("xformOp:translate").Set(gf.Vec3d(*map(float, translate)))
    orient = prim.GetAttribute("xformOp:orient")
    w, x, y, z = map(float, q)
    orient.Set(gf.Quatf(w, x, y, z) if orient.GetTypeName() == "quatf" else gf.Quatd(w, x, y, z))


def _to_world(quat_wxyz: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rotate body-frame (N, 3) ``vectors`` by (N, 4) unit quaternions: v' = v + 2w(u×v) + 2u×(u×v)."""
    w, u = quat_wxyz[:, :1], quat_wxyz[:, 1:]
    t = 2.0 * np.cross(u, vectors)
    return vectors + w * t + np.cross(u, t)


def _quat_mul_vec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from ...sensors.conventions import quat_multiply

    return quat_multiply(a, b)
