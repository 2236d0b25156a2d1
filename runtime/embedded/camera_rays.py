"""Camera rays from a ``UsdGeom.Camera`` and its ``UsdRender.Product``.

An ideal pinhole's rays start on the near plane and are clipped by depth (the plane at ``far``);
a lens's rays come from ``Lens.unproject`` (fisheyes see beyond 90° off-axis, where no plane is
in front of the camera), so a lensed camera's clipping range is a distance from the eye on
every ray (a sphere). Pixels a lens sends no ray through (outside the image circle, past a
fold) start at infinity: nothing is hit there, and the RGB image is black, as on a sensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numba as nb
import numpy as np

from ...sensors.camera import PinholeCamera
from ...sensors.lens import Lens
from ..usd.lens_attrs import read_lens

__all__ = ["CameraRays", "camera_rays", "read_camera"]


def read_camera(stage: Any, camera_path: str, product_path: str) -> tuple[PinholeCamera, np.ndarray]:
    """The camera's intrinsics (from USD attributes) and its camera-to-world matrix (row-vector)."""
    from pxr import UsdGeom, UsdRender

    prim = stage.GetPrimAtPath(camera_path)
    cam = UsdGeom.Camera(prim)
    resolution = UsdRender.Product(stage.GetPrimAtPath(product_path)).GetResolutionAttr().Get()
    near, far = cam.GetClippingRangeAttr().Get()
    model = PinholeCamera(
        width=int(resolution[0]),
        height=int(resolution[1]),
        focal_length_mm=float(cam.GetFocalLengthAttr().Get()),
        horizontal_aperture_mm=float(cam.GetHorizontalApertureAttr().Get()),
        vertical_aperture_mm=float(cam.GetVerticalApertureAttr().Get()),
        aperture_offset_mm=(
            float(cam.GetHorizontalApertureOffsetAttr().Get()),
            float(cam.GetVerticalApertureOffsetAttr().Get()),
        ),
        near_m=float(near),
        far_m=float(far),
        lens=read_lens(prim, int(resolution[0]), int(resolution[1])),
    )
    matrix = np.asarray(UsdGeom.XformCache().GetLocalToWorldTransform(prim), dtype=np.float64)
    return model, matrix


