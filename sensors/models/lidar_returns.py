"""Multi-return LiDAR: a beam's footprint as a bundle of sub-rays, and the echoes it returns.

A real beam is not a line: it leaves the sensor ``beam_diameter_m`` wide and spreads by its
divergence, so at a depth edge part of it lands on the near surface and part on the far one,
and the receiver sees two pulses. The model:

- **footprint**: ``sub_rays`` points spread evenly over the unit disk (a Vogel sunflower, no
  randomness), each carrying an equal share of the beam's power (a uniform, "top-hat" beam). A
  point (u, v) is the sub-ray that leaves the aperture at (u, v)·D/2 and is tilted by
  (u·δh/2, v·δv/2) from the beam axis (u along increasing azimuth, v along increasing
  elevation), so the footprint at range r has half-widths D/2 + r·tan(δ/2);
- **echoes**: the sub-rays' hit distances, sorted, split wherever two consecutive ones are more
  than ``min_separation_m`` apart (a receiver cannot resolve closer pulses; Isaac Sim calls this
  ``minDistBetweenEchos``) and not on one continuous surface (the same surface, the later hit
  within that distance of the earlier one's tangent plane: a plane at grazing incidence stretches
  one pulse, it does not split it); each group is one echo with power P = Σ share·ρ·cosθ / t²,
  reflectivity R = Σ share·ρ·cosθ and range Σ P·t / Σ P (the centroid of the returned pulse);
- **reported echoes** (dual return): the strongest, then the last; when the strongest is also
  the last, the second strongest instead — Velodyne's dual-return rule (VLP-16/VLP-32C user
  manuals, "Dual Return Mode") and Hesai's "last and strongest" mode. A ray whose footprint
  lies on one surface has one group, so two echoes appear only where it straddles a depth edge.

Echo slot 0 is the strongest, slot 1 the other (when there is one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_MIN_ECHO_SEPARATION_M",
    "ECHOES",
    "Beam",
    "Echoes",
    "Surfaces",
    "footprint_offsets",
    "strongest_and_last",
]

ECHOES = 2
"""Echo slots per ray in dual-return mode (the payload's ``numEchos``)."""

DEFAULT_MIN_ECHO_SEPARATION_M = 0.4
"""Echo separation when the profile has no ``minDistBetweenEchos``: the default Isaac Sim's RTX
LiDAR documents for that key ("defaults to 0.4 meters if not set", RTX Lidar Config Parameters)."""


@dataclass(frozen=True)
class Beam:
    """One frame's beam: what the LiDAR's ``returns`` spec drew (the frame's lineage)."""

    divergence_mrad: tuple[float, float]
    """Full-angle divergence, horizontal and vertical."""
    diameter_m: float
    """Diameter where the beam leaves the sensor."""
    sub_rays: int
    min_separation_m: float | None
    """None: the profile's ``minDistBetweenEchos``, else ``DEFAULT_MIN_ECHO_SEPARATION_M``."""


@dataclass(frozen=True, eq=False)
class Surfaces:
    """What each sub-ray hit, (rays, sub_rays[, 3]) arrays: where it starts and points, the hit
    face's normal and the hit surface's id (a gprim)."""

    origins: np.ndarray
    directions: np.ndarray
    normals: np.ndarray
    surface: np.ndarray

    def rows(self, rows: np.ndarray) -> Surfaces:
        return Surfaces(self.origins[rows], self.directions[rows], self.normals[rows], self.surface[rows])


def _continuous(surfaces: Surfaces, order: np.ndarray, distance_m: np.ndarray, tolerance_m: float) -> np.ndarray:
    """(rays, sub_rays − 1): whether consecutive hits (in distance order) lie on one continuous
    surface — the same surface, the second within ``tolerance_m`` of the first's tangent plane.
    A footprint sliding along a plane at grazing incidence spreads its hits over metres of range,
    but the receiver sees one stretched pulse, not one echo per gap between sub-rays."""

    def sort(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(a, order[..., None] if a.ndim == 3 else order, axis=1)

    with np.errstate(invalid="ignore"):
        points = sort(surfaces.origins) + sort(surfaces.directions) * sort(distance_m)[..., None]
        normals = sort(surfaces.normals)
        surface = sort(surfaces.surface)
        off_plane = np.abs(np.einsum("nkj,nkj->nk", normals[:, :-1], points[:, 1:] - points[:, :-1]))
        return (surface[:, 1:] == surface[:, :-1]) & (off_plane <= tolerance_m)


def footprint_offsets(sub_rays: int) -> np.ndarray:
    """(sub_rays, 2) points of the unit disk, evenly spread (Vogel's sunflower), nearest the
    centre first."""
    i = np.arange(sub_rays, dtype=np.float64)
    radius = np.sqrt((i + 0.5) / sub_rays)
    angle = i * math.pi * (3.0 - math.sqrt(5.0))  # the golden angle
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


@dataclass(frozen=True, eq=False)
class Echoes:
    """Up to ``ECHOES`` echoes per ray, slot 0 the strongest; arrays are (rays, ECHOES)."""

    valid: np.ndarray
    """bool: the slot holds an echo."""
    distance_m: np.ndarray
    """Range of the echo (power-weighted mean of its sub-rays' hit distances); inf where invalid."""
    reflectivity: np.ndarray
    """Σ share·ρ·cosθ over the echo's sub-rays (its range-compensated signal); 0 where invalid."""
    sub_ray: np.ndarray
    """int: the echo's strongest sub-ray (its hit gives the normal and labels); 0 where invalid."""


def strongest_and_last(
    distance_m: np.ndarray,
    reflectivity: np.ndarray,
    min_separation_m: float,
    surfaces: Surfaces,
) -> Echoes:
    """Group each ray's sub-ray hits into echoes and pick the strongest and the last.

    ``distance_m`` (rays, sub_rays): hit distances, inf for a miss; ``reflectivity`` (rays,
    sub_rays): each sub-ray's share·ρ·cosθ (0 for a miss); ``surfaces``: what each sub-ray hit,
    read only for footprints that spread deeper than the separation.
    """
    n, k = distance_m.shape
    hit = np.isfinite(distance_m)
    t = np.where(hit, distance_m, 0.0)
    refl = np.where(hit, reflectivity, 0.0)
    power = refl / np.where(hit, t * t, 1.0)
    # most footprints lie on one surface, every hit within the separation: one echo, summed
    # directly; the rest (depth edges, partial misses spread wide) go through the sort
    single = ~(t.max(axis=1) - distance_m.min(axis=1) > min_separation_m)
    hits = hit.sum(axis=1)
    sum_power = power.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(
            sum_power > 0, (power * t).sum(axis=1) / np.where(sum_power > 0, sum_power, 1.0), t.sum(axis=1) / hits
        )
    valid = np.zeros((n, ECHOES), dtype=bool)
    valid[:, 0] = hits > 0
    distance = np.full((n, ECHOES), np.inf)
    distance[:, 0] = np.where(hits > 0, centroid, np.inf)
    total = np.zeros((n, ECHOES))
    total[:, 0] = refl.sum(axis=1)
    sub_ray = np.zeros((n, ECHOES), dtype=np.int64)
    sub_ray[:, 0] = np.argmax(np.where(hit, power, -1.0), axis=1)  # ties: the sub-ray nearest the axis
    many = np.flatnonzero(~single)
    if len(many):
        echoes = _grouped(distance_m[many], refl[many], power[many], min_separation_m, surfaces.rows(many))
        valid[many], distance[many], total[many], sub_ray[many] = echoes
    return Echoes(valid, distance, np.where(valid, total, 0.0), np.where(valid, sub_ray, 0))


def _grouped(
    distance_m: np.ndarray, refl: np.ndarray, power: np.ndarray, min_separation_m: float, surfaces: Surfaces
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The general case: sort each ray's sub-rays by distance, split where consecutive hits are
    more than the separation apart and not on one continuous surface, and choose among the
    groups. Returns (valid, distance, reflectivity, sub_ray)."""
    n, k = distance_m.shape
    order = np.argsort(distance_m, axis=1, kind="stable")
    t = np.take_along_axis(distance_m, order, axis=1)
    refl = np.take_along_axis(refl, order, axis=1)
    power = np.take_along_axis(power, order, axis=1)
    hit = np.isfinite(t)
    t_hit = np.where(hit, t, 0.0)
    with np.errstate(invalid="ignore"):  # inf − inf between two misses: not a split (same group)
        split = np.diff(t, axis=1) > min_separation_m
    split &= ~_continuous(surfaces, order, distance_m, min_separation_m)
    group = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(split, axis=1)], axis=1)
    # groups are contiguous runs of the row-major flattened arrays, in increasing (ray, group)
    key = (np.arange(n, dtype=np.int64)[:, None] * k + group).ravel()
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    seg_key = key[starts]
    seg_power = np.add.reduceat(power.ravel(), starts)
    seg_refl = np.add.reduceat(refl.ravel(), starts)
    seg_pt = np.add.reduceat((power * t_hit).ravel(), starts)
    seg_t = np.add.reduceat(t_hit.ravel(), starts)
    seg_hits = np.add.reduceat(hit.ravel().astype(np.int64), starts)
    seg_max = np.maximum.reduceat(power.ravel(), starts)
    # the strongest sub-ray of each group: the first position where its power equals the maximum
    best = np.flatnonzero(hit.ravel() & (power.ravel() == np.repeat(seg_max, np.diff(np.append(starts, n * k)))))
    first = np.concatenate([[True], key[best][1:] != key[best][:-1]])
    rep_sorted = np.zeros(n * k, dtype=np.int64)
    rep_sorted[key[best][first]] = best[first] % k
    # dense (rays, groups) tables; a group of misses (the last run, if any) has no hits
    exists = np.zeros(n * k, dtype=bool)
    exists[seg_key] = seg_hits > 0
    dense_power = np.full(n * k, -np.inf)
    dense_power[seg_key] = np.where(seg_hits > 0, seg_power, -np.inf)
    dense_refl = np.zeros(n * k)
    dense_refl[seg_key] = seg_refl
    dense_t = np.full(n * k, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(seg_power > 0, seg_pt / np.where(seg_power > 0, seg_power, 1.0), seg_t / seg_hits)
    dense_t[seg_key] = np.where(seg_hits > 0, centroid, np.inf)
    groups = exists.reshape(n, k).sum(axis=1)  # groups with hits come first (misses sort last)
    dense_power = dense_power.reshape(n, k)
    strongest = np.argmax(dense_power, axis=1)  # ties: the nearer group
    rows = np.arange(n)
    others = dense_power.copy()
    others[rows, strongest] = -np.inf
    second = np.argmax(others, axis=1)
    last = np.maximum(groups - 1, 0)
    slots = np.stack([strongest, np.where(strongest != last, last, second)], axis=1)
    valid = np.stack([groups >= 1, groups >= 2], axis=1)
    flat = rows[:, None] * k + slots
    sub_ray = np.take_along_axis(order, rep_sorted[flat], axis=1)
    return valid, np.where(valid, dense_t[flat], np.inf), dense_refl[flat], sub_ray
