"""``render.denoise``: Intel Open Image Denoise (``pyoidn``, CPU) on the linear RGB image.

The denoiser is fed the first-hit albedo (textures applied) and world shading normals of the
pixel-centre rays the labels use, so it keeps edges and texture detail it can see there; a
pixel that sees the environment gets its radiance clamped to [0, 1] as albedo and a zero
normal (OIDN's convention for the background). Only the RGB image (``rgb``, ``HdrColor``)
passes through it: depth, normals, segmentation and boxes are made before and without it.
OIDN's CPU filter gives the same output for the same input on one machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .annotators import CameraHits
    from .render import Renderer

__all__ = ["denoise"]


def denoise(r: Renderer, linear: np.ndarray, ch: CameraHits) -> np.ndarray:
    """The denoised (H, W, 3) float64 image of ``linear`` (radiance, HDR)."""
    import pyoidn

    h, w = linear.shape[:2]
    albedo = np.clip(linear.reshape(-1, 3), 0.0, 1.0).astype(np.float32)
    normals = np.zeros((h * w, 3), dtype=np.float32)
    if ch.valid.any():
        s = r._surface(ch.rays.origins, ch.rays.directions, ch.hits, ch.valid, ch.shading_normals(r.frame))
        # what a surface reflects: diffuse albedo, or its specular colour where it is metal
        albedo[s.rows] = np.clip(s.albedo * (1.0 - s.metallic[:, None]) + s.f0 * s.metallic[:, None], 0.0, 1.0)
        normals[s.rows] = s.normals
    color = np.ascontiguousarray(np.maximum(linear, 0.0), dtype=np.float32)
    out = pyoidn.denoise(color, albedo.reshape(h, w, 3), normals.reshape(h, w, 3), hdr=True)
    return np.asarray(out, dtype=np.float64)
