"""Physics: friction, bodies and keyframes, settling, episodes and the simulation settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...sensors.spec_base import NonNegFloat, PosFloat, PosInt, Position, Spec, Unit, Vec3, Vec4, invalid

__all__ = [
    "BodyPhysics",
    "EpisodeSpec",
    "FrictionSpec",
    "Keyframe",
    "PhysicsSpec",
    "SettleSpec",
]


class FrictionSpec(Spec):
    static: NonNegFloat = 0.6
    """Static friction coefficient (MuJoCo's single sliding coefficient)."""
    dynamic: NonNegFloat = 0.5
    """Dynamic friction coefficient (PhysX; MuJoCo has one sliding coefficient)."""
    torsional: NonNegFloat = 0.005
    """Torsional friction (m), ``scenesmith:physics:torsionalFriction``; PhysX ignores it."""
    rolling: NonNegFloat = 0.0001
    """Rolling friction (m), ``scenesmith:physics:rollingFriction``; PhysX ignores it."""


class Keyframe(Spec):
    time_s: NonNegFloat
    """Time of the keyframe from the start of the episode, in seconds."""
    position_m: Position
    """Position at time_s, in metres."""
    quat_wxyz: Vec4 = (1.0, 0.0, 0.0, 0.0)
    """Orientation at time_s as a unit quaternion (w, x, y, z)."""


class BodyPhysics(Spec):
    """How an asset takes part in physics (used only when ``physics.enabled``)."""

    body: Literal["dynamic", "static", "kinematic", "none"] = "static"
    """dynamic: simulated rigid body; static: collider only; kinematic: moved by keyframes or velocity; none: no
    physics."""
    mass_kg: PosFloat | None = None
    """Mass; when both are given, ``mass_kg`` wins over ``density_kg_m3`` (as UsdPhysics says)."""
    density_kg_m3: PosFloat | None = None
    """Density in kg/m³ (mass from the collider volume); default 1000 kg/m³ unless mass is given."""
    collider: Literal["auto", "box", "sphere", "capsule", "cylinder", "convex_hull", "none"] = "auto"
    """Collision shape: auto picks the primitive's own shape and a convex hull for meshes."""
    friction: FrictionSpec = FrictionSpec()
    """Friction of the body's physics material."""
    restitution: Unit = 0.0
    """Coefficient of restitution in [0, 1] (bounciness)."""
    linear_velocity_m_s: Vec3 = (0.0, 0.0, 0.0)
    """Initial velocity of a dynamic body, or the constant velocity of a kinematic one."""
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)
    """Initial angular velocity in degrees per second, world frame."""
    path: Annotated[list[Keyframe], Field(min_length=2)] | None = None
    """Keyframed path of a kinematic body (linear in position, slerp in rotation)."""

    @model_validator(mode="after")
    def _consistent(self) -> BodyPhysics:
        if self.path is not None:
            if self.body != "kinematic":
                raise invalid("path is only for kinematic bodies", expected="body: kinematic", got=self.body)
            times = [k.time_s for k in self.path]
            if any(b <= a for a, b in zip(times, times[1:])):
                raise invalid("path keyframes must have increasing time_s", expected="increasing times", got=times)
        if self.body in ("dynamic", "kinematic") and self.collider == "none":
            raise invalid(f"a {self.body} body needs a collider", expected="collider other than none", got="none")
        return self


class SettleSpec(Spec):
    """Step until every dynamic body stays under both speeds for ``hold_s``, or ``max_s`` passes."""

    linear_speed_m_s: PosFloat = 0.01
    """A body counts as still below this linear speed, in m/s."""
    angular_speed_deg_s: PosFloat = 5.0
    """A body counts as still below this angular speed, in degrees per second."""
    hold_s: NonNegFloat = 0.1
    """Bodies must stay still this long, in seconds, before the frame is captured."""
    max_s: PosFloat = 5.0
    """Most simulated time spent settling, in seconds; a frame still moving then is captured with a warning."""


class EpisodeSpec(Spec):
    """Sequences: ``frames`` captures per episode, physics running continuously between them."""

    frames: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 1
    """Frames per episode: the first settles, the rest are captured capture_interval_s apart."""
    capture_interval_s: PosFloat = 0.1
    """Simulated time between captured frames of an episode, in seconds."""


class PhysicsSpec(Spec):
    enabled: bool = False
    """Simulate physics (MuJoCo on the embedded backend, PhysX in Isaac Sim)."""
    gravity_m_s2: Vec3 = (0.0, 0.0, -9.81)
    """Gravity vector in m/s²."""
    timestep_s: Annotated[float, Field(strict=True, gt=0, le=0.1)] = 0.002
    """Physics step in seconds."""
    settle: SettleSpec | None = SettleSpec()
    """Settle before each episode's first capture; ``null`` captures the initial state."""
    episode: EpisodeSpec = EpisodeSpec()
    """How frames are grouped into simulated episodes."""
    log_every_n_steps: PosInt = 10
    """Log body states and contacts every n physics steps (50 Hz at the default 2 ms step); the
    initial and every captured instant are always logged."""
    ground_plane: bool = False
    """Add an infinite static ground plane at z = 0."""
    drop_fallen_from_labels: bool = False
    """Leave bodies that fell off their support out of the labels (they stay in the physics log)."""
