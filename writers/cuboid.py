"""3D boxes from ``bounding_box_3d`` rows and their projection with ``camera_params``.

Keypoint order is Isaac Sim PoseWriter's: Center, LDB, LDF, LUB, LUF, RDB, RDF, RUB, RUF, where
L/R is the local x min/max, D/U the y min/max and B/F the z min/max (checked on the PoseWriter
golden output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sensors.camera import PinholeCamera

__all__ = ["KEYPOINT_ORDER", "camera_model", "cuboid_corners", "project_points", "truncation_ratio"]

KEYPOINT_ORDER = ("Center", "LDB", "LDF", "LUB", "LUF", "RDB", "RDF", "RUB", "RUF")
_SIGNS = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]


def cuboid_corners(row: Any) -> np.ndarray:
    """(9, 3) world points: box centre then the 8 corners, from one ``bounding_box_3d`` row."""
    lo = np.array([row["x_min"], row["y_min"], row["z_min"]], dtype=np.float64)
    hi = np.array([row["x_max"], row["y_max"], row["z_max"]], dtype=np.float64)
    local = np.array([(lo + hi) / 2] + [np.where(np.array(s) == 0, lo, hi) for s in _SIGNS])
    transform = np.asarray(row["transform"], dtype=np.float64)
    return (np.c_[local, np.ones(9)] @ transform)[:, :3]


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


def project_points(world: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Pixel coordinates (u right, v down, continuous) of world points."""
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    cam = (np.c_[world, np.ones(len(world))] @ view)[:, :3]
    return camera_model(params).project(cam)


def truncation_ratio(uv: np.ndarray, width: int, height: int) -> float:
    """Share of the projected box's 2D extent that falls outside the image."""
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    area = float(np.prod(hi - lo))
    if area <= 0:
        return 0.0
    clipped = np.clip(hi, 0, [width, height]) - np.clip(lo, 0, [width, height])
    return float(np.clip(1.0 - np.prod(np.maximum(clipped, 0.0)) / area, 0.0, 1.0))
