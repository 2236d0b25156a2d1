"""Embedded camera annotators: Replicator's schemas, exact geometry, occlusion, Isaac parity.

Expectations are computed here independently — by analytic ray casting and projection written
in this file, from the scenario's numbers and USD's camera definition — and never with our
projection or camera code. Schemas come from the transcription fixture, not from outputs.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from pxr import Gf
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build, parse
from scenesmith.writers.raw_payload import read_payload

SCENES = REPO / "tests" / "scenarios"


# --------------------------------------------------------------------------- independent math


def rot_xyz(deg: tuple[float, float, float]) -> np.ndarray:
    """Row-vector rotation: about X, then Y, then Z (Replicator's XYZ Euler order)."""
    a, b, c = (math.radians(v) for v in deg)
    rx = np.array([[1, 0, 0], [0, math.cos(a), math.sin(a)], [0, -math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, -math.sin(b)], [0, 1, 0], [math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), math.sin(c), 0], [-math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def trs(t: tuple, rot: np.ndarray, s: tuple) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = np.diag(s) @ rot
    m[3, :3] = t
    return m


def look_at_camera(eye: tuple, target: tuple) -> tuple[np.ndarray, tuple]:
    """Camera-to-world (row-vector) and quat_wxyz of a camera at eye looking at target, from Gf."""
    m = Gf.Matrix4d().SetLookAt(Gf.Vec3d(*eye), Gf.Vec3d(*target), Gf.Vec3d(0, 0, 1)).GetInverse()
    q = m.ExtractRotationQuat()
    return np.array(m), (q.GetReal(), *q.GetImaginary())


def pixel_rays(w: int, h: int, focal: float, ha: float, offset: tuple, cam: np.ndarray) -> tuple[np.ndarray, ...]:
    """World rays through pixel centres, from USD's GfCamera window (shifted by +offset mm) with
    square pixels (vertical extent ha·h/w)."""
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    uu, vv = np.meshgrid(u, v)
    va = ha * h / w
    film_x = (uu - 0.5) * ha + offset[0]
    film_y = (0.5 - vv) * va + offset[1]
    d = np.stack([film_x / focal, film_y / focal, -np.ones_like(film_x)], -1).reshape(-1, 3)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return np.broadcast_to(cam[3, :3], d.shape), d @ cam[:3, :3]


def ray_box(o: np.ndarray, d: np.ndarray, m: np.ndarray, half: float = 0.5) -> np.ndarray:
    """Distance to an oriented box (local cube ±half under row-vector matrix m); inf on miss."""
    inv = np.linalg.inv(m)
    ol = np.c_[o, np.ones(len(o))] @ inv
    dl = d @ inv[:3, :3]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - ol[:, :3]) / dl
        t2 = (half - ol[:, :3]) / dl
    tmin = np.nanmax(np.minimum(t1, t2), axis=1)
    tmax = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (tmax >= np.maximum(tmin, 0)) & (tmin > 0)
    return np.where(hit, tmin, np.inf)


def ray_sphere(o: np.ndarray, d: np.ndarray, center: tuple, r: float) -> np.ndarray:
    oc = o - np.asarray(center)
    b = np.sum(oc * d, axis=1)
    c = np.sum(oc * oc, axis=1) - r * r
    disc = b * b - c
    t = -b - np.sqrt(np.maximum(disc, 0))
    return np.where((disc >= 0) & (t > 0), t, np.inf)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


# --------------------------------------------------------------------------- schema


@pytest.fixture(scope="module")
def all_payload() -> dict:
    return capture_frame(parse(SCENES / "all_annotators.yaml"), seed=0, frame=0)


def test_every_annotator_matches_the_transcribed_schema(all_payload: dict, fixtures_dir: Path) -> None:
    schema = json.loads((fixtures_dir / "replicator-1.12.27" / "annotator_schemas.json").read_text())
    layout = schema["payload_layout_annotator_structure"]
    assert set(layout["top_level_keys"]) <= set(all_payload)
    annotators = all_payload["annotators"]
    assert annotators["camera"] == {"cam_a": "/World/cam_a", "cam_b": "/World/cam_b"}
    assert annotators["resolution"] == {"cam_a": [160, 120], "cam_b": [96, 64]}
    dims = {"H": 120, "W": 160}
    for name, spec in schema["annotators"].items():
        out = annotators[name]["cam_a"]
        assert set(out) == set(spec["extras"]) | ({"data"} if spec.get("data", "present") is not None else set()), name
        if spec.get("data", "present") is None:
            continue
        data = out["data"]
        if isinstance(spec["dtype"], list):
            want = np.dtype([tuple(f[:2]) + ((tuple(f[2]),) if len(f) > 2 else ()) for f in spec["dtype"]])
            assert data.dtype == want, name
        else:
            assert data.dtype == np.dtype(spec["dtype"]), name
        shape = spec["shape"]
        assert data.ndim == len(shape), name
        for got, want_dim in zip(data.shape, shape):
            if isinstance(want_dim, int):
                assert got == want_dim, name
            elif want_dim in dims:
                assert got == dims[want_dim], name
    cp = annotators["camera_params"]["cam_a"]
    assert set(cp) == set(schema["annotators"]["camera_params"]["extras"])
    assert cp["cameraModel"] == "pinhole" and cp["cameraViewTransform"].shape == (16,)


def test_segmentation_extras_and_conventions(all_payload: dict) -> None:
    a = all_payload["annotators"]
    inst = a["instance_segmentation"]["cam_a"]
    assert inst["idToLabels"][0] == "BACKGROUND" and inst["idToLabels"][1] == "UNLABELLED"
    assert inst["idToSemantics"][0] == {"class": "BACKGROUND"} and inst["idToSemantics"][1] == {"class": "UNLABELLED"}
    # instance ids: 2 + index among labelled prims in path order (ball, box, can)
    assert {inst["idToLabels"][k] for k in (2, 3, 4)} == {"/World/ball", "/World/box", "/World/can"}
    assert inst["idToLabels"][2] == "/World/ball" and inst["idToSemantics"][2] == {"class": "ball, toy"}
    assert inst["idToSemantics"][4] == {"class": "can", "color": "red"}
    sem = a["semantic_segmentation"]["cam_a"]
    assert sem["idToLabels"][0] == {"class": "BACKGROUND"} and sem["idToLabels"][1] == {"class": "UNLABELLED"}
    assert sorted(v["class"] for k, v in sem["idToLabels"].items() if k >= 2) == ["ball, toy", "box", "can"]
    assert 1 in np.unique(sem["data"])  # the floor is hit but unlabelled
    depth = a["distance_to_camera"]["cam_a"]["data"]
    assert np.isposinf(depth).any() and not (depth == 0).any()  # no hit = +inf (Isaac Sim 6.0.1 golden)
    normals = a["normals"]["cam_a"]["data"]
    hit = np.isfinite(depth)
    assert np.allclose(np.linalg.norm(normals[..., :3][hit], axis=-1), 1.0, atol=1e-5)
    assert a["rgb"]["cam_a"]["data"].shape == (120, 160, 4)
    pc = a["pointcloud"]["cam_a"]
    n = len(pc["data"])
    assert pc["pointRgb"].shape == (4 * n,) and pc["pointNormals"].shape == (4 * n,)
    assert n == int((a["instance_segmentation"]["cam_a"]["data"] >= 2).sum())
    tight = a["bounding_box_2d_tight"]["cam_a"]
    assert set(tight["idToLabels"]) == {0, 1, 2}
    assert len(tight["primPaths"]) == len(tight["data"]) == len(tight["bboxIds"])
    colored = a["semantic_segmentation"]["cam_b"]
    assert colored["data"].dtype == np.uint32
    rgba_keys = list(colored["idToLabels"])
    assert all(isinstance(k, tuple) and len(k) == 4 for k in rgba_keys)
    assert colored["idToLabels"][(0, 0, 0, 0)] == {"class": "BACKGROUND"}
    pixels = {tuple(p) for p in colored["data"].view(np.uint8).reshape(-1, 4)}
    assert pixels <= set(rgba_keys)


# --------------------------------------------------------------------------- analytic geometry

W, H, FOCAL, HA, OFFSET = 640, 480, 18.0, 20.955, (0.8, -0.5)
CUBE_T, CUBE_R, CUBE_S = (0.3, -0.2, 0.1), (20.0, 35.0, 50.0), (0.9, 0.7, 0.8)
EYE, TARGET = (2.2, 1.6, 1.3), (0.25, -0.15, 0.05)


@pytest.fixture(scope="module")
def analytic() -> dict:
    cam, quat = look_at_camera(EYE, TARGET)
    o, d = pixel_rays(W, H, FOCAL, HA, OFFSET, cam)
    m_cube = trs(CUBE_T, rot_xyz(CUBE_R), CUBE_S)
    t_cube = ray_box(o, d, m_cube)
    # An occluder halfway along the ray to the cube's right-most visible pixel: it hides that
    # edge (so tight and loose boxes differ) but not the image centre.
    hit = np.isfinite(t_cube).reshape(H, W)
    cols = np.nonzero(hit.any(axis=0))[0]
    row = int(np.nonzero(hit[:, cols.max()])[0].mean())
    k = row * W + int(cols.max())
    occ_center = o[k] + 0.5 * t_cube[k] * d[k]
    scenario = {
        "version": 1,
        "assets": {
            "target": {
                "cube": {"size_m": 1.0},
                "position_m": list(CUBE_T),
                "rotation_deg": list(CUBE_R),
                "scale": list(CUBE_S),
                "semantics": {"class": "target"},
            },
            "occluder": {"cube": {"size_m": 0.12}, "position_m": occ_center.tolist()},
        },
        "cameras": {
            "cam": {
                "resolution": [W, H],
                "focal_length_mm": FOCAL,
                "horizontal_aperture_mm": HA,
                "aperture_offset_mm": list(OFFSET),
                "clipping_range_m": [0.05, 100.0],
                "position_m": list(EYE),
                "quat_wxyz": list(quat),
                "annotators": [
                    "distance_to_camera",
                    "distance_to_image_plane",
                    "bounding_box_2d_tight",
                    "bounding_box_2d_loose",
                    "bounding_box_3d",
                    "camera_params",
                    "instance_segmentation",
                    "occlusion",
                ],
            }
        },
    }
    payload = capture_frame(build(scenario), seed=0, frame=0)
    o, d = pixel_rays(W, H, FOCAL, HA, OFFSET, cam)
    m_cube = trs(CUBE_T, rot_xyz(CUBE_R), CUBE_S)
    m_occ = trs(tuple(occ_center), np.eye(3), (0.12, 0.12, 0.12))
    t_cube = ray_box(o, d, m_cube)
    t_occ = ray_box(o, d, m_occ)
    return {
        "payload": payload["annotators"],
        "cam": cam,
        "m_cube": m_cube,
        "t_cube": t_cube.reshape(H, W),
        "t_occ": t_occ.reshape(H, W),
        "o": o,
        "d": d,
    }


def test_our_ray_model_agrees_with_gf_frustum() -> None:
    """Cross-check of this test's own projection against pxr's GfCamera for a few pixels."""
    cam, _ = look_at_camera(EYE, TARGET)
    gcam = Gf.Camera(
        Gf.Matrix4d(*cam.reshape(-1).tolist()), Gf.Camera.Perspective, HA, HA * H / W, OFFSET[0], OFFSET[1], FOCAL
    )
    frustum = gcam.frustum
    o, d = pixel_rays(W, H, FOCAL, HA, OFFSET, cam)
    for px, py in [(0, 0), (639, 479), (320, 240), (17, 401)]:
        ray = frustum.ComputePickRay(Gf.Vec2d((px + 0.5) / W * 2 - 1, 1 - (py + 0.5) / H * 2))
        want = np.array(ray.direction).copy()  # (ComputePickRay starts at the near plane)
        assert np.allclose(d[py * W + px], want / np.linalg.norm(want), atol=1e-9)


def test_centre_ray_depth(analytic: dict) -> None:
    dist = analytic["payload"]["distance_to_camera"]["cam"]["data"]
    plane = analytic["payload"]["distance_to_image_plane"]["cam"]["data"]
    y, x = H // 2, W // 2
    want = analytic["t_cube"][y, x]
    assert np.isfinite(want)
    assert abs(float(dist[y, x]) - want) < 1e-4
    forward = -analytic["cam"][2, :3]
    cos = float(analytic["d"][y * W + x] @ forward)
    assert abs(float(plane[y, x]) - want * cos) < 1e-4
    both = np.isfinite(analytic["t_cube"]) & (analytic["t_cube"] < analytic["t_occ"])
    assert np.allclose(dist[both], analytic["t_cube"][both], atol=1e-4)


def test_tight_and_loose_boxes_are_exact(analytic: dict) -> None:
    visible = np.isfinite(analytic["t_cube"]) & (analytic["t_cube"] < analytic["t_occ"])
    unoccluded = np.isfinite(analytic["t_cube"])
    tight = analytic["payload"]["bounding_box_2d_tight"]["cam"]["data"]
    loose = analytic["payload"]["bounding_box_2d_loose"]["cam"]["data"]
    assert len(tight) == len(loose) == 1
    got_tight = tuple(int(tight[0][k]) for k in ("x_min", "y_min", "x_max", "y_max"))
    got_loose = tuple(int(loose[0][k]) for k in ("x_min", "y_min", "x_max", "y_max"))
    assert got_tight == bbox(visible)
    assert got_loose == bbox(unoccluded)
    assert got_tight != got_loose  # the occluder really hides an edge of the cube
    ratio = 1 - visible.sum() / unoccluded.sum()
    assert abs(float(loose[0]["occlusionRatio"]) - ratio) < 1e-3


def test_box_3d_projected_corners_and_camera_params(analytic: dict) -> None:
    p = analytic["payload"]
    box = p["bounding_box_3d"]["cam"]["data"][0]
    assert [float(box[k]) for k in ("x_min", "y_min", "z_min", "x_max", "y_max", "z_max")] == [-0.5] * 3 + [0.5] * 3
    assert np.allclose(box["transform"], analytic["m_cube"], atol=1e-6)
    cp = p["camera_params"]["cam"]
    view = cp["cameraViewTransform"].reshape(4, 4)
    assert np.allclose(view, np.linalg.inv(analytic["cam"]), atol=1e-9)
    proj = cp["cameraProjection"].reshape(4, 4)
    want_proj = np.zeros((4, 4))
    want_proj[0, 0] = 2 * FOCAL / HA
    want_proj[1, 1] = 2 * FOCAL / HA * W / H
    want_proj[2, 0] = 2 * OFFSET[0] / HA
    want_proj[2, 1] = 2 * OFFSET[1] / HA * W / H
    want_proj[2, 3] = -1.0
    want_proj[3, 2] = 0.05
    assert np.allclose(proj, want_proj, atol=1e-12)
    assert np.allclose(cp["cameraAperture"], [HA, 15.2908]) and np.allclose(cp["cameraApertureOffset"], OFFSET)
    assert cp["cameraFocalLength"] == FOCAL and list(cp["renderProductResolution"]) == [W, H]
    assert np.allclose(cp["cameraNearFar"], [0.05, 100.0])
    # Corners projected with the payload's matrices land where this test's own rays say.
    corners = np.array([[x, y, z, 1.0] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    world = corners @ box["transform"].astype(np.float64)
    clip = world @ view @ proj
    ndc = clip[:, :2] / clip[:, 3:]
    px = np.c_[(ndc[:, 0] + 1) / 2 * W, (1 - ndc[:, 1]) / 2 * H]
    cam = analytic["cam"]
    local = (world[:, :3] - cam[3, :3]) @ cam[:3, :3].T
    film = local[:, :2] / -local[:, 2:] * FOCAL - np.asarray(OFFSET)
    want_px = np.c_[(film[:, 0] / HA + 0.5) * W, (0.5 - film[:, 1] / (HA * H / W)) * H]
    assert np.allclose(px, want_px, atol=1e-4)


def test_half_hidden_sphere_occlusion_ratio() -> None:
    eye = (5.0, 0.0, 0.0)
    cam, quat = look_at_camera(eye, (0.0, 0.0, 0.0))
    scenario = {
        "version": 1,
        "assets": {
            "ball": {"sphere": {"radius_m": 0.5}, "semantics": {"class": "ball"}},
            # A wall in front of the ball covering its y < 0 half (and more: it is wider).
            "wall": {"cube": {"size_m": 1.0}, "position_m": [2.0, -0.6, 0.0], "scale": [0.1, 1.2, 2.0]},
        },
        "render": {"tessellation": {"segments": 96, "rings": 48}},
        "cameras": {
            "cam": {
                "resolution": [320, 240],
                "position_m": list(eye),
                "quat_wxyz": list(quat),
                "annotators": ["occlusion", "bounding_box_2d_loose", "instance_segmentation"],
            }
        },
    }
    payload = capture_frame(build(scenario), seed=0, frame=0)["annotators"]
    o, d = pixel_rays(320, 240, 24.0, 20.955, (0.0, 0.0), cam)
    t_ball = ray_sphere(o, d, (0, 0, 0), 0.5)
    t_wall = ray_box(o, d, trs((2.0, -0.6, 0.0), np.eye(3), (0.1, 1.2, 2.0)))
    expected = 1 - np.sum(np.isfinite(t_ball) & (t_ball < t_wall)) / np.sum(np.isfinite(t_ball))
    assert 0.4 < expected < 0.6
    got = payload["occlusion"]["cam"]["data"]
    assert len(got) == 1 and abs(float(got[0]["occlusionRatio"]) - expected) < 0.02


# --------------------------------------------------------------------------- Isaac parity


def _quat_from_matrix(m: np.ndarray) -> np.ndarray:
    q = Gf.Matrix3d(*m.reshape(-1).tolist()).GetOrthonormalized().ExtractRotation().GetQuat()
    return np.array([q.GetReal(), *q.GetImaginary()])


@pytest.mark.slow
def test_pose_writer_scene_matches_isaac_golden(tmp_path: Path, fixtures_dir: Path) -> None:
    out = tmp_path / "cap"
    result = run_cli("capture", str(EXAMPLES / "pose_writer_parity.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    payload = read_payload(out)["annotators"]
    golden_dir = fixtures_dir / "isaacsim-6.0.1" / "pose_writer_pinhole"
    order = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]  # LDB … RUF
    for rp, camera in (("rp1", "PinholeCamera1"), ("rp2", "PinholeCamera2")):
        golden = json.loads((golden_dir / rp / "000000.json").read_text())
        cd = golden["camera_data"]
        cp = payload["camera_params"][camera]
        w, h = (int(v) for v in cp["renderProductResolution"])
        fx = float(cp["cameraFocalLength"]) / float(cp["cameraAperture"][0]) * w
        assert [w, h] == cd["resolution"]
        assert np.allclose(
            [fx, fx, w / 2, h / 2], [cd["intrinsics"][k] for k in ("fx", "fy", "cx", "cy")], rtol=1e-5, atol=1e-5
        )
        view = cp["cameraViewTransform"].reshape(4, 4)
        assert np.allclose(view, cd["camera_view_matrix"], rtol=1e-5, atol=1e-5)
        assert np.allclose(cp["cameraProjection"].reshape(4, 4), cd["camera_projection_matrix"], rtol=1e-5, atol=1e-5)
        boxes = payload["bounding_box_3d"][camera]
        by_path = dict(zip(boxes["primPaths"], boxes["data"]))
        for obj in golden["objects"]:
            box = by_path[obj["prim_path"]]
            m = box["transform"].astype(np.float64)
            assert np.allclose(m, obj["local_to_world_transform"], rtol=1e-5, atol=1e-5)
            assert np.allclose(m[3, :3], obj["location_world_frame"], rtol=1e-5, atol=1e-5)
            q = _quat_from_matrix(m[:3, :3])
            gq = np.asarray(obj["quat_wxyz_world_frame"])
            assert min(np.abs(q - gq).max(), np.abs(q + gq).max()) < 1e-5
            lo = np.array([box["x_min"], box["y_min"], box["z_min"]], dtype=np.float64)
            hi = np.array([box["x_max"], box["y_max"], box["z_max"]], dtype=np.float64)
            size = (hi - lo) * np.linalg.norm(m[:3, :3], axis=1)
            assert np.allclose(size, obj["size"], rtol=1e-5, atol=1e-5)
            center = (lo + hi) / 2
            local = np.array([center] + [np.where(np.array(s) < 0, lo, hi) for s in order])
            world = np.c_[local, np.ones(9)] @ m
            assert np.allclose(world[:, :3], obj["cuboid_keypoints_world_frame"], rtol=1e-5, atol=1e-5)
            camera_frame = world @ view
            assert np.allclose(camera_frame[:, :3], obj["cuboid_keypoints_camera_frame"], rtol=1e-5, atol=1e-5)
            u = w / 2 + fx * camera_frame[:, 0] / -camera_frame[:, 2]
            v = h / 2 - fx * camera_frame[:, 1] / -camera_frame[:, 2]
            assert np.array_equal(np.round(np.c_[u, v]).astype(int), np.asarray(obj["cuboid_keypoints_projected"]))
            visibility = 1.0 - float(box["occlusionRatio"])
            assert abs(visibility - obj["visibility"]) < 0.02, (rp, obj["label"], visibility)


# --------------------------------------------------------------------------- the near plane

NEAR_PLANE_SCENE = """
version: 1
assets:  # a bar beside the camera from 3 m in front of it to 1 m behind it; a block whose back
  # face is at depth exactly 0 (the camera is at the origin looking down -Z, so camera = world)
  bar: {cube: {size_m: 1.0}, scale: [0.1, 0.1, 4.0], position_m: [0.5, 0.0, -1.0], semantics: {class: bar}}
  block: {cube: {size_m: 1.0}, position_m: [-0.8, 0.0, -0.5], semantics: {class: block}}
cameras:
  cam:
    resolution: [64, 48]
    focal_length_mm: 18.0
    clipping_range_m: [0.01, 100.0]
    position_m: [0.0, 0.0, 0.0]
    quat_wxyz: [1.0, 0.0, 0.0, 0.0]
output:
  frames: 1
  writers: {hdf5: false, coco: {keypoints: true}, pose: {}}
"""


def _rect_truncation(u: tuple[float, float], v: tuple[float, float], w: int, h: int) -> float:
    inside = max(min(u[1], w) - max(u[0], 0), 0) * max(min(v[1], h) - max(v[0], 0), 0)
    return 1 - inside / ((u[1] - u[0]) * (v[1] - v[0]))


@pytest.mark.slow
def test_objects_crossing_the_near_plane_through_generate(tmp_path: Path) -> None:
    scene = tmp_path / "near_plane.yaml"
    scene.write_text(NEAR_PLANE_SCENE)
    out = tmp_path / "out"
    result = run_cli("generate", str(scene), "-o", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    w, h, near = 64, 48, 0.01
    fx = 18.0 / 20.955 * w
    # By hand: each object's part in front of the near plane projects from its face at depth 3
    # (bar) or 1 (block) to its cut face at depth `near`, which reaches far past the image.
    expected = {
        "/World/bar": _rect_truncation(
            (w / 2 + fx * 0.45 / 3, w / 2 + fx * 0.55 / near),
            (h / 2 - fx * 0.05 / near, h / 2 + fx * 0.05 / near),
            w,
            h,
        ),
        "/World/block": _rect_truncation(
            (w / 2 + fx * -1.3 / near, w / 2 + fx * -0.3 / 1), (h / 2 - fx * 0.5 / near, h / 2 + fx * 0.5 / near), w, h
        ),
    }
    assert all(0.999 < t < 1 for t in expected.values())
    behind = [2, 4, 6, 8]  # LDF, LUF, RDF, RUF: local z_max, 1 m behind (bar) or at depth 0 (block)

    def refuse(name: str) -> None:
        raise AssertionError(f"non-finite number {name} in the JSON")

    text = (out / "pose" / "cam" / "000000.json").read_text()
    assert "-9223372036854775808" not in text
    objects = {o["prim_path"]: o for o in json.loads(text, parse_constant=refuse)["objects"]}
    assert sorted(objects) == sorted(expected)
    assert objects["/World/block"]["cuboid_keypoints_camera_frame"][2][2] == 0.0  # really at depth 0
    for path, obj in objects.items():
        assert abs(obj["truncation_ratio"] - expected[path]) < 1e-6, path
        projected = obj["cuboid_keypoints_projected"]
        assert [projected[k] for k in behind] == [[None, None]] * 4, path
        assert all(isinstance(c, int) for k in (0, 1, 3, 5, 7) for c in projected[k]), path
    coco = json.loads((out / "coco" / "annotations" / "instances_train.json").read_text(), parse_constant=refuse)
    annotations = {a["scenesmith"]["prim_path"]: a for a in coco["annotations"]}
    assert sorted(annotations) == sorted(expected)
    for path, ann in annotations.items():
        assert abs(ann["scenesmith"]["truncation"] - expected[path]) < 1e-5, path
        assert [ann["keypoints"][3 * k : 3 * k + 3] for k in behind] == [[0, 0, 0]] * 4, path


def test_same_frame_twice_is_bit_identical() -> None:
    doc = parse(SCENES / "all_annotators.yaml")
    a = capture_frame(doc, seed=3, frame=5)["annotators"]
    b = capture_frame(doc, seed=3, frame=5)["annotators"]
    assert a.keys() == b.keys()
    for name in a:
        if name in ("camera", "resolution"):
            assert a[name] == b[name]
            continue
        for cam in a[name]:
            for key, value in a[name][cam].items():
                other = b[name][cam][key]
                if isinstance(value, np.ndarray):
                    assert value.dtype == other.dtype and value.tobytes() == other.tobytes(), (name, key)
                else:
                    assert value == other, (name, key)


def test_capture_refuses_a_non_empty_output_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = run_cli("capture", str(EXAMPLES / "pose_writer_parity.yaml"), "-o", str(tmp_path / "x"))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["keep.txt"]


def test_preview_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    result = run_cli("preview", str(SCENES / "all_annotators.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as img:  # a row of four 160 × 120 cells (and titles) per camera
        assert img.format == "PNG" and img.size == (4 * 160, 2 * (120 + 16))


__all__ = ["resolve"]
