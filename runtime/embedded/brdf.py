"""UsdPreviewSurface reflectance: Lambert diffuse plus a GGX microfacet specular lobe.

``f = (1 − metallic)·albedo/π + D·G·F / (4·(n·l)(n·v))`` with the GGX distribution
(α = roughness², clamped away from zero), Smith's height-correlated visibility and Schlick's
Fresnel. F0 is ``specularColor`` in the specular workflow, else ``mix(0.04, albedo, metallic)``
(metallic surfaces tint their specular with the base colour). The diffuse term is not
weighted by 1 − F, so a specular-workflow surface with a black ``specularColor`` is exactly
Lambertian away from grazing angles.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_ALPHA", "evaluate"]

MIN_ALPHA = 2e-3
"""Smallest GGX α: keeps a mirror-like surface's highlight finite under point-like lights."""


def evaluate(
    n: np.ndarray,
    v: np.ndarray,
    light: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
) -> np.ndarray:
    """BRDF value (M, 3) for unit normals ``n``, view ``v`` and light ``light`` directions (M, 3)."""
    dot = lambda a, b: np.einsum("ij,ij->i", a, b)  # noqa: E731 - row-wise dot products
    n_l = dot(n, light)
    n_v = np.maximum(dot(n, v), 1e-6)
    h = light + v
    h /= np.maximum(np.sqrt(dot(h, h)), 1e-12)[:, None]
    n_h = np.clip(dot(n, h), 0.0, 1.0)
    v_h = np.clip(dot(v, h), 0.0, 1.0)
    alpha = np.maximum(roughness * roughness, MIN_ALPHA)
    a2 = alpha * alpha
    denom = n_h * n_h * (a2 - 1.0) + 1.0
    d = a2 / (np.pi * denom * denom)
    nl = np.maximum(n_l, 1e-6)
    vis = 0.5 / (nl * np.sqrt(n_v * n_v * (1 - a2) + a2) + n_v * np.sqrt(nl * nl * (1 - a2) + a2))
    fresnel = f0 + (1.0 - f0) * ((1.0 - v_h) ** 5)[:, None]
    specular = fresnel * (d * vis)[:, None]
    diffuse = albedo * ((1.0 - metallic) / np.pi)[:, None]
    out = diffuse + specular
    out[n_l <= 0] = 0.0
    return out
