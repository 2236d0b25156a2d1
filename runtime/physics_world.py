"""What every physics backend's world shares: settling, support checks, logging, write-back.

A world (MuJoCo in ``embedded/physics.py``, PhysX in ``isaac/physx_world.py``) implements a
few primitives — advance one step, read body states and contacts, read positions and the
dynamic bodies' velocities — and inherits the behaviour that must not differ by backend:

- **Settling** steps until every body meets the speed thresholds for the hold time, or the cap
  passes: bodies still on their support (or with none) must be under both speeds; bodies that
  fell off their support need only have landed (vertical speed under the linear threshold —
  they may still roll on the floor); bodies that left the scene are waited for no longer.
  A body's speed at a step passes when its velocity does *or* its net motion over the last
  hold time does (displacement and rotation angle over the hold time): a resting body's contact
  can chatter in a limit cycle whose velocity spikes never fall under the thresholds for a whole
  hold time while the body goes nowhere (a box lying across the table's edge rocks ±0.07 mm at
  20 deg/s peaks in MuJoCo, for ever). Kinematic bodies hold their start pose while the scene
  settles.
- **Support checks**: a body fell off its support when its origin is below the support's top or
  outside its outline; it left the scene when more than 1 m outside the scene's bounds.
- **Logging** every n steps into a :class:`PhysicsLog`, taken per captured frame in the
  physics-state schema (``sensors/physics_state.py``).
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..sensors.conventions import normalize_quat, quat_multiply, quat_to_rotation_matrix, rotation_matrix_to_quat
from ..sensors.physics_state import SETTLE_STATUS

__all__ = [
    "LEFT_SCENE_MARGIN_M",
    "BodyState",
    "KinematicTrack",
    "PhysicsLog",
    "SceneBounds",
    "SimWorld",
    "Support",
    "to_world",
]

LEFT_SCENE_MARGIN_M = 1.0
KINEMATIC_FD_S = 1e-4
"""Time step of the central difference giving kinematic bodies' velocities."""


