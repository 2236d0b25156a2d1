"""LiDAR realism (issue 17): calibrated intensity, dropout by signal, dual returns at depth edges.

Expectations come from geometry and the radar equation's 1/r² law computed here, never from the
model's own functions: the incidence cosine of a plane, the range to it, the signal
S = ρ·cosθ / minReflectance · (minReflectanceRange / r)² of a return, the footprint of a beam.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.scenarios.loader import build, parse
from scenesmith.scenarios.yaml_dump import to_data
from scenesmith.sensors.outputs import LIDAR_ANNOTATOR

PROFILE = "OS1_REV6_32ch10hz1024res"
OS1 = json.loads((REPO / "config" / "lidar_profiles" / f"{PROFILE}.json").read_text())["profile"]


def scan_of(scenario: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    payload = capture_frame(build(scenario, base_dir=REPO), seed, 0)
    return payload["annotators"][LIDAR_ANNOTATOR]["lidar"]


def scene(assets: dict, materials: dict, **lidar: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "assets": assets,
        "materials": materials,
        "lidars": {"lidar": {"profile": PROFILE, "noise": False, **lidar}},
    }


def wall(x_m: float, material: str, y_m: float = 0.0, half_width_m: float = 150.0) -> dict[str, Any]:
    """A 1 m thick slab whose face towards the sensor (at the origin) is the plane x = x_m."""
    return {
        "cube": {"size_m": 1.0},
        "position_m": [x_m + 0.5, y_m, 0.0],
        "scale": [1.0, 2 * half_width_m, 300.0],
        "material": material,
    }


def directions(out: dict[str, Any]) -> np.ndarray:
    az, el = out["azimuth"].astype(np.float64), out["elevation"].astype(np.float64)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)


# --------------------------------------------------------------------------- intensity


def test_a_darker_material_returns_lower_intensity_at_the_same_range_and_angle() -> None:
    # two walls, mirror images across y = 0: dark on the left (y > 0), bright on the right
    assets = {"dark": wall(5.0, "dark", 50.0, 50.0), "bright": wall(5.0, "bright", -50.0, 50.0)}
    materials = {"dark": {"lidar_reflectance": 0.2}, "bright": {"lidar_reflectance": 0.6}}
    out = scan_of(scene(assets, materials, intensity="calibrated"))
    d = directions(out)
    r = out["distance"].astype(np.float64)
    front = (d[:, 0] > 0.2) & (np.abs(d[:, 1]) > 0.01)  # clear of the seam at y = 0
    cos_inc = d[:, 0]  # the walls' normal is -x
    rho = np.where(d[:, 1] > 0, 0.2, 0.6)
    assert front.sum() > 5000
    # calibrated intensity is the reflectivity rho·cos(theta), whatever the range
    assert np.allclose(out["intensity"][front], (rho * cos_inc)[front], atol=2e-6)
    assert np.allclose(r[front], (5.0 / d[:, 0])[front], atol=1e-4)
    # pairs of returns with the same range and incidence (both fixed by cos(theta) = x/r on a
    # plane): the darker wall's is lower, in the ratio of the reflectances
    dark_i = np.flatnonzero(front & (d[:, 1] > 0))
    bright_i = np.flatnonzero(front & (d[:, 1] < 0))
    bright_i = bright_i[np.argsort(d[bright_i, 0])]
    at = np.clip(np.searchsorted(d[bright_i, 0], d[dark_i, 0]), 0, len(bright_i) - 1)
    match = np.abs(d[bright_i[at], 0] - d[dark_i, 0]) < 1e-5
    dark, bright = dark_i[match], bright_i[at[match]]
    assert len(dark) > 1000
    assert np.allclose(r[dark], r[bright], rtol=1e-4)
    assert np.all(out["intensity"][dark] < out["intensity"][bright])
    assert np.allclose(out["intensity"][dark] / out["intensity"][bright], 0.2 / 0.6, rtol=1e-4)
    # the legacy formula saturates both at 5 m: rho·cos·(55/5)²/0.1 > 1 — the issue's complaint
    legacy = scan_of(scene(assets, materials))
    assert np.all(legacy["intensity"][front] == 1.0)


def test_the_example_scan_has_a_spread_of_intensities() -> None:
    payload = capture_frame(parse(EXAMPLES / "tabletop.yaml"), 0, 0, annotators={"front": ()})
    out = payload["annotators"][LIDAR_ANNOTATOR]["roof_lidar"]
    intensity = out["intensity"].astype(np.float64)
    assert len(intensity) > 5000
    assert out["distance"].max() < OS1["minReflectanceRange"]  # every return is where legacy saturates
    assert np.mean(intensity >= 0.999) < 0.001  # nothing saturates
    low, high = np.percentile(intensity, [1, 99])
    assert high - low > 0.15 and intensity.std() > 0.04 and intensity.max() - intensity.min() > 0.5
    assert len(np.unique(out["intensity"])) > len(intensity) // 2
    # reflectivity is at most the brightest material's albedo luminance (ρ·cosθ ≤ ρ ≤ 0.86)
    assert intensity.max() <= 0.86


def test_calibrated_intensity_refuses_a_mapping_it_cannot_encode(tmp_path: Path) -> None:
    data = json.loads((REPO / "config" / "lidar_profiles" / f"{PROFILE}.json").read_text())
    data["profile"]["intensityMappingType"] = "NONLINEAR"
    (tmp_path / "nonlinear.json").write_text(json.dumps(data))
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nlidars:\n  l: {profile: nonlinear.json, intensity: calibrated}\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert f"{path}:3:" in result.stderr and "lidars.l.intensity" in result.stderr and "NONLINEAR" in result.stderr


# --------------------------------------------------------------------------- dropout


def detection(signal: np.ndarray, width_db: float) -> np.ndarray:
    """The configured curve, written out: logistic in decibels of signal, 50 % at S = 1."""
    return 1.0 / (1.0 + np.exp(-10.0 * np.log10(signal) / width_db))


def test_the_default_width_reproduces_the_os1_datasheet() -> None:
    from scenesmith.scenarios.model import LidarDropoutSpec

    # "55 m @ >50% detection probability", "45 m @ >90%" for a 10 % target (the profile's comment12)
    assert "45 m @ >90% detection probability" in OS1["comment12"] and OS1["minReflectanceRange"] == 55.0
    width = LidarDropoutSpec().width_db
    assert detection(np.array([(55.0 / 45.0) ** 2]), width)[0] == pytest.approx(0.9, abs=0.01)


@pytest.mark.parametrize(("reflectance", "width_db"), [(0.1, 2.0), (0.3, 0.8)])
def test_dropout_rate_follows_the_configured_curve(reflectance: float, width_db: float) -> None:
    # a wall at the profile's threshold range: S = rho/0.1 · cos(theta)·(55/r)², cos(theta) = 55/r
    assets = {"wall": wall(OS1["minReflectanceRange"], "m")}
    materials = {"m": {"lidar_reflectance": reflectance}}
    every = scan_of(scene(assets, materials))
    kept = scan_of(scene(assets, materials, dropout={"width_db": width_db}))
    d = directions(every)
    x0 = OS1["minReflectanceRange"]
    r = x0 / d[:, 0]
    signal = reflectance * (x0 / r) / OS1["minReflectance"] * (x0 / r) ** 2
    p = detection(signal, width_db)
    survived = np.isin(every["index"], kept["index"])
    assert len(every["index"]) > 10000 and p.max() - p.min() > 0.4
    # per band of expected probability, the kept fraction is the curve's within 4 sigma
    edges = np.quantile(p, np.linspace(0, 1, 9))
    band = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 7)
    for b in range(8):
        sel = band == b
        expected, sigma = p[sel].sum(), math.sqrt((p[sel] * (1 - p[sel])).sum())
        assert abs(survived[sel].sum() - expected) < 4 * sigma + 1, (b, survived[sel].sum(), expected, sigma)
    # dropout removes points and touches nothing else: the survivors are the same bytes
    keep = np.flatnonzero(survived)
    for key in ("data", "distance", "intensity", "azimuth", "timestamp", "objectId"):
        assert kept[key].tobytes() == every[key][keep].tobytes(), key


# --------------------------------------------------------------------------- dual returns

BOX_X, WALL_X = 5.0, 10.0
DIVERGENCE_MRAD, BEAM_M = 20.0, 0.02


def edge_scene(box: float, back: float, **lidar: Any) -> dict[str, Any]:
    """A 1 × 1 m board 5 m in front of the sensor, a wall at 10 m, their reflectances."""
    assets = {
        "board": {
            "cube": {"size_m": 1.0},
            "position_m": [BOX_X + 0.05, 0.0, 0.0],
            "scale": [0.1, 1.0, 1.0],
            "material": "board",
        },
        "wall": wall(WALL_X, "wall"),
    }
    materials = {"board": {"lidar_reflectance": box}, "wall": {"lidar_reflectance": back}}
    returns = {"divergence_mrad": DIVERGENCE_MRAD, "beam_diameter_m": BEAM_M}
    return scene(assets, materials, intensity="calibrated", returns=returns, **lidar)


def edge_distance(out: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per return: how far its beam's axis meets the board's plane from the board's outline
    (> 0 outside), and the footprint's radius there, stretched by the incidence."""
    d = directions(out)
    p = d * (BOX_X / d[:, 0])[:, None]
    outside = np.maximum(np.abs(p[:, 1:]) - 0.5, 0.0)
    inside = np.minimum(0.5 - np.abs(p[:, 1]), 0.5 - np.abs(p[:, 2]))
    signed = np.where(np.any(np.abs(p[:, 1:]) > 0.5, axis=1), np.linalg.norm(outside, axis=1), -inside)
    radius = BEAM_M / 2 + np.linalg.norm(p, axis=1) * math.tan(DIVERGENCE_MRAD * 1e-3 / 2)
    return signed, radius / d[:, 0]


