"""KITTI's 3D object parametrisation and calibration matrices, from payload 3D boxes and cameras.

KITTI's camera frame (devkit ``readme.txt``): x right, y down, z forward, metres; USD's camera
looks down −z with +y up, so a camera-space point (x, y, z) is (x, −y, −z) in KITTI's frame.
A KITTI object is a box that turns about the camera's y axis only: ``dimensions`` h w l (height
along y, width along the box's z, length along its x), ``location`` the centre of its bottom
face (y down: the largest y), ``rotation_y`` ry with the box's x axis at (cos ry, 0, −sin ry),
and the observation angle ``alpha = ry − atan2(x, z)`` of its location, wrapped to [−π, π]
(OpenPCDet's and mmdetection3d's conversion between the two).

Our boxes turn freely, and a camera looking down at a table tilts them in its frame, so each
box becomes the KITTI box that *encloses* it: its axis closest to the camera's y is the height;
the first other axis in local x, y, z order sets ry (its direction projected on the x–z
plane); h, w, l and the location are the extent of the 8 corners in that yawed frame. For an
upright object seen by a level camera — KITTI's own rig — this is the object's box exactly;
otherwise it is larger, and always contains the object, so its projection contains the
object's 2D box.

Calibration (the object benchmark's ``calib/<frame>.txt``): ``P0``–``P3`` are the camera's
``K [I | 0]`` (one camera, so all four are equal; KITTI's ``P2`` holds camera 2's offset from
camera 0), with KITTI's (OpenCV's) pixel convention — pixel centres at integer coordinates,
so the principal point is ours minus half a pixel (``sensors.camera``: centres at +0.5);
``R0_rect`` is the identity (the images are already rectified pinhole images);
``Tr_velo_to_cam`` maps the LiDAR's frame (Isaac Sim's: x forward, y left, z up) to the camera
frame. With no LiDAR it maps a virtual one at the camera (x along the view, y left, z up), an
axis change rather than an identity that would claim the camera's own axes. ``Tr_imu_to_velo``
is the identity (there is no IMU; some readers, mmdetection3d's converter among them, read
the line).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sensors.camera import PinholeCamera
from .cuboid import cuboid_corners, to_camera

__all__ = [
    "CALIB_KEYS",
    "KITTI_FROM_CAMERA",
    "calibration",
    "kitti_boxes",
    "observation_angle",
    "projection_matrix",
    "velo_to_cam",
]

KITTI_FROM_CAMERA = np.array([1.0, -1.0, -1.0])
"""Per axis, USD camera space → KITTI camera frame."""
CALIB_KEYS = ("P0", "P1", "P2", "P3", "R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo")
_VIRTUAL_VELO_TO_CAM = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
"""x forward, y left, z up → x right, y down, z forward, at the camera's origin."""


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (np.asarray(angle, dtype=np.float64) + np.pi) % (2 * np.pi) - np.pi


def observation_angle(rotation_y: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """KITTI's ``alpha`` of objects at camera-frame (x, z) turned by ``rotation_y``, in [−π, π)."""
    return _wrap(np.asarray(rotation_y) - np.arctan2(x, z))


def _yaw(axes: np.ndarray) -> np.ndarray:
    """Per box (axes (n, 3, 3): its edge vectors along local x, y, z in the KITTI frame), ry."""
    lengths = np.linalg.norm(axes, axis=-1)
    upness = np.divide(np.abs(axes[..., 1]), lengths, out=np.zeros_like(lengths), where=lengths > 0)
    up = np.argmax(upness, axis=-1)
    ry = np.zeros(len(axes))
    for k, (box, u) in enumerate(zip(axes, up)):
        for i in (i for i in range(3) if i != u):
            dx, dz = box[i, 0], box[i, 2]
            if np.hypot(dx, dz) > 1e-12 * max(lengths[k].max(), 1e-300):
                ry[k] = np.arctan2(-dz, dx)
                break
    return ry


def kitti_boxes(rows: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """(n, 7) ``h, w, l, x, y, z, rotation_y`` of ``bounding_box_3d`` rows seen by the camera of
    ``params``: the enclosing KITTI box of each (module docstring), metres and radians."""
    if len(rows) == 0:
        return np.zeros((0, 7))
    points = to_camera(cuboid_corners(rows), params) * KITTI_FROM_CAMERA  # (n, 9, 3): centre, corners
    centre, corners = points[:, 0], points[:, 1:]
    # corner k = 4·x + 2·y + z over the max (1) / min (0) bounds (cuboid_corners' order)
    axes = np.stack([corners[:, 4] - corners[:, 0], corners[:, 2] - corners[:, 0], corners[:, 1] - corners[:, 0]], 1)
    ry = _yaw(axes)
    c, s = np.cos(ry), np.sin(ry)
    zero, one = np.zeros_like(ry), np.ones_like(ry)
    rot = np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], 1)
    local = np.einsum("nkj,nji->nki", corners - centre[:, None], rot)  # Rᵀ(p − c) for each corner
    lo, hi = local.min(axis=1), local.max(axis=1)
    mid = np.einsum("nij,nj->ni", rot, (lo + hi) / 2)
    length, height, width = (hi - lo).T
    location = centre + mid
    location[:, 1] += height / 2  # the bottom face's centre (y down)
    return np.column_stack([height, width, length, location, ry])


def projection_matrix(camera: PinholeCamera) -> np.ndarray:
    """3 × 4 ``K [I | 0]`` with pixel centres at integer coordinates (KITTI, OpenCV)."""
    return np.array(
        [[camera.fx, 0.0, camera.cx - 0.5, 0.0], [0.0, camera.fy, camera.cy - 0.5, 0.0], [0.0, 0.0, 1.0, 0.0]]
    )


def velo_to_cam(lidar_to_world: np.ndarray | None, params: dict[str, Any]) -> np.ndarray:
    """3 × 4 ``Tr_velo_to_cam`` (column vectors) from a LiDAR's row-vector sensor → world
    transform and the camera's ``cameraViewTransform``; the virtual LiDAR's without one."""
    if lidar_to_world is None:
        return _VIRTUAL_VELO_TO_CAM.copy()
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    rows = np.asarray(lidar_to_world, dtype=np.float64).reshape(4, 4) @ view @ np.diag([*KITTI_FROM_CAMERA, 1.0])
    return rows.T[:3]


def calibration(camera: PinholeCamera, params: dict[str, Any], lidar_to_world: np.ndarray | None) -> str:
    """The text of a KITTI object ``calib`` file (``%.12e`` values, as KITTI's own)."""
    p = projection_matrix(camera)
    matrices = (p, p, p, p, np.eye(3), velo_to_cam(lidar_to_world, params), np.eye(4)[:3])
    return "".join(
        f"{key}: " + " ".join(f"{v:.12e}" for v in m.reshape(-1)) + "\n" for key, m in zip(CALIB_KEYS, matrices)
    )
