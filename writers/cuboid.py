"""3D boxes from ``bounding_box_3d`` rows and their projection with ``camera_params``.

Keypoint order is Isaac Sim PoseWriter's: Center, LDB, LDF, LUB, LUF, RDB, RDF, RUB, RUF, where
L/R is the local x min/max, D/U the y min/max and B/F the z min/max (checked on the PoseWriter
golden output).

Points behind the camera's near plane have no image position. Isaac Sim divides by the
homogeneous ``w`` regardless (6.0.1 ``scripts/utils.py`` ``project_pinhole``), so a corner behind
the camera lands mirrored through the image centre, and one at depth 0 is the image centre
(6.0.1) or a division by 0 that ``round`` then refuses (5.1.0 ``pose_writer.py``). Here a point
whose depth (−z in camera space) is below the near clipping distance projects to ``nan``; each
writer turns that into its format's documented sentinel and never into a number.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..sensors.camera import PinholeCamera
from ..sensors.lens import PIXEL_CENTRE, Lens

__all__ = [
    "KEYPOINT_ORDER",
    "Pinhole",
    "box_truncation",
    "camera_model",
    "cuboid_corners",
    "in_front",
    "near_clipped_outline",
    "project_camera",
    "project_points",
    "to_camera",
    "truncation_ratio",
]

KEYPOINT_ORDER = ("Center", "LDB", "LDF", "LUB", "LUF", "RDB", "RDF", "RUB", "RUF")
_CORNER_HI = np.array([(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=bool)
"""Per corner and axis: the max bound (else the min)."""
_EDGES = np.array([(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]) + 1
"""The box's 12 edges as index pairs into the 9 keypoints (corners differing in one bound; +1 skips Center)."""
_MIN_NEAR_M = 1e-9
"""Smallest near-plane depth clipped to (``_clip_depth``)."""


class Pinhole(NamedTuple):
    """Intrinsics and near clipping distance one projection uses (pixels; metres for ``near``).

    A tuple rather than ``PinholeCamera`` because the PoseWriter-compatible output projects with
    Isaac's principal point (``width/2 + offset``), which the camera model does not describe.
    With a ``lens`` the projection is the lens's and the intrinsics are unused; a lensed camera
    clips by distance from the eye (``camera_rays.py``), so ``near`` is a distance then."""

    fx: float
    fy: float
    cx: float
    cy: float
    near: float
    lens: Lens | None = None

    @classmethod
    def of(cls, model: PinholeCamera) -> Pinhole:
        return cls(model.fx, model.fy, model.cx, model.cy, model.near_m, model.lens)


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
    """The camera (and lens) a ``camera_params`` payload describes."""
    return PinholeCamera.from_camera_params(params)


def to_camera(world: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Camera-space (USD: looking down −Z) coordinates of world points (…, 3)."""
    view = np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4)
    return world @ view[:3, :3] + view[3, :3]


def _clip_depth(near: float) -> float:
    """The near plane's depth, kept positive: a near of 0 is not a valid camera (the scenario
    refuses it), but payloads are data, and at depth 0 a projection divides by zero."""
    return max(float(near), _MIN_NEAR_M)


def in_front(points_camera: np.ndarray, near: float) -> np.ndarray:
    """Whether camera-space points (…, 3) lie on or beyond the near plane (depth −z ≥ near)."""
    return -np.asarray(points_camera, dtype=np.float64)[..., 2] >= _clip_depth(near)


def project_camera(points_camera: np.ndarray, pinhole: Pinhole) -> np.ndarray:
    """Pixel coordinates of camera-space points (…, 3); ``nan`` for points not ``in_front`` (no image position)."""
    pts = np.asarray(points_camera, dtype=np.float64)
    if pinhole.lens is not None:
        near = np.linalg.norm(pts, axis=-1) >= _clip_depth(pinhole.near)
        return np.where(near[..., None], pinhole.lens.project(pts) + PIXEL_CENTRE, np.nan)
    keep = in_front(pts, pinhole.near)
    depth = np.where(keep, -pts[..., 2], 1.0)  # any positive depth: the result is masked below
    uv = np.stack([pinhole.cx + pinhole.fx * pts[..., 0] / depth, pinhole.cy - pinhole.fy * pts[..., 1] / depth], -1)
    return np.where(keep[..., None], uv, np.nan)


def project_points(world: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Pixel coordinates (u right, v down, continuous) of world points (…, 3); ``nan`` for points
    behind the camera's near plane (``cameraNearFar[0]``), which have no image position."""
    return project_camera(to_camera(world, params), Pinhole.of(camera_model(params)))


