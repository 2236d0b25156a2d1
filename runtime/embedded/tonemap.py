"""From linear radiance to 8-bit sRGB, with no auto-exposure (DESIGN §9 "Exposure").

``display = curve(radiance × 2^exposure_ev)``, then the sRGB transfer function and rounding
to the nearest 8-bit code (by thresholds precomputed with the inverse transfer function).
Curves: ``clamp`` (identity, clipped at 1), ``reinhard`` (x / (1 + x)) and ``aces``
(Narkowicz's fit of the ACES filmic curve, the default). The same radiance always gives the
same pixel, so a light randomizer's effect is visible and reproducible. One compiled pass
over the pixels (numba).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["CURVES", "tone_map"]

CURVES = {"clamp": 0, "reinhard": 1, "aces": 2}
"""Curve names and their codes in the kernel."""


def _srgb8_thresholds() -> np.ndarray:
    """Display-linear values where the rounded 8-bit sRGB code steps from k − 1 to k (k = 1..255):
    the inverse sRGB transfer function at (k − ½) / 255."""
    s = (np.arange(1, 256, dtype=np.float64) - 0.5) / 255.0
    return np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)


_THRESHOLDS = _srgb8_thresholds()

CELLS = 4096
"""Uniform cells over [0, 1) of display-linear values, each with the code at its start; the
thresholds are ≥ 1/3294 apart, so a cell holds at most one of them (the tone-map test checks
the code on both sides of every threshold)."""
_CELL_CODES = np.searchsorted(_THRESHOLDS, np.arange(CELLS) / CELLS, side="right").astype(np.int64)


@nb.njit(cache=True, inline="always")
def _srgb8(c: float, thresholds: np.ndarray, cell_codes: np.ndarray) -> np.uint8:
    """Rounded 8-bit sRGB code of ``c`` — how many thresholds are <= c — without a pow: the code
    at the start of c's cell, plus one if the cell's threshold is <= c. NaN gives 0 (no
    threshold is <= it); constants rather than array lengths keep the branch cheap."""
    if not c >= 0.0:
        return np.uint8(0)
    if c >= 1.0:
        return np.uint8(255)
    code = cell_codes[int(c * CELLS)]
    if code < 255 and thresholds[code] <= c:
        code += 1
    return np.uint8(code)


@nb.njit(parallel=True, cache=True)
def _tone_map(
    rgb: np.ndarray, curve: int, scale: float, thresholds: np.ndarray, cell_codes: np.ndarray, out: np.ndarray
) -> None:
    """Channels 0-2 of ``out`` (P, ≥3) from linear ``rgb`` (P, 3); further channels untouched."""
    for i in nb.prange(rgb.shape[0]):
        for c in range(3):
            x = max(rgb[i, c], 0.0) * scale
            if curve == 1:
                x = x / (1.0 + x)
            elif curve == 2:
                x = (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)
            out[i, c] = _srgb8(x, thresholds, cell_codes)


def tone_map(radiance: np.ndarray, curve: str, exposure_ev: float, alpha: bool = False) -> np.ndarray:
    """8-bit sRGB of linear ``radiance`` (any shape ending in 3); with ``alpha`` a fourth
    channel of 255 is added (the ``rgb`` annotator's RGBA)."""
    shape = np.shape(radiance)
    rgb = np.ascontiguousarray(radiance, dtype=np.float64).reshape(-1, 3)
    out = np.full((rgb.shape[0], 4 if alpha else 3), 255, dtype=np.uint8)
    _tone_map(rgb, CURVES[curve], math.pow(2.0, exposure_ev), _THRESHOLDS, _CELL_CODES, out)
    return out.reshape(*shape[:-1], out.shape[1])
