"""RGB for the embedded backend (placeholder shading: albedo under a head light)."""

from __future__ import annotations

import numpy as np

from .annotators import CameraHits
from .materials import MaterialTable
from .scene import FrameGeometry

__all__ = ["linear_to_srgb8", "render_rgb"]


def linear_to_srgb8(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)


def render_rgb(frame: FrameGeometry, materials: MaterialTable, ch: CameraHits) -> np.ndarray:
    h, w = ch.model.height, ch.model.width
    params = materials.for_gprims([g.path for g in frame.index.gprims])
    albedo = np.array([p.diffuse for p in params] + [(0.0, 0.0, 0.0)])
    gprim = np.where(ch.valid, ch.hits["gprim"], -1)
    normals = frame.smooth_normals(ch.hits)
    facing = np.abs(np.sum(normals * -ch.rays.directions, axis=1))
    color = albedo[gprim] * (0.2 + 0.8 * facing)[:, None]
    color[~ch.valid] = 0.0
    rgba = np.full((h * w, 4), 255, dtype=np.uint8)
    rgba[:, :3] = linear_to_srgb8(color)
    return rgba.reshape(h, w, 4)
