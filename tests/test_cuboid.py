"""Projected 3D boxes the COCO and pose writers share: all boxes of a frame in one pass.

Expectations are computed here box by box with the pinhole formulas written out, not with the
code under test.
"""

from __future__ import annotations

import math

import numpy as np
from scenesmith.sensors.outputs import BBOX3D_DTYPE
from scenesmith.writers.coco_writer import CocoWriter
from scenesmith.writers.cuboid import cuboid_corners, project_points, truncation_ratio

W, H, FOCAL_MM, APERTURE_MM = 640, 480, 24.0, 20.955
FX = FOCAL_MM / (APERTURE_MM / W)


def _params() -> dict:
    # camera at the origin looking down −Z (USD), so world = camera coordinates
    return {
        "renderProductResolution": np.array([W, H]),
        "cameraNearFar": np.array([0.01, 1000.0]),
        "cameraFocalLength": FOCAL_MM,
        "cameraAperture": np.array([APERTURE_MM, APERTURE_MM * H / W]),
        "cameraApertureOffset": np.array([0.0, 0.0]),
        "cameraViewTransform": np.eye(4).reshape(-1),
    }


def _row_matrix(scale: tuple[float, float, float], yaw_deg: float, t: tuple[float, float, float]) -> np.ndarray:
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    rot_col = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])  # column-vector rotation about Z
    m = np.eye(4)
    m[:3, :3] = np.diag(scale) @ rot_col.T  # row vectors: scale first, then rotate
    m[3, :3] = t
    return m


def _boxes() -> np.ndarray:
    rows = np.zeros(3, dtype=BBOX3D_DTYPE)
    specs = [  # (lo, hi, scale, yaw, translation)
        ((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), (1, 1, 1), 0.0, (0.0, 0.0, -5.0)),
        ((-0.2, -0.1, 0.0), (0.3, 0.4, 0.25), (2, 1, 0.5), 30.0, (0.4, -0.3, -4.0)),
        ((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), (1, 1, 1), 0.0, (-5.0 * (W / 2) / FX, 0.0, -5.0)),
    ]
    for row, (lo, hi, scale, yaw, t) in zip(rows, specs):
        row["x_min"], row["y_min"], row["z_min"] = lo
        row["x_max"], row["y_max"], row["z_max"] = hi
        row["transform"] = _row_matrix(scale, yaw, t)
    return rows


def _expected_corners(row: np.void) -> np.ndarray:
    lo = np.array([row["x_min"], row["y_min"], row["z_min"]], dtype=np.float64)
    hi = np.array([row["x_max"], row["y_max"], row["z_max"]], dtype=np.float64)
    points = [(lo + hi) / 2]
    for x in (lo[0], hi[0]):  # Isaac PoseWriter order: L/R, then D/U, then B/F
        for y in (lo[1], hi[1]):
            for z in (lo[2], hi[2]):
                points.append(np.array([x, y, z]))
    m = row["transform"].astype(np.float64)
    return np.array([p @ m[:3, :3] + m[3, :3] for p in points])


def _pixels(points_camera: np.ndarray) -> np.ndarray:
    depth = -points_camera[:, 2]
    return np.c_[W / 2 + FX * points_camera[:, 0] / depth, H / 2 - FX * points_camera[:, 1] / depth]


def test_corners_of_every_box_in_one_pass_match_box_by_box() -> None:
    rows = _boxes()
    corners = cuboid_corners(rows)
    assert corners.shape == (3, 9, 3)
    for i, row in enumerate(rows):
        assert np.allclose(corners[i], _expected_corners(row), atol=1e-6)
    assert cuboid_corners(rows[:0]).shape == (0, 9, 3)


def test_projection_and_truncation_per_box() -> None:
    rows = _boxes()
    uv = project_points(cuboid_corners(rows), _params())
    for i, row in enumerate(rows):
        assert np.allclose(uv[i], _pixels(_expected_corners(row)), atol=1e-6)
    ratios = truncation_ratio(uv, W, H)
    assert ratios.shape == (3,)
    assert ratios[0] == 0.0 and ratios[1] == 0.0
    # box 3 is centred on the left image edge: the part of its projected extent left of u = 0
    expected = _pixels(_expected_corners(rows[2]))
    lo, hi = expected.min(axis=0), expected.max(axis=0)
    assert lo[0] < 0 < hi[0]
    assert math.isclose(ratios[2], -lo[0] / (hi[0] - lo[0]), rel_tol=1e-9)
    flat = np.zeros((1, 9, 2))  # a box seen edge-on has no 2D extent: not truncated
    assert truncation_ratio(flat, W, H).tolist() == [0.0]


def test_coco_keypoints_flag_points_outside_the_image() -> None:
    rows = _boxes()
    annotators = {
        "bounding_box_3d": {"cam": {"data": rows, "bboxIds": np.array([7, 8, 9], dtype=np.uint32)}},
        "camera_params": {"cam": _params()},
    }
    keypoints = CocoWriter._keypoints(annotators, "cam")
    assert sorted(keypoints) == [7, 8, 9]
    for iid, row in zip((7, 8, 9), rows):
        uv = _pixels(_expected_corners(row))
        flat = keypoints[iid]
        assert len(flat) == 27
        for k, (u, v) in enumerate(uv):
            assert flat[3 * k] == round(u, 3) and flat[3 * k + 1] == round(v, 3)
            assert flat[3 * k + 2] == (2 if 0 <= u < W and 0 <= v < H else 0)
    assert 0 in keypoints[9][2::3] and 2 in keypoints[9][2::3]  # the box on the edge: some of each
