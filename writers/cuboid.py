"""3D boxes from ``bounding_box_3d`` rows and their projection with ``camera_params``.

Keypoint order is Isaac Sim PoseWriter's: Center, LDB, LDF, LUB, LUF, RDB, RDF, RUB, RUF, where
L/R is the local x min/max, D/U the y min/max and B/F the z min/max (checked on the PoseWriter
golden output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sensors.camera import PinholeCamera

__all__ = ["KEYPOINT_ORDER", "camera_model", "cuboid_corners", "project_points", "to_camera", "truncation_ratio"]

KEYPOINT_ORDER = ("Center", "LDB", "LDF", "LUB", "LUF", "RDB", "RDF", "RUB", "RUF")
_CORNER_HI = np.array([(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=bool)
"""Per corner and axis: the max bound (else the min)."""


def cuboid_corners(rows: np.ndarray) -> np.ndarray:
    """(n, 9, 3) world points of ``bounding_box_3d`` rows: each box's centre, then its 8 corners
    in ``KEYPOINT_ORDER``. All boxes in one pass: the writers run this for every box every frame."""
    lo = np.stack([rows["x_min"], rows["y_min"], rows["z_min"]], axis=-1).astype(np.float64)
    hi = np.stack([rows["x_max"], rows["y_max"], rows["z_max"]], axis=-1).astype(np.float64)
    corners = np.where(_CORNER_HI, hi[:, None, :], lo[:, None, :])  # (n, 8, 3)
    local = np.concatenate([((lo + hi) / 2)[:, None, :], corners], axis=1)
    transform = np.asarray(rows["transform"], dtype=np.float64).reshape(-1, 4, 4)
    return local @ transform[:, :3, :3] + transform[:, None, 3, :3]


def camera_model(params: dict[str, Any]) -> PinholeCamera:
    """The pinhole model a ``camera_params`` payload describes."""
    w, h = (int(v) for v in params["renderProductResolution"])
    near, far = (float(v) for v in params["cameraNearFar"])
    return PinholeCamera(
        w,
        h,
        float(params["cameraFocalLength"]),
        float(params["cameraAperture"][0]),
        float(params["cameraAperture"][1]),
        (float(params["cameraApertureOffset"][0]), float(params["cameraApertureOffset"][1])),
        near,
        far,
    )


def to_camera(world: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Camera-space (USD: looking down −Z) coordinates of world points (…, 3)."""
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    return world @ view[:3, :3] + view[3, :3]


def project_points(world: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Pixel coordinates (u right, v down, continuous) of world points (…, 3)."""
    return camera_model(params).project(to_camera(world, params))


def truncation_ratio(uv: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per box, the share of its projected keypoints' 2D extent (uv: (n, 9, 2)) outside the image."""
    lo, hi = uv.min(axis=-2), uv.max(axis=-2)
    area = np.prod(hi - lo, axis=-1)
    size = np.array([width, height], dtype=np.float64)
    clipped = np.prod(np.maximum(np.clip(hi, 0, size) - np.clip(lo, 0, size), 0.0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(1.0 - clipped / area, 0.0, 1.0)
    return np.where(area > 0, ratio, 0.0)
