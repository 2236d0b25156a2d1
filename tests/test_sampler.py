"""The seeded sampler: determinism across processes, goodness of fit, non-overlap placement."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import parse
from scenesmith.scenarios.sampler import sample
from scipy import stats

TABLETOP = EXAMPLES / "tabletop.yaml"
SCENES = REPO / "tests" / "scenarios"
ASSET_ROOT = EXAMPLES


def _lines(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    result = run_cli("sample", *args, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# --------------------------------------------------------------------------- determinism


def test_same_command_twice_gives_identical_output() -> None:
    a = run_cli("sample", str(TABLETOP), "--seed", "7", "--frames", "6")
    b = run_cli("sample", str(TABLETOP), "--seed", "7", "--frames", "6")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == 6


def test_frames_sampled_alone_equal_frames_sampled_within_a_range() -> None:
    whole = _lines(str(TABLETOP), "--seed", "3", "--frames", "10")
    tail = _lines(str(TABLETOP), "--seed", "3", "--frames", "5:10")
    assert [f["frame_index"] for f in tail] == [5, 6, 7, 8, 9]
    assert tail == whole[5:]


def test_hash_seed_does_not_matter() -> None:
    a = run_cli("sample", str(TABLETOP), "--frames", "4", env={"PYTHONHASHSEED": "0"})
    b = run_cli("sample", str(TABLETOP), "--frames", "4", env={"PYTHONHASHSEED": "12345"})
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_another_seed_changes_nearly_every_frame() -> None:
    a = _lines(str(TABLETOP), "--seed", "0", "--frames", "20")
    b = _lines(str(TABLETOP), "--seed", "1", "--frames", "20")
    changed = sum(x["prims"] != y["prims"] for x, y in zip(a, b))
    assert changed >= 19


def test_reordering_randomizers_in_the_file_changes_nothing(tmp_path: Path) -> None:
    text = TABLETOP.read_text()
    head, body = text.split("randomizers:\n", 1)
    body, tail = body.split("\nrender:", 1)
    blocks = re.split(r"\n(?=  \w)", body.strip("\n"))
    assert len(blocks) >= 5
    reordered = head + "randomizers:\n" + "\n".join(reversed(blocks)) + "\n\nrender:" + tail
    copy = EXAMPLES / ".reordered_tabletop.yaml"  # beside the original, so asset paths resolve
    try:
        copy.write_text(reordered)
        a = _lines(str(TABLETOP), "--frames", "5")
        b = _lines(str(copy), "--frames", "5")
    finally:
        copy.unlink(missing_ok=True)
    assert a == b


def test_values_hold_between_on_frame_interval_draws() -> None:
    from scenesmith.scenarios.yaml_dump import to_data

    data = to_data(parse(TABLETOP).scenario)
    data["randomizers"]["sun_light"]["trigger"] = {"kind": "on_frame", "interval": 3}
    from scenesmith.scenarios.loader import build

    resolved = resolve(build(data, base_dir=EXAMPLES))
    values = [sample(resolved, 0, i).prims["/World/Lights/sun"]["intensity"] for i in range(9)]
    assert values[0] == values[1] == values[2] != values[3]
    assert values[3] == values[4] == values[5] != values[6]


# --------------------------------------------------------------------------- goodness of fit

N_DRAWS = 2000
P_MIN = 1e-3  # deterministic draws: the p-values are fixed numbers, not flaky


@pytest.fixture(scope="module")
def draws() -> list[dict]:
    resolved = resolve(parse(SCENES / "distributions.yaml"))
    return [sample(resolved, 11, i).prims for i in range(N_DRAWS)]


def _ks(values: np.ndarray, cdf: object) -> float:
    return float(stats.kstest(values, cdf).pvalue)


def test_uniform_fits_and_a_wrong_distribution_fails(draws: list[dict]) -> None:
    pos = np.array([d["/World/a"]["translate"] for d in draws])
    for axis, (lo, hi) in enumerate([(0, 1), (-2, 2), (1, 4)]):
        assert _ks(pos[:, axis], stats.uniform(lo, hi - lo).cdf) > P_MIN
    # negative control: the same test against a slightly wrong range must fail
    assert _ks(pos[:, 0], stats.uniform(0, 0.9).cdf) < P_MIN
    assert _ks(pos[:, 0], stats.triang(0.5, 0, 1).cdf) < P_MIN


def test_normal_fits_and_a_wrong_distribution_fails(draws: list[dict]) -> None:
    # a position: normals are unbounded, so keys that must be positive (scale) refuse them
    x = np.array([d["/World/b"]["translate"][0] for d in draws])
    assert _ks(x, stats.norm(2.0, 0.3).cdf) > P_MIN
    assert _ks(x, stats.norm(2.0, 0.4).cdf) < P_MIN


def test_log_uniform_fits_and_a_wrong_distribution_fails(draws: list[dict]) -> None:
    values = np.array([d["/World/Lights/l"]["intensity"] for d in draws])
    assert _ks(values, stats.loguniform(1.0, 100.0).cdf) > P_MIN
    assert _ks(values, stats.uniform(1.0, 99.0).cdf) < P_MIN


def test_weighted_choice_fits_and_a_wrong_weighting_fails(draws: list[dict]) -> None:
    values = np.array([d["/World/Lights/m"]["intensity"] for d in draws])
    counts = np.array([np.sum(values == v) for v in (1.0, 2.0, 3.0, 4.0)])
    assert counts.sum() == N_DRAWS
    right = np.array([1, 2, 3, 4]) / 10 * N_DRAWS
    wrong = np.full(4, N_DRAWS / 4)
    assert stats.chisquare(counts, right).pvalue > P_MIN
    assert stats.chisquare(counts, wrong).pvalue < P_MIN


def test_sequence_cycles_with_the_trigger_key(draws: list[dict]) -> None:
    exposures = [d["/World/Lights/m"]["exposure"] for d in draws[:7]]
    assert exposures == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]


def _angle_cdf(theta: np.ndarray) -> np.ndarray:
    # Rotation angle of a uniform random rotation: density (1 - cos t) / pi on [0, pi].
    return (theta - np.sin(theta)) / math.pi


def _angles_axes(quats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.clip(np.abs(quats[:, 0]), 0, 1)
    angles = 2 * np.arccos(w)
    axes = quats[:, 1:] * np.sign(quats[:, :1] + 1e-300)
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    return angles, axes


def test_so3_uniform_rotation_angles_and_axes(draws: list[dict]) -> None:
    quats = np.array([d["/World/c"]["orient"] for d in draws])
    assert np.allclose(np.linalg.norm(quats, axis=1), 1.0)
    angles, axes = _angles_axes(quats)
    assert _ks(angles, _angle_cdf) > P_MIN
    # Axis uniform on the sphere: z uniform on [-1, 1], azimuth uniform on [-pi, pi].
    assert _ks(axes[:, 2], stats.uniform(-1, 2).cdf) > P_MIN
    assert _ks(np.arctan2(axes[:, 1], axes[:, 0]), stats.uniform(-math.pi, 2 * math.pi).cdf) > P_MIN


def test_so3_tests_reject_common_mistakes() -> None:
    """Negative controls: a uniform angle about a uniform axis, and axes normalised from a cube."""
    rng = np.random.default_rng(5)
    axes = rng.normal(size=(N_DRAWS, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    theta = rng.uniform(0, math.pi, N_DRAWS)
    wrong_angle = np.column_stack([np.cos(theta / 2), axes * np.sin(theta / 2)[:, None]])
    angles, _ = _angles_axes(wrong_angle)
    assert _ks(angles, _angle_cdf) < P_MIN
    cube = rng.uniform(-1, 1, size=(N_DRAWS, 3))
    cube /= np.linalg.norm(cube, axis=1, keepdims=True)
    theta = np.array([_angle_ppf(u) for u in rng.random(N_DRAWS)])
    wrong_axis = np.column_stack([np.cos(theta / 2), cube * np.sin(theta / 2)[:, None]])
    _, got_axes = _angles_axes(wrong_axis)
    azimuth = np.arctan2(got_axes[:, 1], got_axes[:, 0])
    assert (
        min(_ks(got_axes[:, 2], stats.uniform(-1, 2).cdf), _ks(azimuth, stats.uniform(-math.pi, 2 * math.pi).cdf))
        < P_MIN
    )


def _angle_ppf(u: float) -> float:
    lo, hi = 0.0, math.pi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (mid - math.sin(mid)) / math.pi < u else (lo, mid)
    return lo


# --------------------------------------------------------------------------- non-overlap


def _mujoco_penetrations(prims: dict, resolved: object, names: list[str]) -> list[tuple[str, str, float]]:
    """Pairs of placed objects that intersect, by MuJoCo's collision detection on their shapes."""
    import mujoco
    import trimesh

    scenario = resolved.scenario  # type: ignore[attr-defined]
    spec = mujoco.MjSpec()
    spec.option.gravity = [0, 0, 0]
    bodies = []
    mug = trimesh.load(EXAMPLES / "assets" / "mug.obj", force="mesh")
    for path, state in sorted(prims.items()):
        name = path.rsplit("/", 1)[1].rsplit("_", 1)[0]
        if name not in names or not state.get("visible", True) or "translate" not in state:
            continue
        asset = scenario.assets[name]
        scale = np.asarray(state.get("scale", asset.scale))
        body = spec.worldbody.add_body(name=path.replace("/", "_"), pos=state["translate"], quat=state["orient"])
        body.add_freejoint()
        kind = asset.kind
        if kind == "cube":
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=asset.cube.size_m / 2 * scale)
        elif kind == "sphere":
            assert np.allclose(scale, scale[0])
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[asset.sphere.radius_m * scale[0], 0, 0])
        elif kind == "cylinder":
            body.add_geom(
                type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                size=[asset.cylinder.radius_m * scale[0], asset.cylinder.height_m / 2 * scale[2], 0],
            )
        elif kind == "capsule":
            body.add_geom(
                type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                size=[asset.capsule.radius_m * scale[0], asset.capsule.height_m / 2 * scale[2], 0],
            )
        else:
            if kind == "cone":
                r, h = asset.cone.radius_m, asset.cone.height_m
                ang = np.linspace(0, 2 * np.pi, 32, endpoint=False)
                verts = np.vstack([[0, 0, h / 2], np.stack([r * np.cos(ang), r * np.sin(ang), np.full(32, -h / 2)], 1)])
            else:
                verts = np.asarray(mug.vertices)
            mesh = spec.add_mesh(name=f"m{len(bodies)}", uservert=(verts * scale).reshape(-1).tolist())
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mesh.name)
        bodies.append(path)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    out = []
    for c in data.contact[: data.ncon]:
        if c.dist < -1e-6:
            out.append(
                (
                    model.body(model.geom_bodyid[c.geom[0]]).name,
                    model.body(model.geom_bodyid[c.geom[1]]).name,
                    float(c.dist),
                )
            )
    return out


