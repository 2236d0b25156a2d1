"""LiDAR: Isaac Sim profiles loaded unchanged, the scan pattern, analytic scans, bad profiles."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.scenarios.loader import build
from scenesmith.sensors.lidar import load_profile, scan_pattern
from scenesmith.sensors.outputs import LIDAR_ANNOTATOR

PROFILES = REPO / "config" / "lidar_profiles"
BAD = REPO / "tests" / "corpus" / "bad_profiles"


def raw(name: str) -> dict[str, Any]:
    return json.loads((PROFILES / f"{name}.json").read_text())["profile"]


# --------------------------------------------------------------------------- profiles and pattern


def test_every_isaac_fixture_loads_unchanged(fixtures_dir: Path) -> None:
    files = sorted((fixtures_dir / "lidar_profiles" / "isaacsim-5.1").glob("*.json"))
    assert len(files) == 6
    for path in files:
        shipped = PROFILES / path.name
        assert shipped.read_bytes() == path.read_bytes()  # shipped copies are byte-identical
        assert load_profile(path).rays_per_scan > 0


@pytest.mark.parametrize(
    ("name", "rays"),
    [
        ("OS1_REV7_128ch10hz1024res", 131_072),
        ("OS1_REV6_32ch10hz1024res", 32_768),
        ("Hesai_XT32_SD10", 64_000),
        ("Debug_Rotary", 36),
        ("Velodyne_VLS128", 240_128),
    ],
)
def test_rays_per_scan(name: str, rays: int) -> None:
    profile = load_profile(PROFILES / f"{name}.json")
    assert profile.rays_per_scan == rays
    assert len(scan_pattern(profile)) == rays


@pytest.mark.parametrize("name", ["Hesai_XT32_SD10", "OS1_REV7_128ch10hz1024res"])
def test_elevations_and_azimuth_spacing_match_the_json(name: str) -> None:
    p = raw(name)
    pattern = scan_pattern(load_profile(PROFILES / f"{name}.json"))
    want_el = sorted(set(p["emitterStates"][0]["elevationDeg"]))
    got_el = sorted(set(np.round(np.degrees(pattern.elevation_rad), 6)))
    assert np.allclose(got_el, want_el, atol=1e-6)
    emitter0 = pattern.emitter == 0
    az = np.unwrap(pattern.azimuth_rad[emitter0])
    spacing = np.degrees(np.diff(az))
    step = 360.0 * p["scanRateBaseHz"] / p["reportRateBaseHz"]  # degrees the head turns per firing
    assert np.allclose(spacing, -step, atol=1e-6)  # both profiles rotate CW: azimuth decreases


def test_rotation_direction_sets_the_sign(tmp_path: Path) -> None:
    data = json.loads((PROFILES / "Debug_Rotary.json").read_text())
    data["profile"]["rotationDirection"] = "CCW"
    (tmp_path / "ccw.json").write_text(json.dumps(data))
    cw = np.unwrap(scan_pattern(load_profile(PROFILES / "Debug_Rotary.json")).azimuth_rad)
    ccw = np.unwrap(scan_pattern(load_profile(tmp_path / "ccw.json")).azimuth_rad)
    assert np.all(np.diff(cw) < 0) and np.all(np.diff(ccw) > 0)
    assert np.allclose(np.degrees(np.diff(ccw)), 10.0)  # 36 firings per 360°


@pytest.mark.parametrize("name", ["OS1_REV7_128ch10hz1024res", "Hesai_XT32_SD10", "Debug_Rotary"])
def test_timestamps_rise_and_span_one_scan(name: str) -> None:
    p = raw(name)
    t = scan_pattern(load_profile(PROFILES / f"{name}.json")).time_ns
    assert np.all(np.diff(t) >= 0)
    period = 1e9 / p["scanRateBaseHz"]
    firings = math.floor(p["reportRateBaseHz"] / p["scanRateBaseHz"])
    assert (firings - 1) * 1e9 / p["reportRateBaseHz"] - 1 <= t.max() - t.min() < period  # integer ns


def test_solid_state_pattern_is_the_emitter_grid() -> None:
    p = raw("Simple_Example_Solid_State")
    pattern = scan_pattern(load_profile(PROFILES / "Simple_Example_Solid_State.json"))
    state = p["emitterStates"][0]
    want = sorted(zip(state["azimuthDeg"], state["elevationDeg"], state["fireTimeNs"]))
    got = sorted(
        zip(
            np.round(np.degrees(pattern.azimuth_rad), 9),
            np.round(np.degrees(pattern.elevation_rad), 9),
            pattern.time_ns.tolist(),
        )
    )
    assert np.allclose(np.array(got, dtype=float), np.array(want, dtype=float))


# --------------------------------------------------------------------------- analytic scans


def lidar_scene(
    assets: dict, profile: str = "OS1_REV6_32ch10hz1024res", noise: bool = False, **lidar: Any
) -> dict[str, Any]:
    return {"version": 1, "assets": assets, "lidars": {"lidar": {"profile": profile, "noise": noise, **lidar}}}


def scan_of(scenario: dict, base_dir: Path = REPO, seed: int = 0) -> dict[str, Any]:
    payload = capture_frame(build(scenario, base_dir=base_dir), seed, 0)
    return payload["annotators"][LIDAR_ANNOTATOR]["lidar"]


WALL = {"wall": {"cube": {"size_m": 1.0}, "position_m": [10.5, 0.0, 0.0], "scale": [1.0, 60.0, 60.0]}}


def test_wall_ten_metres_away_without_noise() -> None:
    out = scan_of(lidar_scene(WALL))
    front = out["data"][:, 0] > 0
    az, el = out["azimuth"][front].astype(np.float64), out["elevation"][front].astype(np.float64)
    want = 10.0 / (np.cos(az) * np.cos(el))
    assert front.sum() > 5000
    assert np.allclose(out["distance"][front], want, atol=1e-4)
    assert np.allclose(out["data"][front][:, 0], 10.0, atol=1e-4)


@pytest.mark.parametrize("reflectance", [0.05, 0.1])
def test_intensity_follows_the_design_formula(reflectance: float) -> None:
    # Far enough (60 m vs minReflectanceRange 55 m) that the formula does not saturate.
    wall = {
        "wall": {"cube": {"size_m": 1.0}, "position_m": [60.5, 0.0, 0.0], "scale": [1.0, 300.0, 300.0], "material": "m"}
    }
    out = scan_of({**lidar_scene(wall), "materials": {"m": {"lidar_reflectance": reflectance}}})
    p = raw("OS1_REV6_32ch10hz1024res")
    front = out["data"][:, 0] > 0
    r = out["distance"][front].astype(np.float64)
    cos_inc = 60.0 / r  # wall normal is −x; incidence cosine = x / r
    want = np.clip(reflectance * cos_inc * (p["minReflectanceRange"] / r) ** 2 / p["minReflectance"], 0, 1)
    assert np.allclose(out["intensity"][front], want, atol=1e-5)
    assert 0 < out["intensity"][front].min() < out["intensity"][front].max() < 1


def test_a_box_of_known_size_gives_its_points_and_labels() -> None:
    scenario = lidar_scene(
        {"crate": {"cube": {"size_m": 1.0}, "position_m": [4.0, 0.5, 0.0], "semantics": {"class": "crate"}}}
    )
    out = scan_of(scenario)
    crate_id = next(k for k, v in out["idToLabels"].items() if v == "/World/crate")
    on = out["objectId"] == crate_id
    assert on.sum() > 50
    local = out["data_world"][on].astype(np.float64) - np.array([4.0, 0.5, 0.0])
    # every labelled point lies on a face of the 1 m cube
    assert np.allclose(np.max(np.abs(local), axis=1), 0.5, atol=1e-4)
    assert np.allclose(local[:, 0], -0.5, atol=1e-4)  # only the face towards the sensor is hit
    semantic = {out["semanticIdToLabels"][int(s)]["class"] for s in np.unique(out["semanticId"][on])}
    assert semantic == {"crate"}


def test_out_of_range_returns_are_dropped() -> None:
    far_wall = {"wall": {"cube": {"size_m": 1.0}, "position_m": [150.0, 0.0, 0.0], "scale": [1.0, 400.0, 400.0]}}
    assert len(scan_of(lidar_scene(far_wall))["distance"]) == 0  # OS1 REV6: farRangeM 120
    shell = {"shell": {"sphere": {"radius_m": 0.2}}}  # closer than nearRangeM 0.3 all around
    assert len(scan_of(lidar_scene(shell))["distance"]) == 0


def test_noise_matches_the_profile_sigma(tmp_path: Path) -> None:
    data = json.loads((PROFILES / "OS1_REV6_32ch10hz1024res.json").read_text())
    data["profile"].update(azimuthErrorStd=0.0, elevationErrorStd=0.0, rangeResolutionM=0.0)
    (tmp_path / "ranging.json").write_text(json.dumps(data))
    (tmp_path / "m.json").write_text("{}")
    scenario = lidar_scene(WALL, profile="ranging.json", noise=True)
    out = scan_of(scenario, base_dir=tmp_path)
    front = out["data"][:, 0] > 0
    az, el = out["azimuth"][front].astype(np.float64), out["elevation"][front].astype(np.float64)
    residual = out["distance"][front] - 10.0 / (np.cos(az) * np.cos(el))
    sigma = data["profile"]["rangeAccuracyM"]
    n = len(residual)
    assert abs(residual.mean()) < 4 * sigma / math.sqrt(n)
    assert abs(residual.std() / sigma - 1) < 4 / math.sqrt(2 * n)
    again = scan_of(scenario, base_dir=tmp_path)
    assert again["distance"].tobytes() == out["distance"].tobytes()  # seeded: bit-identical reruns
    other = scan_of(scenario, base_dir=tmp_path, seed=1)
    assert other["distance"].tobytes() != out["distance"].tobytes()


def test_a_moving_sensor_shifts_points_by_speed_times_time() -> None:
    still = scan_of(lidar_scene(WALL))
    speed = 5.0
    moving = scan_of(lidar_scene(WALL, motion={"linear_velocity_m_s": [0.0, speed, 0.0]}))
    common, a, b = np.intersect1d(still["index"], moving["index"], return_indices=True)
    front = still["data"][a][:, 0] > 0
    shift = moving["data"][b][front][:, 1].astype(np.float64) - still["data"][a][front][:, 1]
    t = still["timestamp"][a][front].astype(np.float64) * 1e-9
    assert len(common) > 5000
    assert np.allclose(shift, speed * t, atol=2e-4)
    assert shift.max() > 0.4  # a tenth of a second at 5 m/s


# --------------------------------------------------------------------------- bad profiles

BAD_CASES = {
    "length_mismatch": "profile.emitterStates[0].elevationDeg",
    "far_not_beyond_near": "profile.farRangeM",
    "zero_scan_rate": "profile.scanRateBaseHz",
    "negative_report_rate": "profile.reportRateBaseHz",
    "missing_emitter_count": "profile.numberOfEmitters",
    "unknown_scan_type": "profile.scanType",
    "unknown_rotation_direction": "profile.rotationDirection",
    "state_count_mismatch": "profile.emitterStateCount",
    "near_range_not_a_number": "profile.nearRangeM",
    "min_reflectance_above_one": "profile.minReflectance",
    "negative_fire_time": "profile.emitterStates[0].fireTimeNs",
    "report_below_scan_rate": "profile.reportRateBaseHz",
    "syntax_error": "(document)",
}


def test_bad_profile_corpus_covers_at_least_eight_cases() -> None:
    assert {p.stem for p in BAD.glob("*.json")} == set(BAD_CASES) and len(BAD_CASES) >= 8


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_each_bad_profile_is_rejected_naming_the_key(name: str, tmp_path: Path) -> None:
    (tmp_path / f"{name}.json").write_bytes((BAD / f"{name}.json").read_bytes())
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"version: 1\nlidars:\n  l: {{profile: {name}.json}}\n")
    result = run_cli("validate", str(scene))
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{tmp_path / (name + '.json')}:")
    assert f": {BAD_CASES[name]}:" in first
    line = int(first.split(":")[1])
    if name != "missing_emitter_count":
        key = BAD_CASES[name].rsplit(".", 1)[-1]
        text = (tmp_path / f"{name}.json").read_text().splitlines()
        assert key in text[line - 1] or name == "syntax_error", (first, text[line - 1])


# --------------------------------------------------------------------------- stage and outputs


def test_omni_lidar_prim_carries_the_profile_attributes(tmp_path: Path) -> None:
    from pxr import Usd

    out = tmp_path / "f.usda"
    assert run_cli("stage", str(EXAMPLES / "tabletop.yaml"), "-o", str(out)).returncode == 0
    stage = Usd.Stage.Open(str(out))
    prim = stage.GetPrimAtPath("/World/roof_lidar")
    p = raw("OS1_REV6_32ch10hz1024res")
    assert prim.GetTypeName() == "OmniLidar"
    assert prim.GetAttribute("omni:sensor:Core:scanRateBaseHz").Get() == p["scanRateBaseHz"]
    assert prim.GetAttribute("omni:sensor:Core:scanType").Get() == "ROTARY"
    assert list(prim.GetAttribute("omni:sensor:Core:emitterState:s001:elevationDeg").Get()) == pytest.approx(
        p["emitterStates"][0]["elevationDeg"]
    )
    assert len(prim.GetAttribute("omni:sensor:Core:emitterState:s001:channelId").Get()) == 32
    assert not prim.HasAttribute("omni:sensor:Core:comment4")


def test_generate_writes_lidar_hdf5_and_point_cloud_files(tmp_path: Path) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(
        "version: 1\n"
        "assets:\n  crate: {cube: {}, position_m: [3.0, 0.0, 0.0], semantics: {class: crate}}\n"
        "lidars:\n  a: {simple: {channels: 8, azimuth_steps: 360}}\n  b: {profile: Debug_Rotary}\n"
        "output:\n  writers: {hdf5: {}, pointcloud: {format: pcd}}\n"
    )
    out = tmp_path / "run"
    result = run_cli("generate", str(scene), "-o", str(out), "--frames", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    import h5py
    import open3d as o3d

    with h5py.File(next((out / "hdf5").glob("*.h5")), "r") as f:
        group = f["lidars/a/IsaacCreateRTXLidarScanBuffer"]
        offsets = group["data/frame_offsets"][:]
        assert offsets[0] == 0 and offsets[-1] == len(group["data/values"]) > 0
        assert "semanticId" in group and "lidars/b" in f
    cloud = o3d.t.io.read_point_cloud(str(out / "lidar" / "a" / "000001.pcd"))
    assert cloud.point.positions.shape[0] == offsets[2] - offsets[1]
    assert "intensity" in cloud.point and "semantic_id" in cloud.point
