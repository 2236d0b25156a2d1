"""Projected 3D boxes the COCO and pose writers share: all boxes of a frame in one pass.

Expectations are computed here box by box with the pinhole formulas written out, not with the
code under test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import orjson
import pytest
from scenesmith.sensors.outputs import BBOX3D_DTYPE
from scenesmith.writers.coco_writer import CocoWriter
from scenesmith.writers.cuboid import (
    Pinhole,
    box_truncation,
    cuboid_corners,
    near_clipped_outline,
    project_points,
    truncation_ratio,
)
from scenesmith.writers.pose_writer import pose_document, projected_keypoints

W, H, FOCAL_MM, APERTURE_MM = 640, 480, 24.0, 20.955
FX = FOCAL_MM / (APERTURE_MM / W)
NEAR = 0.01
INT64_MIN = "-9223372036854775808"


def _params() -> dict:
    # camera at the origin looking down −Z (USD), so world = camera coordinates
    return {
        "renderProductResolution": np.array([W, H]),
        "cameraNearFar": np.array([NEAR, 1000.0]),
        "cameraFocalLength": FOCAL_MM,
        "cameraAperture": np.array([APERTURE_MM, APERTURE_MM * H / W]),
        "cameraApertureOffset": np.array([0.0, 0.0]),
        "cameraViewTransform": np.eye(4).reshape(-1),
        "cameraProjection": np.eye(4).reshape(-1),  # only copied into the pose JSON
        "metersPerSceneUnit": 1.0,
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


# --------------------------------------------------------------------------- the near plane


def _row(lo: tuple, hi: tuple, t: tuple) -> np.ndarray:
    rows = np.zeros(1, dtype=BBOX3D_DTYPE)
    rows["x_min"], rows["y_min"], rows["z_min"] = lo
    rows["x_max"], rows["y_max"], rows["z_max"] = hi
    rows["transform"] = _row_matrix((1, 1, 1), 0.0, t)
    return rows


def _pose_json(rows: np.ndarray) -> str:
    boxes = {
        "data": rows,
        "idToLabels": {"0": {"class": "bar"}},
        "primPaths": [f"/World/B{i}" for i in range(len(rows))],
    }
    # the writer's own serialisation (PoseJsonWriter.write)
    return orjson.dumps(pose_document(boxes, _params()), option=orjson.OPT_INDENT_2).decode()


def _strict_loads(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-finite number {name} in the JSON")

    return json.loads(text, parse_constant=refuse)


def _rect_truncation(u: tuple[float, float], v: tuple[float, float]) -> float:
    """1 − (rectangle ∩ image) / rectangle, for a rectangle u × v in pixels."""
    inside = max(min(u[1], W) - max(u[0], 0), 0) * max(min(v[1], H) - max(v[0], 0), 0)
    return 1 - inside / ((u[1] - u[0]) * (v[1] - v[0]))


# A bar beside the camera (x = 0.45 … 0.55 m, y = ±0.05 m) from 3 m in front of it (local z_min,
# the B corners) to 1 m behind it (z_max, the F corners): its centre is 1 m in front.
BAR = ((-0.05, -0.05, -3.0), (0.05, 0.05, 1.0), (0.5, 0.0, 0.0))
BEHIND = [2, 4, 6, 8]  # LDF, LUF, RDF, RUF
FRONT = [1, 3, 5, 7]  # LDB, LUB, RDB, RUB


def test_bar_crossing_the_image_plane_is_truncated() -> None:
    rows = _row(*BAR)
    # By hand: the part in front of the near plane has its B face at depth 3 (x 0.45 … 0.55) and
    # its cut face at depth NEAR (same x and y); its projection spans from the B face's left edge
    # to the cut face's right edge, and vertically the cut face's ±0.05 m at depth NEAR.
    u = (W / 2 + FX * 0.45 / 3.0, W / 2 + FX * 0.55 / NEAR)
    v = (H / 2 - FX * 0.05 / NEAR, H / 2 + FX * 0.05 / NEAR)
    expected = _rect_truncation(u, v)
    assert 0.999 < expected < 1.0
    corners = cuboid_corners(rows)  # camera = world
    got = box_truncation(corners, Pinhole(FX, FX, W / 2, H / 2, NEAR), W, H)
    assert math.isclose(float(got[0]), expected, rel_tol=1e-9)
    outline = near_clipped_outline(corners, Pinhole(FX, FX, W / 2, H / 2, NEAR))[0]
    assert np.isnan(outline[[k - 1 for k in BEHIND]]).all()  # behind: no vertex
    assert np.isfinite(outline[8:]).all(axis=1).sum() == 4  # the bar's 4 long edges cross the plane
    # COCO's truncation is the same number
    annotators = {
        "bounding_box_3d": {"cam": {"data": rows, "bboxIds": np.array([5], dtype=np.uint32)}},
        "camera_params": {"cam": _params()},
    }
    assert math.isclose(CocoWriter._occlusion(annotators, "cam")[1][5], expected, rel_tol=1e-9)
    doc = _strict_loads(_pose_json(rows))
    assert math.isclose(doc["objects"][0]["truncation_ratio"], expected, rel_tol=1e-9)


def test_corners_behind_the_camera_are_not_projected_mirrored() -> None:
    rows = _row(*BAR)
    world = cuboid_corners(rows)[0]
    uv = project_points(world, _params())
    assert np.isnan(uv[BEHIND]).all()
    front = [0, *FRONT]
    assert np.allclose(uv[front], _pixels(world[front]), atol=1e-9)
    mirrored = np.round(_pixels(world[BEHIND])).astype(int).tolist()  # what dividing by −depth gives
    # pose JSON: [null, null] for a corner without an image position, PoseWriter's ints otherwise
    projected = _strict_loads(_pose_json(rows))["objects"][0]["cuboid_keypoints_projected"]
    assert len(projected) == 9 and all(len(p) == 2 for p in projected)
    assert [projected[k] for k in BEHIND] == [[None, None]] * 4
    assert [projected[k] for k in front] == np.round(_pixels(world[front])).astype(int).tolist()
    assert not any(p in mirrored for p in projected)
    # a consumer reading the 9 × 2 list as floats still gets its shape
    assert np.isnan(np.asarray(projected, dtype=float)[BEHIND]).all()
    # COCO: COCO's "not labelled" 0, 0, 0
    annotators = {
        "bounding_box_3d": {"cam": {"data": rows, "bboxIds": np.array([5], dtype=np.uint32)}},
        "camera_params": {"cam": _params()},
    }
    flat = CocoWriter._keypoints(annotators, "cam")[5]
    assert [flat[3 * k : 3 * k + 3] for k in BEHIND] == [[0, 0, 0]] * 4
    assert [flat[3 * k + 2] for k in FRONT] == [2] * 4  # the far end is in the image
    assert flat[2] == 0  # the centre, 1 m in front, is right of the image


def test_a_corner_at_depth_zero_writes_no_int64_min_and_no_nan() -> None:
    # x −0.2 … 0.8, y ±0.5, depth 1 (B face) … exactly 0 (F face, z_max = −0.5 + 0.5)
    rows = _row((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), (0.3, 0.0, -0.5))
    world = cuboid_corners(rows)[0]
    assert (world[BEHIND, 2] == 0.0).all()
    text = _pose_json(rows)
    assert INT64_MIN not in text and "NaN" not in text and "Infinity" not in text
    obj = _strict_loads(text)["objects"][0]
    assert [obj["cuboid_keypoints_projected"][k] for k in BEHIND] == [[None, None]] * 4
    assert all(isinstance(c, int) for k in (0, *FRONT) for c in obj["cuboid_keypoints_projected"][k])
    # by hand, as for the bar: B face at depth 1, the 4 depth edges cut at depth NEAR
    u = (W / 2 + FX * -0.2 / NEAR, W / 2 + FX * 0.8 / NEAR)
    v = (H / 2 - FX * 0.5 / NEAR, H / 2 + FX * 0.5 / NEAR)
    assert math.isclose(obj["truncation_ratio"], _rect_truncation(u, v), rel_tol=1e-9)
    annotators = {
        "bounding_box_3d": {"cam": {"data": rows, "bboxIds": np.array([5], dtype=np.uint32)}},
        "camera_params": {"cam": _params()},
    }
    flat = CocoWriter._keypoints(annotators, "cam")[5]
    assert all(math.isfinite(x) for x in flat)
    assert [flat[3 * k : 3 * k + 3] for k in BEHIND] == [[0, 0, 0]] * 4


def test_a_box_wholly_behind_the_camera_is_fully_truncated() -> None:
    rows = _row((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), (0.0, 0.0, 2.0))
    pinhole = Pinhole(FX, FX, W / 2, H / 2, NEAR)
    assert box_truncation(cuboid_corners(rows), pinhole, W, H).tolist() == [1.0]
    # on the near plane exactly counts as in front: a vertex of the clipped box
    on_plane = _row((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5), (0.0, 0.0, -1.5))  # F face at depth 1 (exact)
    params = {**_params(), "cameraNearFar": np.array([1.0, 1000.0])}
    assert np.isfinite(project_points(cuboid_corners(on_plane), params)).all()
    assert truncation_ratio(np.full((1, 9, 2), np.nan), W, H).tolist() == [1.0]


def test_boxes_in_front_keep_the_corner_extent_truncation() -> None:
    """For boxes wholly in front of the near plane, the clipped outline is the 8 corners: the
    ratio is the one of the 9 projected keypoints, as before the near plane was clipped."""
    rows = _boxes()
    pinhole = Pinhole(FX, FX, W / 2, H / 2, NEAR)
    corners = cuboid_corners(rows)
    expected = truncation_ratio(np.stack([_pixels(c) for c in corners]), W, H)
    assert np.array_equal(box_truncation(corners, pinhole, W, H), expected)
    assert expected[2] > 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 2.0**63])
def test_projected_keypoints_never_cast_a_non_finite_value(bad: float) -> None:
    uv = np.zeros((1, 9, 2))
    uv[0, 3, 1] = bad
    uv[0, 4] = (10.4, 20.6)
    got = projected_keypoints(uv)[0]
    assert got[3] == [None, None] and got[4] == [10, 21] and got[0] == [0, 0]