@pytest.mark.slow
def test_no_two_placed_objects_intersect_over_1000_frames() -> None:
    resolved = resolve(parse(SCENES / "dense_scatter.yaml", asset_roots=(ASSET_ROOT,)))
    names = ["box", "can", "ball", "pill", "cone", "mug", "floater"]
    table_top = 0.7
    hits, placed = [], 0
    for frame in range(1000):
        prims = sample(resolved, 0, frame).prims
        placed += sum(1 for p in prims.values() if p.get("visible", True) and "translate" in p)
        hits += [(frame, *h) for h in _mujoco_penetrations(prims, resolved, names)]
        for path, state in prims.items():
            name = path.rsplit("/", 1)[1].rsplit("_", 1)[0]
            if name in ("floater",) or "translate" not in state:
                continue
            # resting objects sit on the table top, not in it (independent corner check)
            geometry = resolved.assets[name]
            corners = geometry.bounds.corners() * np.asarray(state.get("scale", resolved.scenario.assets[name].scale))
            w, x, y, z = state["orient"]
            rot = np.array(
                [
                    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
                ]
            )
            lowest = (corners @ rot.T)[:, 2].min() + state["translate"][2]
            assert lowest >= table_top - 1e-9, (frame, path, lowest)
    assert placed > 1000 * 15  # nearly everything got placed
    assert hits == []
