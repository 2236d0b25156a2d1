"""Lens models (issue 17, item 1) against OpenCV, which we did not write, and Isaac Sim's formula.

Rays are cast through the lens, so the labels of a distorted image are exact: a point OpenCV
projects lands on the pixel whose instance mask is that point's object and whose distance is
its distance, across the whole image including the corners.
"""

from __future__ import annotations

import json
import math
from typing import Any

import cv2
import numpy as np
import pytest
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
from scenesmith.sensors.lens import Lens, lens_of_camera_params

RES = (160, 120)
OPENCV_PINHOLE = Lens(
    "pinholeOpenCV", *RES, fx=120.0, fy=125.0, cx=81.3, cy=58.2,
    k=(-0.30, 0.09, -0.012, 0.02, 0.004, 0.001), p=(0.0012, -0.0009), s=(0.0006, -0.0004, 0.0003, 0.0002),
)  # fmt: skip
OPENCV_FISHEYE = Lens("fisheyeOpenCV", *RES, fx=60.0, fy=61.0, cx=79.0, cy=60.5, k=(0.06, -0.015, 0.003, -0.0004))
FTHETA = Lens(
    "fisheyePolynomial", *RES, k=(0.0, 0.0052, 2e-6, -3e-8, 1e-10), nominal_px=(320.0, 240.0),
    optical_center_px=(161.0, 118.5), max_fov_deg=220.0,
)  # fmt: skip
KANNALA_BRANDT = Lens(
    "fisheyeKannalaBrandtK3", *RES, k=(48.0, -1.5, 0.2, -0.01), nominal_px=(160.0, 120.0),
    optical_center_px=(80.0, 59.0), max_fov_deg=200.0,
)  # fmt: skip
LENSES = [OPENCV_PINHOLE, OPENCV_FISHEYE, FTHETA, KANNALA_BRANDT]


def _opencv(lens: Lens) -> tuple[np.ndarray, np.ndarray]:
    k = np.array([[lens.fx, 0.0, lens.cx], [0.0, lens.fy, lens.cy], [0.0, 0.0, 1.0]])
    if lens.model == "pinholeOpenCV":
        k1, k2, k3, k4, k5, k6 = lens.k
        return k, np.array([k1, k2, *lens.p, k3, k4, k5, k6, *lens.s])
    return k, np.array(lens.k)


def _cv_project(lens: Lens, points_usd: np.ndarray) -> np.ndarray:
    cv = np.ascontiguousarray(points_usd * np.array([1.0, -1.0, -1.0]))  # OpenCV looks down +z, y down
    k, dist = _opencv(lens)
    if lens.model == "pinholeOpenCV":
        uv, _ = cv2.projectPoints(cv, np.zeros(3), np.zeros(3), k, dist)
        return uv[:, 0]
    uv, _ = cv2.fisheye.projectPoints(cv[None], np.zeros(3), np.zeros(3), k, dist)
    return uv[0]


