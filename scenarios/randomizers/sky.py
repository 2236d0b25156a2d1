"""``sky``: the sun of a procedural sky (elevation, azimuth, turbidity), and the sun light with it.

Targets are lights: dome lights whose texture is a ``sky`` texture get the drawn values (the
dome's image is regenerated for the frame), distant lights are turned to shine from the drawn
sun direction, so shadows and sky always agree. One draw per trigger key serves every target.
The azimuth is in the world frame; a rotated dome rotates its sky with it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import field_validator, model_validator

from ...sensors.conventions import look_at_quat, quat_to_rotation_matrix
from ...sensors.spec_base import invalid
from ..distributions import Distribution, Domain, angle_window, draw_scalar, within
from ..frame_params import PrimKey
from .base import RandomizerKind, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario
    from .base import Loc, ReferenceChecker

__all__ = ["SUN_ELEVATION_DEG", "TURBIDITY", "SkyRandomizer"]

SUN_ELEVATION_DEG = Domain(lower=0.5, upper=90.0)
TURBIDITY = Domain(lower=1.7, upper=10.0)
AZIMUTH_DEG = Domain(lower=-360.0, upper=360.0)


class SkyRandomizer(RandomizerKind):
    """Draw the sun of ``sky`` dome textures, and point distant lights from it."""

    phase = 5
    target_sections = ("lights",)

    shared_draw = True

    kind: Literal["sky"]
    """Randomizer kind."""
    sun_elevation_deg: Annotated[Distribution, within(SUN_ELEVATION_DEG)] | None = None
    """Sun elevation above the horizon in degrees (0.5–90)."""
    sun_azimuth_deg: Annotated[Distribution, within(AZIMUTH_DEG)] | None = None
    """Sun azimuth in degrees from +X counter-clockwise."""
    turbidity: Annotated[Distribution, within(TURBIDITY)] | None = None
    """Atmospheric turbidity (1.7–10; domes only)."""

    @field_validator("sun_elevation_deg", "sun_azimuth_deg", "turbidity")
    @classmethod
    def _scalar(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (1,), "this value")
        return value

    @model_validator(mode="after")
    def _something(self) -> SkyRandomizer:
        if self.sun_elevation_deg is None and self.sun_azimuth_deg is None and self.turbidity is None:
            raise invalid(
                "a sky randomizer needs sun_elevation_deg, sun_azimuth_deg or turbidity",
                expected="at least one of them",
                got="none",
            )
        return self

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        for target in matched:
            light = checker.s.lights[target]
            texture = checker.s.textures.get(light.texture or "") if light.type == "dome" else None
            if light.type != "distant" and (texture is None or texture.sky is None):
                checker.add(
                    (*loc, "targets"),
                    f"light '{target}' is neither a dome with a sky texture nor a distant (sun) light",
                    "dome lights with a sky texture, or distant lights",
                    target,
                )

    def raw_draws(self, values: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
        """A dome's record holds the draw; a distant light's holds the orientation made of it,
        whose +Z axis points at the sun (``look_at_quat(toward, origin)``), so elevation and
        azimuth (in the declared distribution's 360° window, ``angle_window``) are read back."""
        drawn = dict(values.get(PrimKey.SKY, {}))
        if not drawn and PrimKey.ORIENT in values:
            toward = np.array([0.0, 0.0, 1.0]) @ quat_to_rotation_matrix(values[PrimKey.ORIENT])
            drawn["sun_elevation_deg"] = math.degrees(math.asin(max(-1.0, min(1.0, float(toward[2])))))
            azimuth = math.degrees(math.atan2(toward[1], toward[0]))
            low = angle_window(self.sun_azimuth_deg) if self.sun_azimuth_deg is not None else None
            if low is not None:
                drawn["sun_azimuth_deg"] = low + (azimuth - low) % 360.0
        return {key: drawn[key] for key in self.declared_distributions(scenario) if key in drawn}

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        # one draw for every target: the sun light and the sky must agree
        rng = frame.rng(name, key, "/World/Lights")
        drawn: dict[str, Any] = {}
        for field in ("sun_elevation_deg", "sun_azimuth_deg", "turbidity"):
            dist = getattr(self, field)
            if dist is not None:
                drawn[field] = float(draw_scalar(dist, rng, key))
        for target in frame.targets(self):
            spec = frame.s.lights[target]
            for path in frame.target_paths(target):
                if spec.type == "distant":
                    sky = self._sky_of(frame)
                    elevation = math.radians(drawn.get("sun_elevation_deg", sky.get("sun_elevation_deg", 45.0)))
                    azimuth = math.radians(drawn.get("sun_azimuth_deg", sky.get("sun_azimuth_deg", 0.0)))
                    toward = (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth),
                              math.sin(elevation))  # fmt: skip
                    values: dict[str, Any] = {PrimKey.ORIENT: look_at_quat(toward, (0.0, 0.0, 0.0))}
                else:
                    values = {PrimKey.SKY: dict(drawn)}
                frame.params.prim(path).update(values)
                frame.record(name, key, path, values)

    def _sky_of(self, frame: FrameState) -> dict[str, float]:
        """The authored sun of the first sky dome this randomizer targets (for values not drawn)."""
        for target in frame.targets(self):
            light = frame.s.lights[target]
            texture = frame.s.textures.get(light.texture or "") if light.type == "dome" else None
            if texture is not None and texture.sky is not None:
                return texture.sky.model_dump()
        return {}