def near_clipped_outline(corners_camera: np.ndarray, pinhole: Pinhole) -> np.ndarray:
    """(n, 20, 2) pixel coordinates of the vertices of each box (camera-space keypoints
    (n, 9, 3), ``cuboid_corners`` order) clipped to the half-space in front of the near plane:
    its 8 corners (``nan`` when behind the plane), then the points where its 12 edges cross the
    plane (``nan`` for edges that do not). The clipped box is convex, so these vertices' 2D
    extent is the extent of its whole projection; a box entirely behind the plane is all ``nan``.
    Through a lens, whose images of edges bend, it is instead points along the 12 edges
    (``_lens_outline``)."""
    pts = np.asarray(corners_camera, dtype=np.float64)
    if pinhole.lens is not None:
        return _lens_outline(pts, pinhole)
    near = _clip_depth(pinhole.near)
    a, b = pts[:, _EDGES[:, 0]], pts[:, _EDGES[:, 1]]  # (n, 12, 3) edge ends
    da, db = -a[..., 2] - near, -b[..., 2] - near  # signed distances in front of the plane
    crosses = da * db < 0  # strictly: an end on the plane is a vertex already, among the corners
    t = np.where(crosses, da / np.where(crosses, da - db, 1.0), 0.0)
    hit = a + t[..., None] * (b - a)  # on the plane: depth = near, up to rounding (not used)
    hit_uv = np.stack([pinhole.cx + pinhole.fx * hit[..., 0] / near, pinhole.cy - pinhole.fy * hit[..., 1] / near], -1)
    return np.concatenate([project_camera(pts[:, 1:], pinhole), np.where(crosses[..., None], hit_uv, np.nan)], axis=1)


_EDGE_SAMPLES = 33
"""Points per box edge projected through a lens: distortion bends edges, so a box's image
extent can lie between its corners (the largest bulge is found to about 1/32 of an edge)."""


def _lens_outline(corners_camera: np.ndarray, pinhole: Pinhole) -> np.ndarray:
    """(n, 12·33, 2) pixel positions of points along each box's 12 edges through the lens;
    ``nan`` for points no pixel sees (within ``near`` of the eye, or beyond the field of view)."""
    a, b = corners_camera[:, _EDGES[:, 0]], corners_camera[:, _EDGES[:, 1]]  # (n, 12, 3)
    t = np.linspace(0.0, 1.0, _EDGE_SAMPLES)[None, None, :, None]
    points = (a[:, :, None] + t * (b - a)[:, :, None]).reshape(len(corners_camera), -1, 3)
    return project_camera(points, pinhole)


def truncation_ratio(uv: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per box, the share of the 2D extent of its projected points (uv: (n, k, 2)) outside the
    image ``[0, width] × [0, height]``. Points with a ``nan`` coordinate have no image position
    and are left out; a box without any point is wholly outside the view (1.0). A box whose
    points have no 2D extent (seen edge-on) is not truncated (0.0)."""
    uv = np.asarray(uv, dtype=np.float64)
    finite = np.isfinite(uv).all(axis=-1)  # (n, k)
    some = finite.any(axis=-1)
    lo = np.where(finite[..., None], uv, np.inf).min(axis=-2)
    hi = np.where(finite[..., None], uv, -np.inf).max(axis=-2)
    lo, hi = np.where(some[:, None], lo, 0.0), np.where(some[:, None], hi, 0.0)
    area = np.prod(hi - lo, axis=-1)
    size = np.array([width, height], dtype=np.float64)
    clipped = np.prod(np.maximum(np.clip(hi, 0, size) - np.clip(lo, 0, size), 0.0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(1.0 - clipped / area, 0.0, 1.0)
    return np.where(some, np.where(area > 0, ratio, 0.0), 1.0)


def box_truncation(corners_camera: np.ndarray, pinhole: Pinhole, width: int, height: int) -> np.ndarray:
    """Per box (camera-space keypoints (n, 9, 3)), its truncation: the share of the 2D extent
    of the projection of the box's part in front of the near plane that lies outside the image.

    The part behind the plane has no image; it counts through the plane's cross-section of the
    box, which projects at depth ``near`` and so, beside the camera, far beyond the image edges
    (a bar reaching from in front of the camera to behind it is truncated ≈ 1). A box wholly in
    front is its 8 corners' extent, as before (and as Isaac Sim's
    ``calculate_truncation_ratio_simple``, except that an edge-on box is 0 here, 1 there); a box
    wholly behind is 1.0."""
    return truncation_ratio(near_clipped_outline(corners_camera, pinhole), width, height)
