"""Camera rays from a ``UsdGeom.Camera`` and its ``UsdRender.Product``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    """One ray per pixel (centre, or centre + ``offsets``), starting on the near plane."""
    dirs_cam = model.pixel_directions(offsets).reshape(-1, 3)
    length = np.linalg.norm(dirs_cam, axis=1)
    dirs_cam = dirs_cam / length[:, None]
    cos = -dirs_cam[:, 2]
    rot = cam_to_world[:3, :3]
    rot = rot / np.linalg.norm(rot, axis=1, keepdims=True)  # ignore any scale on the camera prim
    dirs = dirs_cam @ rot
    eye = cam_to_world[3, :3].copy()
    start = model.near_m / cos
    origins = eye + dirs * start[:, None]
    return CameraRays(origins, dirs, start, cos, eye)
