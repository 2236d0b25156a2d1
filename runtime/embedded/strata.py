"""Stratified random numbers across the samples of a pixel: where each sample falls inside the
pixel (both engines) and the path engine's first-vertex light and BRDF numbers.

Independent uniform numbers leave clumps and gaps; here the n samples of a pixel are
*correlated multi-jittered* (Kensler, "Correlated Multi-Jittered Sampling", Pixar 2013, the
sampler Cycles shipped as "CMJ"): sample k takes cell ``(k + offset) mod n`` of the most nearly
square grid of n cells (16: 4 × 4, 8: 4 × 2; a prime n is n × 1), and inside its cell the
sub-cell that a per-pixel permutation of the grid's rows (for x) or columns (for y) gives it,
jittered there by the uniform numbers it would have used. So a pixel's samples visit every cell
once *and* every one of n strata of each coordinate on its own once (a soft shadow's edge or a
sphere light's cone is mostly one coordinate, which a plain grid splits into √n strata only).
The offsets and permutations are drawn per pixel (and per dimension) from their own seeded
stream, so different dimensions are not paired stratum by stratum and each number on its own
is still uniform: estimates stay unbiased, only their variance drops. On the bench's reference
scene (640 × 480, 4 bounces) relative RMSE at 4, 8 and 16 spp fell from 8.6, 6.3 and 3.6% with
the plain grid (non-square pixel counts unstratified) to 6.9, 4.6 and 3.0%, and with OIDN at
8 spp from 2.2 to 1.7%: most of the denoised error was at silhouettes, where the pixel's
coverage is what the positions stratify. Per pixel, so images stay bit-identical for any
thread count.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .uniforms import uniforms

__all__ = ["PixelJitter", "PixelStrata"]


@nb.njit(parallel=True, cache=True)
def _permutations(u: np.ndarray) -> np.ndarray:
    """One uniformly random permutation of ``0..size−1`` per row of ``u`` (P, size): Fisher–Yates
    driven by the row's uniform numbers."""
    pixels, size = u.shape
    out = np.empty((pixels, size), dtype=np.int32)
    for p in nb.prange(pixels):
        for i in range(size):
            out[p, i] = i
        for i in range(size - 1, 0, -1):
            j = min(int(u[p, i] * (i + 1)), i)
            out[p, i], out[p, j] = out[p, j], out[p, i]
    return out


@nb.njit(parallel=True, cache=True)
def _multi_jitter(
    u: np.ndarray,
    pixels: np.ndarray,
    offsets: np.ndarray,
    row_perm: np.ndarray,
    col_perm: np.ndarray,
    index: int,
    columns: int,
    rows: int,
) -> np.ndarray:
    """Sample ``index`` of each of ``pixels``: its cell, its sub-cell from the pixel's row and
    column permutations, jittered by ``u`` (M, 2); in [0, 1) in ``u``'s dtype."""
    out = np.empty((u.shape[0], 2), dtype=u.dtype)
    below_one = np.nextafter(u.dtype.type(1.0), u.dtype.type(0.0))  # float32 rounding may reach 1
    total = columns * rows
    inv_columns, inv_rows = 1.0 / columns, 1.0 / rows
    for i in nb.prange(u.shape[0]):
        p = pixels[i]
        cell = (index + offsets[p]) % total
        cy = cell // columns
        cx = cell - cy * columns
        out[i, 0] = (cx + (row_perm[p, cy] + u[i, 0]) * inv_rows) * inv_columns
        out[i, 1] = (cy + (col_perm[p, cx] + u[i, 1]) * inv_columns) * inv_rows
        for c in range(2):  # after the cast to u's dtype
            if out[i, c] >= 1.0:
                out[i, c] = below_one
    return out


def _grid(total: int) -> tuple[int, int]:
    """The most nearly square columns × rows grid of ``total`` cells (8: 4 × 2)."""
    rows = math.isqrt(total)
    while total % rows:
        rows -= 1
    return total // rows, rows


class _Layout:
    """One dimension's per-pixel cell offsets and row and column permutations for ``total`` cells."""

    def __init__(self, rng: np.random.Generator, pixels: int, total: int, offset: bool) -> None:
        self.columns, self.rows = _grid(total)
        self.offsets = np.zeros(pixels, dtype=np.int64)
        if offset:
            self.offsets = np.minimum((uniforms(rng, (pixels,)) * total).astype(np.int64), total - 1)
        self.row_perm = _permutations(uniforms(rng, (pixels, self.rows)))
        self.col_perm = _permutations(uniforms(rng, (pixels, self.columns)))

    def apply(self, u: np.ndarray, pixels: np.ndarray, index: int) -> np.ndarray:
        return _multi_jitter(
            np.ascontiguousarray(u), pixels, self.offsets, self.row_perm, self.col_perm, index, self.columns, self.rows
        )


class PixelStrata:
    """The path engine's first-vertex strata of one camera's render: sample ``sample`` of
    ``samples`` per pixel. With ``per_sample`` draws per pixel sample (several light samples),
    the pixel's ``samples · per_sample`` draws are stratified together."""

    def __init__(self, rng: np.random.Generator, pixels: int, samples: int) -> None:
        self.rng = rng
        self.pixels = pixels
        self.samples = samples
        self.sample = 0
        self._layouts: dict[str, _Layout] = {}

    def _layout(self, dimension: str, total: int) -> _Layout:
        key = f"{dimension}/{total}"
        if key not in self._layouts:  # drawn at first use, in a fixed order of dimensions
            self._layouts[key] = _Layout(self.rng, self.pixels, total, offset=True)
        return self._layouts[key]

    def apply(self, u: np.ndarray, rows: np.ndarray, dimension: str, per_sample: int = 1, draw: int = 0) -> np.ndarray:
        """``u`` (M, 2) of the pixels ``rows``, stratified: draw ``draw`` of ``per_sample``
        numbers this pixel sample takes in ``dimension``."""
        total = self.samples * per_sample
        if total <= 1:
            return u
        return self._layout(dimension, total).apply(u, rows, self.sample * per_sample + draw)


class PixelJitter:
    """Where each of a camera's ``samples`` per pixel falls inside its pixel: (H, W, 2) offsets
    in [−0.5, 0.5) for sample k, multi-jittered over the pixel's samples (sample k in cell k;
    the sub-cells and the jitter per pixel). The permutations are drawn from ``rng`` at once,
    each sample's jitter when it is asked for, so memory stays one image whatever the count."""

    def __init__(self, rng: np.random.Generator, samples: int, height: int, width: int) -> None:
        self.rng = rng
        self.shape = (height, width)
        self.pixels = np.arange(height * width)
        self.layout = _Layout(rng, height * width, samples, offset=False)

    def offsets(self, sample: int) -> np.ndarray:
        u = uniforms(self.rng, (len(self.pixels), 2))
        return (self.layout.apply(u, self.pixels, sample) - 0.5).reshape(*self.shape, 2)