def _image_grid(lens: Lens, step: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates over the whole image, corners included."""
    v, u = np.mgrid[0 : lens.height : step, 0 : lens.width : step].astype(np.float64)
    corners_u = np.array([0.0, lens.width - 1.0, 0.0, lens.width - 1.0])
    corners_v = np.array([0.0, 0.0, lens.height - 1.0, lens.height - 1.0])
    return np.concatenate([u.ravel(), corners_u]), np.concatenate([v.ravel(), corners_v])


@pytest.mark.parametrize("lens", [OPENCV_PINHOLE, OPENCV_FISHEYE], ids=lambda lens: lens.model)
def test_every_pixels_ray_projects_back_onto_that_pixel_with_opencv(lens: Lens) -> None:
    """The ray of each pixel (corners included), projected by OpenCV, lands on that pixel."""
    u, v = _image_grid(lens)
    directions, ok = lens.unproject(u, v)
    assert ok.all()  # the whole image has rays: these lenses do not fold within it
    uv = _cv_project(lens, directions * 3.0)
    assert np.abs(uv - np.stack([u, v], axis=1)).max() < 1e-6
    # and our forward model is OpenCV's: points anywhere in front of the camera
    rng = np.random.default_rng(3)
    pts = np.stack([rng.uniform(-1, 1, 500), rng.uniform(-1, 1, 500), -rng.uniform(0.4, 3, 500)], axis=1)
    ours = lens.project(pts)
    seen = np.isfinite(ours).all(axis=1)
    assert seen.mean() > 0.5
    assert np.abs(ours[seen] - _cv_project(lens, pts)[seen]).max() < 1e-6


@pytest.mark.parametrize("lens", LENSES, ids=lambda lens: lens.model)
def test_unproject_inverts_project_including_beyond_ninety_degrees(lens: Lens) -> None:
    rng = np.random.default_rng(4)
    pts = rng.normal(size=(2000, 3))
    uv = lens.project(pts)
    seen = np.isfinite(uv).all(axis=1)
    directions, ok = lens.unproject(uv[seen, 0], uv[seen, 1])
    assert ok.all()
    unit = pts[seen] / np.linalg.norm(pts[seen], axis=1, keepdims=True)
    assert np.abs(directions - unit).max() < 1e-9
    off_axis = np.degrees(np.arccos(-unit[:, 2]))
    if lens.model in ("fisheyePolynomial", "fisheyeKannalaBrandtK3"):
        assert off_axis.max() > 95.0  # these fisheyes see behind the image plane
        assert off_axis.max() <= lens.max_fov_deg / 2 + 1e-9
        hidden = np.degrees(np.arccos(-(pts[~seen] / np.linalg.norm(pts[~seen], axis=1, keepdims=True))[:, 2]))
        assert (hidden > lens.max_fov_deg / 2 - 1e-9).all()  # only points beyond the field of view are unseen


def test_fisheye_polynomial_is_isaac_sims_f_theta() -> None:
    """IsaacSim 6.0.1 ``isaacsim.replicator.writers/python/scripts/utils.py``
    ``project_fisheye_polynomial``: θ = a + b·r + c·r² + d·r³ + e·r⁴ with r in nominal pixels from
    the optical centre; px = cx + r·x/ρ, py = cy − r·y/ρ (USD camera frame), then scaled by
    resolution / nominal size."""
    lens = FTHETA
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(500, 3))
    uv = lens.project(pts)
    seen = np.isfinite(uv).all(axis=1)
    pts, uv = pts[seen], uv[seen]
    sx, sy = lens.width / lens.nominal_px[0], lens.height / lens.nominal_px[1]
    # back to nominal pixels (centre-based scaling: pixel centres at integers)
    nominal = np.stack([(uv[:, 0] + 0.5) / sx - 0.5, (uv[:, 1] + 0.5) / sy - 0.5], axis=1)
    offset = nominal - np.array(lens.optical_center_px)
    r = np.linalg.norm(offset, axis=1)
    a, b, c, d, e = lens.k
    theta = a + b * r + c * r**2 + d * r**3 + e * r**4
    rho = np.hypot(pts[:, 0], pts[:, 1])
    assert np.allclose(theta, np.arctan2(rho, -pts[:, 2]), atol=1e-9)
    assert np.allclose(offset[:, 0], r * pts[:, 0] / rho, atol=1e-6)
    assert np.allclose(offset[:, 1], -r * pts[:, 1] / rho, atol=1e-6)


def test_a_fold_of_strong_barrel_distortion_has_no_pixel() -> None:
    """k1 = −0.5: the distorted radius r(1 − 0.5r²) peaks at r = √(2/3); beyond, OpenCV folds
    points back into the image where other points are seen, so those project to nan."""
    lens = Lens("pinholeOpenCV", *RES, fx=60.0, fy=60.0, cx=80.0, cy=60.0, k=(-0.5, 0, 0, 0, 0, 0))
    limit = math.sqrt(2.0 / 3.0)
    inside, beyond = np.array([[0.99 * limit, 0.0, -1.0]]), np.array([[1.05 * limit, 0.0, -1.0]])
    assert np.isfinite(lens.project(inside)).all() and np.isnan(lens.project(beyond)).all()
    assert np.isfinite(_cv_project(lens, beyond)).all()  # OpenCV itself gives the folded position


# --------------------------------------------------------------------------- through the renderer

BALL_R = 0.06


def _balls(height_m: float, spread: float) -> dict[str, Any]:
    """A 5 × 4 grid of small labelled balls on the floor, out to the image corners."""
    out = {}
    for i, x in enumerate(np.linspace(-spread * 1.33, spread * 1.33, 5)):
        for j, y in enumerate(np.linspace(-spread, spread, 4)):
            out[f"b{i}{j}"] = {
                "sphere": {"radius_m": BALL_R},
                "position_m": [float(x), float(y), BALL_R],
                "semantics": {"class": "ball"},
            }
    return out


def _capture(
    lens: dict[str, Any], assets: dict[str, Any], height_m: float, quat: list[float], extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    scenario = {
        "version": 1,
        "assets": {"ground": {"plane": {"width_m": 40.0, "length_m": 40.0}}, **assets},
        "lights": {"sun": {"type": "distant", "intensity": 3.0}},
        "cameras": {
            "cam": {
                "resolution": list(RES),
                "position_m": [0.0, 0.0, height_m],
                "quat_wxyz": quat,
                "lens": lens,
                "annotators": [
                    "rgb", "distance_to_camera", "distance_to_image_plane", "instance_segmentation",
                    "bounding_box_3d", "camera_params", *extra,
                ],
            }
        },
    }  # fmt: skip
    backend = EmbeddedBackend()
    resolved = resolve(build(scenario))
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    return backend.capture(params)["annotators"]


def _lens_keys(lens: Lens) -> dict[str, Any]:
    doc = lens.document()
    if lens.model in ("pinholeOpenCV", "fisheyeOpenCV"):
        keys = {"fx_px": lens.fx, "fy_px": lens.fy, "cx_px": lens.cx, "cy_px": lens.cy}
    else:
        keys = {"nominal_size_px": list(lens.nominal_px), "optical_center_px": list(lens.optical_center_px)}
        keys["max_fov_deg"] = lens.max_fov_deg
    return {"model": lens.model, **keys, **{k: v for k, v in doc.items() if k[0] in "kps" and k[1:].isdigit()}}


@pytest.mark.parametrize("lens", [OPENCV_PINHOLE, OPENCV_FISHEYE], ids=lambda lens: lens.model)
def test_opencv_projected_points_land_on_their_objects_mask_and_depth(lens: Lens) -> None:
    """Each ball's centre, projected by OpenCV, falls on a pixel of that ball's instance mask,
    whose distance is the ball's near surface; balls reach the image corners, where the lens
    moves points by many pixels from where a pinhole would put them."""
    height = 1.2
    balls = _balls(height, 0.62 if lens.model == "pinholeOpenCV" else 1.5)
    out = _capture(_lens_keys(lens), balls, height, [1.0, 0.0, 0.0, 0.0])
    seg = out["instance_segmentation"]["cam"]
    ids, labels = seg["data"], seg["idToLabels"]
    distance = out["distance_to_camera"]["cam"]["data"]
    eye = np.array([0.0, 0.0, height])
    seen, bent = 0, 0.0
    for name, spec in balls.items():
        centre = np.array(spec["position_m"]) - eye
        uv = _cv_project(lens, centre[None])[0]
        col, row = int(round(uv[0])), int(round(uv[1]))
        if not (0 <= col < RES[0] and 0 <= row < RES[1]):
            continue
        seen += 1
        assert labels[int(ids[row, col])] == f"/World/{name}", (name, uv)
        # the ray through that pixel centre passes within half a pixel of the ball's centre, so it
        # meets the (tessellated) sphere about one radius before the centre
        assert abs(float(distance[row, col]) - (np.linalg.norm(centre) - BALL_R)) < 0.15 * BALL_R
        ideal = np.array([lens.fx * centre[0] / height + lens.cx, -lens.fy * centre[1] / height + lens.cy])
        bent = max(bent, float(np.linalg.norm(uv - ideal)))
    assert seen >= 16  # the corners' balls included
    assert bent > 5.0  # a pinhole would have put the labels elsewhere


# --------------------------------------------------------------------------- payloads and writers


@pytest.mark.parametrize("lens", LENSES, ids=lambda lens: lens.model)
def test_camera_params_carry_the_lens_and_give_it_back(lens: Lens) -> None:
    """``camera_params`` names the model and every coefficient in Replicator's keys (float32, as
    Replicator emits them); a writer rebuilds the same projection from the payload alone."""
    from scenesmith.sensors.lens import camera_params_fields

    params = {**camera_params_fields(lens), "renderProductResolution": np.array(RES, dtype=np.int32)}
    assert params["cameraModel"] == lens.model
    assert params["cameraFisheyePolynomial"].dtype == np.float32 and len(params["cameraFisheyePolynomial"]) == 6
    again = lens_of_camera_params(params)
    assert again is not None and again.model == lens.model
    rng = np.random.default_rng(8)
    pts = rng.normal(size=(400, 3)) - np.array([0.0, 0.0, 1.0])
    a, b = lens.project(pts), again.project(pts)
    both = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    assert both.mean() > 0.5 and np.abs(a[both] - b[both]).max() < 1e-3  # float32 coefficients
    assert lens_of_camera_params({"cameraModel": "pinhole"}) is None


def test_lens_schemas_are_isaac_sims_and_cited() -> None:
    """Every schema and model token we author is one Isaac Sim applies, cited with its source line."""
    import tomllib
    from conftest import REPO
    from scenesmith.runtime.usd.lens_attrs import LENS_SCHEMAS

    entries = tomllib.loads((REPO / "extension/api_citations.toml").read_text())["usd_schema"]
    cited = {e["name"]: e["line"] for e in entries}
    for schema in LENS_SCHEMAS.values():
        assert f'ApplyAPI("{schema.api}")' in cited[schema.api]
        assert f'Set("{schema.token}")' in cited[f"omni:lensdistortion:model = {schema.token}"]


def test_cuboid_keypoints_go_through_the_lens_as_opencv_projects_the_corners() -> None:
    """The 3D box's corners, taken from the ``bounding_box_3d`` payload and the view transform of
    ``camera_params``, project through the writers' camera model exactly where OpenCV puts them."""
    from scenesmith.writers.cuboid import Pinhole, camera_model, cuboid_corners, project_camera, to_camera

    lens = OPENCV_PINHOLE
    box = {"crate": {"cube": {"size_m": 0.3}, "position_m": [0.55, 0.3, 0.15], "semantics": {"class": "crate"}}}
    out = _capture(_lens_keys(lens), box, 1.2, [1.0, 0.0, 0.0, 0.0])
    params = out["camera_params"]["cam"]
    rows = out["bounding_box_3d"]["cam"]["data"]
    assert len(rows) == 1
    corners_camera = to_camera(cuboid_corners(rows), params)[0]  # (9, 3): centre, then 8 corners
    ours = project_camera(corners_camera, Pinhole.of(camera_model(params)))
    # independent: corners from the box's own extent and pose, OpenCV's projection (centres at 0)
    half = 0.15
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    corners_world = np.array([0.55, 0.3, 0.15]) + half * signs
    expected = _cv_project(lens, corners_world - np.array([0.0, 0.0, 1.2])) + 0.5  # scenesmith: centres at +0.5
    assert np.abs(np.sort(ours[1:], axis=0) - np.sort(expected, axis=0)).max() < 1e-3
    ideal = np.stack([lens.fx * corners_world[:, 0] / (1.2 - corners_world[:, 2]) + lens.cx + 0.5], axis=1)
    assert np.abs(np.sort(ours[1:, 0]) - np.sort(ideal[:, 0])).max() > 3.0  # the lens moved them