@dataclass
class KinematicTrack:
    """How a kinematic body moves: keyframes, or constant velocities from its start pose."""

    position_m: np.ndarray
    quat_wxyz: np.ndarray
    velocity_m_s: np.ndarray
    angular_velocity_rad_s: np.ndarray
    keyframes: list[dict[str, Any]] | None

    @classmethod
    def from_prim(cls, prim: Any, position_m: np.ndarray, quat_wxyz: np.ndarray) -> KinematicTrack:
        """The track a rigid-body prim describes: ``scenesmith:physics:path`` keyframes, else its
        authored ``physics:velocity`` / ``physics:angularVelocity`` (deg/s) from its start pose."""
        from pxr import UsdPhysics

        rb = UsdPhysics.RigidBodyAPI(prim)
        velocity = np.asarray(rb.GetVelocityAttr().Get() or (0, 0, 0), dtype=np.float64)
        angular = np.radians(np.asarray(rb.GetAngularVelocityAttr().Get() or (0, 0, 0), dtype=np.float64))
        attr = prim.GetAttribute("scenesmith:physics:path")
        keys = json.loads(attr.Get()) if attr and attr.Get() else None
        return cls(np.asarray(position_m, dtype=np.float64), np.asarray(quat_wxyz, dtype=np.float64), velocity,
                   angular, keys)  # fmt: skip

    def pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        keys = self.keyframes
        if keys:
            times = [k["time_s"] for k in keys]
            i = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(keys) - 2))
            u = float(np.clip((t - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0))
            p = np.asarray(keys[i]["position_m"]) * (1 - u) + np.asarray(keys[i + 1]["position_m"]) * u
            return p, _slerp(normalize_quat(keys[i]["quat_wxyz"]), normalize_quat(keys[i + 1]["quat_wxyz"]), u)
        q = self.quat_wxyz
        speed = float(np.linalg.norm(self.angular_velocity_rad_s))
        if speed > 0:
            axis = self.angular_velocity_rad_s / speed
            half = speed * t / 2
            q = normalize_quat(quat_multiply(np.array([math.cos(half), *(axis * math.sin(half))]), q))
        return self.position_m + self.velocity_m_s * t, q

    def velocity(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """World linear and angular velocity at ``t`` (central differences of :meth:`pose`)."""
        h = KINEMATIC_FD_S
        (p0, q0), (p1, q1) = self.pose(max(0.0, t - h)), self.pose(t + h)
        dt = t + h - max(0.0, t - h)
        if np.dot(q0, q1) < 0:
            q1 = -q1
        q = self.pose(t)[1]
        # ω = 2 · dq/dt ⊗ q*  (world frame)
        spin = 2 * quat_multiply((q1 - q0) / dt, np.array([q[0], -q[1], -q[2], -q[3]]))[1:]
        return (p1 - p0) / dt, spin


class _PoseWindow:
    """The dynamic bodies' poses over the last ``steps`` steps (a ring), for their net speeds."""

    def __init__(self, steps: int, duration_s: float) -> None:
        self.steps = steps
        self.duration_s = duration_s
        self.count = 0
        self.position_m: np.ndarray | None = None
        self.quat_wxyz: np.ndarray | None = None

    def push(self, position_m: np.ndarray, quat_wxyz: np.ndarray) -> None:
        if self.position_m is None or self.quat_wxyz is None:
            self.position_m = np.empty((self.steps + 1, *position_m.shape))
            self.quat_wxyz = np.empty((self.steps + 1, *quat_wxyz.shape))
        slot = self.count % (self.steps + 1)
        self.position_m[slot], self.quat_wxyz[slot] = position_m, quat_wxyz
        self.count += 1

    def net_velocities(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(D, 3) displacement and (D,) rotation angle over the window, each per second of it;
        None until the window has filled."""
        if self.count <= self.steps or self.position_m is None or self.quat_wxyz is None:
            return None
        now, then = (self.count - 1) % (self.steps + 1), self.count % (self.steps + 1)
        q0, q1 = self.quat_wxyz[then], self.quat_wxyz[now]
        # the rotation angle θ between unit quaternions from their chord |q1 − q0| = 2 sin(θ/4)
        # (q and −q are one rotation: the shorter chord), exact near θ = 0 where acos is not
        chord = np.minimum(np.linalg.norm(q1 - q0, axis=1), np.linalg.norm(q1 + q0, axis=1))
        angle = 4.0 * np.arcsin(np.minimum(chord / 2.0, 1.0))
        return (self.position_m[now] - self.position_m[then]) / self.duration_s, angle / self.duration_s


def _slerp(q0: np.ndarray, q1: np.ndarray, u: float) -> np.ndarray:
    dot = float(np.dot(q0, q1))
    if dot < 0:
        q1, dot = -q1, -dot
    if dot > 0.9995:
        return normalize_quat(q0 + (q1 - q0) * u)
    theta = math.acos(dot)
    return (math.sin((1 - u) * theta) * q0 + math.sin(u * theta) * q1) / math.sin(theta)


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

    def take(self, body_frame: np.ndarray) -> dict[str, np.ndarray]:
        """The logged arrays in the physics-state schema's ``step_*`` / ``contact_*`` form; clears.

        ``body_frame`` marks the bodies whose logged angular velocity is in the body frame
        (:attr:`SimWorld.body_frame_mask`)."""
        steps, bodies = len(self.states), len(body_frame)

        def stack(attr: str, width: int) -> np.ndarray:
            if not steps:
                return np.zeros((0, width))
            return np.concatenate([getattr(s, attr) for s in self.states]).reshape(steps * bodies, width)

        angular = stack("angular_velocity_rad_s", 3)
        rows = np.tile(np.asarray(body_frame, dtype=bool), steps)
        if rows.any():
            angular[rows] = to_world(stack("quat_wxyz", 4)[rows], angular[rows])

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


class SimWorld(ABC):
    """One episode's physics world; subclasses fill in the engine-specific primitives."""

    bodies: list[str]
    """Prim paths of the rigid bodies, in log order."""
    body_kind: list[str]
    colliders: list[str]
    """Prim path of every collider, in contact-index order."""
    dynamic: np.ndarray
    stage: Any
    bounds: SceneBounds
    step_count: int = 0
    _kin_vel: np.ndarray
    """(B, 6) linear and angular velocity of kinematic bodies (rows of dynamic ones unused)."""
    track_start_s: float | None = 0.0
    """Simulation time at which kinematic paths start (None: held while settling)."""
    angular_in_body_frame = False
    """Whether :meth:`raw_state` gives dynamic bodies' angular velocity in the body frame."""

    def init_common(self) -> None:
        self.step_count = 0
        self.track_start_s = 0.0
        self.set_supports({})

    # ------------------------------------------------------------------ engine primitives

    @property
    @abstractmethod
    def timestep_s(self) -> float: ...

    @property
    @abstractmethod
    def time_s(self) -> float:
        """Simulation time since the world was built."""

    @abstractmethod
    def advance(self) -> None:
        """One physics step (kinematic bodies driven to the step's end time)."""

    @abstractmethod
    def raw_state(self) -> BodyState:
        """Every body now; see :attr:`angular_in_body_frame`."""

    @abstractmethod
    def positions(self) -> np.ndarray:
        """(B, 3) body origins now (cheap: called every settle step)."""

    @abstractmethod
    def dynamic_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        """(D, 3) linear and (D, 3) angular velocities of the dynamic bodies (any frame)."""

    @abstractmethod
    def contacts(self) -> dict[str, np.ndarray]:
        """This step's contacts: ``step``, ``collider`` (C, 2), ``body`` (C, 2, −1 static),
        ``position``, ``normal``, ``force`` (normal force, N), ``penetration`` (m)."""

    @abstractmethod
    def write_back(self) -> None:
        """Make the stage show the bodies' current poses."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op unless the engine holds the stage
        """Release the engine's hold on the stage (called before the next episode's world)."""

    # ------------------------------------------------------------------ shared behaviour

    def kinematic_pose(self, i: int, track: KinematicTrack, sim_time_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Pose of kinematic body ``i`` at ``sim_time_s`` (its start pose while settling); records
        its velocity for the log."""
        start = self.track_start_s
        t = max(0.0, sim_time_s - start) if start is not None else 0.0
        if start is None:
            self._kin_vel[i] = 0.0
        else:
            v, w = track.velocity(t)
            self._kin_vel[i, :3], self._kin_vel[i, 3:] = v, w
        return track.pose(t)

    @property
    def body_frame_mask(self) -> np.ndarray:
        """Bodies whose logged angular velocity must still be rotated to the world frame."""
        return self.dynamic if self.angular_in_body_frame else np.zeros(len(self.bodies), dtype=bool)

    def snapshot(self) -> BodyState:
        """Poses and world-frame velocities of every body now."""
        state = self.raw_state()
        mask = self.body_frame_mask
        if mask.any():
            state.angular_velocity_rad_s[mask] = to_world(state.quat_wxyz[mask], state.angular_velocity_rad_s[mask])
        return state

    def log_now(self, log: PhysicsLog) -> None:
        log.step_index.append(self.step_count)
        log.time_s.append(self.time_s)
        log.states.append(self.raw_state())
        log.contacts.append(self.contacts())

    def step(self, steps: int, log: PhysicsLog | None = None) -> None:
        for _ in range(steps):
            self.advance()
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
        """Step until settled (module docstring, :meth:`set_supports`); (status, seconds)."""
        dt = self.timestep_s
        hold = max(1, int(round(hold_s / dt)))
        cap = int(math.ceil(max_s / dt - 1e-9))
        calm = 0
        self.track_start_s = None
        status, done = SETTLE_STATUS[1], cap
        window = _PoseWindow(hold, hold * dt) if self.dynamic.any() else None
        if window is not None:
            window.push(*self.dynamic_poses())
        for i in range(1, cap + 1):
            self.step(1, log)
            if window is not None:
                window.push(*self.dynamic_poses())
            calm = calm + 1 if window is None or self._calm(linear_m_s, angular_rad_s, window) else 0
            if calm >= hold:
                status, done = SETTLE_STATUS[0], i
                break
        self.track_start_s = self.time_s  # the captured sequence starts now
        return status, done * dt

    def _calm(self, linear: float, angular: float, window: _PoseWindow) -> bool:
        lin, ang = self.dynamic_velocities()
        calm = (np.einsum("ij,ij->i", lin, lin) < linear * linear) & (np.einsum("ij,ij->i", ang, ang) < angular**2)
        if calm.all():
            return True
        landed = np.abs(lin[:, 2]) < linear
        net = window.net_velocities()
        if net is not None:  # chatter in place counts as still (module docstring)
            net_lin, net_ang = net
            calm |= (np.einsum("ij,ij->i", net_lin, net_lin) < linear * linear) & (net_ang < angular)
            landed |= np.abs(net_lin[:, 2]) < linear
            if calm.all():
                return True
        fell, left = self.off_support(self.positions())
        return bool(np.all(calm | left[self.dynamic] | (fell[self.dynamic] & landed)))

    def dynamic_poses(self) -> tuple[np.ndarray, np.ndarray]:
        """(D, 3) positions and (D, 4) wxyz orientations of the dynamic bodies now (engines may
        override this with a cheaper read; it is called every settle step)."""
        state = self.raw_state()
        return state.position_m[self.dynamic], state.quat_wxyz[self.dynamic]

    def set_supports(self, supports: dict[str, Support]) -> None:
        """Remember which top each body was placed on (grouped, for vectorised tests)."""
        groups: dict[str, list[int]] = {}
        known = set(self.bodies)
        self._supports = {p: s for p, s in supports.items() if p in known}
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

    def write_poses_to_usd(self) -> None:
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
                _set_pose(prim, world[3, :3], rotation_matrix_to_quat(rot), Gf)


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


def to_world(quat_wxyz: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rotate body-frame (N, 3) ``vectors`` by (N, 4) unit quaternions: v' = v + 2w(u×v) + 2u×(u×v)."""
    w, u = quat_wxyz[:, :1], quat_wxyz[:, 1:]
    t = 2.0 * np.cross(u, vectors)
    return vectors + w * t + np.cross(u, t)