@dataclass
class CameraRays:
    origins: np.ndarray  # (H*W, 3) on the near plane (a lens: the near sphere)
    directions: np.ndarray  # (H*W, 3) unit, world space
    start: np.ndarray  # (H*W,) distance from the eye to the origin; inf where a lens has no ray
    cos: np.ndarray  # (H*W,) depth per unit distance for the far test: the optical-axis cosine (a lens: 1)
    eye: np.ndarray  # (3,)
    axial: np.ndarray | None = None  # (H*W,) a lens's optical-axis cosine (None: ``cos``)
    in_view: np.ndarray | None = None  # (H*W,) a lens's pixels that have a ray (None: all)
    eyes: np.ndarray | None = None  # (H*W, 3) each ray's eye, for a camera moving during the exposure (None: ``eye``)

    def clip(self, hits: dict[str, np.ndarray], far_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hits inside the clipping range; eye-to-hit distance and depth along the optical axis
        (``distance_to_image_plane``: the camera-frame −z, inf where that is ≤ 0), inf elsewhere."""
        distance = hits["t"] + self.start
        depth = distance * self.cos
        valid = hits["hit"] & (depth <= far_m)
        if self.axial is not None:
            depth = np.where(self.axial > 0.0, distance * self.axial, np.inf)
        return valid, np.where(valid, distance, np.inf), np.where(valid, depth, np.inf)


def camera_rays(model: PinholeCamera, cam_to_world: np.ndarray, offsets: np.ndarray | None = None) -> CameraRays:
    """One ray per pixel (centre, or centre + ``offsets`` of shape (H, W, 2)), starting on the near plane."""
    rot = cam_to_world[:3, :3]
    rot = np.ascontiguousarray(rot / np.linalg.norm(rot, axis=1, keepdims=True))  # ignore any scale on the camera prim
    eye = cam_to_world[3, :3].copy()
    if model.lens is not None:
        return _lens_rays(model, rot, eye, offsets)
    jitter = np.zeros((0, 0, 2)) if offsets is None else np.ascontiguousarray(offsets, dtype=np.float64)
    intrinsics = np.array([model.cx, model.cy, model.fx, model.fy, model.near_m])
    origins, directions, start, cos = _pixel_rays(model.width, model.height, intrinsics, jitter, rot, eye)
    return CameraRays(origins, directions, start, cos, eye)


@lru_cache(maxsize=8)
def _centre_rays(lens: Lens) -> tuple[np.ndarray, np.ndarray]:
    """Exact unit camera-space rays of every pixel centre of ``lens`` (flat, row-major) and
    whether each has one: Newton's method runs once per lens, not once per frame and sample."""
    v, u = np.mgrid[0 : lens.height, 0 : lens.width].astype(np.float64)
    dirs, ok = lens.unproject(u.reshape(-1), v.reshape(-1))
    dirs.setflags(write=False)
    ok.setflags(write=False)
    return dirs, ok


def _interpolated_rays(lens: Lens, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rays at the pixel centres + ``offsets`` (H, W, 2): the exact centre rays, bilinearly
    interpolated and normalised. The lens map is smooth within a pixel, so a sample lands within
    ~0.01 px of where the exact inverse puts it (1e-3 px for moderate lenses) — far below what
    anti-aliasing resolves (labels use the exact centre rays); a sample touching a pixel without
    a ray has none."""
    dirs, ok = _centre_rays(lens)
    return _bilinear_rays(dirs, ok, np.ascontiguousarray(offsets, dtype=np.float64))


@nb.njit(parallel=True, cache=True)
def _bilinear_rays(dirs: np.ndarray, ok: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = offsets.shape[0], offsets.shape[1]
    out = np.empty((h * w, 3))
    valid = np.empty(h * w, dtype=np.bool_)
    for r in nb.prange(h):
        for c in range(w):
            u, v = c + offsets[r, c, 0], r + offsets[r, c, 1]
            u0 = min(max(int(math.floor(u)), 0), w - 2)
            v0 = min(max(int(math.floor(v)), 0), h - 2)
            fu, fv = u - u0, v - v0
            i = v0 * w + u0
            k = r * w + c
            good = ok[i] and ok[i + 1] and ok[i + w] and ok[i + w + 1]
            valid[k] = good
            if not good:
                out[k, 0], out[k, 1], out[k, 2] = 0.0, 0.0, -1.0
                continue
            norm = 0.0
            for a in range(3):
                top = dirs[i, a] * (1 - fu) + dirs[i + 1, a] * fu
                bottom = dirs[i + w, a] * (1 - fu) + dirs[i + w + 1, a] * fu
                out[k, a] = top * (1 - fv) + bottom * fv
                norm += out[k, a] * out[k, a]
            norm = math.sqrt(norm)
            for a in range(3):
                out[k, a] /= norm
    return out, valid


def _lens_rays(model: PinholeCamera, rot: np.ndarray, eye: np.ndarray, offsets: np.ndarray | None) -> CameraRays:
    """Rays through the lens from the pixel centres (exact), or at centres + ``offsets`` (OpenCV's
    pixel convention: pixel (0, 0)'s centre is (0, 0)), started at the near distance."""
    assert model.lens is not None
    if offsets is None:
        dirs_cam, in_view = _centre_rays(model.lens)
    else:
        dirs_cam, in_view = _interpolated_rays(model.lens, offsets)
    origins, directions, start, axial = _placed_lens_rays(dirs_cam, in_view, rot, eye, float(model.near_m))
    cos = np.ones(len(start))
    return CameraRays(origins, directions, start, cos, eye, axial=axial, in_view=in_view)


@nb.njit(parallel=True, cache=True)
def _placed_lens_rays(
    dirs_cam: np.ndarray, in_view: np.ndarray, rot: np.ndarray, eye: np.ndarray, near: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Camera-space lens rays rotated to world and started at the near distance (inf where the
    lens has no ray), in one pass: numpy's (N, 3) @ (3, 3) goes through BLAS, whose threads fight
    numba's for the cores (≈ 5× slower than this loop on 2 cores)."""
    n = dirs_cam.shape[0]
    origins, directions, start, axial = np.empty((n, 3)), np.empty((n, 3)), np.empty(n), np.empty(n)
    for i in nb.prange(n):
        x, y, z = dirs_cam[i, 0], dirs_cam[i, 1], dirs_cam[i, 2]
        axial[i] = -z
        seen = in_view[i]
        start[i] = near if seen else np.inf
        along = near if seen else 0.0
        for k in range(3):
            d = x * rot[0, k] + y * rot[1, k] + z * rot[2, k]
            directions[i, k] = d
            origins[i, k] = eye[k] + d * along
    return origins, directions, start, axial


@nb.njit(parallel=True, cache=True)
def _pixel_rays(
    width: int, height: int, intrinsics: np.ndarray, jitter: np.ndarray, rot: np.ndarray, eye: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``PinholeCamera.pixel_directions`` normalised, rotated to world and started at the near plane."""
    cx, cy, fx, fy, near = intrinsics[0], intrinsics[1], intrinsics[2], intrinsics[3], intrinsics[4]
    n = width * height
    origins, directions, start, cos = np.empty((n, 3)), np.empty((n, 3)), np.empty(n), np.empty(n)
    jittered = jitter.shape[0] > 0
    for row in nb.prange(height):
        for col in range(width):
            i = row * width + col
            u, v = col + 0.5, row + 0.5
            if jittered:
                u += jitter[row, col, 0]
                v += jitter[row, col, 1]
            x, y = (u - cx) / fx, -(v - cy) / fy
            length = math.sqrt(x * x + y * y + 1.0)
            x, y, z = x / length, y / length, -1.0 / length
            cos[i] = -z
            start[i] = near / cos[i]
            for k in range(3):
                d = x * rot[0, k] + y * rot[1, k] + z * rot[2, k]
                directions[i, k] = d
                origins[i, k] = eye[k] + d * start[i]
    return origins, directions, start, cos
