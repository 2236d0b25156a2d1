"""Workers of ``generate --workers N`` log like the parent (issue 14, item 16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, run_cli

FALLOFF = REPO / "tests" / "scenarios" / "physics_falloff.yaml"


@pytest.mark.slow
def test_a_workers_warning_has_the_parents_prefix(tmp_path: Path) -> None:
    # a 50 ms settle cap the launched ball cannot meet: every frame warns from inside the capture
    text = FALLOFF.read_text(encoding="utf-8").replace("max_s: 3.0", "max_s: 0.05")
    assert "max_s: 0.05" in text
    scenario = tmp_path / "capped.yaml"
    scenario.write_text(text, encoding="utf-8")
    lines = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        args = ("--frames", "2", "--shard-size", "1", "--workers", workers, "--no-progress")
        result = run_cli("generate", str(scenario), "-o", str(out), *args)
        assert result.returncode == 0, result.stderr
        lines[workers] = sorted(line for line in result.stderr.splitlines() if "settle cap" in line)
    expected = [
        f"WARNING scenesmith.runtime.episode: frame {k}: bodies still moving after the 0.05 s settle cap "
        "(residual speeds in the physics log)"
        for k in (0, 1)
    ]
    assert lines["1"] == expected
    assert lines["2"] == expected  # two worker processes, one frame each
    assert all(re.match(r"WARNING \S+: ", line) for line in lines["2"])
