"""``render.engine: path``: unidirectional path tracing on the renderer's Embree scene.

Wavefront order: every live path of a camera sample advances one scattering event at a time,
so each step is one batched Embree query and a few compiled kernels. At each vertex:

1. next-event estimation to every light (the light sampling ``direct`` uses, one shadow ray
   per sample; the first vertex takes the same per-pixel sample counts as ``direct``);
2. a direction drawn from the BRDF (``bsdf_sampling``), which carries the path on; where it
   leaves the scene it sees the dome, where it hits an emissive surface it sees the emission.

Every light both strategies find has its two estimates combined by multiple importance
sampling (power heuristic, with the sample counts): the dome, and sphere, disk, rect and soft
distant lights that cast shadows (a BRDF-sampled ray that meets one before any surface sees its
radiance, ``lights.LightHit``; lights are transparent, so the path carries on). A zero-angle
sun is a delta light sampling alone carries (weight 1), as are lights without shadows (a BRDF
ray could not tell which surfaces they shine through), and emissive surfaces are found by BRDF
sampling alone (weight 1). Camera rays see a light whose ``visibleInPrimaryRay`` is on. ``max_bounces`` N counts
scattering events: N = 0 shows emitters and the environment, N = 1 is direct lighting. After
:data:`ROULETTE_AFTER` events a path survives with probability ``max(throughput)`` (at least
0.05) and is reweighted, which keeps the estimate unbiased. Random numbers come from the
camera's seeded generator in a fixed order (each array filled in parallel from one key it
draws, ``uniforms.py``), so the same seed gives bit-identical images for any thread count.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from .bsdf_sampling import bsdf_pdf, sample_bsdf
from .lights import DistantLight
from .mis import power_heuristic, power_weights
from .uniforms import uniforms

if TYPE_CHECKING:
    from .render import Renderer, _Surface

__all__ = ["ROULETTE_AFTER", "add_lights_seen", "next_event", "primary_radiance", "trace"]

ROULETTE_AFTER = 3
"""Scattering events before Russian roulette may end a path."""


@nb.njit(parallel=True, cache=True)
def _advance(
    points: np.ndarray, geo: np.ndarray, t: np.ndarray, directions: np.ndarray, side: np.ndarray,
    normals: np.ndarray, rows: np.ndarray, throughput: np.ndarray, weight: np.ndarray, pdf: np.ndarray,
    u_roulette: np.ndarray, roulette: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """One step of every path at once, compacted to the paths that go on: the throughput times
    the BRDF weight, Russian roulette (``roulette``: survive with ``max(throughput)`` clamped to
    [0.05, 1], reweighted), and the new ray's origin pushed off the surface to the side its
    direction leaves on. A path ends where that side is not the one its lobe meant (``side``
    +1: reflected, back towards the viewer; −1: transmitted; the other side would leak through
    the surface), where the pdf or the throughput is zero, or by roulette. Returns, for the
    surviving paths in their order: the index of each in the input, its image row, throughput,
    pdf, the normal it left from, the new origin and direction. One kernel instead of a dozen
    numpy gathers over every path (the wavefront's glue was a sixth of a render)."""
    m = points.shape[0]
    alive = np.empty(m, dtype=np.bool_)
    carried = np.empty((m, 3))
    for i in nb.prange(m):
        cos_geo = geo[i, 0] * directions[i, 0] + geo[i, 1] * directions[i, 1] + geo[i, 2] * directions[i, 2]
        t0, t1, t2 = throughput[i, 0] * weight[i, 0], throughput[i, 1] * weight[i, 1], throughput[i, 2] * weight[i, 2]
        finite = t0 == t0 and t1 == t1 and t2 == t2  # a NaN weight ends the path (numpy's max would be NaN)
        most = max(t0, t1, t2)
        ok = cos_geo * side[i] > 0.0 and pdf[i] > 0.0 and finite and most > 0.0
        if roulette:
            survive = min(max(most, 0.05), 1.0)
            ok = ok and u_roulette[i] < survive
            t0, t1, t2 = t0 / survive, t1 / survive, t2 / survive
        alive[i] = ok
        carried[i, 0], carried[i, 1], carried[i, 2] = t0, t1, t2
    at = np.empty(m, dtype=np.int64)  # each survivor's place: a serial prefix sum keeps the order
    k = 0
    for i in range(m):
        at[i] = k
        k += 1 if alive[i] else 0
    keep, rows_out, pdf_out = np.empty(k, dtype=np.int64), np.empty(k, dtype=rows.dtype), np.empty(k)
    tp_out, n_out, o_out, d_out = np.empty((k, 3)), np.empty((k, 3)), np.empty((k, 3)), np.empty((k, 3))
    for i in nb.prange(m):
        if not alive[i]:
            continue
        j = at[i]
        keep[j], rows_out[j], pdf_out[j] = i, rows[i], pdf[i]
        eps = 1e-4 + 1e-5 * t[i]
        cos_geo = geo[i, 0] * directions[i, 0] + geo[i, 1] * directions[i, 1] + geo[i, 2] * directions[i, 2]
        push = eps if cos_geo > 0.0 else -eps
        for c in range(3):
            tp_out[j, c] = carried[i, c]
            n_out[j, c] = normals[i, c]
            o_out[j, c] = points[i, c] + geo[i, c] * push
            d_out[j, c] = directions[i, c]
    return keep, rows_out, tp_out, pdf_out, n_out, o_out, d_out


@nb.njit(parallel=True, cache=True)
def _dielectric(normals: np.ndarray, view: np.ndarray, eta: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A smooth dielectric interface: reflect with the Fresnel probability F (exact, unpolarised),
    else refract by Snell's law (``eta`` = n_incident / n_transmitted); total internal reflection
    reflects. Returns the direction and its side (+1 reflected, −1 transmitted); the weight is 1
    either way, since the choice is made with the probabilities F and 1 − F themselves."""
    m = normals.shape[0]
    directions, side = np.empty((m, 3)), np.empty(m)
    for i in nb.prange(m):
        nx, ny, nz = normals[i, 0], normals[i, 1], normals[i, 2]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        cos_i = min(max(nx * vx + ny * vy + nz * vz, 0.0), 1.0)
        e = eta[i]
        sin2_t = e * e * (1.0 - cos_i * cos_i)
        if sin2_t >= 1.0:
            fresnel = 1.0
            cos_t = 0.0
        else:
            cos_t = math.sqrt(1.0 - sin2_t)
            r_s = (e * cos_i - cos_t) / (e * cos_i + cos_t)
            r_p = (cos_i - e * cos_t) / (cos_i + e * cos_t)
            fresnel = 0.5 * (r_s * r_s + r_p * r_p)
        if u[i] < fresnel:
            directions[i, 0] = 2.0 * cos_i * nx - vx
            directions[i, 1] = 2.0 * cos_i * ny - vy
            directions[i, 2] = 2.0 * cos_i * nz - vz
            side[i] = 1.0
        else:
            k = e * cos_i - cos_t
            directions[i, 0] = -e * vx + k * nx
            directions[i, 1] = -e * vy + k * ny
            directions[i, 2] = -e * vz + k * nz
            side[i] = -1.0
    return directions, side


DELTA_PDF = 1e30
"""The pdf recorded for a specular (delta) direction: light sampling can never draw it, so its
MIS weight against the dome is 1."""


@nb.njit(cache=True)
def _add_rows(out: np.ndarray, rows: np.ndarray, throughput: np.ndarray, radiance: np.ndarray) -> None:
    """``out[rows] += throughput · radiance`` (serial: rows are unique, order fixed)."""
    for j in range(rows.shape[0]):
        for c in range(3):
            out[rows[j], c] += throughput[j, c] * radiance[j, c]


def next_event(
    r: Renderer,
    s: _Surface,
    first: bool,
    rng: np.random.Generator,
    mis: bool,
    into: np.ndarray | None = None,
    opacity: np.ndarray | None = None,
) -> np.ndarray:
    """Light-sampled radiance (M, 3) reflected towards each vertex's viewer: the whole of
    ``direct`` (``mis`` off) and each vertex of ``path`` (the dome's share weighted against
    BRDF sampling when ``mis``). Later vertices take one sample per light. Added into
    ``into`` when given (``direct`` starts from the emission, in that order of additions)."""
    radiance = np.zeros((len(s.points), 3)) if into is None else into
    strata = r.strata if first else None
    for j, light in enumerate(r.lights):
        soft = _soft(light)
        count = _light_count(r, light, first)
        for c in range(count):
            u = uniforms(rng, (len(s.points), 2), np.float32)
            if strata is not None and soft:
                u = strata.apply(u, s.rows, f"light{j}", count, c)
            sample = light.sample(s.points, s.normals, s.geo_normals, u)
            if mis and _weighed(light) and sample.pdf is not None:  # BRDF-sampled rays find it too
                # weighted where it lands, unblocked, as the BRDF is evaluated (accumulate)
                r._add(radiance, s, sample, light.shadows, 1.0 / count, (sample.pdf, float(count), opacity))
            else:
                r._add(radiance, s, sample, light.shadows, 1.0 / count)
    if r.dome is not None:
        count = _dome_count(r, first)
        for c in range(count):
            u = uniforms(rng, (len(s.points), 2), np.float32)
            if strata is not None:
                u = strata.apply(u, s.rows, "dome", count, c)
            sample = r.dome.sample(s.points, s.normals, s.geo_normals, u)
            if mis and r.dome.shadows:  # weighted against the BRDF-sampled ray that finds the dome too
                light_pdf = sample.pdf if sample.pdf is not None else r.dome.pdf(s.normals, sample.direction)
                other = bsdf_pdf(s.normals, s.view, sample.direction, s.albedo, s.roughness, s.metallic, s.f0)
                if opacity is not None:  # the BRDF lobe is drawn with probability opacity
                    other = other * opacity
                sample.li_over_pdf = sample.li_over_pdf * power_weights(light_pdf, other, count, 1.0)[:, None]
            r._add(radiance, s, sample, r.dome.shadows, 1.0 / count)
    return radiance


def _dome_count(r: Renderer, first: bool) -> int:
    return -(-r.spec.dome_light_samples // r.spec.samples_per_pixel) if first else 1


def _soft(light: object) -> bool:
    """Every light but a zero-angle sun covers a solid angle (its samples are stratified)."""
    return not (isinstance(light, DistantLight) and light.half_angle == 0)


def _light_count(r: Renderer, light: object, first: bool) -> int:
    """Light samples a vertex takes of ``light``: the first vertex shares ``area_light_samples``
    over the pixel's samples for every soft light, later vertices take one."""
    return -(-r.spec.area_light_samples // r.spec.samples_per_pixel) if _soft(light) and first else 1


def _weighed(light: object) -> bool:
    """Lights whose light-sampled and BRDF-sampled estimates are combined by MIS."""
    return bool(getattr(light, "hittable", False)) and bool(getattr(light, "shadows", False))


@nb.njit(cache=True)
def _add_light(
    out: np.ndarray,
    rows: np.ndarray,
    throughput: np.ndarray,
    directions: np.ndarray,
    t_light: np.ndarray,
    mask: np.ndarray,
    pdf_light: np.ndarray,
    radiance: np.ndarray,
    t_scene: np.ndarray,
    bsdf_pdf: np.ndarray,
    count: float,
) -> None:
    """``out[rows[i]] += throughput[i] · L · w`` for each ray ``i`` that meets the light before
    the scene; w is the BRDF strategy's power-heuristic weight (1 without ``bsdf_pdf``). Empty
    ``rows``/``throughput`` mean ray i is row i with throughput 1 (camera rays). One pass: the
    numpy gathers and masks it replaces cost a third of a render.

    "Before the scene" has the slack of a shadow ray (``direct_light.shadow_rays`` stops 1e-4
    of the distance and 1e-4 m short of the light): a lamp flush with a ceiling is reached by
    light sampling, so BRDF rays must reach it too, though Embree's float32 t of the ceiling
    and the light's float64 t tie there (a third of them lost the tie: 6% too dark)."""
    weighted, per_row = bsdf_pdf.shape[0] > 0, radiance.shape[0] > 1
    own_rows, unit = rows.shape[0] == 0, throughput.shape[0] == 0
    for i in range(t_light.shape[0]):
        if not mask[i]:
            continue
        length = math.sqrt(directions[i, 0] ** 2 + directions[i, 1] ** 2 + directions[i, 2] ** 2)
        if t_light[i] * (1.0 - 1e-4) - 1e-4 / max(length, 1e-300) > t_scene[i]:
            continue
        w = power_heuristic(bsdf_pdf[i], count * pdf_light[i]) if weighted else 1.0
        row, q = i if own_rows else rows[i], i if per_row else 0
        for c in range(3):
            out[row, c] += (1.0 if unit else throughput[i, c]) * radiance[q, c] * w


_NONE_INT, _NONE_ROWS = np.zeros(0, dtype=np.int64), np.zeros((0, 3))


def add_lights_seen(
    r: Renderer,
    out: np.ndarray,
    origins: np.ndarray,
    directions: np.ndarray,
    t_scene: np.ndarray,
    rows: np.ndarray = _NONE_INT,
    throughput: np.ndarray = _NONE_ROWS,
    bsdf_pdf_of_ray: np.ndarray | None = None,
    first: bool = False,
) -> None:
    """Adds to ``out`` the radiance of the lights each ray meets before ``t_scene`` (inf: it
    leaves the scene). Camera rays (``bsdf_pdf_of_ray`` None; ray i is row i) see the lights that
    are ``visibleInPrimaryRay``, unweighted; BRDF-sampled rays (``rows``, ``throughput``) see
    every MIS-weighed light, weighted against the light sampling of the vertex they left
    (``first``: the camera's first vertex)."""
    for light in r.lights:
        if bsdf_pdf_of_ray is None:
            if not (getattr(light, "visible_in_primary_ray", False) and getattr(light, "hittable", False)):
                continue
            pdf, count = np.zeros(0), 1.0
        elif not _weighed(light):
            continue
        else:
            pdf, count = bsdf_pdf_of_ray, float(_light_count(r, light, first))
        hit = light.hit(origins, directions)
        _add_light(out, rows, throughput, directions, hit.t, hit.mask, hit.pdf, hit.radiance, t_scene, pdf, count)


def primary_radiance(
    r: Renderer, origins: np.ndarray, directions: np.ndarray, hits: dict[str, np.ndarray], valid: np.ndarray
) -> np.ndarray:
    """(M, 3) what camera rays see besides surfaces: the dome (or the background colour) where
    they hit nothing, and the lights that are ``visibleInPrimaryRay`` in front of what they hit."""
    out = np.zeros((len(directions), 3))
    miss = ~valid
    if miss.any():
        out[miss] = r.dome.radiance(directions[miss]) if r.dome is not None else r.spec.background_color
    add_lights_seen(r, out, origins, directions, np.where(valid, hits["t"], np.inf))
    return out


def trace(
    r: Renderer,
    origins: np.ndarray,
    directions: np.ndarray,
    hits: dict[str, np.ndarray],
    valid: np.ndarray,
    rng: np.random.Generator,
    normals: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> np.ndarray:
    """Linear radiance (M, 3) along each camera ray (``valid``: rays that hit within the far plane);
    with ``times`` every vertex of a path sees the moving scene at its camera ray's time."""
    out = primary_radiance(r, origins, directions, hits, valid)
    if not valid.any():
        return out
    s = r.surface(origins, directions, hits, valid, normals, times)
    rows = s.rows
    throughput = np.ones((len(rows), 3))
    _add_rows(out, rows, throughput, s.emissive)
    for bounce in range(1, r.spec.max_bounces + 1):
        opacity = r.opacity[s.gprim] if r.dielectrics else None
        direct = next_event(r, s, bounce == 1, rng, mis=True, opacity=opacity)
        if opacity is not None:  # only the opaque share reflects light-sampled light (glass is specular)
            direct *= opacity[:, None]
        _add_rows(out, rows, throughput, direct)
        u = uniforms(rng, (len(rows), 5))
        if bounce == 1 and r.strata is not None:  # the first direction: stratified over the pixel's samples
            u[:, 1:3] = r.strata.apply(u[:, 1:3], rows, "bsdf")
        new_dirs, weight, pdf = sample_bsdf(s.normals, s.view, s.albedo, s.roughness, s.metallic, s.f0, u[:, :3])
        side = np.ones(len(rows))
        if opacity is not None:
            pdf = pdf * opacity  # the BRDF lobe's share of the mixture (for MIS)
            glass = np.flatnonzero(u[:, 4] >= opacity)  # the see-through share, chosen with its own weight
            if len(glass):
                ior = r.ior[s.gprim[glass]]
                eta = np.where(s.entering[glass], 1.0 / ior, ior)
                new_dirs[glass], side[glass] = _dielectric(s.normals[glass], s.view[glass], eta, u[glass, 1])
                weight[glass], pdf[glass] = 1.0, DELTA_PDF
        keep, rows, throughput, pdf, view_normals, o, d = _advance(
            s.points, s.geo_normals, s.t, new_dirs, side, s.normals, rows, throughput, weight, pdf, u[:, 3],
            bounce >= ROULETTE_AFTER,
        )  # fmt: skip
        if len(keep) == 0:
            break
        t = None if s.time is None else s.time[keep]
        next_hits = r.cast(o, d, t)
        hit = next_hits["hit"]
        add_lights_seen(r, out, o, d, next_hits["t"], rows, throughput, pdf, bounce == 1)  # t: inf on a miss
        gone = np.flatnonzero(~hit)
        if len(gone) and r.dome is not None and r.dome.shadows:
            light_pdf = r.dome.pdf(view_normals[gone], d[gone])
            w = power_weights(pdf[gone], light_pdf, 1.0, float(_dome_count(r, bounce == 1)))
            _add_rows(out, rows[gone], throughput[gone], r.dome.radiance(d[gone]) * w[:, None])
        if not hit.any():
            break
        s = r.surface(o, d, next_hits, hit, None, t)
        rows, throughput = rows[s.rows], throughput[s.rows]
        _add_rows(out, rows, throughput, s.emissive)
    return out
