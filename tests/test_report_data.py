"""Issue 20, the data half: ``scenesmith report``'s numbers (coverage, conditions, checks, the
document), its exit codes, and ``scenesmith diff``.

Two small runs (32 × 24 pixels, 40 frames, in-process) serve every test; corrupted copies are
made per test. Expectations are computed from the HDF5 files with h5py and scipy, never with
the report's own readers.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import REPO
from scenesmith.report.coverage import range_covered
from scenesmith.report.diff import diff_runs
from scenesmith.report.document import SCHEMA, build_report
from scenesmith.scripts.cli import main
from scenesmith.scripts.cmd_report import verify_lines
from scipy import stats

SCENARIO = REPO / "tests" / "scenarios" / "report_tiny.yaml"
FRAMES = 40
SUN_CHANGE = ("intensity: {uniform: {lower: 1.5, upper: 4.0}}", "intensity: {uniform: {lower: 1.5, upper: 9.0}}")


def _generate(scenario: Path, out: Path) -> Path:
    from scenesmith.runtime.run.pipeline import GenerateOptions, generate
    from scenesmith.scenarios import loader

    doc = loader.parse(scenario)
    generate(doc, GenerateOptions(out=out, start=0, stop=FRAMES, progress=False, writer_process=False))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Run A (the scenario as shipped) and run B (the sun's intensity range widened)."""
    root = tmp_path_factory.mktemp("report")
    text = SCENARIO.read_text()
    assert SUN_CHANGE[0] in text
    changed = root / "report_tiny_b.yaml"
    changed.write_text(text.replace(*SUN_CHANGE))
    return _generate(SCENARIO, root / "a"), _generate(changed, root / "b")


def _copy(run: Path, tmp_path: Path, name: str = "copy") -> Path:
    dst = tmp_path / name
    shutil.copytree(run, dst)
    return dst


def _shard(out: Path) -> Path:
    (path,) = sorted((out / "hdf5").glob("shard_*.h5"))
    return path


def _lineage(out: Path) -> list[dict]:
    with h5py.File(_shard(out), "r") as f:
        assert list(f["frames"][:]) == list(range(FRAMES))
        return [json.loads(t) for t in f["frame_params"][:]]


def _line(doc: dict, parameter: str) -> dict:
    (line,) = [c for c in doc["coverage"] if c["parameter"] == parameter]
    return line


def _verdicts(doc: dict) -> dict[str, str]:
    return {c["name"]: c["verdict"] for c in doc["checks"]}


# --------------------------------------------------------------------------- coverage


def test_document_shape_and_positive_control(runs: tuple[Path, Path]) -> None:
    """The tabletop-like run: every goodness-of-fit line passes, every check passes, the
    document is strict JSON, and each declared parameter has its line."""
    a, _ = runs
    doc = build_report(a, verifier=verify_lines)
    json.dumps(doc, allow_nan=False)
    assert doc["schema"] == SCHEMA and doc["verdict"] == "pass"
    assert doc["run"]["n_frames"] == FRAMES and doc["run"]["cameras"] == ["front"]
    assert set(_verdicts(doc).values()) == {"pass"}, doc["checks"]
    assert {c["parameter"] for c in doc["coverage"]} == {
        "object_materials.material",
        "sun_light.intensity",
        "sun_sky.sun_elevation_deg",
        "sun_sky.sun_azimuth_deg",
        "lamp_light.intensity",
        "lamp_light.color",
        "lamp_pose.position_m[0]",
        "lamp_pose.position_m[1]",
        "lamp_pose.position_m[2]",
        "camera_orbit.target_m[0]",
        "camera_orbit.target_m[1]",
        "camera_orbit.target_m[2]",
        "camera_orbit.distance_m",
        "camera_orbit.azimuth_deg",
        "camera_orbit.elevation_deg",
    }
    assert all(c["verdict"] == "pass" for c in doc["coverage"]), doc["coverage"]
    # the sun's intensity: KS against U(1.5, 4.0) on the lineage's values, by scipy directly
    values = [f["draws"]["sun_light"]["values"]["/World/Lights/sun"]["intensity"] for f in _lineage(a)]
    expected = stats.kstest(values, stats.uniform(1.5, 2.5).cdf)
    line = _line(doc, "sun_light.intensity")
    assert line["value"] == pytest.approx(expected.statistic) and line["p"] == pytest.approx(expected.pvalue)
    # the camera's elevation is recovered from the recorded eye and aim, not drawn again
    elevations = []
    for f in _lineage(a):
        rec = f["draws"]["camera_orbit"]["values"]["/World/front"]
        d = np.subtract(rec["translate"], rec["look_at"])
        elevations.append(math.degrees(math.atan2(d[2], math.hypot(d[0], d[1]))))
    assert _line(doc, "camera_orbit.elevation_deg")["p"] == pytest.approx(
        stats.kstest(elevations, stats.uniform(30.0, 35.0).cdf).pvalue
    )
    assert min(elevations) >= 30.0 - 1e-9 and max(elevations) <= 65.0 + 1e-9