def test_dual_returns_appear_only_where_the_footprint_straddles_a_depth_edge() -> None:
    out = scan_of(edge_scene(0.9, 0.05))
    assert out["numEchos"] == 2 and out["numReturnsPerScan"] == 2 * 32 * 1024
    ray, echo = out["index"] // 2, out["index"] % 2
    assert np.array_equal(echo, out["echoId"])
    rays, count = np.unique(ray, return_counts=True)
    two = np.isin(ray, rays[count == 2])
    edge, radius = edge_distance(out)
    facing = directions(out)[:, 0] > 0.5
    assert two.sum() > 80  # points: over 40 beams with two echoes
    # a second echo only where the footprint crosses the board's outline …
    assert np.all(np.abs(edge[two]) <= radius[two] * 1.01)
    # … and wherever the footprint's inner half crosses it
    straddle = facing & (np.abs(edge) < 0.5 * radius)
    assert straddle.sum() > 20 and np.all(two[straddle])
    # one echo wherever the whole footprint is on one surface
    assert not np.any(two & (np.abs(edge) > radius * 1.01))
    assert np.sum(facing & ~two) > 5000


@pytest.mark.parametrize(("board", "back", "strongest"), [(0.9, 0.05, "board"), (0.01, 1.0, "wall")])
def test_dual_returns_are_the_strongest_then_the_last_or_second_strongest(
    board: float, back: float, strongest: str
) -> None:
    # received power ∝ share·rho/r²; the board is at 5 m, the wall at 10 m, a share is k/16:
    # (0.9, 0.05): the board's least share beats the wall's most, 0.9/16/25 > 0.05/100;
    # (0.01, 1.0): the wall's least beats the board's most, 1/16/100 > 0.01/25
    out = scan_of(edge_scene(board, back))
    d = directions(out)
    ray = out["index"] // 2
    rays, count = np.unique(ray, return_counts=True)
    two = np.isin(ray, rays[count == 2])
    first, second = two & (out["echoId"] == 0), two & (out["echoId"] == 1)
    board_r, wall_r = BOX_X / d[:, 0], WALL_X / d[:, 0]
    near = np.isclose(out["distance"], board_r, atol=0.01)
    far = np.isclose(out["distance"], wall_r, atol=0.01)
    assert first.sum() == second.sum() > 40
    if strongest == "board":  # strongest (board), then the last (wall)
        assert np.all(near[first]) and np.all(far[second])
    else:  # the strongest is the last (wall): then the second strongest (board)
        assert np.all(far[first]) and np.all(near[second])
    # each echo is placed on its beam's axis at its range
    assert np.allclose(out["data"], d * out["distance"][:, None].astype(np.float64), atol=1e-4)


