"""From linear radiance to 8-bit sRGB, with no auto-exposure (DESIGN §9 "Exposure").

``display = curve(radiance × 2^exposure_ev)``, then the sRGB transfer function and rounding
to 8 bits. Curves: ``clamp`` (identity, clipped at 1), ``reinhard`` (x / (1 + x)) and ``aces``
(Narkowicz's fit of the ACES filmic curve, the default). The same radiance always gives the
same pixel, so a light randomizer's effect is visible and reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CURVES", "linear_to_srgb8", "tone_map"]


def _aces(x: np.ndarray) -> np.ndarray:
    return (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)


CURVES = {
    "clamp": lambda x: x,
    "reinhard": lambda x: x / (1.0 + x),
    "aces": _aces,
}


def linear_to_srgb8(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)


def tone_map(radiance: np.ndarray, curve: str, exposure_ev: float) -> np.ndarray:
    """8-bit sRGB of linear ``radiance`` (any shape ending in 3)."""
    scaled = np.maximum(radiance, 0.0) * (2.0**exposure_ev)
    return linear_to_srgb8(CURVES[curve](scaled))