def test_a_straight_edge_bends_by_opencvs_amount() -> None:
    """A long box edge: OpenCV's projections of points just inside it land on the box's mask,
    of points just outside it off the mask, all along an edge whose image bows by pixels."""
    lens = OPENCV_PINHOLE
    bar = {"bar": {"cube": {"size_m": 1.0}, "scale": [2.6, 0.6, 0.01], "position_m": [0.0, 0.68, 0.005],
                   "semantics": {"class": "bar"}}}  # fmt: skip
    out = _capture(_lens_keys(lens), bar, 1.2, [1.0, 0.0, 0.0, 0.0])
    seg = out["instance_segmentation"]["cam"]
    on_bar = np.vectorize(lambda i: seg["idToLabels"].get(int(i), seg["idToLabels"].get(str(int(i)))) == "/World/bar")(
        seg["data"]
    )
    eye = np.array([0.0, 0.0, 1.2])
    x = np.linspace(-1.2, 1.2, 60)
    edge_y = 0.68 - 0.3  # the bar's near long edge, top face, towards the image's top
    inside = np.stack([x, np.full_like(x, edge_y + 0.01), np.full_like(x, 0.01)], axis=1) - eye
    outside = np.stack([x, np.full_like(x, edge_y - 0.01), np.full_like(x, 0.01)], axis=1) - eye
    checked = 0
    for points, expect in ((inside, True), (outside, False)):
        uv = _cv_project(lens, points)
        for u, v in uv:
            col, row = int(round(u)), int(round(v))
            if 0 <= col < RES[0] and 0 <= row < RES[1]:
                assert bool(on_bar[row, col]) is expect, (u, v, expect)
                checked += 1
    assert checked > 60
    edge = _cv_project(lens, np.stack([x, np.full_like(x, edge_y), np.full_like(x, 0.01)], axis=1) - eye)
    seen = (edge[:, 0] >= 0) & (edge[:, 0] < RES[0])
    chord = np.interp(edge[seen, 0], edge[seen, 0][[0, -1]], edge[seen, 1][[0, -1]])
    assert np.abs(edge[seen, 1] - chord).max() > 2.0  # the straight edge's image bows