def test_a_plane_at_grazing_incidence_gives_one_echo_per_beam() -> None:
    # 1.5 m above a floor, a 20 mrad beam at 60 m lights ~1.2 m of floor spanning ~50 m of range:
    # one stretched pulse, not an echo per gap between sub-rays
    floor = {"floor": {"plane": {"width_m": 400.0, "length_m": 400.0}, "position_m": [0.0, 0.0, -1.5], "material": "m"}}
    returns = {"divergence_mrad": DIVERGENCE_MRAD, "min_separation_m": 0.05}
    out = scan_of(scene(floor, {"m": {"lidar_reflectance": 0.3}}, returns=returns))
    d = directions(out)
    assert len(out["distance"]) > 5000 and out["distance"].max() > 50
    assert not np.any(out["echoId"])  # no second echo anywhere
    assert np.all(d[:, 2] < 0)
    # the echo's range lies within the floor ranges its footprint spans: 1.5 m / sin(depression)
    # at the depression angles of the beam's lower and upper rim
    depression = -out["elevation"].astype(np.float64)
    half = DIVERGENCE_MRAD * 1e-3 / 2
    clear = depression > half * 1.5
    near, far = 1.5 / np.sin(depression + half), 1.5 / np.sin(depression - half)
    r = out["distance"].astype(np.float64)
    assert clear.sum() > 5000 and np.all(((near <= r * 1.0001) & (r <= far * 1.0001))[clear])


