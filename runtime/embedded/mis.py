"""Multiple importance sampling weights (Veach's power heuristic, β = 2, with sample counts).

One place for the formula that the path engine's two strategies, light sampling and BRDF
sampling, must share exactly: a direction found by either is weighted with the same two
(count × pdf) products, so the weights of the two sum to one and the estimate stays unbiased.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["power_heuristic", "power_weights"]


@nb.njit(cache=True)
def power_heuristic(a: float, b: float) -> float:
    """Weight of the strategy with (count × pdf) ``a`` against the other's ``b``."""
    return 1.0 if b <= 0.0 else (0.0 if a <= 0.0 else a * a / (a * a + b * b))


@nb.njit(parallel=True, cache=True)
def power_weights(light_pdf: np.ndarray, other_pdf: np.ndarray, n_light: float, n_other: float) -> np.ndarray:
    """Per-row weight of the strategy that drew with ``light_pdf`` (``n_light`` samples)."""
    out = np.empty(light_pdf.shape[0])
    for i in nb.prange(light_pdf.shape[0]):
        out[i] = power_heuristic(n_light * light_pdf[i], n_other * other_pdf[i])
    return out
