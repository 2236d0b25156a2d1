"""One episode's PhysX world on Kit's stage (settling, supports and logging: ``runtime/physics_world``).

PhysX reads the same UsdPhysics prims the embedded backend gives MuJoCo, so no translation is
needed: the stage is attached to the PhysX simulation interface and stepped directly
(``simulate`` / ``fetch_results``, no timeline, no rendering), the pattern Isaac Sim's own
asset validator uses (``isaacsim.asset.validation/.../physics_rules.py``, v5.1.0). With
``updateToUsd`` and ``updateVelocitiesToUsd`` on, PhysX writes body poses to the prims'
xform ops and velocities to ``physics:velocity`` / ``physics:angularVelocity`` (deg/s), which
is where we read them. Contacts come from the contact report (``PhysxContactReportAPI`` with
threshold 0 on every body); the normal force is |impulse · normal| / Δt.

Differences from the MuJoCo mapping (documented in the README): PhysX has restitution and
static/dynamic friction natively and ignores torsional and rolling friction; its default
combine mode averages friction and restitution.

Runs only inside Kit; never executed on our machines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...scenarios.model import PhysicsSpec
from ...sensors.conventions import rotation_matrix_to_quat
from ..physics_world import BodyState, KinematicTrack, SceneBounds, SimWorld

__all__ = ["GROUND_PLANE_PATH", "PhysxWorld", "physx_world"]

GROUND_PLANE_PATH = "/World/Physics/GroundPlane"


def _decompose(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rot = matrix[:3, :3] / np.linalg.norm(matrix[:3, :3], axis=1, keepdims=True)
    return matrix[3, :3].copy(), rotation_matrix_to_quat(rot)


class PhysxWorld(SimWorld):
    """The stage's rigid bodies simulated by PhysX, stepped without the timeline."""

    def __init__(self, stage: Any, spec: PhysicsSpec) -> None:
        import carb
        import omni.usd
        from omni.physx import get_physx_simulation_interface
        from omni.physx.bindings._physx import SETTING_UPDATE_TO_USD
        from pxr import PhysxSchema, Usd, UsdGeom, UsdPhysics

        self.stage = stage
        self._dt = float(spec.timestep_s)
        self._time = 0.0
        self._sim = get_physx_simulation_interface()
        settings = carb.settings.get_settings()
        settings.set(SETTING_UPDATE_TO_USD, True)
        settings.set("/physics/updateVelocitiesToUsd", True)
        for prim in Usd.PrimRange(stage.GetPseudoRoot()):
            if prim.IsA(UsdPhysics.Scene):
                api = PhysxSchema.PhysxSceneAPI.Apply(prim)
                api.CreateTimeStepsPerSecondAttr().Set(int(round(1.0 / self._dt)))
        if spec.ground_plane and not stage.GetPrimAtPath(GROUND_PLANE_PATH):
            plane = UsdGeom.Plane.Define(stage, GROUND_PLANE_PATH)
            plane.CreateAxisAttr("Z")
            plane.CreateWidthAttr(1000.0)
            plane.CreateLengthAttr(1000.0)
            plane.CreatePurposeAttr(UsdGeom.Tokens.guide)  # collides, is never rendered or labelled
            UsdPhysics.CollisionAPI.Apply(plane.GetPrim())
        cache = UsdGeom.XformCache()
        self.bodies, self.body_kind, self.colliders = [], [], []
        self._tracks: dict[int, KinematicTrack] = {}
        for prim in Usd.PrimRange(stage.GetPseudoRoot()):
            imageable = UsdGeom.Imageable(prim)
            if imageable and imageable.ComputeVisibility() == UsdGeom.Tokens.invisible:
                continue
            path = str(prim.GetPath())
            if prim.HasAPI(UsdPhysics.CollisionAPI):
                self.colliders.append(path)
            if prim.HasAPI(UsdPhysics.RigidBodyAPI):
                kinematic = bool(UsdPhysics.RigidBodyAPI(prim).GetKinematicEnabledAttr().Get())
                if kinematic:
                    pos, quat = _decompose(np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64))
                    self._tracks[len(self.bodies)] = KinematicTrack.from_prim(prim, pos, quat)
                self.bodies.append(path)
                self.body_kind.append("kinematic" if kinematic else "dynamic")
                report = PhysxSchema.PhysxContactReportAPI.Apply(prim)
                report.CreateThresholdAttr().Set(0)
        self._body_index = {p: i for i, p in enumerate(self.bodies)}
        self._collider_index = {p: i for i, p in enumerate(self.colliders)}
        self.dynamic = np.array([k == "dynamic" for k in self.body_kind], dtype=bool)
        self._kin_vel = np.zeros((len(self.bodies), 6))
        self._contacts: dict[str, np.ndarray] = _no_contacts()
        self.init_common()
        self._sim.attach_stage(omni.usd.get_context().get_stage_id())
        self.bounds = self._scene_bounds()

    @property
    def timestep_s(self) -> float:
        return self._dt

    @property
    def time_s(self) -> float:
        return self._time

    def _scene_bounds(self) -> SceneBounds:
        from pxr import Usd, UsdGeom

        cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_, UsdGeom.Tokens.render])
        points = [self.positions()]
        for path in self.colliders:
            if path in self._body_index or path == GROUND_PLANE_PATH:
                continue
            box = cache.ComputeWorldBound(self.stage.GetPrimAtPath(path)).ComputeAlignedRange()
            points.append(np.array([list(box.GetMin()), list(box.GetMax())], dtype=np.float64))
        allp = np.concatenate([p for p in points if len(p)]) if any(len(p) for p in points) else np.zeros((1, 3))
        return SceneBounds(allp.min(axis=0), allp.max(axis=0))

    # ------------------------------------------------------------------ primitives

    def _drive_kinematic(self, sim_time_s: float) -> None:
        """Move kinematic bodies' prims (PhysX follows USD for kinematic targets)."""
        from pxr import Gf

        for i, track in self._tracks.items():
            p, q = self.kinematic_pose(i, track, sim_time_s)
            prim = self.stage.GetPrimAtPath(self.bodies[i])
            prim.GetAttribute("xformOp:translate").Set(Gf.Vec3d(*map(float, p)))
            prim.GetAttribute("xformOp:orient").Set(Gf.Quatd(float(q[0]), Gf.Vec3d(*map(float, q[1:]))))

    def advance(self) -> None:
        if self._tracks:
            self._drive_kinematic(self._time + self._dt)
        self._sim.simulate(self._dt, self._time)
        self._sim.fetch_results()
        self._time += self._dt
        self._contacts = self._read_contacts()

    def _read_contacts(self) -> dict[str, np.ndarray]:
        from omni.physx.bindings._physx import ContactEventType
        from pxr import PhysicsSchemaTools

        headers, data = self._sim.get_contact_report()
        rows: list[tuple] = []
        for header in headers:
            if header.type == ContactEventType.CONTACT_LOST:
                continue
            c0 = self._collider_index.get(str(PhysicsSchemaTools.intToSdfPath(header.collider0)), -1)
            c1 = self._collider_index.get(str(PhysicsSchemaTools.intToSdfPath(header.collider1)), -1)
            b0 = self._body_index.get(str(PhysicsSchemaTools.intToSdfPath(header.actor0)), -1)
            b1 = self._body_index.get(str(PhysicsSchemaTools.intToSdfPath(header.actor1)), -1)
            for k in range(header.contact_data_offset, header.contact_data_offset + header.num_contact_data):
                point = data[k]
                normal = np.asarray(point.normal, dtype=np.float64)
                impulse = np.asarray(point.impulse, dtype=np.float64)
                force = abs(float(impulse @ normal)) / self._dt
                rows.append((c0, c1, b0, b1, np.asarray(point.position, dtype=np.float64), normal, force,
                             max(0.0, -float(point.separation))))  # fmt: skip
        if not rows:
            return _no_contacts()
        return {
            "collider": np.array([[r[0], r[1]] for r in rows], dtype=np.int32),
            "body": np.array([[r[2], r[3]] for r in rows], dtype=np.int32),
            "position": np.array([r[4] for r in rows]),
            "normal": np.array([r[5] for r in rows]),
            "force": np.array([r[6] for r in rows]),
            "penetration": np.array([r[7] for r in rows]),
        }

    def contacts(self) -> dict[str, np.ndarray]:
        out = dict(self._contacts)
        out["step"] = np.full(len(out["force"]), self.step_count, dtype=np.int64)
        return out

    def raw_state(self) -> BodyState:
        from pxr import UsdGeom, UsdPhysics

        cache = UsdGeom.XformCache()
        n = len(self.bodies)
        pos, quat = np.empty((n, 3)), np.empty((n, 4))
        lin, ang = self._kin_vel[:, :3].copy(), self._kin_vel[:, 3:].copy()
        for i, path in enumerate(self.bodies):
            prim = self.stage.GetPrimAtPath(path)
            pos[i], quat[i] = _decompose(np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64))
            if self.dynamic[i]:
                rb = UsdPhysics.RigidBodyAPI(prim)
                lin[i] = np.asarray(rb.GetVelocityAttr().Get() or (0, 0, 0), dtype=np.float64)
                ang[i] = np.radians(np.asarray(rb.GetAngularVelocityAttr().Get() or (0, 0, 0), dtype=np.float64))
        return BodyState(self._time, pos, quat, lin, ang)

    def positions(self) -> np.ndarray:
        return self.raw_state().position_m

    def dynamic_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        state = self.raw_state()
        return state.linear_velocity_m_s[self.dynamic], state.angular_velocity_rad_s[self.dynamic]

    def write_back(self) -> None:
        """PhysX already wrote the poses to the stage (``updateToUsd``)."""

    def close(self) -> None:
        self._sim.detach_stage()


def _no_contacts() -> dict[str, np.ndarray]:
    return {
        "collider": np.zeros((0, 2), dtype=np.int32),
        "body": np.zeros((0, 2), dtype=np.int32),
        "position": np.zeros((0, 3)),
        "normal": np.zeros((0, 3)),
        "force": np.zeros(0),
        "penetration": np.zeros(0),
    }


def physx_world(stage: Any, spec: PhysicsSpec) -> PhysxWorld:
    """The ``world_factory`` of :class:`~scenesmith.runtime.episode.PhysicsFrames` in Isaac Sim
    (gravity comes from the stage's ``PhysicsScene``, which stage authoring set from the scenario)."""
    return PhysxWorld(stage, spec)