def test_models_off_leave_the_single_return_payload() -> None:
    out = scan_of(scene({"wall": wall(8.0, "m")}, {"m": {"lidar_reflectance": 0.5}}))
    assert out["numEchos"] == 1 and "echoId" not in out
    assert out["numReturnsPerScan"] == 32 * 1024


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_scan_and_model_parameters_change_only_the_lidar() -> None:
    doc = parse(REPO / "tests" / "scenarios" / "small_tabletop.yaml", asset_roots=(EXAMPLES,))
    assert doc.scenario.lidars["roof_lidar"].returns is not None  # the realistic set is on
    first = capture_frame(doc, 3, 0)["annotators"]
    again = capture_frame(doc, 3, 0)["annotators"]
    data = to_data(doc.scenario)
    data["lidars"]["roof_lidar"]["dropout"] = {"width_db": 3.0}
    data["lidars"]["roof_lidar"]["returns"]["sub_rays"] = 9
    data["lidars"]["roof_lidar"]["returns"]["divergence_mrad"] = 6.0
    changed = capture_frame(build(data, base_dir=EXAMPLES), 3, 0)["annotators"]

    def arrays(block: dict[str, Any]) -> dict[tuple[str, str, str], bytes]:
        return {
            (anno, rp, key): np.ascontiguousarray(value).tobytes()
            for anno, per_rp in block.items()
            for rp, output in per_rp.items()
            if isinstance(output, dict)
            for key, value in output.items()
            if isinstance(value, np.ndarray)
        }

    a, b, c = arrays(first), arrays(again), arrays(changed)
    assert a == b  # same seed: every array byte-identical
    lidar = {k for k in a if k[0] == LIDAR_ANNOTATOR}
    cameras = set(a) - lidar
    assert len(cameras) > 10 and {k: a[k] for k in cameras} == {k: c[k] for k in cameras}
    assert a[(LIDAR_ANNOTATOR, "roof_lidar", "data")] != c[(LIDAR_ANNOTATOR, "roof_lidar", "data")]


