"""Messages a user reads (issue 14, item 18): option errors carry no made-up file location,
an annotator under another tool's name gets the right suggestion, and the README says which
commands take ``--frame`` and which ``--frames``, as the parser does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.scenarios.loader import build
from scenesmith.scripts.cli import build_parser
from scenesmith.sensors.errors import BadInputError, Issue

CUBE_SCENE = {
    "version": 1,
    "assets": {"box": {"cube": {"size_m": 0.1}}},
    "cameras": {
        "cam": {"position_m": [1.0, 0.0, 0.5], "look_at_m": [0.0, 0.0, 0.0], "resolution": [64, 48]},
    },
}


def test_an_option_issue_has_no_location() -> None:
    issue = Issue.option("--output", "output folder exists and is not empty", "a new or empty folder", "out")
    assert str(issue) == "--output: output folder exists and is not empty (expected a new or empty folder, got out)"
    file_issue = Issue("s.yaml", 3, 5, "cameras.cam", "bad")
    assert str(file_issue) == "s.yaml:3:5: cameras.cam: bad"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("generate", str(EXAMPLES / "tabletop.yaml"), "-o", "{tmp}/notes"), "--output"),
        (("validate", str(EXAMPLES / "tabletop.yaml"), "--asset-root", "{tmp}/missing"), "--asset-root"),
        (("stage", str(EXAMPLES / "tabletop.yaml"), "-o", "{tmp}/frame.txt"), "--output"),
        (("generate", str(EXAMPLES / "tabletop.yaml"), "-o", "{tmp}/o", "--backend", "isaac"), "--backend"),
    ],
)
def test_option_errors_name_the_option_alone(args: tuple[str, ...], option: str, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep")
    result = run_cli(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{option}: "), first
    assert ":1:1" not in result.stderr
    # left exactly as it was: not even the run lock file is made in a folder that is refused
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["mine.txt"]
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep"


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        ("depth", "distance_to_image_plane"),
        ("segmentation", "semantic_segmentation"),
        ("semantic_segmentaton", "semantic_segmentation"),
        ("bbox", "bounding_box_2d_tight"),
    ],
)
def test_an_annotator_under_another_name_gets_a_suggestion(written: str, suggested: str) -> None:
    scene = {**CUBE_SCENE, "cameras": {"cam": {**CUBE_SCENE["cameras"]["cam"], "annotators": ["rgb", written]}}}
    with pytest.raises(BadInputError) as err:
        build(scene)
    text = str(err.value)
    assert "cameras.cam.annotators[1]" in text
    assert f"did you mean '{suggested}'?" in text


def test_an_unrelated_value_gets_no_suggestion() -> None:
    scene = {**CUBE_SCENE, "cameras": {"cam": {**CUBE_SCENE["cameras"]["cam"], "annotators": ["xyzzy"]}}}
    with pytest.raises(BadInputError) as err:
        build(scene)
    assert "did you mean" not in str(err.value)


def _frame_options() -> dict[str, str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    out = {}
    for name, command in sub.choices.items():
        found = [o for a in command._actions for o in a.option_strings if o in ("--frame", "--frames")]
        out[name] = found[0] if found else ""
    return out


def test_the_readme_cli_table_says_which_commands_take_frame_or_frames() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## CLI") :]
    section = section[: section.index("\n## ", 1)]
    documented: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`scenesmith "):
            column = cells[1].strip("`")
            for command in re.findall(r"`scenesmith ([a-z-]+)", cells[0]):
                documented[command] = column
    assert documented == _frame_options()
