"""Stratified random numbers across the samples of a pixel: where each sample falls inside the
pixel (both engines) and the path engine's first-vertex light and BRDF numbers.

Independent uniform numbers leave clumps and gaps; here the n samples of a pixel are
*correlated multi-jittered* (Kensler, "Correlated Multi-Jittered Sampling", Pixar 2013; a
pattern Cycles 2.x also offered): sample k takes cell ``(k + offset) mod n`` of the most nearly
square grid of n cells (16: 4 × 4, 8: 4 × 2; a prime n is n × 1), and inside its cell the
sub-cell that a per-pixel permutation of the grid's rows (for x) or columns (for y) gives it,
jittered there by the uniform numbers it would have used. So a pixel's samples visit every cell
once *and* every one of n strata of each coordinate on its own once, up to float32 rounding at
a stratum's edge (a soft shadow's edge or a sphere light's cone is mostly one coordinate).

Each dimension takes one 64-bit key from its seeded generator; a pixel's offset and
permutations are hashed from that key and the pixel's index (SplitMix64, ``uniforms.py``), so
a pixel keeps five numbers whatever the sample count. A permutation is a keyed bijection of
the smallest power-of-two range, walked until it lands inside the range, then rotated by an
independently hashed shift, so each sample's sub-cell is uniform over pixels: each number on
its own is uniform, estimates stay unbiased, only their variance drops (README "Rendering and
lighting" has the errors it saves on the bench's reference scene). Per pixel, so images stay
bit-identical for any thread count.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .uniforms import GOLDEN_GAMMA, split_mix, uniforms

__all__ = ["PixelJitter", "PixelStrata"]

_U64 = np.uint64


@nb.njit(cache=True, inline="always")
def _permuted(i: int, size: int, key: np.uint64, shift: int) -> int:
    """Position of ``i`` in a keyed permutation of ``0..size−1``: a bijection of ``0..2^k−1``
    (xor, odd multiply, xor-shift, add, all mod 2^k), applied again until it lands below
    ``size`` (cycle walking keeps it a bijection of the smaller range), then rotated by
    ``shift``, an independent uniform draw, so that each ``i`` lands anywhere with the same odds."""
    if size <= 1:
        return 0
    bits = 1
    while (1 << bits) < size:
        bits += 1
    mask = _U64((1 << bits) - 1)
    half = _U64(max(bits // 2, 1))
    multiplier = (key >> _U64(8)) | _U64(1)
    x = _U64(i)
    while True:
        x = (x ^ key) & mask
        x = (x * multiplier) & mask
        x ^= x >> half
        x = (x + (key >> _U64(32))) & mask
        x = (x * _U64(0x2545F4914F6CDD1D)) & mask  # odd: a bijection mod 2^k
        x ^= x >> _U64(1)
        if x < _U64(size):
            break
    return (int(x) + shift) % size


@nb.njit(cache=True, inline="always")
def _below(h: np.uint64, n: int) -> int:
    """A uniform integer in ``0..n−1`` from a hash's top 53 bits."""
    return min(int(np.float64(h >> _U64(11)) * 2.0**-53 * n), n - 1)


@nb.njit(parallel=True, cache=True)
def _pixel_keys(
    key: np.uint64, pixels: int, total: int, columns: int, rows: int, offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, hashed from ``key`` and its index: the cell offset (0 unless ``offset``), the
    key and shift of its row permutation and those of its column permutation."""
    offsets, row_shift, col_shift = np.zeros(pixels, np.int32), np.empty(pixels, np.int32), np.empty(pixels, np.int32)
    row_key, col_key = np.empty(pixels, np.uint64), np.empty(pixels, np.uint64)
    for p in nb.prange(pixels):
        h = split_mix(key + _U64(p + 1) * GOLDEN_GAMMA)
        if offset:
            offsets[p] = _below(split_mix(h ^ _U64(0x3C6EF372FE94F82B)), total)
        row_key[p] = split_mix(h ^ _U64(0x5851F42D4C957F2D))
        col_key[p] = split_mix(h ^ _U64(0x14057B7EF767814F))
        row_shift[p] = _below(split_mix(h ^ _U64(0x2127599BF4325C37)), rows)
        col_shift[p] = _below(split_mix(h ^ _U64(0x880355F21E6D1965)), columns)
    return offsets, row_key, row_shift, col_key, col_shift


@nb.njit(parallel=True, cache=True)
def _multi_jitter(
    u: np.ndarray,
    pixels: np.ndarray,
    offsets: np.ndarray,
    row_key: np.ndarray,
    row_shift: np.ndarray,
    col_key: np.ndarray,
    col_shift: np.ndarray,
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
        sub_x = _permuted(cy, rows, row_key[p], row_shift[p])
        sub_y = _permuted(cx, columns, col_key[p], col_shift[p])
        out[i, 0] = (cx + (sub_x + u[i, 0]) * inv_rows) * inv_columns
        out[i, 1] = (cy + (sub_y + u[i, 1]) * inv_columns) * inv_rows
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
    """One dimension's multi-jitter over ``total`` cells: per pixel an offset and two keyed
    permutations, hashed from one key (five numbers a pixel, whatever ``total``)."""

    def __init__(self, rng: np.random.Generator, pixels: int, total: int, offset: bool) -> None:
        self.columns, self.rows = _grid(total)
        key = _U64(rng.integers(0, 2**64, dtype=np.uint64))
        self.keys = _pixel_keys(key, pixels, total, self.columns, self.rows, offset)

    def apply(self, u: np.ndarray, pixels: np.ndarray, index: int) -> np.ndarray:
        return _multi_jitter(np.ascontiguousarray(u), pixels, *self.keys, index, self.columns, self.rows)


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
    the sub-cells and the jitter per pixel), from the render's generator: one key at once,
    each sample's jitter when it is asked for, so memory stays one image whatever the count."""

    def __init__(self, rng: np.random.Generator, samples: int, height: int, width: int) -> None:
        self.rng = rng
        self.shape = (height, width)
        self.pixels = np.arange(height * width)
        self.layout = _Layout(rng, height * width, samples, offset=False)

    def offsets(self, sample: int) -> np.ndarray:
        u = uniforms(self.rng, (len(self.pixels), 2))
        return (self.layout.apply(u, self.pixels, sample) - 0.5).reshape(*self.shape, 2)
