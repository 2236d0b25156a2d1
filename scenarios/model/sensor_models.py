"""Sensor models of a camera (issue 17, items 3 and 4): its image sensor and ISP, and an active
depth sensor. Off unless a camera sets them; every parameter is a distribution, drawn once per
frame for each camera (``scenarios/sensor_draws.py``) and recorded in the frame's lineage.

Defaults describe a typical 12-bit global-shutter machine-vision CMOS sensor (EMVA 1288 data
sheets of the class: about 10 ke⁻ full well, 2–3 e⁻ read noise, 1% PRNU) and a short-range
active stereo depth camera (5 cm baseline, 0.08 px disparity noise), so ``sensor: {}`` or
``depth_sensor: {}`` alone gives a realistic camera.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ...sensors.spec_base import Spec, invalid
from ..distributions import NON_NEGATIVE, POSITIVE, UNIT_INTERVAL, Distribution, Domain, dimension, within

__all__ = ["CameraSensorSpec", "DepthSensorSpec"]


def _components(n: int, what: str) -> AfterValidator:
    def check(value: object) -> object:
        if dimension(value) != n:
            expected = f"{n} component" + ("s" if n > 1 else "")
            raise invalid(
                f"{what} has the wrong number of components", expected=expected, got=f"{dimension(value)} components"
            )
        return value

    return AfterValidator(check)


Scalar = _components(1, "this key")
"""A distribution of one number."""

BIT_DEPTHS = Domain(lower=1.0, upper=16.0)
JPEG_QUALITY = Domain(lower=1.0, upper=100.0)
ANGLE = Domain(lower=0.0, upper=90.0)
EXPOSURE_EV = Domain(lower=-30.0, upper=30.0)
GAMMA = Domain(lower=0.1, upper=10.0)
GAINS = Domain(lower=0.0, upper=100.0)
GammaValue = Annotated[Distribution, within(GAMMA), Scalar]


class CameraSensorSpec(Spec):
    """The image sensor and ISP between the renderer's linear radiance and ``rgb``: photon shot
    noise, dark current, read noise, PRNU/DSNU, full well, black level, bit depth (the ``raw``
    annotator, in DN), then white balance, a tone curve and JPEG (README: Camera sensor)."""

    full_well_e: Annotated[Distribution, within(POSITIVE), Scalar] = 10000.0
    """Saturation capacity in electrons; a linear radiance of 1 (after ``exposure_ev``) fills it."""
    gain_dn_per_e: Annotated[Distribution, within(POSITIVE), Scalar] = 0.4
    """System gain K of the ADC in DN per electron (EMVA 1288's K)."""
    read_noise_e: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 2.5
    """Temporal dark (read) noise, standard deviation in electrons."""
    dark_current_e_per_s: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 5.0
    """Mean dark current in electrons per second (Poisson)."""
    integration_time_s: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.01
    """Integration time the dark current accumulates over, in seconds."""
    prnu: Annotated[Distribution, within(Domain(lower=0.0, upper=1.0)), Scalar] = 0.01
    """Photo-response non-uniformity: relative standard deviation of the pixels' gains (fixed pattern)."""
    dsnu_e: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.5
    """Dark-signal non-uniformity: standard deviation of the pixels' dark offsets in electrons (fixed pattern)."""
    black_level_dn: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 64.0
    """Offset the ADC adds, in DN (removed by the ISP)."""
    bit_depth: Annotated[Distribution, within(BIT_DEPTHS), Scalar] = 12
    """ADC resolution in bits (drawn values are rounded)."""
    exposure_ev: Annotated[Distribution, within(EXPOSURE_EV), Scalar] = 0.0
    """Exposure relative to the render's, in stops: the signal scales by 2^exposure_ev."""
    vignetting: Annotated[Distribution, within(UNIT_INTERVAL), Scalar] = 0.2
    """Light lost in the image corners (0: none; the lens's cos⁴ falloff, corners at 1 − vignetting)."""
    white_balance: Annotated[Distribution, within(GAINS), _components(3, "white_balance")] = (1.0, 1.0, 1.0)
    """ISP gains for red, green and blue (randomize them to model white-balance error)."""
    gamma: Annotated[Literal["srgb"] | GammaValue, Field(union_mode="left_to_right")] = "srgb"
    """Tone curve: ``srgb`` (the sRGB transfer function) or a display gamma (x^(1/gamma))."""
    jpeg_quality: Annotated[Distribution, within(JPEG_QUALITY), Scalar] | None = None
    """JPEG quality 1..100 applied to ``rgb`` (rounded); none: no compression."""


class DepthSensorSpec(Spec):
    """An active stereo / structured-light depth camera computed from this camera's exact labels:
    the ``depth_sensor`` annotator (README: Depth sensor)."""

    baseline_m: Annotated[Distribution, within(POSITIVE), Scalar] = 0.05
    """Distance from this camera to the second view (camera or projector), along the camera's +x."""
    disparity_noise_px: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.08
    """Standard deviation of the disparity in pixels (σ_z = z²·σ_d / (f·b))."""
    disparity_step_px: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.0
    """Sub-pixel disparity resolution (0: continuous)."""
    min_range_m: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.2
    """Nearest measured depth; nearer reads −inf (REP 118)."""
    max_range_m: Annotated[Distribution, within(POSITIVE), Scalar] = 10.0
    """Farthest measured depth; farther reads +inf (REP 118)."""
    max_incidence_deg: Annotated[Distribution, within(ANGLE), Scalar] = 75.0
    """Surfaces seen more obliquely than this (from their normal) return no depth."""
    min_reflectance: Annotated[Distribution, within(NON_NEGATIVE), Scalar] = 0.05
    """Weakest return measured: diffuse reflectance × cos(incidence) × (r₀ / range)² below it is lost."""
    min_reflectance_range_m: Annotated[Distribution, within(POSITIVE), Scalar] = 2.0
    """r₀: the range at which a return of reflectance ``min_reflectance`` (at normal incidence) is just measured."""
    edge_px: Annotated[Distribution, within(Domain(lower=0.0, upper=32.0)), Scalar] = 2
    """Pixels lost on each side of a disparity step (half the matching window; rounded)."""