def test_model_parameters_are_distributions_drawn_per_frame_into_the_lineage() -> None:
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.sampler import sample

    lidar = {
        "profile": PROFILE,
        "dropout": {"width_db": {"uniform": {"lower": 0.5, "upper": 3.0}}},
        "returns": {"divergence_mrad": {"uniform": {"lower": [1.0, 0.5], "upper": [4.0, 2.0]}}, "sub_rays": 4},
    }
    scenario = {"version": 1, "lidars": {"l": lidar, "plain": {"profile": PROFILE, "intensity": "calibrated"}}}
    resolved = resolve(build(scenario, base_dir=REPO))
    drawn = [sample(resolved, 7, frame).sensors for frame in range(4)]
    widths = [d["l"]["dropout"]["width_db"] for d in drawn]
    divergences = np.array([d["l"]["returns"]["divergence_mrad"] for d in drawn])
    assert len(set(widths)) == 4 and all(0.5 <= w <= 3.0 for w in widths)
    assert np.all((divergences >= [1.0, 0.5]) & (divergences <= [4.0, 2.0])) and len(np.unique(divergences)) == 8
    assert drawn[0]["l"]["returns"]["beam_diameter_m"] == 0.0 and drawn[0]["l"]["returns"]["min_separation_m"] is None
    assert "plain" not in drawn[0]  # intensity has no parameters to draw
    assert sample(resolved, 7, 2).sensors == drawn[2]  # the same frame draws the same values


# --------------------------------------------------------------------------- writers, budget, Isaac


def test_generate_writes_echo_ids_to_hdf5_and_point_clouds(tmp_path: Path) -> None:
    scene_file = tmp_path / "scene.yaml"
    scene_file.write_text(
        "version: 1\n"
        "assets:\n"
        "  board: {cube: {}, position_m: [3.0, 0.0, 0.0], scale: [0.1, 1.0, 1.0], semantics: {class: board}}\n"
        "  wall: {cube: {}, position_m: [8.0, 0.0, 0.0], scale: [1.0, 40.0, 40.0]}\n"
        "lidars:\n"
        "  a:\n"
        "    simple: {channels: 16, azimuth_steps: 720, elevation_deg: [-10.0, 10.0]}\n"
        "    returns: {divergence_mrad: 20.0, sub_rays: 8}\n"
        "output:\n  writers: {hdf5: {}, pointcloud: {format: ply}}\n"
    )
    out = tmp_path / "run"
    result = run_cli("generate", str(scene_file), "-o", str(out), "--frames", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    import h5py
    import open3d as o3d

    with h5py.File(next((out / "hdf5").glob("*.h5")), "r") as f:
        group = f["lidars/a/IsaacCreateRTXLidarScanBuffer"]
        echo = group["echoId/values"][:]
        index = group["index/values"][:]
        assert json.loads(f["lidars/a"].attrs["sensor_models"])["models"] == ["returns"]  # drawn per frame
        assert json.loads(f["frame_params"][0])["sensors"]["a"]["returns"]["divergence_mrad"] == [20.0, 20.0]
    assert echo.dtype == np.uint8 and np.array_equal(echo, index % 2) and 0 < echo.sum() < len(echo) / 4
    cloud = o3d.t.io.read_point_cloud(str(out / "lidar" / "a" / "000000.ply"))
    assert np.array_equal(cloud.point.echo_id.numpy().ravel(), echo)


def test_sub_rays_count_against_the_frame_memory_budget(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nlidars:\n"
        "  a: {profile: Velodyne_VLS128, returns: {divergence_mrad: 3.0, sub_rays: 256}}\n"
        "  b: {profile: Velodyne_VLS128, returns: {divergence_mrad: 3.0, sub_rays: 256}}\n"
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "frame memory" in result.stderr and "sub-rays" in result.stderr
    path.write_text(path.read_text().replace("sub_rays: 256", "sub_rays: 16"))
    assert run_cli("validate", str(path)).returncode == 0


def test_the_isaac_backend_refuses_each_model_by_key() -> None:
    from scenesmith.runtime.backend import check_supported
    from scenesmith.runtime.isaac.backend import CAPABILITIES
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.sensors.errors import BadInputError

    lidar = {"intensity": "calibrated", "dropout": {}, "returns": {"divergence_mrad": 2.0}}
    doc = build({"version": 1, "lidars": {"l": {"profile": PROFILE, **lidar}}}, base_dir=REPO)
    with pytest.raises(BadInputError) as refused:
        check_supported(resolve(doc), CAPABILITIES, "isaac")
    issues = refused.value.issues
    assert [i.key for i in issues] == ["lidars.l.intensity", "lidars.l.dropout", "lidars.l.returns"]
    assert all("RTX LiDAR" in (i.expected or "") for i in issues)
    check_supported(
        resolve(build({"version": 1, "lidars": {"l": {"profile": PROFILE}}}, base_dir=REPO)), CAPABILITIES, "isaac"
    )