def test_fisheye_sees_behind_the_image_plane_with_inf_image_plane_depth() -> None:
    """A 220° f-theta fisheye looking down sees a ball beside and above it: its distance is
    finite, its ``distance_to_image_plane`` (camera-frame −z, ≤ 0 there) is +inf; a ball below
    has distance_to_image_plane = −z exactly."""
    balls = {
        "above": {"sphere": {"radius_m": 0.1}, "position_m": [1.0, 0.0, 1.5], "semantics": {"class": "ball"}},
        "below": {"sphere": {"radius_m": 0.1}, "position_m": [0.3, 0.2, 0.1], "semantics": {"class": "ball"}},
    }
    lens = {"model": "fisheyePolynomial", "max_fov_deg": 220.0, "k1": 0.032}  # 110° at 60 px off-centre
    out = _capture(lens, balls, 1.2, [1.0, 0.0, 0.0, 0.0])
    seg = out["instance_segmentation"]["cam"]
    labels = {int(k): v for k, v in seg["idToLabels"].items()}
    ids = {v: k for k, v in labels.items()}
    dist = out["distance_to_camera"]["cam"]["data"]
    plane = out["distance_to_image_plane"]["cam"]["data"]
    above = seg["data"] == ids["/World/above"]
    below = seg["data"] == ids["/World/below"]
    assert above.sum() > 3 and below.sum() > 3
    assert np.isfinite(dist[above]).all() and np.isinf(plane[above]).all()
    assert np.isfinite(plane[below]).all()
    # below: −z of the hit = distance × cos(angle off the axis) ≤ distance, and within the ball's depth span
    assert (plane[below] <= dist[below] + 1e-6).all()
    assert (np.abs(plane[below] - (1.2 - 0.1)) < 0.1 + 1e-3).all()


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_lensed_camera_through_generate_into_every_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``generate`` with an OpenCV fisheye: HDF5 names the model and its coefficients, the pose
    JSON carries them, camera_params round-trips through HDF5, COCO boxes enclose their masks,
    and ``verify`` accepts the folder."""
    import h5py
    from conftest import EXAMPLES, REPO, run_cli
    from pycocotools.coco import COCO
    from scenesmith.writers.hdf5_reader import read_frames

    text = (REPO / "tests/scenarios/small_tabletop.yaml").read_text()
    lensed = text.replace(
        "    focal_length_mm: 18.0\n",
        "    focal_length_mm: 18.0\n    lens: {model: fisheyeOpenCV, k1: 0.08, k2: -0.01}\n",
    )
    assert lensed != text
    scenario = tmp_path / "lensed.yaml"
    scenario.write_text(lensed)
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "--asset-root", str(EXAMPLES), "-o", str(out), "--frames", "2",
                     "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    shard = sorted((out / "hdf5").glob("*.h5"))[0]
    with h5py.File(shard, "r") as f:
        doc = json.loads(f["cameras/front"].attrs["lens"])
    assert doc["model"] == "fisheyeOpenCV" and doc["k1"] == pytest.approx(0.08) and doc["k2"] == pytest.approx(-0.01)
    frame = next(read_frames(shard))
    params = frame["annotators"]["camera_params"]["front"]
    lens = lens_of_camera_params(params)
    assert lens is not None and lens.k[:2] == pytest.approx((0.08, -0.01))
    pose = json.loads(next((out / "pose" / "front").glob("*.json")).read_text())
    assert pose["camera_data"]["lens"]["model"] == "fisheyeOpenCV"
    coco = COCO(str(out / "coco/annotations/instances_train.json"))
    for ann in coco.anns.values():
        rows, cols = np.nonzero(coco.annToMask(ann))
        x, y, w, h = ann["bbox"]
        assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
    assert run_cli("verify", str(out)).returncode == 0


@pytest.mark.parametrize("lens", LENSES, ids=lambda lens: lens.model)
def test_jittered_rgb_samples_land_within_a_hundredth_of_a_pixel_of_the_exact_inverse(lens: Lens) -> None:
    """RGB's sub-pixel samples interpolate the exact pixel-centre rays (Newton runs once per
    lens): projected back through the lens they land where the exact inverse puts them, within
    0.01 px (strongly distorted wide lenses at 160 × 120); labels use the exact centre rays themselves."""
    from scenesmith.runtime.embedded.camera_rays import _centre_rays, _interpolated_rays

    rng = np.random.default_rng(6)
    offsets = rng.uniform(-0.5, 0.5, (lens.height, lens.width, 2))
    v, u = np.mgrid[0 : lens.height, 0 : lens.width].astype(np.float64)
    exact, ok = lens.unproject((u + offsets[..., 0]).ravel(), (v + offsets[..., 1]).ravel())
    fast, fast_ok = _interpolated_rays(lens, offsets)
    both = ok & fast_ok
    assert both.sum() > 0.5 * ok.sum() and not (fast_ok & ~ok).any()  # never a ray where none exists
    assert np.abs(lens.project(exact[both]) - lens.project(fast[both])).max() < 1e-2
    centres, centre_ok = _centre_rays(lens)
    direct, direct_ok = lens.unproject(u.ravel(), v.ravel())
    assert np.array_equal(centre_ok, direct_ok) and np.abs(centres - direct).max() < 1e-12


@pytest.mark.parametrize("lens", [OPENCV_PINHOLE, KANNALA_BRANDT], ids=lambda lens: lens.model)
def test_the_occlusion_pass_window_through_a_lens_loses_no_pixel(lens: Lens, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Loose boxes and occlusion ratios with each box's window from its edges' images equal
    those from casting every pixel (boxes reaching the image corners and partly occluded)."""
    import scenesmith.runtime.embedded.occlusion_pass as occlusion_pass

    assets = _balls(1.2, 0.62 if lens.model == "pinholeOpenCV" else 1.0)
    assets["crate"] = {"cube": {"size_m": 0.4}, "position_m": [0.1, 0.05, 0.5], "semantics": {"class": "crate"}}
    wanted = ["bounding_box_2d_loose", "occlusion"]

    def run() -> dict[str, Any]:
        out = _capture(_lens_keys(lens), assets, 1.2, [1.0, 0.0, 0.0, 0.0], tuple(wanted))
        return {a: out[a]["cam"]["data"] for a in wanted}

    windowed = run()
    monkeypatch.setattr(occlusion_pass, "_lens_window", lambda b, m, model, w: (0, 0, model.width, model.height))
    everywhere = run()
    for name in wanted:
        assert windowed[name].tobytes() == everywhere[name].tobytes(), name
    assert len(windowed["occlusion"]) >= 16 and (windowed["occlusion"]["occlusionRatio"] > 0).any()
