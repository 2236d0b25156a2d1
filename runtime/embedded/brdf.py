"""UsdPreviewSurface reflectance: Lambert diffuse plus a GGX microfacet specular lobe.

``f = (1 − metallic)·albedo/π + D·G·F / (4·(n·l)(n·v))`` with the GGX distribution
(α = roughness², clamped away from zero), Smith's height-correlated visibility and Schlick's
Fresnel. F0 is ``specularColor`` in the specular workflow, else ``mix(0.04, albedo, metallic)``
(metallic surfaces tint their specular with the base colour). The diffuse term is not
weighted by 1 − F, so a specular-workflow surface with a black ``specularColor`` is exactly
Lambertian away from grazing angles.

The per-point function is compiled (numba) and called from the renderer's kernels;
``evaluate`` applies it to arrays.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["MIN_ALPHA", "brdf_point", "evaluate"]

MIN_ALPHA = 2e-3
"""Smallest GGX α: keeps a mirror-like surface's highlight finite under point-like lights."""


@nb.njit(cache=True)
def brdf_point(
    n: np.ndarray,
    v: np.ndarray,
    light: np.ndarray,
    albedo: np.ndarray,
    roughness: float,
    metallic: float,
    f0: np.ndarray,
) -> tuple[float, float, float]:
    """BRDF value (r, g, b) for unit normal ``n``, view ``v`` and light direction ``light``."""
    n_l = n[0] * light[0] + n[1] * light[1] + n[2] * light[2]
    if n_l <= 0.0:
        return 0.0, 0.0, 0.0
    n_v = max(n[0] * v[0] + n[1] * v[1] + n[2] * v[2], 1e-6)
    hx, hy, hz = light[0] + v[0], light[1] + v[1], light[2] + v[2]
    h_len = max(math.sqrt(hx * hx + hy * hy + hz * hz), 1e-12)
    hx, hy, hz = hx / h_len, hy / h_len, hz / h_len
    n_h = min(max(n[0] * hx + n[1] * hy + n[2] * hz, 0.0), 1.0)
    v_h = min(max(v[0] * hx + v[1] * hy + v[2] * hz, 0.0), 1.0)
    alpha = max(roughness * roughness, MIN_ALPHA)
    a2 = alpha * alpha
    denom = n_h * n_h * (a2 - 1.0) + 1.0
    d = a2 / (math.pi * denom * denom)
    nl = max(n_l, 1e-6)
    vis = 0.5 / (nl * math.sqrt(n_v * n_v * (1.0 - a2) + a2) + n_v * math.sqrt(nl * nl * (1.0 - a2) + a2))
    one_minus = 1.0 - v_h
    schlick = one_minus * one_minus * one_minus * one_minus * one_minus
    diffuse = (1.0 - metallic) / math.pi
    spec = d * vis
    return (
        albedo[0] * diffuse + (f0[0] + (1.0 - f0[0]) * schlick) * spec,
        albedo[1] * diffuse + (f0[1] + (1.0 - f0[1]) * schlick) * spec,
        albedo[2] * diffuse + (f0[2] + (1.0 - f0[2]) * schlick) * spec,
    )


@nb.njit(parallel=True, cache=True)
def _evaluate(n, v, light, albedo, roughness, metallic, f0):  # type: ignore[no-untyped-def]
    out = np.empty((n.shape[0], 3))
    for i in nb.prange(n.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = brdf_point(n[i], v[i], light[i], albedo[i], roughness[i], metallic[i], f0[i])
    return out


def evaluate(
    n: np.ndarray,
    v: np.ndarray,
    light: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
) -> np.ndarray:
    """BRDF values (M, 3) for unit normals ``n``, view ``v`` and light ``light`` directions (M, 3)."""
    as3 = lambda a: np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 3)  # noqa: E731
    as1 = lambda a: np.ascontiguousarray(a, dtype=np.float64).reshape(-1)  # noqa: E731
    return _evaluate(as3(n), as3(v), as3(light), as3(albedo), as1(roughness), as1(metallic), as3(f0))
