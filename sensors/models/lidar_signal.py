"""What a LiDAR reports for a return, and whether it detects it at all (issue 17).

Two quantities, as real units keep them apart:

- **reflectivity** R = ρ·cosθ (ρ the surface's Lambertian reflectance, θ the incidence angle;
  for a beam split over several surfaces, the sum of each share's ρ·cosθ times its share of
  the beam). Ouster's calibrated reflectivity, Velodyne's calibrated reflectivity and Hesai's
  reflectivity byte all report this range-compensated value, so a near dark target reads dark
  instead of saturating;
- **relative signal** S = R / minReflectance · (minReflectanceRange / r)²: the received power
  (∝ R / r²) relative to the profile's detection threshold, a ``minReflectance`` target at
  ``minReflectanceRange``. S = 1 is the threshold.

Intensity modes: ``legacy`` = clip(S, 0, 1) (DESIGN §9 before issue 17; it saturates for every
return closer than ``minReflectanceRange`` on a ``minReflectance`` target), ``calibrated`` = R
mapped by the profile's ``intensityMappingType`` (``LINEAR``: R itself, as Hesai's linear
reflectivity mapping).

Detection: P(S) = 1 / (1 + exp(−10·log₁₀S / w)), a logistic in decibels of signal with width w,
50 % at the threshold (the OS1 REV6 profile's own comment: "55 m @ >50% detection probability"
for 10 % reflectivity at minReflectanceRange 55 m).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFAULT_DROPOUT_WIDTH_DB",
    "INTENSITY_MAPPINGS",
    "calibrated_intensity",
    "detection_probability",
    "legacy_intensity",
    "relative_signal",
]

DEFAULT_DROPOUT_WIDTH_DB = 0.8
"""Width of the detection curve in dB of signal, from the OS1 REV6 profile's datasheet comment
("45 m @ >90% detection probability … 55 m @ >50%" for a 10 % target): the signal ratio between
the two ranges is (55/45)², 1.74 dB, and P = 0.9 is ln 9 widths above the threshold, so
w = 1.74 / ln 9 = 0.79 dB."""

INTENSITY_MAPPINGS = ("LINEAR",)
"""``intensityMappingType`` values the calibrated mode can encode (Hesai's nonlinear reflectivity
table is not public in full, so ``NONLINEAR`` is refused rather than guessed)."""


def relative_signal(
    reflectivity: np.ndarray, distance_m: np.ndarray, min_reflectance: float, min_reflectance_range_m: float
) -> np.ndarray:
    """S: received power relative to a ``min_reflectance`` target at ``min_reflectance_range_m``."""
    return reflectivity / min_reflectance * (min_reflectance_range_m / np.maximum(distance_m, 1e-9)) ** 2


def legacy_intensity(
    reflectivity: np.ndarray, distance_m: np.ndarray, min_reflectance: float, min_reflectance_range_m: float
) -> np.ndarray:
    """clip(ρ·cosθ·(r₀/r)² / minReflectance, 0, 1), evaluated in the order the pre-issue-17 scan did
    (same bytes)."""
    return np.clip(
        reflectivity * (min_reflectance_range_m / np.maximum(distance_m, 1e-9)) ** 2 / min_reflectance, 0.0, 1.0
    )


def calibrated_intensity(reflectivity: np.ndarray, mapping: str) -> np.ndarray:
    """Range-compensated reflectivity in [0, 1], encoded by ``intensityMappingType``."""
    if mapping not in INTENSITY_MAPPINGS:
        raise ValueError(f"intensityMappingType {mapping!r} is not one of {INTENSITY_MAPPINGS}")
    return np.clip(reflectivity, 0.0, 1.0)


def detection_probability(signal: np.ndarray, width_db: float) -> np.ndarray:
    """P(detect) = logistic(10·log₁₀S / w): 0.5 at S = 1, 0 for no signal."""
    with np.errstate(divide="ignore"):
        margin_db = 10.0 * np.log10(signal)
    # 1 / (1 + e^-x) written with tanh: no overflow warning at large |x|
    return 0.5 * (1.0 + np.tanh(margin_db / (2.0 * width_db)))
