"""An active stereo / structured-light depth camera, from a camera's exact labels (issue 17, item 4).

The sensor measures disparity d = f·b / z between this camera and a second view (a camera or a
projector) ``baseline_m`` to its right (+x of the camera), with per-pixel noise σ_d, so depth
noise grows as σ_z = z²·σ_d / (f·b). It returns no depth where a real one returns none:

- **shadow**: the second view cannot see the point (a nearer surface to its right covers it),
  found by warping this camera's depth into the second view along each row (a z-buffer test:
  pixel u is hidden when a pixel right of it lands at or left of u − d(u));
- **edges**: ``edge_px`` pixels on each side of a disparity step of more than one pixel (the
  matching window straddles two surfaces);
- **grazing**: the surface normal more than ``max_incidence_deg`` from the viewing ray;
- **dark or metallic**: the active return ρ·cos θ·(r₀/r)² below ``min_reflectance`` (ρ the
  diffuse albedo, so metals, with none, return nothing), as the LiDAR profiles state it;
- **range**: nearer than ``min_range_m`` or farther than ``max_range_m``.

Output follows ROS REP 118 for float depth images: metres along the optical axis, NaN where no
depth was measured, −inf for too near, +inf for too far (and where nothing was hit).

Inputs are payload annotators only (``distance_to_image_plane``, ``normals``, ``camera_params``,
``DiffuseAlbedo``), so the model runs on Isaac Sim payloads unchanged. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from ..camera import PinholeCamera

__all__ = ["DepthSensorDraw", "measure_depth", "stereo_shadow"]

_LUMA = np.array([0.2126, 0.7152, 0.0722])
"""Rec. 709 luminance weights: the reflectance of an RGB albedo."""


@dataclass(frozen=True)
class DepthSensorDraw:
    """One frame's depth-sensor parameters (drawn and recorded in lineage)."""

    baseline_m: float
    disparity_noise_px: float
    disparity_step_px: float
    """Sub-pixel disparity resolution (0: continuous)."""
    min_range_m: float
    max_range_m: float
    max_incidence_deg: float
    min_reflectance: float
    min_reflectance_range_m: float
    edge_px: int

    def lineage(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def stereo_shadow(disparity: np.ndarray) -> np.ndarray:
    """(H, W) pixels the second view (at +x) cannot see: u is hidden when some pixel v > u in
    its row lands at v − d(v) ≤ u − d(u) in the second image (then d(v) > d(u): v is nearer).
    NaN disparities (nothing hit) hide nothing."""
    h, w = disparity.shape
    target = np.arange(w, dtype=np.float64)[None, :] - np.where(np.isfinite(disparity), disparity, -np.inf)
    # running minimum from the right, excluding the pixel itself
    flipped = np.minimum.accumulate(target[:, ::-1], axis=1)[:, ::-1]
    right_min = np.concatenate([flipped[:, 1:], np.full((h, 1), np.inf)], axis=1)
    return np.isfinite(disparity) & (right_min <= target - 1e-9)


def _near_disparity_steps(disparity: np.ndarray, per_side: int) -> np.ndarray:
    """The ``per_side`` pixels on each side of every neighbour pair whose disparities differ by
    more than one pixel, or where one side has no disparity (none when ``per_side`` is 0)."""
    if per_side <= 0:
        return np.zeros(disparity.shape, dtype=bool)
    radius = per_side - 1
    d = np.where(np.isfinite(disparity), disparity, -1e9)
    step = np.zeros(d.shape, dtype=bool)
    dx = np.abs(np.diff(d, axis=1)) > 1.0
    dy = np.abs(np.diff(d, axis=0)) > 1.0
    step[:, 1:] |= dx
    step[:, :-1] |= dx
    step[1:, :] |= dy
    step[:-1, :] |= dy
    if radius <= 0:
        return step
    grown = step.copy()
    h, w = d.shape
    for oy in range(-radius, radius + 1):
        for ox in range(-radius, radius + 1):
            src = step[max(0, -oy) : h - max(0, oy), max(0, -ox) : w - max(0, ox)]
            grown[max(0, oy) : h - max(0, -oy), max(0, ox) : w - max(0, -ox)] |= src
    return grown


def measure_depth(
    depth: np.ndarray,
    normals: np.ndarray,
    albedo: np.ndarray,
    params: dict[str, object],
    draw: DepthSensorDraw,
    rng: np.random.Generator,
) -> np.ndarray:
    """The ``depth_sensor`` image (H, W) float32, REP 118 conventions, from the exact
    ``distance_to_image_plane`` (``depth``), world ``normals`` (H, W, ≥3), ``DiffuseAlbedo``
    (H, W, ≥3, uint8: linear reflectance × 255) and ``camera_params``."""
    camera = PinholeCamera.from_camera_params(params)  # type: ignore[arg-type]
    z = np.asarray(depth, dtype=np.float64)
    hit = np.isfinite(z) & (z > 0.0)
    f_b = camera.fx * draw.baseline_m
    disparity = np.where(hit, f_b / np.where(hit, z, 1.0), np.nan)

    rays, has_ray = camera.unit_rays()
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    rays_world = rays @ view[:3, :3].T  # camera → world: the view rotation's inverse (transpose)
    n = np.asarray(normals, dtype=np.float64)[..., :3]
    cos_inc = np.abs(np.einsum("hwc,hwc->hw", n, rays_world))
    axial = np.maximum(-rays[..., 2], 1e-12)
    distance = z / axial
    reflectance = (np.asarray(albedo, dtype=np.float64)[..., :3] / 255.0) @ _LUMA
    signal = reflectance * cos_inc * (draw.min_reflectance_range_m / np.maximum(distance, 1e-9)) ** 2

    lost = stereo_shadow(disparity)
    lost |= _near_disparity_steps(disparity, draw.edge_px) & hit
    lost |= hit & (cos_inc < math.cos(math.radians(draw.max_incidence_deg)))
    lost |= hit & (signal < draw.min_reflectance)
    lost |= ~has_ray

    noisy = disparity + draw.disparity_noise_px * rng.standard_normal(z.shape)
    if draw.disparity_step_px > 0.0:
        noisy = np.round(noisy / draw.disparity_step_px) * draw.disparity_step_px
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.where(noisy > 0.0, f_b / noisy, np.inf)
    out = np.where(hit, measured, np.inf)
    out = np.where(hit & (out < draw.min_range_m), -np.inf, out)
    out = np.where(hit & (out > draw.max_range_m), np.inf, out)
    out = np.where(lost, np.nan, out)
    return out.astype(np.float32)
