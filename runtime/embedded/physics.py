"""One episode's MuJoCo world (settling, supports and logging come from ``runtime/physics_world``).

The model comes from :mod:`.physics_model`. State is read straight from MuJoCo's arrays
(``qpos``, ``qvel``, mocap poses, contact fields, ``efc_force``) without per-body Python calls,
so logging every step stays cheap; ``mj_step`` advances ``qpos``/``qvel`` while the derived
``xpos``/``xquat`` and the contacts still describe the start of the step, so poses are read
from ``qpos`` and the contacts logged at step s are those MuJoCo resolved during step s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics_world import BodyState, PhysicsLog, SceneBounds, SimWorld, Support
from .physics_model import ModelParts, build_model

__all__ = ["BodyState", "PhysicsLog", "PhysicsWorld", "SceneBounds", "Support"]


class PhysicsWorld(SimWorld):
    """The stage's physics as it stands now (call after the episode's first frame was applied)."""

    angular_in_body_frame = True  # free joints hold angular velocity in the body frame

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
        self._kin_vel = np.zeros((len(self.bodies), 6))
        self.init_common()
        self._drive_kinematic(0.0)
        mujoco.mj_forward(m, self.data)
        self._set_initial_velocities()
        mujoco.mj_forward(m, self.data)
        self.bounds = self._scene_bounds()

    @property
    def timestep_s(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def time_s(self) -> float:
        return float(self.data.time)

    # ------------------------------------------------------------------ set-up

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

    def _drive_kinematic(self, sim_time_s: float) -> None:
        """Pose kinematic bodies for ``sim_time_s``; they hold their start pose while settling."""
        for i, mocap in self._mocap:
            track = self.parts.kinematic[self.bodies[i]]
            self.data.mocap_pos[mocap], self.data.mocap_quat[mocap] = self.kinematic_pose(i, track, sim_time_s)

    # ------------------------------------------------------------------ primitives

    def advance(self) -> None:
        if self._mocap:
            self._drive_kinematic(float(self.data.time) + float(self.model.opt.timestep))
        self.mujoco.mj_step(self.model, self.data)

    def raw_state(self) -> BodyState:
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

    def positions(self) -> np.ndarray:
        pos = np.empty((len(self.bodies), 3))
        for i, mocap in self._mocap:
            pos[i] = self.data.mocap_pos[mocap]
        if len(self._pos_q):
            pos[self.dynamic] = self.data.qpos[self._pos_q]
        return pos

    def dynamic_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data.qvel[self._lin_dofs], self.data.qvel[self._ang_dofs]

    def dynamic_poses(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data.qpos[self._pos_q], self.data.qpos[self._quat_q]

    def contacts(self) -> dict[str, np.ndarray]:
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

    def write_back(self) -> None:
        self.write_poses_to_usd()
