"""The CLI skeleton: --help everywhere, --version, consistent --frames, exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli
from scenesmith import __version__
from scenesmith.scripts.cli import COMMANDS, FrameRange, build_parser, parse_frames


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"scenesmith {__version__}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: scenesmith {command}" in result.stdout


def test_frames_take_n_or_a_colon_b() -> None:
    assert parse_frames("10") == FrameRange(0, 10)
    assert parse_frames("5:9") == FrameRange(5, 9)
    assert list(parse_frames("2:5")) == [2, 3, 4]
    for bad in ["0", "5:5", "9:5", "-1", "a", "1:b", "200000000", "-3:2"]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_frames(bad)


def test_every_command_with_frames_uses_the_same_parser() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    users = [name for name, p in sub.choices.items() if any("--frames" in a.option_strings for a in p._actions)]
    assert users
    for name in users:
        action = next(a for a in sub.choices[name]._actions if "--frames" in a.option_strings)
        assert action.type is parse_frames, name


def test_bad_arguments_exit_2_naming_the_option() -> None:
    result = run_cli("sample", str(EXAMPLES / "tabletop.yaml"), "--frames", "9:3")
    assert result.returncode == 2
    assert "--frames" in result.stderr and "got '9:3'" in result.stderr
    result = run_cli("sample", str(EXAMPLES / "tabletop.yaml"), "--seed", "-4")
    assert result.returncode == 2 and "--seed" in result.stderr


def test_missing_scenario_file_is_bad_input(tmp_path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{tmp_path / 'nope.yaml'}:1:1:")


def test_validate_examples() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        result = run_cli("validate", str(path))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"ok: {path}")


def test_render_engine_choices_are_the_scenarios_and_replace_its_engine(tmp_path: Path) -> None:
    """``--render-engine`` offers exactly ``render.engine``'s values (the CLI stays import-light,
    so it spells them; this keeps the two in step) and the run records the engine it used."""
    import argparse
    import json
    from typing import get_args

    from scenesmith.scenarios.model import RenderSpec
    from scenesmith.scripts.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("capture", "preview", "generate"):
        action = next(a for a in sub.choices[command]._actions if a.dest == "render_engine")
        assert tuple(action.choices) == get_args(RenderSpec.model_fields["engine"].annotation)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "version: 1\nassets:\n  box: {cube: {size_m: 0.3}, semantics: {class: box}}\n"
        "cameras:\n  cam: {resolution: [16, 12], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}\n"
    )
    out = tmp_path / "out"
    args = ("--frames", "1", "--no-progress", "--render-engine", "path")
    assert run_cli("generate", str(scenario), "-o", str(out), *args).returncode == 0
    assert "engine: path" in (out / "scenario.yaml").read_text()
    resolved = json.loads((out / "run.json").read_text())["scenario_digest"]
    plain = tmp_path / "plain"
    assert run_cli("generate", str(scenario), "-o", str(plain), "--frames", "1", "--no-progress").returncode == 0
    assert json.loads((plain / "run.json").read_text())["scenario_digest"] != resolved
