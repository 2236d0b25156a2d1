"""Sampling the UsdPreviewSurface BRDF (``brdf.py``) for path tracing (numba, parallel over points).

A direction is drawn from a mixture of the two lobes: cosine-weighted for the diffuse term and
GGX half-vectors (pdf ``D(h)·(n·h)``, reflected about h) for the specular one, the specular
lobe chosen with probability ``p_spec`` from the lobes' albedo-like weights. The pdf of a
direction is the mixture's, so ``f · (n·l) / pdf`` is an unbiased one-sample estimate whichever
lobe drew it (and the same pdf weights multiple importance sampling against light sampling).
Each point's result depends on that point's inputs only: parallel runs equal serial ones.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .brdf import MIN_ALPHA, brdf_point

__all__ = ["bsdf_pdf", "bsdf_pdf_at", "sample_bsdf"]


@nb.njit(cache=True, inline="always")
def _spec_probability(ar: float, ag: float, ab: float, metallic: float, fr: float, fg: float, fb: float) -> float:
    diffuse = (1.0 - metallic) * (0.2126 * ar + 0.7152 * ag + 0.0722 * ab)
    specular = max(0.2126 * fr + 0.7152 * fg + 0.0722 * fb, 0.0)
    if diffuse <= 0.0:
        return 1.0
    if specular <= 0.0:  # a black specularColor: Lambert, drawn by its own (zero-variance) pdf
        return 0.0
    # never starve a lobe: a dark dielectric still shows its highlight, a shiny one its colour
    return min(max(specular / (specular + diffuse), 0.1), 0.9)


@nb.njit(cache=True, inline="always")
def _pdf(
    nx: float, ny: float, nz: float, vx: float, vy: float, vz: float, lx: float, ly: float, lz: float,
    alpha: float, p_spec: float,
) -> float:  # fmt: skip
    n_l = nx * lx + ny * ly + nz * lz
    if n_l <= 0.0:
        return 0.0
    hx, hy, hz = lx + vx, ly + vy, lz + vz
    h_len = math.sqrt(hx * hx + hy * hy + hz * hz)
    spec = 0.0
    if h_len > 1e-12:
        hx, hy, hz = hx / h_len, hy / h_len, hz / h_len
        n_h = min(max(nx * hx + ny * hy + nz * hz, 0.0), 1.0)
        v_h = abs(vx * hx + vy * hy + vz * hz)
        a2 = alpha * alpha
        denom = n_h * n_h * (a2 - 1.0) + 1.0
        d = a2 / (math.pi * denom * denom)
        spec = d * n_h / (4.0 * max(v_h, 1e-12))
    return (1.0 - p_spec) * n_l / math.pi + p_spec * spec


@nb.njit(cache=True)
def _basis(ax: float, ay: float, az: float) -> tuple[float, float, float, float, float, float]:
    hx, hy = (1.0, 0.0) if abs(ax) < 0.9 else (0.0, 1.0)
    tx, ty, tz = -az * hy, az * hx, ax * hy - ay * hx
    length = math.sqrt(tx * tx + ty * ty + tz * tz)
    tx, ty, tz = tx / length, ty / length, tz / length
    return tx, ty, tz, ay * tz - az * ty, az * tx - ax * tz, ax * ty - ay * tx


@nb.njit(parallel=True, cache=True)
def sample_bsdf(
    normals: np.ndarray,
    view: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: a direction l, the weight ``f·(n·l)/pdf`` (zero where l falls below the
    surface) and the pdf (solid angle), from three uniform numbers ``u[i]``."""
    m = normals.shape[0]
    directions, weight, pdf = np.empty((m, 3)), np.zeros((m, 3)), np.zeros(m)
    for i in nb.prange(m):
        nx, ny, nz = normals[i, 0], normals[i, 1], normals[i, 2]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        alpha = max(roughness[i] * roughness[i], MIN_ALPHA)
        p_spec = _spec_probability(albedo[i, 0], albedo[i, 1], albedo[i, 2], metallic[i], f0[i, 0], f0[i, 1], f0[i, 2])
        tx, ty, tz, bx, by, bz = _basis(nx, ny, nz)
        if u[i, 0] < p_spec:
            # GGX half-vector: tan²θ = α² u / (1 − u)
            uu = min(u[i, 1], 1.0 - 1e-12)
            cos_t = 1.0 / math.sqrt(1.0 + alpha * alpha * uu / (1.0 - uu))
            sin_t = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
            phi = 2.0 * math.pi * u[i, 2]
            a, b = sin_t * math.cos(phi), sin_t * math.sin(phi)
            hx, hy, hz = tx * a + bx * b + nx * cos_t, ty * a + by * b + ny * cos_t, tz * a + bz * b + nz * cos_t
            v_h = vx * hx + vy * hy + vz * hz
            lx, ly, lz = 2.0 * v_h * hx - vx, 2.0 * v_h * hy - vy, 2.0 * v_h * hz - vz
        else:
            r = math.sqrt(u[i, 1])
            phi = 2.0 * math.pi * u[i, 2]
            z = math.sqrt(max(0.0, 1.0 - u[i, 1]))
            a, b = r * math.cos(phi), r * math.sin(phi)
            lx, ly, lz = tx * a + bx * b + nx * z, ty * a + by * b + ny * z, tz * a + bz * b + nz * z
        length = math.sqrt(lx * lx + ly * ly + lz * lz)
        lx, ly, lz = lx / length, ly / length, lz / length
        directions[i, 0], directions[i, 1], directions[i, 2] = lx, ly, lz
        p = _pdf(nx, ny, nz, vx, vy, vz, lx, ly, lz, alpha, p_spec)
        n_l = nx * lx + ny * ly + nz * lz
        if p <= 0.0 or n_l <= 0.0:
            continue
        pdf[i] = p
        fr, fg, fb = brdf_point(
            nx, ny, nz, vx, vy, vz, lx, ly, lz, albedo[i, 0], albedo[i, 1], albedo[i, 2],
            roughness[i], metallic[i], f0[i, 0], f0[i, 1], f0[i, 2],
        )  # fmt: skip
        scale = n_l / p
        weight[i, 0], weight[i, 1], weight[i, 2] = fr * scale, fg * scale, fb * scale
    return directions, weight, pdf


@nb.njit(cache=True, inline="always")
def bsdf_pdf_at(
    normals: np.ndarray,
    view: np.ndarray,
    directions: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
    i: int,
    k: int,
) -> float:
    """The pdf :func:`sample_bsdf` draws direction ``directions[k]`` with at point ``i``."""
    alpha = max(roughness[i] * roughness[i], MIN_ALPHA)
    p_spec = _spec_probability(albedo[i, 0], albedo[i, 1], albedo[i, 2], metallic[i], f0[i, 0], f0[i, 1], f0[i, 2])
    return _pdf(
        normals[i, 0], normals[i, 1], normals[i, 2], view[i, 0], view[i, 1], view[i, 2],
        directions[k, 0], directions[k, 1], directions[k, 2], alpha, p_spec,
    )  # fmt: skip


@nb.njit(parallel=True, cache=True)
def bsdf_pdf(
    normals: np.ndarray,
    view: np.ndarray,
    directions: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
) -> np.ndarray:
    """The pdf :func:`sample_bsdf` draws each point's ``directions[i]`` with (0 below the surface)."""
    m = normals.shape[0]
    out = np.empty(m)
    for i in nb.prange(m):
        out[i] = bsdf_pdf_at(normals, view, directions, albedo, roughness, metallic, f0, i, i)
    return out
