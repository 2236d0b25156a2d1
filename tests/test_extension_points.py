"""Adding a writer is one new file (issue 15): a writer defined only here, in a plugin module
named by SCENESMITH_PLUGINS, gets its scenario key with file:line validation, runs through
``generate`` next to ours, is listed in the manifest and verified, and its files are owned by
the run (``--overwrite`` replaces them, a user's file beside them stays)."""

from __future__ import annotations

import json
from pathlib import Path

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
