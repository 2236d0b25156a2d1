"""Compiled steps of one light sample's contribution: which points it can light, their shadow
rays, and the BRDF-weighted radiance they receive (numba, parallel over points).

Arrays of a light sample may hold one row for every point (``(1, 3)`` directions of a sun
without angular size, its constant ``Li/pdf``) or one row per point; the kernels index row 0
in the first case. Each point's result depends on that point only, so parallel runs are
bit-identical to serial ones.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .brdf import brdf_row
from .bsdf_sampling import bsdf_pdf_at
from .mis import power_heuristic

__all__ = ["accumulate", "lit_points", "shadow_rays"]


@nb.njit(parallel=True, cache=True)
def lit_points(normals: np.ndarray, geo_normals: np.ndarray, directions: np.ndarray, li: np.ndarray) -> np.ndarray:
    """Points facing the light with both normals and receiving some radiance from it."""
    m = normals.shape[0]
    lit = np.zeros(m, dtype=np.bool_)
    per_dir, per_li = directions.shape[0] > 1, li.shape[0] > 1
    for i in nb.prange(m):
        # rows, not views: a view per point costs more than the maths; np.int64 because a
        # prange index may be unsigned, and uint64 with int64 unifies to float64
        k = np.int64(i) if per_dir else 0
        q = np.int64(i) if per_li else 0
        dx, dy, dz = directions[k, 0], directions[k, 1], directions[k, 2]
        cos = normals[i, 0] * dx + normals[i, 1] * dy + normals[i, 2] * dz
        cos_geo = geo_normals[i, 0] * dx + geo_normals[i, 1] * dy + geo_normals[i, 2] * dz
        lit[i] = cos > 0.0 and cos_geo > 0.0 and max(li[q, 0], li[q, 1], li[q, 2]) > 0.0
    return lit


@nb.njit(parallel=True, cache=True)
def shadow_rays(
    idx: np.ndarray,
    points: np.ndarray,
    geo_normals: np.ndarray,
    t: np.ndarray,
    directions: np.ndarray,
    distance: np.ndarray,
) -> np.ndarray:
    """(K, 6) float32 rays for Embree's ``test_occlusions`` with tfar = 1: origins pushed off the
    surface along the geometric normal (by an offset growing with the hit distance, as float32
    hit points are that coarse), directions scaled to end just before the light."""
    k = idx.shape[0]
    rays = np.empty((k, 6), dtype=np.float32)
    per_dir, per_dist = directions.shape[0] > 1, distance.shape[0] > 1
    for j in nb.prange(k):
        i = idx[j]
        k = i if per_dir else 0
        dist = distance[i] if per_dist else distance[0]
        eps = 1e-4 + 1e-5 * t[i]
        far = dist * (1.0 - 1e-4) - eps if math.isfinite(dist) else 1e6
        far = max(far, 0.0)
        for c in range(3):
            rays[j, c] = points[i, c] + geo_normals[i, c] * eps
            rays[j, 3 + c] = directions[k, c] * far
    return rays


@nb.njit(parallel=True, cache=True)
def accumulate(
    radiance: np.ndarray,
    idx: np.ndarray,
    blocked: np.ndarray,
    normals: np.ndarray,
    view: np.ndarray,
    directions: np.ndarray,
    albedo: np.ndarray,
    roughness: np.ndarray,
    metallic: np.ndarray,
    f0: np.ndarray,
    li: np.ndarray,
    weight: float,
    light_pdf: np.ndarray,
    count: float,
    opacity: np.ndarray,
) -> None:
    """``radiance[i] += f · Li/pdf · (n·l) · weight`` for every unblocked point ``i`` of ``idx``,
    times the light strategy's MIS weight when ``light_pdf`` (per point) is given: the power
    heuristic of ``count`` × it against the pdf the BRDF draws the direction with (× ``opacity``,
    the BRDF lobe's share of a dielectric mixture; empty: opaque). Weighing here, after the
    shadow test, evaluates that pdf only where the light arrives."""
    per_dir, per_li = directions.shape[0] > 1, li.shape[0] > 1
    weighed, glass = light_pdf.shape[0] > 0, opacity.shape[0] > 0
    for j in nb.prange(idx.shape[0]):
        if blocked[j]:
            continue
        i = idx[j]
        k = i if per_dir else 0
        q = i if per_li else 0
        fr, fg, fb = brdf_row(normals, view, directions, k, albedo, roughness, metallic, f0, i)
        cos_w = (
            normals[i, 0] * directions[k, 0] + normals[i, 1] * directions[k, 1] + normals[i, 2] * directions[k, 2]
        ) * weight
        if weighed:
            other = bsdf_pdf_at(normals, view, directions, albedo, roughness, metallic, f0, i, k)
            if glass:
                other *= opacity[i]
            cos_w *= power_heuristic(count * light_pdf[i], other)
        radiance[i, 0] += fr * li[q, 0] * cos_w
        radiance[i, 1] += fg * li[q, 1] * cos_w
        radiance[i, 2] += fb * li[q, 2] * cos_w
