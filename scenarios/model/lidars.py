"""LiDARs: an Isaac Sim RTX profile or an inline spinning spec, with sensor motion during a scan
and the realism models of issue 17 (intensity, dropout, multi-return), each off by default."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from ...sensors.models.lidar_signal import DEFAULT_DROPOUT_WIDTH_DB
from ...sensors.spec_base import NonNegFloat, PosFloat, Spec, Vec2, Vec3, invalid
from ..distributions import POSITIVE, Distribution, Domain, dimension, within
from .common import _Posed
from .physics import Keyframe
from .sensor_models import Scalar

__all__ = [
    "LIDAR_MODEL_KEYS",
    "LidarDropoutSpec",
    "LidarIntensity",
    "LidarMotion",
    "LidarReturnsSpec",
    "LidarSpec",
    "SimpleLidarSpec",
]

LidarIntensity = Literal["legacy", "calibrated"]
"""What a LiDAR reports as intensity (README "LiDAR realism")."""

LIDAR_MODEL_KEYS = ("intensity", "dropout", "returns")
"""The LidarSpec keys of the realism models (issue 17); a backend lists those it implements."""


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


def _one_or_two(value: object) -> object:
    if dimension(value) not in (1, 2):
        raise invalid(
            "divergence is one number or [horizontal, vertical]",
            expected="1 or 2 components",
            got=f"{dimension(value)} components",
        )
    return value


DIVERGENCE_MRAD = Domain(lower=0.0, upper=100.0, lower_open=True)
"""Full-angle divergences a beam may have, in milliradians (100 mrad: a 6° cone)."""


class LidarDropoutSpec(Spec):
    """Per-return detection: a return is kept with probability 1 / (1 + exp(−10·log₁₀S / width_db)),
    S = ρ·cosθ / minReflectance · (minReflectanceRange / r)² its signal relative to the profile's
    detection threshold (50 % at S = 1), so dark, far and grazing returns drop out first. The
    width is a distribution, drawn once per frame into the frame's lineage."""

    width_db: Annotated[Distribution, within(POSITIVE), Scalar] = DEFAULT_DROPOUT_WIDTH_DB
    """Width of the detection curve in dB of signal (default from the OS1 REV6 datasheet: 90 % at
    45 m, 50 % at 55 m for a 10 % target)."""


class LidarReturnsSpec(Spec):
    """Dual returns: each beam is cast as a bundle of sub-rays over its footprint, their hits are
    grouped into echoes, and the strongest and the last (or second strongest) are reported. The
    beam's divergence, diameter and echo separation are distributions, drawn once per frame into
    the frame's lineage."""

    mode: Literal["strongest_last"] = "strongest_last"
    """Echoes reported per beam: the strongest, then the last (the second strongest when the
    strongest is the last), as Velodyne's and Hesai's dual-return modes."""
    divergence_mrad: Annotated[Distribution, within(DIVERGENCE_MRAD), AfterValidator(_one_or_two)]
    """Full-angle beam divergence in milliradians: one value, or [horizontal, vertical]."""
    beam_diameter_m: Annotated[Distribution, within(Domain(lower=0.0, upper=1.0)), Scalar] = 0.0
    """Beam diameter where it leaves the sensor (metres); the footprint is this plus the divergence."""
    sub_rays: Annotated[int, Field(strict=True, ge=2, le=256)] = 16
    """Sub-rays cast per beam, spread evenly over its footprint (each a 1/sub_rays share of its power)."""
    min_separation_m: Annotated[Distribution, within(POSITIVE), Scalar] | None = None
    """Closest two echoes can be and still be told apart (default: the profile's
    ``minDistBetweenEchos``, else 0.4 m, Isaac Sim's documented default)."""


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
    intensity: LidarIntensity = "legacy"
    """``legacy``: clip(ρ·cosθ·(minReflectanceRange/r)² / minReflectance, 0, 1), which saturates
    closer than minReflectanceRange; ``calibrated``: the range-compensated reflectivity ρ·cosθ
    that real units report, mapped by the profile's intensityMappingType (LINEAR)."""
    dropout: LidarDropoutSpec | None = None
    """Drop returns at random by their signal (reflectivity and range); off when absent."""
    returns: LidarReturnsSpec | None = None
    """Dual returns at depth edges from the beam's footprint; off (one return per beam) when absent."""

    def models_on(self) -> dict[str, object]:
        """The realism models this LiDAR turns on (key → value), by ``LIDAR_MODEL_KEYS``."""
        fields = type(self).model_fields
        return {key: getattr(self, key) for key in LIDAR_MODEL_KEYS if getattr(self, key) != fields[key].default}

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
