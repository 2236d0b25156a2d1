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
    from .render import Renderer, _Surface

__all__ = ["denoise", "guide_albedo"]


def guide_albedo(s: _Surface) -> np.ndarray:
    """What a surface reflects: diffuse albedo, or its specular colour where it is metal."""
    return np.clip(s.albedo * (1.0 - s.metallic[:, None]) + s.f0 * s.metallic[:, None], 0.0, 1.0)


def denoise(
    r: Renderer, linear: np.ndarray, ch: CameraHits, guides: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """The denoised (H, W, 3) float64 image of ``linear`` (radiance, HDR). ``guides`` (albedo,
    normals per pixel, where surfaces were seen) replace the label rays' ones: a motion-blurred
    image's guides are averaged over its samples' times (``Renderer._integrate_over_time``)."""
    import pyoidn

    h, w = linear.shape[:2]
    albedo = np.clip(linear.reshape(-1, 3), 0.0, 1.0).astype(np.float32)
    normals = np.zeros((h * w, 3), dtype=np.float32)
    if guides is not None:
        # where no sample saw a surface the radiance stands in, as for the label rays' misses
        seen = np.any(guides[0] != 0.0, axis=1) | np.any(guides[1] != 0.0, axis=1)
        albedo[seen] = guides[0][seen]
        normals[:] = guides[1]
    elif ch.valid.any():
        s = r._surface(ch.rays.origins, ch.rays.directions, ch.hits, ch.valid, ch.shading_normals(r.frame))
        albedo[s.rows] = guide_albedo(s)
        normals[s.rows] = s.normals
    color = np.ascontiguousarray(np.maximum(linear, 0.0), dtype=np.float32)
    # clean_aux stays off: our guides come from one ray per pixel centre, so at edges they are
    # aliased against the anti-aliased colour; telling OIDN they are clean raised the error
    # (tabletop frame 0 at 1 spp: 3.6% -> 4.2% against a 64-spp reference)
    out = pyoidn.denoise(
        color, albedo.reshape(h, w, 3), normals.reshape(h, w, 3), hdr=True, quality=r.spec.denoise_quality
    )
    return np.asarray(out, dtype=np.float64)
