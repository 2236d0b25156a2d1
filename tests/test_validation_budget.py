"""Issue 14 items 2, 5, 9: what can be known before the first frame is bad input before the
output folder exists — distribution supports against each key's domain, resource budgets —
and listing one writer leaves the others on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import CORPUS, run_cli
from pydantic import TypeAdapter
from scenesmith.runtime.run.pipeline import _writers
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios import BadInputError, build
from scenesmith.scenarios.budget import (
    MAX_FRAME_BYTES,
    MAX_LIDAR_EMITTERS,
    MAX_PHYSICS_STEPS_PER_FRAME,
    LidarRays,
    check_budget,
    estimates,
)
from scenesmith.scenarios.distributions import NON_NEGATIVE, POSITION, POSITIVE, UNIT_INTERVAL, Distribution, support
from scenesmith.scenarios.model import MAX_PIXELS_PER_FRAME, MAX_RESOLUTION_PX
from scenesmith.scenarios.yaml_source import SourceMap, load_yaml_bytes


def _dist(value: object) -> object:
    """A validated distribution of any dimension, as a key with no domain holds it."""
    return TypeAdapter(Distribution).validate_python(value)


# --------------------------------------------------------------------------- supports


def test_support_is_the_hull_of_every_drawable_value() -> None:
    assert support(_dist({"uniform": {"lower": [-1.0, 0.0, 2.0], "upper": [1.0, 0.5, 3.0]}})) == [
        (-1.0, 1.0),
        (0.0, 0.5),
        (2.0, 3.0),
    ]
    assert support(_dist({"normal": {"mean": [0.0, 1.0, 2.0], "std": [1.0, 0.0, 2.0]}})) == [
        (-math.inf, math.inf),
        (1.0, 1.0),
        (-math.inf, math.inf),
    ]
    assert support(_dist({"choice": {"items": [[3.0, 0.0, 1.0], [-2.0, 5.0, 1.0]]}})) == [
        (-2.0, 3.0),
        (0.0, 5.0),
        (1.0, 1.0),
    ]
    combined = _dist(
        {"combine": [{"sequence": {"items": [1.0, 4.0]}}, {"log_uniform": {"lower": 1, "upper": 10}}, 7.0]}
    )
    assert support(combined) == [(1.0, 4.0), (1.0, 10.0), (7.0, 7.0)]


@pytest.mark.parametrize(
    ("domain", "value", "ok"),
    [
        (NON_NEGATIVE, {"uniform": {"lower": -1.5, "upper": 3.0}}, False),
        (NON_NEGATIVE, {"uniform": {"lower": 0.0, "upper": 3.0}}, True),
        (NON_NEGATIVE, {"normal": {"mean": 5.0, "std": 1000.0}}, False),
        (NON_NEGATIVE, {"normal": {"mean": 5.0, "std": 0.0}}, True),
        (POSITIVE, {"choice": {"items": [0.0, 1.0]}}, False),
        (POSITIVE, {"log_uniform": {"lower": 0.1, "upper": 2.0}}, True),
        (POSITIVE, 0.0, False),
        (UNIT_INTERVAL, {"sequence": {"items": [0.2, 1.0]}}, True),
        (UNIT_INTERVAL, {"uniform": {"lower": 0.0, "upper": 1.01}}, False),
        # a position bound is a typo guard: a normal counts as mean ± 6 std
        (POSITION, {"normal": {"mean": 0.0, "std": 1.0}}, True),
        (POSITION, {"normal": {"mean": 0.0, "std": 2.0e5}}, False),
        (POSITION, {"uniform": {"lower": -2.0e6, "upper": 0.0}}, False),
    ],
)
def test_domain_checks_the_whole_support(domain: object, value: object, ok: bool) -> None:
    assert (domain.violation(_dist(value)) is None) == ok  # type: ignore[attr-defined]


def _light(intensity: object = None, color: object = None) -> dict:
    rnd: dict = {"kind": "light", "targets": ["sun"]}
    if intensity is not None:
        rnd["intensity"] = intensity
    if color is not None:
        rnd["color"] = color
    return {"version": 1, "lights": {"sun": {"type": "distant"}}, "randomizers": {"r": rnd}}


@pytest.mark.parametrize(
    ("scenario", "key"),
    [
        (_light(intensity={"uniform": {"lower": -1.5, "upper": 3.0}}), "randomizers.r.intensity"),
        (_light(color={"normal": {"mean": [1.0, 1.0, 1.0], "std": 1000.0}}), "randomizers.r.color"),
        (_light(color={"uniform": {"lower": [0.0, -0.1, 0.0], "upper": [1.0, 1.0, 1.0]}}), "randomizers.r.color"),
        (
            {
                "version": 1,
                "materials": {"m": {}},
                "randomizers": {
                    "r": {
                        "kind": "material_inputs",
                        "targets": ["m"],
                        "roughness": {"normal": {"mean": 0.5, "std": 0.1}},
                    }
                },
            },
            "randomizers.r.roughness",
        ),
        (
            {
                "version": 1,
                "assets": {"a": {"cube": {}}},
                "distractors": {
                    "d": {
                        "pool": [{"cube": {}}],
                        "count": 1,
                        "scale": {"uniform": {"lower": 0.0, "upper": 1.0}},
                        "placement": {"kind": "flying", "volume": {"min_m": [0, 0, 0], "max_m": [1, 1, 1]}},
                    }
                },
            },
            "distractors.d.scale",
        ),
        (
            {
                "version": 1,
                "cameras": {"c": {}},
                "randomizers": {"r": {"kind": "look_at", "targets": ["c"], "distance_m": 0.0}},
            },
            "randomizers.r.distance_m",
        ),
    ],
)
def test_randomized_keys_refuse_supports_outside_their_domain(scenario: dict, key: str) -> None:
    with pytest.raises(BadInputError) as err:
        build(scenario)
    assert [i.key for i in err.value.issues] == [key]
    assert "expected every value" in str(err.value)


def test_valid_supports_still_load() -> None:
    doc = build(_light(intensity={"log_uniform": {"lower": 1.0, "upper": 100.0}}, color=[1.0, 0.9, 0.8]))
    assert doc.scenario.randomizers["r"].intensity is not None


def test_static_positions_and_look_at_are_bounded() -> None:
    with pytest.raises(BadInputError) as err:
        build({"version": 1, "assets": {"a": {"cube": {}, "position_m": [0.0, -1.5e6, 0.0]}}})
    assert err.value.issues[0].key == "assets.a.position_m[1]"
    with pytest.raises(BadInputError) as err:
        build({"version": 1, "cameras": {"c": {"position_m": [1.0, 1.0, 1.0], "look_at_m": [1.0, 1.0, 1.0 + 5e-7]}}})
    assert err.value.issues[0].key == "cameras.c.look_at_m"
    build({"version": 1, "cameras": {"c": {"position_m": [1.0, 1.0, 1.0], "look_at_m": [1.0, 1.0, 1.0 + 2e-4]}}})


def test_control_characters_are_bad_input_with_line_and_column() -> None:
    with pytest.raises(BadInputError) as err:
        load_yaml_bytes(b"version: 1\nname: ab\x1bc\n", "s.yaml")
    issue = err.value.issues[0]
    assert (issue.file, issue.line, issue.col, issue.got) == ("s.yaml", 2, 9, "U+001B")


# --------------------------------------------------------------------------- budgets


def _over(scenario: dict, **kw: object) -> list:
    doc = build(scenario, base_dir=CORPUS)  # the corpus folder has assets/wood.png
    return [e for e in estimates(doc.scenario, **kw) if e.over]  # type: ignore[arg-type]


def test_a_default_scene_is_within_every_budget() -> None:
    doc = build(
        {
            "version": 1,
            "assets": {"a": {"cube": {}}},
            "cameras": {"c": {}},
            "lidars": {"l": {"profile": "OS1_REV7_128ch10hz1024res"}},
            "physics": {"enabled": True},
        }
    )
    found = estimates(doc.scenario, {"l": LidarRays(131_072, 128, "OS1")})  # type: ignore[dict-item]
    assert found and not [e for e in found if e.over]
    steps = next(e for e in found if e.unit == "steps")
    assert steps.value == pytest.approx((5.0 + 0.1) / 0.002)  # settle.max_s + one capture interval


def test_camera_memory_is_summed_over_cameras_and_named() -> None:
    cams = {f"c{i}": {"resolution": [8192, 8192]} for i in range(40)}
    over = _over({"version": 1, "cameras": cams})
    memory = next(e for e in over if e.unit == "bytes")
    assert memory.value == 40 * 8192 * 8192 * 300 > MAX_FRAME_BYTES
    assert memory.loc == ("cameras",)  # no camera alone is over: the section is named
    four_k = {f"c{i}": {"resolution": [4096, 4096]} for i in range(40)}
    assert next(e for e in _over({"version": 1, "cameras": four_k}) if e.unit == "bytes").loc == ("cameras",)


def test_what_the_model_accepts_for_one_camera_is_within_budget() -> None:
    # the budget is for requests past any machine, not for the model's own documented maximum
    side = MAX_RESOLUTION_PX
    assert side * side <= MAX_PIXELS_PER_FRAME
    assert _over({"version": 1, "assets": {"a": {"cube": {}}}, "cameras": {"c": {"resolution": [side, side]}}}) == []


def test_physics_steps_lidar_emitters_and_textures_have_budgets() -> None:
    over = _over(
        {"version": 1, "physics": {"enabled": True, "timestep_s": 1e-9, "episode": {"capture_interval_s": 1e-6}}}
    )
    assert [(e.loc, e.value) for e in over] == [(("physics", "timestep_s"), pytest.approx((5.0 + 1e-6) / 1e-9))]
    assert over[0].value > MAX_PHYSICS_STEPS_PER_FRAME
    lidar = {"version": 1, "lidars": {"l": {"profile": "Debug_Rotary"}}}
    over = _over(lidar, lidars={"l": LidarRays(200_000, 200_000, "big.json")})
    assert [e.unit for e in over] == ["emitters"] and over[0].value > MAX_LIDAR_EMITTERS
    over = _over({"version": 1, "textures": {"t": {"checker": {"squares": 10**9}}}})
    assert [e.loc for e in over] == [("textures", "t", "checker", "squares")]
    over = _over(
        {"version": 1, "textures": {"t": {"file": "assets/wood.png"}}},
        texture_sizes={"assets/wood.png": (10_000, 10_000)},
    )
    assert [e.loc for e in over] == [("textures", "t", "file")]


def test_budget_issue_names_key_estimate_budget_and_flag() -> None:
    doc = build({"version": 1, "lidars": {"l": {"simple": {"channels": 1024, "azimuth_steps": 65536}}}})
    issues = check_budget(doc.scenario, SourceMap("s.yaml"), {"l": LidarRays(1024 * 65536, 1024, "<inline>")})
    assert [i.key for i in issues] == ["lidars.l.simple"]
    text = str(issues[0])
    assert "--allow-large" in text and "at most 4.19e+06 rays" in text and "6.71e+07 rays" in text


def test_resolve_refuses_over_budget_unless_allowed() -> None:
    scenario = {"version": 1, "physics": {"enabled": True, "timestep_s": 1e-7, "episode": {"capture_interval_s": 1e-5}}}
    with pytest.raises(BadInputError) as err:
        resolve(build(scenario))
    assert err.value.issues[0].key == "physics.timestep_s"
    assert resolve(build(scenario, allow_large=True)).scenario_digest


@pytest.mark.parametrize(
    "name",
    [
        "texture_not_an_image",
        "randomized_intensity_can_be_negative",
        "budget_physics_timestep",
        "base_usd_reference_cycle",
    ],
)
def test_generate_on_bad_input_exits_2_and_creates_no_folder(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("generate", str(CORPUS / f"{name}.yaml"), "-o", str(out), "--frames", "1", "--no-progress")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(str(CORPUS / f"{name}.yaml") + ":")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_allow_large_lets_validate_pass_a_budget_refusal() -> None:
    path = CORPUS / "budget_physics_timestep.yaml"
    assert run_cli("validate", str(path)).returncode == 2
    result = run_cli("validate", str(path), "--allow-large")
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- writers

_SMALL = {
    "version": 1,
    "assets": {"box": {"cube": {"size_m": 0.5}, "semantics": {"class": "box"}}},
    "lights": {"sun": {"type": "distant", "intensity": 2.0}},
    "cameras": {"cam": {"resolution": [32, 24], "position_m": [2.0, 0.0, 1.0], "look_at_m": [0.0, 0.0, 0.0]}},
    "lidars": {"lid": {"simple": {"channels": 4, "azimuth_steps": 16}, "position_m": [0.0, -2.0, 0.5]}},
    "output": {"frames": 1, "shard_size": 1},
}


def _with_writers(writers: dict) -> dict:
    return {**_SMALL, "output": {**_SMALL["output"], "writers": writers}}


def test_listing_one_writer_leaves_the_others_on() -> None:
    names = lambda w: sorted(_writers(resolve(build(_with_writers(w)))))  # noqa: E731
    assert names({"pointcloud": {"format": "ply"}}) == ["coco", "hdf5", "pointcloud", "pose"]
    assert names({"pointcloud": True, "hdf5": False}) == ["coco", "pointcloud", "pose"]
    assert names({"coco": None, "pose": False}) == ["hdf5"]
    assert sorted(_writers(resolve(build(_SMALL)))) == ["coco", "hdf5", "pose"]


def test_generate_with_pointcloud_listed_writes_every_default_writer_and_hdf5_false_turns_it_off(
    tmp_path: Path,
) -> None:
    from scenesmith.scenarios import dump_yaml

    for writers, want_hdf5 in [({"pointcloud": {"format": "ply"}}, True), ({"pointcloud": {}, "hdf5": False}, False)]:
        folder = tmp_path / ("on" if want_hdf5 else "off")
        folder.mkdir()
        scenario = folder / "s.yaml"
        scenario.write_text(dump_yaml(build(_with_writers(writers)).scenario))
        out = folder / "out"
        result = run_cli("generate", str(scenario), "-o", str(out), "--no-progress")
        assert result.returncode == 0, result.stderr
        assert (out / "hdf5").is_dir() == want_hdf5
        assert any((out / "coco").rglob("*.json"))
        assert any((out / "pose").rglob("*.json"))
        assert any((out / "lidar").rglob("*.p*"))


def test_pillows_own_pixel_limit_does_not_override_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes are ours to check (the budget, or --allow-large): Pillow's decompression-bomb limit
    (shrunk here to 100 pixels) neither warns nor refuses, and is restored afterwards."""
    import warnings

    from PIL import Image
    from scenesmith.runtime.usd.textures import check_texture_file, load_texture
    from scenesmith.scenarios.model import TextureSpec

    path = tmp_path / "t.png"
    Image.new("RGB", (20, 30), (200, 10, 10)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_texture_file(path, None) == (20, 30)
        assert load_texture(TextureSpec(file="t.png"), path).shape == (30, 20, 3)
    assert Image.MAX_IMAGE_PIXELS == 100
