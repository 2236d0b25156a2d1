"""``velocity``: linear and angular velocity of assets and cameras during a camera's exposure.

Where no physics episode moves things, this gives targets a motion for motion blur, rolling
shutter and motion vectors: each target moves rigidly, at constant world-frame velocities,
about its origin, for the short time around the frame's capture instant a shutter spans
(``sensors/motion.py``); the frame's pose (t = 0) is the one the other randomizers set. Bodies
physics simulates take their velocities from the simulation instead, so with physics enabled a
dynamic or kinematic body is no target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import field_validator, model_validator

from ...sensors.spec_base import invalid
from ..distributions import Distribution, Domain, draw_vector, within
from ..frame_params import PrimKey
from .base import RandomizerKind, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from .base import Loc, ReferenceChecker

__all__ = ["ANGULAR_VELOCITY_DEG_S", "LINEAR_VELOCITY_M_S", "VelocityRandomizer"]

LINEAR_VELOCITY_M_S = Domain(lower=-1e4, upper=1e4, sanity=True)
"""A typo guard (10 km/s), not physics: a normal counts as mean ± 6 std."""
ANGULAR_VELOCITY_DEG_S = Domain(lower=-1e6, upper=1e6, sanity=True)
"""A typo guard (~2,800 turns a second)."""


class VelocityRandomizer(RandomizerKind):
    phase = 5
    target_sections = ("assets", "cameras")
    needs = ("motion",)

    lineage_keys = {
        "linear_velocity_m_s": PrimKey.LINEAR_VELOCITY,
        "angular_velocity_deg_s": PrimKey.ANGULAR_VELOCITY,
    }

    kind: Literal["velocity"]
    """Randomizer kind: world-frame velocities of the targets during an exposure."""
    linear_velocity_m_s: Annotated[Distribution, within(LINEAR_VELOCITY_M_S)] | None = None
    """Velocity of the target's origin in m/s, world frame: a constant or a distribution of 3 values."""
    angular_velocity_deg_s: Annotated[Distribution, within(ANGULAR_VELOCITY_DEG_S)] | None = None
    """Angular velocity about the target's origin in degrees per second, world frame (3 values)."""

    @field_validator("linear_velocity_m_s", "angular_velocity_deg_s")
    @classmethod
    def _vec(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (3,), "a velocity")
        return value

    @model_validator(mode="after")
    def _something(self) -> VelocityRandomizer:
        if self.linear_velocity_m_s is None and self.angular_velocity_deg_s is None:
            raise invalid(
                "a velocity randomizer needs linear_velocity_m_s or angular_velocity_deg_s",
                expected="at least one of them",
                got="none",
            )
        return self

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        s = checker.s
        if not s.physics.enabled:
            return
        for target in matched:
            asset = s.assets.get(target)
            if asset is not None and asset.physics.body in ("dynamic", "kinematic"):
                checker.add(
                    (*loc, "targets"),
                    f"'{target}' is a {asset.physics.body} body: physics gives it its velocity",
                    "assets that are not dynamic or kinematic bodies, or cameras",
                    target,
                )

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                rng = frame.rng(name, key, path)
                values: dict[str, Any] = {}
                if self.linear_velocity_m_s is not None:
                    values[PrimKey.LINEAR_VELOCITY] = draw_vector(self.linear_velocity_m_s, rng, key, 3)
                if self.angular_velocity_deg_s is not None:
                    values[PrimKey.ANGULAR_VELOCITY] = draw_vector(self.angular_velocity_deg_s, rng, key, 3)
                frame.params.prim(path).update(values)
                frame.record(name, key, path, values)
