"""Camera rays from a ``UsdGeom.Camera`` and its ``UsdRender.Product``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ...sensors.camera import PinholeCamera

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
    )
    matrix = np.asarray(UsdGeom.XformCache().GetLocalToWorldTransform(prim), dtype=np.float64)
    return model, matrix


@dataclass
class CameraRays:
    origins: np.ndarray  # (H*W, 3) on the near plane
    directions: np.ndarray  # (H*W, 3) unit, world space
    start: np.ndarray  # (H*W,) distance from the eye to the origin
    cos: np.ndarray  # (H*W,) cosine between each ray and the optical axis
    eye: np.ndarray  # (3,)


def camera_rays(model: PinholeCamera, cam_to_world: np.ndarray, offsets: np.ndarray | None = None) -> CameraRays:
    """One ray per pixel (centre, or centre + ``offsets`` of shape (H, W, 2)), starting on the near plane."""
    rot = cam_to_world[:3, :3]
    rot = np.ascontiguousarray(rot / np.linalg.norm(rot, axis=1, keepdims=True))  # ignore any scale on the camera prim
    eye = cam_to_world[3, :3].copy()
    jitter = np.zeros((0, 0, 2)) if offsets is None else np.ascontiguousarray(offsets, dtype=np.float64)
    intrinsics = np.array([model.cx, model.cy, model.fx, model.fy, model.near_m])
    origins, directions, start, cos = _pixel_rays(model.width, model.height, intrinsics, jitter, rot, eye)
    return CameraRays(origins, directions, start, cos, eye)


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
