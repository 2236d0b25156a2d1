"""Uniform random numbers for the renderer's per-ray draws, filled in parallel.

numpy's ``Generator.random`` fills one thread at a time, and the path engine draws millions of
numbers per sample (a BRDF direction, roulette and a lobe choice per vertex, two per light):
about a tenth of a render. Here each call takes a single 64-bit key from the frame's seeded
generator and fills the array in parallel with SplitMix64 (Steele, Lea and Flood, "Fast
splittable pseudorandom number generators", OOPSLA 2014) of ``key + index``: a counter-based
stream, so every number depends only on the key and its place, and images stay bit-identical
for any thread count; the generator's own sequence (and so every later draw) stays fixed.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["GOLDEN_GAMMA", "split_mix", "uniforms"]

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (2^64 / golden ratio, odd)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@nb.njit(cache=True, inline="always")
def split_mix(x: np.uint64) -> np.uint64:
    z = x
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@nb.njit(parallel=True, cache=True)
def _fill64(out: np.ndarray, key: np.uint64) -> None:
    scale = 2.0**-53
    for i in nb.prange(out.size):
        z = split_mix(key + np.uint64(i + 1) * GOLDEN_GAMMA)
        out[i] = np.float64(z >> np.uint64(11)) * scale  # 53 bits: [0, 1)


@nb.njit(parallel=True, cache=True)
def _fill32(out: np.ndarray, key: np.uint64) -> None:
    scale = np.float32(2.0**-24)
    for i in nb.prange(out.size):
        z = split_mix(key + np.uint64(i + 1) * GOLDEN_GAMMA)
        out[i] = np.float32(z >> np.uint64(40)) * scale  # 24 bits: [0, 1) in float32


def uniforms(rng: np.random.Generator, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """Uniform [0, 1) numbers of ``shape`` (float64 or float32), one key drawn from ``rng``."""
    key = np.uint64(rng.integers(0, 2**64, dtype=np.uint64))
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(-1)
    if dtype == np.float32:
        _fill32(flat, key)
    else:
        _fill64(flat, key)
    return out
