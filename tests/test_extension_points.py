"""Adding a writer or a randomizer kind is one new file (issue 15).

A writer defined only here, in a plugin module named by SCENESMITH_PLUGINS, gets its scenario
key with file:line validation, runs through ``generate`` next to ours, is listed in the manifest
and verified, and its files are owned by the run (``--overwrite`` replaces them, a user's file
beside them stays). A randomizer kind defined only here gets its keys validated, draws in its
phase with its own keyed stream (lineage recorded, the stage posed from it, frames
reproducible) and is refused by name in Replicator mode, which has no mapping for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from conftest import run_cli

PLUGIN = '''
from pathlib import Path

from scenesmith.sensors.spec_base import Spec
from scenesmith.writers.base import Writer, atomic_write_bytes


class FrameListSpec(Spec):
    """Options of the frame list."""

    prefix: str = "frame"
    """Text before each frame number."""


class FrameListWriter(Writer):
    name = "frame_list"
    options_spec = FrameListSpec
    summary = "one line per captured frame"
    replicator_class_name = "ScenesmithFrameListWriter"
    output_patterns = ("frame_list/shard_<n>.txt",)

    def open(self, context):
        super().open(context)
        self.lines = []

    def write(self, payload):
        self.lines.append(f"{self.options['prefix']} {payload['swhFrameNumber']}")

    def close(self):
        rel = Path("frame_list") / f"shard_{self.context.shard_id:06d}.txt"
        atomic_write_bytes(self.context.out_dir / rel, ("\\n".join(self.lines) + "\\n").encode())
        return [rel]


WRITERS = (FrameListWriter,)
'''

SCENE = """\
version: 1
assets:
  box: {cube: {size_m: 0.3}, semantics: {class: box}}
cameras:
  cam: {resolution: [32, 24], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}
output:
  writers:
    frame_list: {prefix: WRITERS_PREFIX}
"""


@pytest.mark.slow
def test_a_plugin_writer_runs_end_to_end_next_to_ours(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "frame_list_plugin.py").write_text(PLUGIN)
    env = {"PYTHONPATH": str(tmp_path / "plugins"), "SCENESMITH_PLUGINS": "frame_list_plugin"}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENE.replace("WRITERS_PREFIX", "shot"))
    out = tmp_path / "out"
    args = ("--frames", "4", "--shard-size", "2", "--no-progress")
    result = run_cli("generate", str(scenario), "-o", str(out), *args, env=env)
    assert result.returncode == 0, result.stderr
    assert (out / "frame_list" / "shard_000000.txt").read_text() == "shot 0\nshot 1\n"
    assert (out / "frame_list" / "shard_000001.txt").read_text() == "shot 2\nshot 3\n"
    assert (out / "hdf5" / "shard_000000.h5").is_file()  # ours run too
    assert "frame_list/shard_000001.txt" in json.loads((out / "manifest.json").read_text())["files"]
    assert run_cli("verify", str(out), env=env).returncode == 0
    # its options are validated like every scenario key
    scenario.write_text(SCENE.replace("prefix: WRITERS_PREFIX", "prefx: shot"))
    bad = run_cli("validate", str(scenario), env=env)
    assert bad.returncode == 2
    assert "output.writers.frame_list.prefx: unknown key 'prefx'; did you mean 'prefix'?" in bad.stderr
    # the run owns its files: --overwrite replaces them, a user's file beside them stays
    (out / "frame_list" / "notes.txt").write_text("mine")
    scenario.write_text(SCENE.replace("WRITERS_PREFIX", "take"))
    again = run_cli("generate", str(scenario), "-o", str(out), *args, "--overwrite", env=env)
    assert again.returncode == 0, again.stderr
    assert (out / "frame_list" / "shard_000000.txt").read_text() == "take 0\ntake 1\n"
    assert (out / "frame_list" / "notes.txt").read_text() == "mine"


def test_without_the_plugin_its_key_is_unknown(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENE.replace("WRITERS_PREFIX", "shot"))
    result = run_cli("validate", str(scenario))
    assert result.returncode == 2
    assert "output.writers.frame_list: unknown key 'frame_list'" in result.stderr


RANDOMIZER_PLUGIN = '''
from typing import Literal

from scenesmith.scenarios.distributions import Distribution, draw_scalar
from scenesmith.scenarios.randomizers.base import RandomizerKind


class HoverRandomizer(RandomizerKind):
    """Lift the targets to a drawn height above the origin."""

    phase = 2
    target_sections = ("assets",)

    kind: Literal["hover"]
    """Randomizer kind."""
    height_m: Distribution
    """Height of the targets' origin, in metres."""

    def draw(self, frame, name):
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                z = draw_scalar(self.height_m, frame.rng(name, key, path), key)
                values = {"translate": [0.0, 0.0, z]}
                frame.params.prim(path).update(values)
                frame.record(name, key, path, values)


