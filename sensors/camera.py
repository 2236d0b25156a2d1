"""Pinhole camera model: intrinsics, rays, projection matrices (DESIGN §9 "Camera intrinsics").

Apertures are kept as authored; pixels are square: ``fx = fy = focal / horizontal_aperture ×
width``. The vertical aperture is never used for projection (Isaac Sim renders with the
horizontal aperture and the render product's aspect; the PoseWriter golden has 20.955 ×
15.2908 mm on a 512 × 512 image with fx = fy).

The principal point follows USD's ``GfCamera::GetFrustum``: the film window is shifted by
``+offset`` mm, so with a positive horizontal offset the view moves right and the optical axis
lands left of the image centre: ``cx = W/2 − offset_x·W/ha`` and, rows counting down,
``cy = H/2 + offset_y·W/ha``. (DESIGN §9 says "centre plus the offset"; the sign of the x term
there is wrong for USD cameras — see this project's issue notes. Isaac Sim's PoseWriter adds
the offset in mm to pixels; only our PoseWriter-compatible writer copies that quirk.)

Camera space is USD's: looking down −Z, +Y up, +X right. Pixel (u, v) has u to the right and
v down; a pixel's centre is at (u + 0.5, v + 0.5).

A camera may carry a ``lens`` (``lens.py``): it then projects through the lens, and the
aperture-based intrinsics above only describe the USD camera's nominal pinhole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .lens import PIXEL_CENTRE, Lens, lens_of_camera_params

__all__ = ["PinholeCamera"]


@dataclass(frozen=True)
class PinholeCamera:
    width: int
    height: int
    focal_length_mm: float
    horizontal_aperture_mm: float
    vertical_aperture_mm: float
    aperture_offset_mm: tuple[float, float]
    near_m: float
    far_m: float
    lens: Lens | None = None
    """Lens distortion; ``None`` is the ideal pinhole."""

    @classmethod
    def from_camera_params(cls, params: dict[str, Any]) -> PinholeCamera:
        """The camera a ``camera_params`` payload describes (its lens too, ``lens_of_camera_params``)."""
        w, h = (int(v) for v in params["renderProductResolution"])
        near, far = (float(v) for v in params["cameraNearFar"])
        return cls(
            w,
            h,
            float(params["cameraFocalLength"]),
            float(params["cameraAperture"][0]),
            float(params["cameraAperture"][1]),
            (float(params["cameraApertureOffset"][0]), float(params["cameraApertureOffset"][1])),
            near,
            far,
            lens_of_camera_params(params),
        )

    @property
    def fx(self) -> float:
        return self.focal_length_mm / self.horizontal_aperture_mm * self.width

    @property
    def fy(self) -> float:
        return self.fx

    @property
    def px_per_mm(self) -> float:
        return self.width / self.horizontal_aperture_mm

    @property
    def cx(self) -> float:
        return self.width / 2 - self.aperture_offset_mm[0] * self.px_per_mm

    @property
    def cy(self) -> float:
        return self.height / 2 + self.aperture_offset_mm[1] * self.px_per_mm

    def intrinsics(self) -> np.ndarray:
        """OpenCV-style K for USD camera space with Y flipped (x right, y down, looking +z)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def pixel_directions(self, offsets: np.ndarray | None = None) -> np.ndarray:
        """(H, W, 3) camera-space directions through pixel centres (+ optional sub-pixel offsets
        of shape (H, W, 2) in [-0.5, 0.5]) of the ideal pinhole; z = −1, not normalised (a lens's
        rays are ``lens.unproject``'s)."""
        u = np.arange(self.width, dtype=np.float64) + 0.5
        v = np.arange(self.height, dtype=np.float64) + 0.5
        uu, vv = np.meshgrid(u, v)
        if offsets is not None:
            uu = uu + offsets[..., 0]
            vv = vv + offsets[..., 1]
        x = (uu - self.cx) / self.fx
        y = -(vv - self.cy) / self.fy
        return np.stack([x, y, -np.ones_like(x)], axis=-1)

    def unit_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) unit camera-space directions through the pixel centres (through the lens if
        there is one) and (H, W) whether the pixel has a ray (a fisheye's image circle)."""
        if self.lens is None:
            d = self.pixel_directions()
            return d / np.linalg.norm(d, axis=-1, keepdims=True), np.ones((self.height, self.width), dtype=bool)
        v, u = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        d, ok = self.lens.unproject(u, v)  # the lens's pixel convention: centres at integers
        return d, ok

    def projection_matrix(self) -> np.ndarray:
        """Replicator's ``cameraProjection``: row-vector, reverse-Z with an infinite far plane.

        Matches the PoseWriter golden (``[[2f/ha,0,0,0],[0,2f/ha·W/H,0,0],[0,0,0,−1],[0,0,near,0]]``
        for a zero offset); offsets enter row 2 as GfFrustum's window shift does.
        """
        p = np.zeros((4, 4))
        p[0, 0] = 2 * self.fx / self.width
        p[1, 1] = 2 * self.fy / self.height
        p[2, 0] = 2 * self.aperture_offset_mm[0] / self.horizontal_aperture_mm
        p[2, 1] = 2 * self.aperture_offset_mm[1] * self.px_per_mm / self.height
        p[2, 3] = -1.0
        p[3, 2] = self.near_m
        return p

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u right, v down; continuous, pixel centres at +0.5) of camera-space
        points; through the lens if there is one (``nan`` where no pixel sees the point)."""
        pts = np.asarray(points_camera, dtype=np.float64)
        if self.lens is not None:
            return self.lens.project(pts) + PIXEL_CENTRE
        depth = -pts[..., 2]
        u = self.cx + self.fx * pts[..., 0] / depth
        v = self.cy - self.fy * pts[..., 1] / depth
        return np.stack([u, v], axis=-1)
