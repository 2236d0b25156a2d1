"""Colliders MuJoCo refuses are bad input at the scenario key, before any output exists
(issue 14, item 2): a flat dynamic mesh, a mesh too small to have volume, a flat mesh in a
distractor pool (distractors are dynamic). They were reported at ``<authored stage>:1:1`` from
the first shard, after run.json and stage.usda were written. A value only a frame's draw
reveals (a randomly tilted support surface) is exit 2 with the folder left a run: not locked,
resumable and overwritable.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from conftest import run_cli
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.prim_paths import scenario_key_of

QUAD_OBJ = "v 0 0 0\nv 0.1 0 0\nv 0.1 0.1 0\nv 0 0.1 0\nf 1 2 3\nf 1 3 4\n"


def _cube_obj(edge_m: float) -> str:
    corners = [(x * edge_m, y * edge_m, z * edge_m) for x, y, z in itertools.product((0, 1), repeat=3)]
    faces = [(1, 3, 4, 2), (5, 6, 8, 7), (1, 2, 6, 5), (3, 7, 8, 4), (1, 5, 7, 3), (2, 4, 8, 6)]
    return "".join(f"v {a} {b} {c}\n" for a, b, c in corners) + "".join(
        "f " + " ".join(map(str, q)) + "\n" for q in faces
    )


HEADER = """\
version: 1
assets:
  floor:
    plane: {width_m: 6.0, length_m: 6.0}
"""
CAMERA_AND_PHYSICS = """\
cameras:
  top:
    resolution: [32, 24]
    position_m: [0.0, 0.0, 4.0]
    look_at_m: [0.0, 0.0, 0.0]
physics:
  enabled: true
"""
DYNAMIC_MESH = """\
  sheet:
    mesh: {path: part.obj}
    position_m: [0.0, 0.0, 0.5]
    physics: {body: dynamic}
"""
FLAT_DISTRACTOR = """\
distractors:
  litter:
    pool:
      - {cube: {size_m: 0.05}}
      - {mesh: {path: part.obj}}
    count: 2
    placement: {kind: flying, volume: {min_m: [-1.0, -1.0, 0.1], max_m: [1.0, 1.0, 0.5]}}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("obj", "section", "key", "message"),
    [
        (QUAD_OBJ, DYNAMIC_MESH, "assets.sheet.physics", "a flat mesh cannot collide as a rigid body"),
        (_cube_obj(1e-5), DYNAMIC_MESH, "assets.sheet.physics", "MuJoCo cannot compile this collider"),
        (QUAD_OBJ, FLAT_DISTRACTOR, "distractors.litter.pool[1]", "a flat mesh cannot collide as a rigid body"),
    ],
)
def test_a_collider_mujoco_refuses_is_named_at_its_key_before_any_output(
    obj: str, section: str, key: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "part.obj").write_text(obj)
    scenario = tmp_path / "s.yaml"
    if section is DYNAMIC_MESH:
        text = HEADER + section + CAMERA_AND_PHYSICS
    else:
        text = HEADER + CAMERA_AND_PHYSICS + section
    scenario.write_text(text)
    lines = text.splitlines()
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "-o", str(out), "--frames", "1", "--no-progress")
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    match = first.split(": ", 2)
    location, named = match[0], match[1]
    assert named == key and message in first, first
    file, line, _col = location.rsplit(":", 2)
    assert file == str(scenario)
    # the line is the key's own line in the scenario
    last = key.split(".")[-1].split("[")[0]
    assert last in lines[int(line) - 1] or "pool" in key, (line, lines[int(line) - 1])
    assert "<authored stage>" not in result.stderr
    assert not out.exists()
    checked = run_cli("validate", str(scenario))
    assert checked.returncode == 2 and checked.stderr.splitlines()[0] == first


def test_scenario_key_of_maps_authored_prims_back() -> None:
    doc = build(
        {
            "version": 1,
            "assets": {"mug": {"cube": {"size_m": 0.1}, "count": 3}, "table": {"cube": {"size_m": 1.0}}},
            "distractors": {
                "litter": {
                    "pool": [{"cube": {"size_m": 0.05}}, {"sphere": {"radius_m": 0.05}}],
                    "count": {"min": 0, "max": 4},
                    "placement": {"kind": "flying", "volume": {"min_m": [-1, -1, 0], "max_m": [1, 1, 1]}},
                }
            },
            "lights": {"sun": {"type": "distant"}},
        }
    )
    s = doc.scenario
    assert scenario_key_of(s, "/World/table") == ("assets", "table")
    assert scenario_key_of(s, "/World/mug_002/Geom") == ("assets", "mug")
    assert scenario_key_of(s, "/World/Distractors/litter_005") == ("distractors", "litter", "pool", 1)
    assert scenario_key_of(s, "/World/Distractors/litter_003") == ("distractors", "litter", "pool", 0)
    assert scenario_key_of(s, "/World/Lights/sun") == ("lights", "sun")
    assert scenario_key_of(s, "/World/tablecloth") is None


TILTING = """\
version: 1
assets:
  table:
    cube: {size_m: 1.0}
    position_m: [0.0, 0.0, 0.5]
  ball:
    sphere: {radius_m: 0.05}
    semantics: {class: ball}
randomizers:
  tilt:
    kind: pose
    targets: [table]
    rotation: {euler_deg: {sequence: {items: [[0, 0, 0], [0, 0, 0], [TILT, 0, 0], [0, 0, 0]]}}}
  on_table:
    kind: scatter
    targets: [ball]
    surface: table
cameras:
  top:
    resolution: [32, 24]
    position_m: [0.0, 0.0, 4.0]
    look_at_m: [0.0, 0.0, 0.0]
"""


@pytest.mark.slow
def test_a_draw_time_error_is_exit_2_and_leaves_a_run_folder(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TILTING.replace("TILT", "20"))
    out = tmp_path / "out"
    args = ("--frames", "4", "--shard-size", "1", "--no-progress")
    result = run_cli("generate", str(scenario), "-o", str(out), *args)
    assert result.returncode == 2
    assert "randomizers.on_table.surface: surface 'table' is tilted" in result.stderr
    assert json.loads((out / "run.json").read_text())["frames"] == {"start": 0, "stop": 4}
    # not locked, still a run: --resume reaches the same draw, --overwrite starts over
    again = run_cli("generate", str(scenario), "-o", str(out), *args, "--resume")
    assert again.returncode == 2 and again.stderr == result.stderr
    scenario.write_text(TILTING.replace("TILT", "0"))
    fixed = run_cli("generate", str(scenario), "-o", str(out), *args, "--overwrite")
    assert fixed.returncode == 0, fixed.stderr
    assert run_cli("verify", str(out)).returncode == 0
