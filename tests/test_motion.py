"""Motion blur, rolling shutter and motion vectors (issue 17 item 2).

Expectations are closed forms of the pinhole camera written out here (u = cx + fx·X/d,
v = cy − fy·Y/d for a camera at height H looking straight down, d the depth), never our
projection code. The scenes are a square face (the top of a cube) on black: an emissive face and
no lights, so a pixel's linear radiance is exactly the fraction of its area and of the exposure
the face covers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
from scenesmith.sensors.errors import BadInputError

LABELS = (
    "distance_to_image_plane",
    "distance_to_camera",
    "normals",
    "instance_segmentation",
    "instance_id_segmentation",
    "semantic_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "bounding_box_3d",
    "occlusion",
    "pointcloud",
)
HEIGHT_M = 3.0  # the camera's height; it looks straight down (identity orientation: USD cameras look down −Z)
GLOW = {"diffuse_color": [0.0, 0.0, 0.0], "specular_color": [0.0, 0.0, 0.0], "emissive_color": [1.0, 1.0, 1.0]}


def fx_px(width: int, focal_mm: float = 24.0) -> float:
    return focal_mm / 20.955 * width  # USD's default horizontal aperture


def scene(
    resolution: tuple[int, int] = (96, 32),
    shutter: dict | None = None,
    velocity: dict | None = None,
    cube_m: float = 0.4,
    cube_z: float = 0.5,
    spp: int = 64,
    annotators: tuple[str, ...] = ("rgb",),
    extra_assets: dict | None = None,
) -> dict[str, Any]:
    """A glowing cube under a camera looking down; ``velocity``: randomizer keys and targets."""
    camera: dict[str, Any] = {
        "resolution": list(resolution),
        "position_m": [0.0, 0.0, HEIGHT_M],
        "quat_wxyz": [1.0, 0.0, 0.0, 0.0],
        "focal_length_mm": 24.0,
        "annotators": list(annotators),
    }
    if shutter is not None:
        camera["shutter"] = shutter
    out: dict[str, Any] = {
        "version": 1,
        "materials": {"glow": GLOW},
        "assets": {
            "cube": {
                "cube": {"size_m": cube_m},
                "position_m": [0.0, 0.0, cube_z],
                "material": "glow",
                "semantics": {"class": "cube"},
            },
            **(extra_assets or {}),
        },
        "cameras": {"cam": camera},
        "render": {"samples_per_pixel": spp, "engine": "direct"},
    }
    if velocity is not None:
        out["randomizers"] = {"motion": {"kind": "velocity", **velocity}}
    return out


def built(data: dict[str, Any], seed: int = 0, frame: int = 0) -> tuple[EmbeddedBackend, Any]:
    backend = EmbeddedBackend()
    resolved = resolve(build(data))
    backend.build(resolved)
    params = sample(resolved, seed, frame)
    backend.apply(params)
    backend.simulate(params)
    return backend, params


def linear(data: dict[str, Any], seed: int = 0) -> np.ndarray:
    backend, params = built(data, seed)
    return backend.render_linear(params, "cam")[..., 0]


def capture(data: dict[str, Any], seed: int = 0, frame: int = 0) -> dict[str, Any]:
    backend, params = built(data, seed, frame)
    return backend.capture(params)["annotators"]


def coverage(width: int, u0: float, u1: float, smear_px: float) -> np.ndarray:
    """Per column, the mean over pixel area and exposure of a face spanning [u0, u1] that moves
    uniformly by ``smear_px`` over the exposure (centred): the box-filtered, box-blurred step."""
    s = np.linspace(-smear_px / 2, smear_px / 2, 4001) if smear_px > 0 else np.zeros(1)
    c = np.arange(width, dtype=np.float64)[:, None]
    overlap = np.clip(np.minimum(c + 1, u1 + s) - np.maximum(c, u0 + s), 0.0, 1.0)
    return overlap.mean(axis=1)


# --------------------------------------------------------------------------- time model


def test_sample_times_are_stratified_over_each_rows_exposure() -> None:
    """A pixel's n sample times fall one in each n-th of its row's exposure window (the n-ths
    rotated by one random amount per pixel: sample k lies in [s + k/n, s + (k+1)/n) mod 1), which
    is centred on (r + ½ − H/2)·line_time (so the middle of the readout is the capture instant)."""
    from scenesmith.sensors.shutter import Shutter

    exposure, line, n, h, w = 0.01, 1e-4, 4, 6, 5
    times = Shutter(exposure, line).sample_times(np.random.default_rng(1), n, h, w)
    centre = np.repeat((np.arange(h) + 0.5 - h / 2) * line, w)
    frac = (times - centre) / exposure + 0.5  # position in the row's window, [0, 1)
    assert frac.min() >= 0.0 and frac.max() < 1.0
    offset = np.mod(frac * n - np.arange(n)[:, None], n)  # every sample's place in its own stratum
    spread = np.mod(offset - offset[:1] + n / 2, n) - n / 2
    assert np.abs(spread).max() < 1.0  # one shift s per pixel puts all of them in [s, s + 1/n)
    assert np.array_equal(Shutter(0.0, line).sample_times(np.random.default_rng(1), n, h, w), np.tile(centre, (n, 1)))
    assert centre.mean() == pytest.approx(0.0, abs=1e-15)


# --------------------------------------------------------------------------- motion blur


@pytest.mark.parametrize(
    ("speed_m_s", "exposure_s", "cube_z"),
    [(2.0, 0.05, 0.5), (1.0, 0.08, 1.3)],
)
def test_a_cube_moving_parallel_to_the_image_plane_smears_over_v_t_fx_over_z(
    speed_m_s: float, exposure_s: float, cube_z: float
) -> None:
    width, height = 96, 32
    half = 0.2
    depth = HEIGHT_M - (cube_z + half)  # the top face's distance along the optical axis
    fx = fx_px(width)
    want = speed_m_s * exposure_s * fx / depth
    img = linear(
        scene(
            (width, height),
            {"exposure_s": exposure_s},
            {"targets": ["cube"], "linear_velocity_m_s": [speed_m_s, 0.0, 0.0]},
            cube_z=cube_z,
        )
    )
    rows = img[height // 2 - 7 : height // 2 + 7]  # inside the face's top and bottom edges (±9.6 px)
    profile = rows.mean(axis=0)
    u0, u1 = width / 2 - half * fx / depth, width / 2 + half * fx / depth
    # the measured smear: the motion length whose blurred profile fits the image best
    lengths = np.arange(0.0, 2 * want, 0.01)
    errors = [np.sum((profile - coverage(width, u0, u1, L)) ** 2) for L in lengths]
    fitted = float(lengths[int(np.argmin(errors))])
    # 64 samples a pixel, 14 rows: Monte Carlo noise of ~0.01 per column of the mean profile
    assert fitted == pytest.approx(want, abs=0.1), (fitted, want)
    assert np.abs(profile - coverage(width, u0, u1, want)).max() < 0.03
    assert np.abs(rows - coverage(width, u0, u1, want)).max() < 0.1  # every row, not just their mean
    # the face's light is only spread out: each row still integrates to the face's width
    assert profile.sum() == pytest.approx(u1 - u0, rel=0.005)


@pytest.mark.parametrize("engine", ["direct", "path"])
def test_a_moving_objects_shadow_blurs_with_it(engine: str) -> None:
    """Shadow rays are cast at their camera sample's time: under a sun tilted 45° about x (it
    shines towards +y), the still floor behind a cube moving along x shows the cube's shadow
    band smeared by v·t·fx/H (the floor's depth is the camera's height H), on a floor radiance
    of ρ·E·cos 45°/π."""
    width, height, speed, exposure = 96, 64, 2.0, 0.05
    data = scene(
        (width, height),
        {"exposure_s": exposure},
        {"targets": ["cube"], "linear_velocity_m_s": [speed, 0.0, 0.0]},
        extra_assets={"floor": {"plane": {"width_m": 20.0, "length_m": 20.0}, "material": "white"}},
    )
    data["materials"]["white"] = {"diffuse_color": [1.0, 1.0, 1.0], "specular_color": [0.0] * 3, "roughness": 1.0}
    data["materials"]["glow"] = {"diffuse_color": [0.0] * 3, "specular_color": [0.0] * 3}  # a black cube
    data["lights"] = {"sun": {"type": "distant", "intensity": math.pi, "angle_deg": 0.0, "rotation_deg": [45, 0, 0]}}
    data["render"].update({"engine": engine, "max_bounces": 1})
    img = linear(data)
    fx = fx_px(width)
    # floor rows at y = 0.57 … 0.73 m: in the shadow band y ∈ [0.1, 0.9] (cube z ∈ [0.3, 0.7]), seen past the cube
    rows = img[5:12]
    lit = math.cos(math.radians(45.0))
    u0, u1 = width / 2 - 0.2 * fx / HEIGHT_M, width / 2 + 0.2 * fx / HEIGHT_M
    want = lit * (1.0 - coverage(width, u0, u1, speed * exposure * fx / HEIGHT_M))
    assert np.abs(rows.mean(axis=0) - want).max() < 0.03
    assert np.abs(rows.mean(axis=0) - lit * (1.0 - coverage(width, u0, u1, 0.0))).max() > 0.15


def test_zero_exposure_or_nothing_moving_gives_todays_frame_byte_for_byte() -> None:
    """A shutter with no exposure, or with an exposure (or rows) but nothing moving, renders
    every annotator exactly as the same scenario without the key. (The variants keep their
    randomizers: randomizers key every draw, the renderer's included.)"""
    annotators = ("rgb", "HdrColor", *LABELS)
    lit = {"lights": {"sky": {"type": "dome", "intensity": 0.7}, "sun": {"type": "distant", "intensity": 2.0}}}
    floor = {"floor": {"plane": {"width_m": 6.0, "length_m": 6.0}, "material": "grey"}}

    def frame(shutter: dict | None, speed: float) -> dict[str, Any]:
        velocity = {"targets": ["cube"], "linear_velocity_m_s": [speed, 0.0, 0.0]}
        data = scene((48, 32), shutter, velocity, spp=4, annotators=annotators, extra_assets=floor)
        data["materials"]["grey"] = {"diffuse_color": [0.5, 0.5, 0.5], "roughness": 0.5}
        data.update(lit)
        return capture(data)

    rolling = {"kind": "rolling", "exposure_s": 0.02, "line_time_s": 1e-4}
    for shutter, speed in [({"exposure_s": 0.0}, 1.0), ({"exposure_s": 0.05}, 0.0), (rolling, 0.0)]:
        today, got = frame(None, speed), frame(shutter, speed)
        for name in annotators:
            for key, value in today[name]["cam"].items():
                if isinstance(value, np.ndarray):
                    assert value.tobytes() == got[name]["cam"][key].tobytes(), (shutter, speed, name, key)
    assert (
        frame({"exposure_s": 0.05}, 1.0)["rgb"]["cam"]["data"].tobytes()
        != frame(None, 1.0)["rgb"]["cam"]["data"].tobytes()
    )


def test_global_shutter_labels_are_the_still_frame_at_the_exposure_midpoint() -> None:
    annotators = ("rgb", *LABELS)
    moving = capture(
        scene(
            (64, 48),
            {"exposure_s": 0.1},
            {"targets": ["cube"], "linear_velocity_m_s": [1.5, -0.5, 0.0], "angular_velocity_deg_s": [0, 0, 90]},
            spp=4,
            annotators=annotators,
        )
    )
    still = capture(scene((64, 48), None, None, spp=4, annotators=annotators))
    assert not np.array_equal(moving["rgb"]["cam"]["data"], still["rgb"]["cam"]["data"])  # it did blur
    for name in LABELS:
        for key, value in still[name]["cam"].items():
            if (name, key) == ("pointcloud", "pointRgb"):
                continue  # the points' colours are the (blurred) image's
            if isinstance(value, np.ndarray):
                assert value.tobytes() == moving[name]["cam"][key].tobytes(), (name, key)
            else:
                assert value == moving[name]["cam"][key], (name, key)


def test_same_seed_same_blurred_bytes_other_seed_other_noise() -> None:
    data = scene((64, 32), {"exposure_s": 0.05}, {"targets": ["cube"], "linear_velocity_m_s": [2.0, 0.0, 0.0]}, spp=2)
    a, b, c = (capture(data, seed)["rgb"]["cam"]["data"] for seed in (3, 3, 4))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_a_moving_camera_smears_by_the_relative_motion() -> None:
    """The camera moving at −v smears the still cube as the cube moving at +v would."""
    width, height, exposure, speed = 96, 32, 0.05, 2.0
    img = linear(
        scene((width, height), {"exposure_s": exposure}, {"targets": ["cam"], "linear_velocity_m_s": [-speed, 0, 0]})
    )
    profile = img[height // 2 - 3 : height // 2 + 3].mean(axis=0)
    fx, depth = fx_px(width), HEIGHT_M - 0.7
    u0, u1 = width / 2 - 0.2 * fx / depth, width / 2 + 0.2 * fx / depth
    assert np.abs(profile - coverage(width, u0, u1, speed * exposure * fx / depth)).max() < 0.02
    assert np.abs(profile - coverage(width, u0, u1, 0.0)).max() > 0.2


def test_a_turning_camera_smears_by_the_angle_it_turns_whatever_the_depth() -> None:
    """Yawing about its own y axis by ω·t moves an image point at angle α off-axis from
    fx·tan(α − ωt/2) to fx·tan(α + ωt/2): a smear set by the angle, not the depth."""
    width, height, exposure = 96, 32, 0.05
    omega = math.radians(60.0)  # deg/s about world +y, which is the camera's +y here
    fx = fx_px(width)
    img = linear(
        scene((width, height), {"exposure_s": exposure}, {"targets": ["cam"], "angular_velocity_deg_s": [0, 60, 0]})
    )
    profile = img[height // 2 - 7 : height // 2 + 7].mean(axis=0)
    depth, half = HEIGHT_M - 0.7, 0.2
    alpha = math.atan(half / depth)
    want = fx * (math.tan(alpha + omega * exposure / 2) - math.tan(alpha - omega * exposure / 2))
    u0, u1 = width / 2 - half * fx / depth, width / 2 + half * fx / depth
    lengths = np.arange(0.0, 2 * want, 0.01)
    fitted = float(lengths[int(np.argmin([np.sum((profile - coverage(width, u0, u1, L)) ** 2) for L in lengths]))])
    assert fitted == pytest.approx(want, abs=0.1), (fitted, want)


# --------------------------------------------------------------------------- rolling shutter


def _face_mask(
    width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float], depth: float, shift: np.ndarray
) -> np.ndarray:
    """Pixels whose centre ray meets the horizontal rectangle ``x_range`` × ``y_range`` at ``depth``
    below the camera, the rectangle shifted along x by ``shift[row]`` metres (relative to the camera)."""
    fx = fx_px(width)
    u = np.arange(width) + 0.5
    v = np.arange(height) + 0.5
    x = (u[None, :] - width / 2) * depth / fx
    y = -(v[:, None] - height / 2) * depth / fx
    sx = shift[:, None]
    return (x >= x_range[0] + sx) & (x <= x_range[1] + sx) & (y >= y_range[0]) & (y <= y_range[1])


@pytest.mark.parametrize("mover", ["cube", "cam"])
def test_rolling_shutter_labels_are_exact_per_row(mover: str) -> None:
    """Each row's labels are the still scene at that row's time: the moving cube's mask shears
    by v·line_time·fx/z per row; an occluder's edge stays put (or shears too, when it is the
    camera that moves); boxes, the occlusion ratio and the amodal mask come from those per-row
    masks."""
    width, height, line_time, speed = 64, 48, 1e-3, 5.0
    half, depth_top = 0.4, HEIGHT_M - 0.9
    plate = {"plane": {"width_m": 0.9, "length_m": 1.0}, "position_m": [-0.55, 0.0, 1.5]}  # no sides to graze
    velocity = [speed if mover == "cube" else -speed, 0.0, 0.0]
    out = capture(
        scene(
            (width, height),
            {"kind": "rolling", "exposure_s": 0.0, "line_time_s": line_time},
            {"targets": [mover], "linear_velocity_m_s": velocity},
            cube_m=2 * half,
            annotators=(
                "instance_segmentation",
                "distance_to_image_plane",
                "bounding_box_2d_tight",
                "bounding_box_2d_loose",
                "occlusion",
                "instance_segmentation_amodal",
            ),
            extra_assets={"plate": plate},
        )
    )
    t_row = (np.arange(height) + 0.5 - height / 2) * line_time
    shift = speed * t_row  # the cube relative to the camera
    cube = _face_mask(width, height, (-half, half), (-half, half), depth_top, shift)
    plate_shift = np.zeros(height) if mover == "cube" else shift
    plate_mask = _face_mask(width, height, (-1.0, -0.1), (-0.5, 0.5), HEIGHT_M - 1.5, plate_shift)
    visible = cube & ~plate_mask
    ids = out["instance_segmentation"]["cam"]
    cube_id = next(k for k, v in ids["idToLabels"].items() if v == "/World/cube")
    np.testing.assert_array_equal(ids["data"] == cube_id, visible)
    # the shear is there: the right edge moves by speed·line_time·fx/z per row
    rows = np.flatnonzero(visible.any(axis=1))
    right = np.array([np.flatnonzero(visible[r]).max() for r in rows])
    assert right[-1] - right[0] >= speed * line_time * fx_px(width) / depth_top * (rows[-1] - rows[0]) - 1
    depth = out["distance_to_image_plane"]["cam"]["data"]
    assert np.allclose(depth[visible], depth_top, atol=1e-5)
    loose = out["bounding_box_2d_loose"]["cam"]["data"][0]
    tight = out["bounding_box_2d_tight"]["cam"]["data"][0]
    for box, mask in ((loose, cube), (tight, visible)):
        r, c = np.nonzero(mask)
        assert (box["x_min"], box["y_min"], box["x_max"], box["y_max"]) == (c.min(), r.min(), c.max(), r.max())
    from scenesmith.sensors.outputs import amodal_masks

    np.testing.assert_array_equal(
        amodal_masks(out["instance_segmentation_amodal"]["cam"], height, width)[cube_id], cube
    )
    ratio = 1.0 - visible.sum() / cube.sum()
    assert 0.05 < ratio < 0.95
    assert out["occlusion"]["cam"]["data"][0]["occlusionRatio"] == pytest.approx(ratio, abs=1e-6)
    assert tight["occlusionRatio"] == pytest.approx(ratio, abs=1e-6)


@pytest.mark.parametrize("lens", [None, {"model": "fisheyeOpenCV", "k1": 0.1, "k2": -0.02}])
def test_rolling_shutter_occlusion_pass_windows_miss_nothing(lens: dict | None, monkeypatch: Any) -> None:
    """The rolling shutter's occlusion pass casts each object over the window it sweeps
    (per-row projections; through a lens, the bounds grown by the motion): its loose boxes and
    occlusion ratios equal those of casting every pixel, for a turning, moving object seen by a
    turning, moving camera."""
    from scenesmith.runtime.embedded import annotators

    plate = {"plane": {"width_m": 0.9, "length_m": 1.0}, "position_m": [-0.55, 0.0, 1.5], "semantics": {"class": "p"}}
    data = scene(
        (64, 48),
        {"kind": "rolling", "exposure_s": 0.0, "line_time_s": 1e-3},
        {"targets": ["cube"], "linear_velocity_m_s": [12.0, -8.0, 1.0], "angular_velocity_deg_s": [20, -30, 400]},
        cube_m=0.8,
        annotators=("bounding_box_2d_loose", "occlusion"),
        extra_assets={"plate": plate},
    )
    data["randomizers"]["shake"] = {
        "kind": "velocity",
        "targets": ["cam"],
        "linear_velocity_m_s": [-2.0, 3.0, 0.0],
        "angular_velocity_deg_s": [15.0, 10.0, -90.0],
    }
    if lens is not None:
        data["cameras"]["cam"]["lens"] = lens
    swept = capture(data)
    monkeypatch.setattr(annotators, "swept_window", lambda inst, matrix, model, *_: (0, 0, model.width, model.height))
    full = capture(data)
    assert len(swept["bounding_box_2d_loose"]["cam"]["data"]) == 2
    for name in ("bounding_box_2d_loose", "occlusion"):
        assert swept[name]["cam"]["data"].tobytes() == full[name]["cam"]["data"].tobytes(), name


# --------------------------------------------------------------------------- motion vectors


def test_motion_vectors_are_the_projected_motion_over_the_frame_interval() -> None:
    """Replicator's MotionVectors: where each pixel's surface was one frame interval ago,
    minus where it is, in pixels (x left positive, y up positive): the cube's drawn velocity
    (translation and spin about its vertical axis) projected through the camera; zero on the
    still floor."""
    width, height, interval = 64, 48, 0.1  # physics.episode.capture_interval_s, its default
    v, w_deg = np.array([1.2, -0.7, 0.0]), 45.0
    floor = {"floor": {"plane": {"width_m": 8.0, "length_m": 8.0}, "material": "glow"}}
    out = capture(
        scene(
            (width, height),
            None,
            {"targets": ["cube"], "linear_velocity_m_s": v.tolist(), "angular_velocity_deg_s": [0.0, 0.0, w_deg]},
            cube_m=0.8,
            annotators=("motion_vectors", "instance_segmentation"),
            extra_assets=floor,
        )
    )
    mv = out["motion_vectors"]["cam"]["data"]
    assert mv.dtype == np.float32 and mv.shape == (height, width, 4)
    assert not mv[..., 2:].any()
    fx, depth = fx_px(width), HEIGHT_M - 0.9
    rr, cc = np.mgrid[0:height, 0:width]
    x = (cc + 0.5 - width / 2) * depth / fx
    y = -(rr + 0.5 - height / 2) * depth / fx
    a = -math.radians(w_deg) * interval  # turned back by the interval, about the cube's origin (0, 0)
    x0 = math.cos(a) * x - math.sin(a) * y - v[0] * interval
    y0 = math.sin(a) * x + math.cos(a) * y - v[1] * interval
    want_x = (width / 2 + fx * x0 / depth) - (cc + 0.5)
    want_y = (height / 2 - fx * y0 / depth) - (rr + 0.5)
    on_cube = out["instance_segmentation"]["cam"]["data"] >= 2
    assert on_cube.sum() > 200
    np.testing.assert_allclose(mv[..., 0][on_cube], want_x[on_cube], atol=2e-3)
    np.testing.assert_allclose(mv[..., 1][on_cube], want_y[on_cube], atol=2e-3)
    assert not mv[~on_cube].any()
    # signs as Replicator documents them (left and up positive): this cube moves right and down
    centre = mv[height // 2, width // 2]
    assert centre[0] < 0 and centre[1] < 0


def test_physics_bodies_move_at_their_simulated_velocity() -> None:
    """With physics, a body's velocity during the exposure is the simulation's: a free body
    launched at v in zero gravity, captured at its start (no settling), has motion vectors of
    −v·interval·fx/z and smears over v·t·fx/z."""
    width, height, speed, exposure = 96, 32, 2.0, 0.05
    data = scene((width, height), {"exposure_s": exposure}, None, annotators=("rgb", "motion_vectors"))
    data["assets"]["cube"]["physics"] = {"body": "dynamic", "linear_velocity_m_s": [speed, 0.0, 0.0]}
    data["physics"] = {"enabled": True, "gravity_m_s2": [0.0, 0.0, 0.0], "settle": None}
    out = capture(data)
    fx, depth = fx_px(width), HEIGHT_M - 0.7
    mv = out["motion_vectors"]["cam"]["data"][height // 2, width // 2]
    assert mv[0] == pytest.approx(-speed * 0.1 * fx / depth, abs=1e-3) and mv[1] == pytest.approx(0.0, abs=1e-6)
    backend, params = built(data)
    profile = backend.render_linear(params, "cam")[height // 2 - 3 : height // 2 + 3, :, 0].mean(axis=0)
    u0, u1 = width / 2 - 0.2 * fx / depth, width / 2 + 0.2 * fx / depth
    assert np.abs(profile - coverage(width, u0, u1, speed * exposure * fx / depth)).max() < 0.02


# --------------------------------------------------------------------------- lineage, scenario, Isaac


def test_drawn_velocities_are_lineage_and_drive_the_frame() -> None:
    data = scene(
        (64, 48),
        None,
        {"targets": ["cube"], "linear_velocity_m_s": {"uniform": {"lower": [-1.0, -1.0, -1.0], "upper": [1.0] * 3}}},
        annotators=("motion_vectors",),
        spp=1,
    )
    resolved = resolve(build(data))
    drawn = [sample(resolved, 0, f).draws["motion"]["values"]["/World/cube"]["linear_velocity"] for f in (0, 1)]
    assert not np.allclose(drawn[0], drawn[1])
    assert np.allclose(sample(resolved, 0, 1).draws["motion"]["values"]["/World/cube"]["linear_velocity"], drawn[1])
    backend, params = built(data, 0, 1)
    payload = backend.capture(params)
    lineage = payload["scenesmith"]["frame_params"]
    v = np.array(lineage["prims"]["/World/cube"]["linear_velocity"])
    assert np.allclose(v, drawn[1]) and json.dumps(lineage)  # plain JSON
    # the pixel's top-face point one interval earlier, at the depth it had then, projected
    fx, depth, interval = fx_px(64), HEIGHT_M - 0.7, 0.1
    u, v_px = 34.5, 26.5  # pixel (row 26, column 34), on the cube's top face
    x, y = (u - 32) * depth / fx, -(v_px - 24) * depth / fx
    before = depth + v[2] * interval
    mv = payload["annotators"]["motion_vectors"]["cam"]["data"][26, 34]
    assert mv[0] == pytest.approx(32 + fx * (x - v[0] * interval) / before - u, abs=1e-3)
    assert mv[1] == pytest.approx(24 - fx * (y - v[1] * interval) / before - v_px, abs=1e-3)


@pytest.mark.parametrize(
    ("shutter", "message"),
    [
        ({"kind": "rolling", "exposure_s": 0.01}, "cameras.cam.shutter: a rolling shutter needs line_time_s"),
        ({"exposure_s": 0.01, "line_time_s": 1e-5}, "cameras.cam.shutter.line_time_s: line_time_s is for rolling"),
        ({"exposure_s": 2.0}, "cameras.cam.shutter.exposure_s"),
        ({"exposure_s": -0.1}, "cameras.cam.shutter.exposure_s"),
        ({"exposure_ms": 10}, "did you mean 'exposure_s'"),
    ],
)
def test_bad_shutters_are_refused_at_their_key(shutter: dict, message: str) -> None:
    with pytest.raises(BadInputError) as err:
        build(scene(shutter=shutter))
    assert message in str(err.value)


def test_velocity_randomizer_refuses_physics_bodies_and_bad_shapes() -> None:
    data = scene(velocity={"targets": ["cube"], "linear_velocity_m_s": [1.0, 0.0, 0.0]})
    data["assets"]["cube"]["physics"] = {"body": "dynamic"}
    data["physics"] = {"enabled": True}
    with pytest.raises(BadInputError) as err:
        build(data)
    assert "randomizers.motion.targets" in str(err.value) and "dynamic body" in str(err.value)
    with pytest.raises(BadInputError) as err:
        build(scene(velocity={"targets": ["cube"], "linear_velocity_m_s": [1.0, 0.0]}))
    assert "randomizers.motion.linear_velocity_m_s" in str(err.value) and "3 components" in str(err.value)
    with pytest.raises(BadInputError) as err:
        build(scene(velocity={"targets": ["cube"]}))
    assert "needs linear_velocity_m_s or angular_velocity_deg_s" in str(err.value)


def test_isaac_authors_the_exposure_as_usd_shutter_times_and_refuses_motion_by_name() -> None:
    import tomllib
    from scenesmith.runtime.backend import check_supported
    from scenesmith.runtime.isaac.backend import CAPABILITIES
    from scenesmith.runtime.usd.stage import author_stage

    data = scene(
        shutter={"exposure_s": 0.02},
        velocity={"targets": ["cube"], "linear_velocity_m_s": [1.0, 0.0, 0.0]},
        annotators=("rgb", "motion_vectors"),
    )
    resolved = resolve(build(data))
    stage = author_stage(resolved)
    cam = stage.GetPrimAtPath("/World/cam")
    tcps = stage.GetTimeCodesPerSecond()
    assert cam.GetAttribute("shutter:open").Get() == pytest.approx(-0.01 * tcps)
    assert cam.GetAttribute("shutter:close").Get() == pytest.approx(0.01 * tcps)
    assert (
        not author_stage(resolve(build(scene()))).GetPrimAtPath("/World/cam").GetAttribute("shutter:open").IsAuthored()
    )
    with pytest.raises(BadInputError) as err:
        check_supported(resolved, CAPABILITIES, "isaac")
    text = str(err.value)
    for key in ("cameras.cam.shutter", "randomizers.motion.kind", "cameras.cam.annotators[1]"):
        assert key in text
    assert "paused instant" in text
    cited = {
        e["name"]: e["line"] for e in tomllib.loads((REPO / "extension/api_citations.toml").read_text())["usd_schema"]
    }
    assert 'GetAttribute("shutter:open")' in cited["shutter:open (UsdGeom.Camera; exposure_s, centred on the frame)"]
    assert 'GetAttribute("shutter:close")' in cited["shutter:close (UsdGeom.Camera; exposure_s, centred on the frame)"]


# --------------------------------------------------------------------------- end to end


def test_blur_rolling_shutter_and_motion_vectors_through_generate_into_every_writer(tmp_path: Path) -> None:
    """``generate`` with a rolling shutter, an exposure, drawn velocities and motion vectors into
    every shipped writer (HDF5, COCO, pose JSON, point clouds, BOP, YOLO, KITTI, VOC, webdataset):
    HDF5 stores motion_vectors and the drawn velocities as lineage, COCO boxes enclose their
    (per-row) masks, ``verify`` passes, and frame 1 regenerated alone is byte-identical."""
    import h5py
    from pycocotools.coco import COCO
    from scenesmith.runtime.single_frame import capture_frame
    from scenesmith.scenarios.loader import parse
    from scenesmith.writers.hdf5_reader import read_frames

    text = (REPO / "tests/scenarios/small_tabletop.yaml").read_text()
    moving = text.replace(
        "    focal_length_mm: 18.0\n",
        "    focal_length_mm: 18.0\n"
        "    shutter: {kind: rolling, exposure_s: 0.02, line_time_s: 2.0e-4}\n"
        "    annotators: [rgb, distance_to_image_plane, instance_segmentation, semantic_segmentation,\n"
        "                 bounding_box_2d_tight, bounding_box_2d_loose, bounding_box_3d, occlusion,\n"
        "                 camera_params, motion_vectors]\n",
    ).replace(
        "randomizers:\n",
        "randomizers:\n"
        "  object_motion:\n"
        "    kind: velocity\n"
        "    targets: [mug, can, ball]\n"
        "    linear_velocity_m_s: {uniform: {lower: [-0.8, -0.8, 0.0], upper: [0.8, 0.8, 0.0]}}\n"
        "    angular_velocity_deg_s: {uniform: {lower: [0.0, 0.0, -90.0], upper: [0.0, 0.0, 90.0]}}\n"
        "  handheld:\n"
        "    kind: velocity\n"
        "    targets: [front]\n"
        "    angular_velocity_deg_s: {normal: {mean: [0.0, 0.0, 0.0], std: [3.0, 3.0, 3.0]}}\n",
    )
    moving = moving.replace(
        "output:\n  frames: 8\n  shard_size: 3\n",
        "output:\n  frames: 8\n  shard_size: 3\n  splits: {train: 0.5, val: 0.5}\n"
        "  writers: {bop: true, yolo: true, kitti: true, voc: true, webdataset: true, pointcloud: {format: pcd}}\n",
    )
    assert moving.count("velocity") >= 4 and "webdataset" in moving
    scenario = tmp_path / "moving.yaml"
    scenario.write_text(moving)
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "--asset-root", str(EXAMPLES), "-o", str(out), "--frames", "2",
                     "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    shard = sorted((out / "hdf5").glob("*.h5"))[0]
    with h5py.File(shard, "r") as f:
        assert f["cameras/front/motion_vectors/data"].shape == (2, 72, 96, 4)
        lineage = json.loads(f["frame_params"][1])
    assert "angular_velocity" in lineage["draws"]["handheld"]["values"]["/World/front"]
    assert "linear_velocity" in lineage["draws"]["object_motion"]["values"]["/World/mug_000"]
    frames = list(read_frames(shard))
    flow = frames[1]["annotators"]["motion_vectors"]["front"]["data"]
    assert np.isfinite(flow).all() and np.abs(flow[..., :2]).max() > 0.1
    for folder in ("bop", "yolo", "kitti", "voc", "webdataset", "lidar", "pose"):
        assert any(p.is_file() for p in (out / folder).rglob("*")), folder
    anns = {}
    for split in ("train", "val"):
        path = out / f"coco/annotations/instances_{split}.json"
        if path.exists():
            coco = COCO(str(path))
            anns.update({(split, k): v for k, v in coco.anns.items()})
            for ann in coco.anns.values():
                rows, cols = np.nonzero(coco.annToMask(ann))
                x, y, w, h = ann["bbox"]
                assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
    assert anns
    assert list((out / "pose" / "front").glob("*.json"))
    assert run_cli("verify", str(out)).returncode == 0
    alone = capture_frame(parse(scenario, asset_roots=(EXAMPLES,)), 0, 1)
    for name in ("rgb", "instance_segmentation", "motion_vectors"):
        assert (
            alone["annotators"][name]["front"]["data"].tobytes()
            == frames[1]["annotators"][name]["front"]["data"].tobytes()
        ), name