def test_a_wrong_declared_distribution_warns_with_a_small_p(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """Negative control: the recorded declaration says U(1.5, 10) but the draws came from U(1.5, 4)."""
    copy = _copy(runs[0], tmp_path)
    text = (copy / "scenario.yaml").read_text()
    assert "uniform: {lower: 1.5, upper: 4.0}" in text
    (copy / "scenario.yaml").write_text(
        text.replace("uniform: {lower: 1.5, upper: 4.0}", "uniform: {lower: 1.5, upper: 10.0}")
    )
    doc = build_report(copy)
    line = _line(doc, "sun_light.intensity")
    values = [f["draws"]["sun_light"]["values"]["/World/Lights/sun"]["intensity"] for f in _lineage(copy)]
    p = stats.kstest(values, stats.uniform(1.5, 8.5).cdf).pvalue
    assert p < 1e-6 and line["p"] == pytest.approx(p)
    assert line["verdict"] == "warn" and line["p_adjusted"] < 0.05
    assert line["range_covered"] == pytest.approx((max(values) - min(values)) / 8.5)
    assert [c["parameter"] for c in doc["coverage"] if c["verdict"] == "warn"] == ["sun_light.intensity"]
    assert doc["verdict"] == "pass"  # a misfit is a warning in coverage, not a failing check


def test_an_interval_trigger_counts_each_draw_once(runs: tuple[Path, Path]) -> None:
    doc = build_report(runs[0])
    keys = {f["draws"]["lamp_light"]["trigger_key"] for f in _lineage(runs[0])}
    assert keys == {i // 4 for i in range(FRAMES)}
    assert _line(doc, "lamp_light.intensity")["n"] == len(keys) == 10
    assert _line(doc, "lamp_light.color")["n"] == 10
    assert _line(doc, "sun_light.intensity")["n"] == FRAMES
    assert _line(doc, "object_materials.material")["n"] == 4 * FRAMES  # one draw per target per frame


def test_range_covered_of_hand_known_draws() -> None:
    assert range_covered(np.array([2.0, 3.0, 2.5]), {"uniform": {"lower": 1.5, "upper": 4.0}}) == pytest.approx(0.4)
    # log space: 10..100 of 1..1000 is one of three decades
    assert range_covered(np.array([10.0, 100.0]), {"log_uniform": {"lower": 1.0, "upper": 1000.0}}) == pytest.approx(
        1 / 3
    )
    assert range_covered(np.array([0.0]), {"normal": {"mean": 0.0, "std": 1.0}}) is None


def test_angles_read_back_from_directions_land_in_the_declared_window() -> None:
    from scenesmith.scenarios.distributions import Normal, Uniform, angle_window

    assert angle_window(Uniform.model_validate({"uniform": {"lower": 0.0, "upper": 360.0}})) == 0.0
    assert angle_window(Normal.model_validate({"normal": {"mean": 350.0, "std": 10.0}})) == 170.0
    # wider than a turn: an atan2 angle cannot be put back, so the key is not tested
    assert angle_window(Uniform.model_validate({"uniform": {"lower": -360.0, "upper": 360.0}})) is None


# --------------------------------------------------------------------------- conditions


CONDITIONS = """version: 1
target_frames: 8
axes:
  elevation: {lineage: camera_orbit.elevation_deg, bins: [30.0, 40.0, 50.0, 65.0]}
  class: {label: class, categories: [can, box]}
  occlusion: {label: occlusion, bins: [0.0, 0.01, 1.0]}
"""


def test_condition_cells_equal_counts_from_the_hdf5_lineage(runs: tuple[Path, Path], tmp_path: Path) -> None:
    cond = tmp_path / "conditions.yaml"
    cond.write_text(CONDITIONS)
    doc = build_report(runs[0], conditions=cond)
    # independently: elevation from each frame's recorded eye and aim; class and occlusion per box
    frames_in: dict[tuple[str, str, str], set[int]] = {}
    with h5py.File(_shard(runs[0]), "r") as f:
        g = f["cameras/front/bounding_box_2d_tight"]
        rows, off = g["data/values"][:], g["data/frame_offsets"][:]
        for i, text in enumerate(f["frame_params"][:]):
            rec = json.loads(text)["draws"]["camera_orbit"]["values"]["/World/front"]
            d = np.subtract(rec["translate"], rec["look_at"])
            elev = math.degrees(math.asin(d[2] / np.linalg.norm(d)))
            e = "30–40" if elev < 40 else "40–50" if elev < 50 else "50–65"
            labels = json.loads(g["idToLabels"][i])
            for row in rows[off[i] : off[i + 1]]:
                cls = labels[str(row["semanticId"])]["class"]
                if cls not in ("can", "box"):
                    continue
                occ = "0–0.01" if row["occlusionRatio"] < 0.01 else "0.01–1"
                frames_in.setdefault((e, cls, occ), set()).add(i)
    cells = doc["conditions"]["cells"]
    assert len(cells) == 3 * 2 * 2
    for cell in cells:
        key = (cell["cell"]["elevation"], cell["cell"]["class"], cell["cell"]["occlusion"])
        assert cell["count"] == len(frames_in.get(key, ())), key
        assert cell["met"] == (cell["count"] >= 8)
    assert doc["conditions"]["under_covered"] == [c["cell"] for c in cells if c["count"] < 8]
    assert any(c["met"] for c in cells) and doc["conditions"]["under_covered"]


def test_a_sun_that_never_rises_above_40_deg_leaves_the_40_to_90_cell_uncovered(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    """The sky randomizer draws sun elevations in 5..40°; the sun's recorded orientation (its +Z
    axis points at the sun) gives them back, here through scipy's rotations."""
    from scipy.spatial.transform import Rotation

    elevations = []
    for f in _lineage(runs[0]):
        w, x, y, z = f["draws"]["sun_sky"]["values"]["/World/Lights/sun"]["orient"]
        toward = Rotation.from_quat([x, y, z, w]).apply([0.0, 0.0, 1.0])
        elevations.append(math.degrees(math.asin(toward[2])))
    assert 5.0 - 1e-9 <= min(elevations) and max(elevations) <= 40.0 + 1e-9
    cond = tmp_path / "sun.yaml"
    cond.write_text("target_frames: 1\naxes:\n  sun: {lineage: sun_sky.sun_elevation_deg, bins: [0.0, 40.0, 90.0]}\n")
    doc = build_report(runs[0], conditions=cond)
    assert [(c["cell"]["sun"], c["count"], c["met"]) for c in doc["conditions"]["cells"]] == [
        ("0–40", FRAMES, True),
        ("40–90", 0, False),
    ]
    assert doc["conditions"]["under_covered"] == [{"sun": "40–90"}]
    line = _line(doc, "sun_sky.sun_elevation_deg")
    assert line["verdict"] == "pass" and line["p"] == pytest.approx(
        stats.kstest(elevations, stats.uniform(5.0, 35.0).cdf).pvalue
    )


def test_bad_conditions_file_is_exit_2_with_file_line(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONDITIONS.replace("camera_orbit.elevation_deg", "camera_orbit.tilt_deg"))
    assert main(["report", str(runs[0]), "--conditions", str(bad), "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:" in err and "axes.elevation.lineage" in err and "elevation_deg" in err
    bad.write_text(CONDITIONS.replace("[0.0, 0.01, 1.0]", "[0.0, 1.0, 0.5]"))
    assert main(["report", str(runs[0]), "--conditions", str(bad), "--json", str(tmp_path / "r.json")]) == 2
    assert f"{bad}:6:" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


# --------------------------------------------------------------------------- checks


def _edit(out: Path, name: str, edit) -> None:
    with h5py.File(_shard(out), "r+") as f:
        data = f[name][...]
        edit(data)
        f[name][...] = data


def test_each_check_fails_on_a_folder_corrupted_for_it(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a = runs[0]
    # a zero-area box: x_max left of x_min
    zero = _copy(a, tmp_path, "zero")

    def shrink(rows: np.ndarray) -> None:
        rows[7]["x_max"] = rows[7]["x_min"] - 1

    _edit(zero, "cameras/front/bounding_box_2d_tight/data/values", shrink)
    doc = build_report(zero)
    assert _verdicts(doc)["zero_area_boxes"] == "fail" and doc["verdict"] == "fail"
    with h5py.File(_shard(zero), "r") as f:
        frame = int(
            np.searchsorted(f["cameras/front/bounding_box_2d_tight/data/frame_offsets"][:], 7, side="right") - 1
        )
    assert [c["frames"] for c in doc["checks"] if c["name"] == "zero_area_boxes"] == [[frame]]

    # NaN where the depth contract allows only +inf
    nan = _copy(a, tmp_path, "nan")

    def poke(depth: np.ndarray) -> None:
        depth[3, 5, 6] = np.nan

    _edit(nan, "cameras/front/distance_to_camera/data", poke)
    checks = {c["name"]: c for c in build_report(nan)["checks"]}
    assert checks["non_finite"]["verdict"] == "fail" and checks["non_finite"]["frames"] == [3]
    assert "distance_to_camera" in checks["non_finite"]["detail"]
    assert {n for n, c in checks.items() if c["verdict"] == "fail"} == {"non_finite"}

    # an edited file fails verify (and only verify)
    edited = _copy(a, tmp_path, "edited")
    pose = sorted((edited / "pose").rglob("*.json"))[0]
    pose.write_text(pose.read_text().replace("0", "1", 1))
    doc = build_report(edited, verifier=verify_lines)
    assert {n for n, v in _verdicts(doc).items() if v == "fail"} == {"verify"}
    assert pose.name in next(c["detail"] for c in doc["checks"] if c["name"] == "verify")


def test_a_label_missing_from_its_mask_fails_exactly_the_label_mask_check(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(runs[0], tmp_path)
    with h5py.File(_shard(copy), "r") as f:
        seg = f["cameras/front/instance_segmentation/data"][5]
        ids = f["cameras/front/bounding_box_2d_tight/bboxIds"]
        box_ids = ids["values"][ids["frame_offsets"][5] : ids["frame_offsets"][6]]
    victim = int(box_ids[0])
    assert (seg == victim).any()

    def erase(data: np.ndarray) -> None:
        data[5][data[5] == victim] = 0

    _edit(copy, "cameras/front/instance_segmentation/data", erase)
    checks = {c["name"]: c for c in build_report(copy)["checks"]}
    assert {n for n, c in checks.items() if c["verdict"] == "fail"} == {"label_mask"}
    assert checks["label_mask"]["frames"] == [5]


def test_mask_extents_equal_nonzero_extents_for_small_and_large_ids() -> None:
    from scenesmith.report.checks import _mask_boxes

    rng = np.random.default_rng(3)
    seg = np.zeros((48, 64), np.uint32)
    for i in range(2, 9):
        y, x = rng.integers(0, 40), rng.integers(0, 56)
        seg[y : y + rng.integers(1, 9), x : x + rng.integers(1, 9)] = i
    for ids in (seg, seg * 100_003):  # ours (2 + index) and a sparse id space
        expected = {}
        for i in np.unique(ids):
            ys, xs = np.nonzero(ids == i)
            expected[int(i)] = (xs.min(), ys.min(), xs.max(), ys.max())
        assert _mask_boxes(ids) == expected


def test_strict_turns_a_failing_check_into_exit_4(runs: tuple[Path, Path], tmp_path: Path) -> None:
    copy = _copy(runs[0], tmp_path)
    (copy / "pose" / "front" / "000001.json").unlink()
    out = tmp_path / "r.json"
    assert main(["report", str(copy), "--json", str(out), "--no-progress"]) == 0
    assert json.loads(out.read_text())["verdict"] == "fail"
    assert main(["report", str(copy), "--json", str(out), "--strict", "--no-progress"]) == 4
    assert main(["report", str(runs[0]), "--json", str(out), "--strict", "--no-progress"]) == 0


# --------------------------------------------------------------------------- diff


def test_diff_names_the_one_changed_key_and_the_shifted_parameter(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = runs
    result = diff_runs(a, b)
    assert result.scenario == {
        "changed": [("randomizers.sun_light.intensity.uniform.upper", 4.0, 9.0)],
        "added": [],
        "removed": [],
    }
    assert result.shifted_parameters == ["sun_light.intensity"]
    notes = tmp_path / "notes.md"
    assert main(["diff", str(a), str(b), "-o", str(notes)]) == 0
    text = notes.read_text()
    assert "`randomizers.sun_light.intensity.uniform.upper`: `4.0` → `9.0`" in text
    assert text.count("**yes**") == 1
