"""``look_at``: the eye on a shell around a target point, oriented with Replicator's look-at rule."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import field_validator

from ...sensors.conventions import look_at_quat
from ...sensors.spec_base import MAX_POSITION_M, MIN_LOOK_AT_DISTANCE_M, Vec3
from ..distributions import POSITION, Distribution, Domain, angle_window, draw_scalar, draw_vector, within
from ..frame_params import PrimKey
from .base import RandomizerKind, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario

__all__ = ["LOOK_AT_DISTANCE_M", "LookAtRandomizer"]

LOOK_AT_DISTANCE_M = Domain(lower=MIN_LOOK_AT_DISTANCE_M, upper=MAX_POSITION_M)
"""Far enough from the target that there is a direction to look in."""


class LookAtRandomizer(RandomizerKind):
    """Eye on a shell around ``target_m``: distance, azimuth (from +X, CCW) and elevation."""

    phase = 4
    target_sections = ("cameras", "lights", "lidars")

    kind: Literal["look_at"]
    """Randomizer kind."""
    target_m: Annotated[Distribution, within(POSITION)] = (0.0, 0.0, 0.0)
    """Point looked at, in metres: a constant or a distribution of 3 values."""
    distance_m: Annotated[Distribution, within(LOOK_AT_DISTANCE_M)]
    """Distance of the eye from the target in metres (at least 1e-4)."""
    azimuth_deg: Distribution = 0.0
    """Azimuth of the eye around the target in degrees, from +X counter-clockwise."""
    elevation_deg: Distribution = 30.0
    """Elevation of the eye above the target's horizontal plane, in degrees."""
    look_at_up_axis: Vec3 = (0.0, 0.0, 1.0)
    """World direction kept up."""

    @field_validator("target_m")
    @classmethod
    def _target(cls, value: object) -> object:
        check_dim(value, (3,), "target_m")
        return value

    @field_validator("distance_m", "azimuth_deg", "elevation_deg")
    @classmethod
    def _scalar(cls, value: object) -> object:
        check_dim(value, (1,), "this value")
        return value

    def raw_draws(self, values: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
        """``eye = aim + distance · (cos e cos a, cos e sin a, sin e)`` read backwards; the
        azimuth is put back into the declared distribution's 360° window (``angle_window``)."""
        if PrimKey.TRANSLATE not in values or "look_at" not in values:
            return {}
        aim = np.asarray(values["look_at"], dtype=np.float64)
        offset = np.asarray(values[PrimKey.TRANSLATE], dtype=np.float64) - aim
        distance = float(np.linalg.norm(offset))
        azimuth = math.degrees(math.atan2(offset[1], offset[0]))
        low = angle_window(self.azimuth_deg)
        raw = {
            "target_m": aim.tolist(),
            "distance_m": distance,
            "elevation_deg": math.degrees(math.asin(max(-1.0, min(1.0, offset[2] / distance)))) if distance else 0.0,
        }
        if low is not None:
            raw["azimuth_deg"] = low + (azimuth - low) % 360.0
        return {key: raw[key] for key in self.declared_distributions(scenario) if key in raw}

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        up = frame.s.stage.up_axis
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                rng = frame.rng(name, key, path)
                aim = draw_vector(self.target_m, rng, key, 3)
                distance = draw_scalar(self.distance_m, rng, key)
                azimuth = math.radians(draw_scalar(self.azimuth_deg, rng, key))
                elevation = math.radians(draw_scalar(self.elevation_deg, rng, key))
                if distance <= 0:
                    raise frame.r.document.error(
                        ("randomizers", name, "distance_m"),
                        "a distance draw is not positive",
                        expected="> 0",
                        got=distance,
                    )
                eye = aim + distance * np.array(
                    [
                        math.cos(elevation) * math.cos(azimuth),
                        math.cos(elevation) * math.sin(azimuth),
                        math.sin(elevation),
                    ]
                )
                values = {
                    PrimKey.TRANSLATE: eye,
                    PrimKey.ORIENT: look_at_quat(eye, aim, self.look_at_up_axis, up),
                    "look_at": aim,
                }
                frame.params.prim(path).update({PrimKey.TRANSLATE: eye, PrimKey.ORIENT: values[PrimKey.ORIENT]})
                frame.record(name, key, path, values)
