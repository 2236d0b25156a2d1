"""LiDARs: an Isaac Sim RTX profile or an inline spinning spec, with sensor motion during a scan."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ...sensors.spec_base import NonNegFloat, PosFloat, Spec, Vec2, Vec3, invalid
from .common import _Posed
from .physics import Keyframe

__all__ = [
    "LidarMotion",
    "LidarSpec",
    "SimpleLidarSpec",
]


class SimpleLidarSpec(Spec):
    """An idealised rotary LiDAR declared inline instead of an Isaac Sim profile."""

    channels: Annotated[int, Field(strict=True, ge=1, le=1024)] = 16
    """Vertical channels (beams), spread evenly over the vertical field of view."""
    elevation_deg: Vec2 = (-15.0, 15.0)
    """Lowest and highest beam elevation, evenly spaced over ``channels``."""
    azimuth_steps: Annotated[int, Field(strict=True, ge=1, le=65536)] = 1024
    """Firings per revolution."""
    scan_rate_hz: PosFloat = 10.0
    """Revolutions per second."""
    range_m: Vec2 = (0.1, 100.0)
    """Minimum and maximum range in metres."""
    range_accuracy_m: NonNegFloat = 0.0
    """Standard deviation of range noise in metres."""
    rotation_direction: Literal["CW", "CCW"] = "CW"
    """Spin direction seen from above."""

    @field_validator("elevation_deg")
    @classmethod
    def _elevation(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not -90 <= value[0] <= value[1] <= 90:
            raise invalid(
                "elevation range must satisfy -90 <= low <= high <= 90",
                expected="-90 <= low <= high <= 90",
                got=list(value),
            )
        return value

    @field_validator("range_m")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1]:
            raise invalid("range must satisfy 0 <= near < far", expected="0 <= near < far", got=list(value))
        return value


class LidarMotion(Spec):
    """Constant sensor velocity during a scan (its points show the matching distortion)."""

    linear_velocity_m_s: Vec3 = (0.0, 0.0, 0.0)
    """Sensor velocity in m/s during a scan (motion distortion)."""
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)
    """Sensor angular velocity in degrees per second during a scan."""


class LidarSpec(_Posed):
    """A LiDAR: an Isaac Sim RTX profile (shipped name or JSON path) or an inline simple spec."""

    profile: Annotated[str, Field(min_length=1, max_length=4096, strict=True)] | None = None
    """An Isaac Sim RTX LiDAR profile: a shipped name (scenesmith lidar-profiles) or a JSON file."""
    simple: SimpleLidarSpec | None = None
    """A spinning LiDAR described by its channels and steps instead of a profile."""
    noise: bool = True
    """Apply the profile's range accuracy and angle errors (seeded per frame)."""
    motion: LidarMotion | None = None
    """Sensor motion during the scan."""
    pose_path: Annotated[list[Keyframe], Field(min_length=2)] | None = None
    """Sensor pose over the scan (time from the scan start); exclusive with ``motion``."""

    @model_validator(mode="after")
    def _source(self) -> LidarSpec:
        if (self.profile is None) == (self.simple is None):
            raise invalid(
                "give exactly one of profile and simple",
                expected="profile or simple",
                got="both" if self.profile is not None else "neither",
            )
        if self.motion is not None and self.pose_path is not None:
            raise invalid("give at most one of motion and pose_path", expected="one", got="both")
        return self