RANDOMIZERS = (HoverRandomizer,)
'''

HOVER_SCENE = """\
version: 1
assets:
  box: {cube: {size_m: 0.3}, semantics: {class: box}}
cameras:
  cam: {resolution: [32, 24], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}
randomizers:
  lift: {kind: hover, targets: [box], HEIGHT_KEY: {uniform: {lower: 0.2, upper: 0.4}}}
"""


def _hover_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "plugins").mkdir(exist_ok=True)
    (tmp_path / "plugins" / "hover_plugin.py").write_text(RANDOMIZER_PLUGIN)
    return {"PYTHONPATH": str(tmp_path / "plugins"), "SCENESMITH_PLUGINS": "hover_plugin"}


@pytest.mark.slow
def test_a_plugin_randomizer_kind_draws_end_to_end(tmp_path: Path) -> None:
    env = _hover_env(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(HOVER_SCENE.replace("HEIGHT_KEY", "height_m"))
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "-o", str(out), "--frames", "3", "--no-progress", env=env)
    assert result.returncode == 0, result.stderr
    with h5py.File(out / "hdf5" / "shard_000000.h5") as h5:
        lineage = [json.loads(text) for text in h5["frame_params"][()]]
    heights = []
    for frame, params in enumerate(lineage):
        draw = params["draws"]["lift"]
        assert draw["trigger_key"] == frame
        (z,) = draw["values"]["/World/box"]["translate"][2:]
        assert 0.2 <= z <= 0.4
        assert params["prims"]["/World/box"]["translate"] == [0.0, 0.0, z]
        # the stage was posed from the draw: the pose writer sees the box at that height
        pose = json.loads((out / "pose" / "cam" / f"{frame:06d}.json").read_text())
        assert pose["objects"][0]["local_to_world_transform"][3][:3] == pytest.approx([0.0, 0.0, z])
        heights.append(z)
    assert len(set(heights)) == 3  # a keyed stream per frame, not one value
    again = tmp_path / "again"
    assert (
        run_cli("generate", str(scenario), "-o", str(again), "--frames", "3", "--no-progress", env=env).returncode == 0
    )
    with h5py.File(again / "hdf5" / "shard_000000.h5") as h5:
        assert [json.loads(t)["draws"]["lift"] for t in h5["frame_params"][()]] == [p["draws"]["lift"] for p in lineage]


def test_a_plugin_randomizer_kind_is_validated_and_refused_by_name_in_replicator_mode(tmp_path: Path) -> None:
    env = _hover_env(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(HOVER_SCENE.replace("HEIGHT_KEY", "hieght_m"))
    bad = run_cli("validate", str(scenario), env=env)
    assert bad.returncode == 2
    assert "s.yaml:7:39:" in bad.stderr and "randomizers.lift.hieght_m: unknown key 'hieght_m'" in bad.stderr
    scenario.write_text(HOVER_SCENE.replace("HEIGHT_KEY", "height_m"))
    code = (
        "import sys\n"
        "from scenesmith.runtime.usd.resolve import resolve\n"
        "from scenesmith.runtime.isaac.replicator_graph import replicator_mode_problems\n"
        "from scenesmith.scenarios.loader import parse\n"
        "print(replicator_mode_problems(resolve(parse(sys.argv[1]))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(scenario)], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "randomizers.lift.kind: randomization_mode replicator cannot express hover randomizers" in result.stdout
    # without the plugin the kind is unknown, with the kinds that exist listed
    plain = run_cli("validate", str(scenario))
    assert plain.returncode == 2 and "randomizers.lift.kind" in plain.stderr and "'pose'" in plain.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "SCENESMITH_PLUGINS names 'missing_plugin', which cannot be imported"),
        ("X = 1\n", "lists no classes in WRITERS or RANDOMIZERS"),
        ("RANDOMIZERS = (int,)\n", "does not derive scenesmith's RandomizerKind"),
        ("from scenesmith.writers.base import Writer\nWRITERS = (int,)\n", "is not a scenesmith Writer"),
    ],
)
def test_a_broken_plugin_is_exit_2_naming_it(tmp_path: Path, source: str | None, message: str) -> None:
    if source is not None:
        (tmp_path / "missing_plugin.py").write_text(source)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENE.replace("    frame_list: {prefix: WRITERS_PREFIX}\n", "    coco: false\n"))
    env = {"PYTHONPATH": str(tmp_path), "SCENESMITH_PLUGINS": "missing_plugin"}
    result = run_cli("validate", str(scenario), env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_importing_a_plugin_before_scenesmith_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, **_hover_env(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import hover_plugin"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "was imported before scenesmith" in result.stderr
    fine = "import scenesmith.scenarios.model, hover_plugin; print(hover_plugin.HoverRandomizer.phase)"
    ok = subprocess.run([sys.executable, "-c", fine], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "2", ok.stderr
