"""The report document: every number ``scenesmith report`` shows, as one JSON-ready dict.

``build_report`` is the interface the HTML page (``report/html.py``) and ``--json`` read; its
shape is ``SCHEMA`` (README "Report"). Sections that do not apply are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .checks import Verifier, run_checks, verdict_of
from .conditions import condition_cells, load_conditions
from .coverage import collect_draws, coverage_lines
from .folder import open_run
from .labels import instances, label_section, physics_section

__all__ = ["SAMPLE_FRAMES", "SCHEMA", "Progress", "build_report", "sample_frames"]

SCHEMA = "scenesmith-report/1"
SAMPLE_FRAMES = 12
"""Frames in the sample grid unless ``--frames`` picks them."""

Progress = Callable[[str, float], None]
"""Called with a step's name and the fraction of the report done (0..1)."""


def sample_frames(frames: np.ndarray, n: int = SAMPLE_FRAMES) -> list[int]:
    """``n`` frames spread evenly over the run, first and last included (deterministic)."""
    if len(frames) <= n:
        return [int(f) for f in frames]
    picks = np.unique(np.round(np.linspace(0, len(frames) - 1, n)).astype(np.int64))
    return [int(frames[i]) for i in picks]


def _plain(value: Any) -> Any:
    """JSON-safe: no NaN or infinity (``None`` instead), plain Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def build_report(
    out: Path,
    *,
    conditions: Path | None = None,
    frames: list[int] | None = None,
    progress: Progress | None = None,
    verifier: Verifier | None = None,
) -> dict[str, Any]:
    """The report document of the output folder ``out``.

    ``conditions``: a ``conditions.yaml`` (deployment coverage); ``frames``: the sample grid's
    frames instead of the deterministic choice; ``progress``: told each step; ``verifier``:
    the folder check of ``scenesmith verify`` (its problem lines), which lives outside this
    room (``runtime.run.manifest``), so the CLI hands it in; without it that check is left out.
    Bad input (not a run folder, a bad ``conditions.yaml``, frames the run lacks) raises
    ``BadInputError``.
    """
    from ..sensors.errors import BadInputError, Issue

    def step(name: str, done: float) -> None:
        if progress is not None:
            progress(name, done)

    out = Path(out)
    step("reading the run", 0.0)
    run = open_run(out)
    cond = None
    if conditions is not None:
        cond = load_conditions(Path(conditions), run.scenario)[0]
    if frames is not None:
        missing = sorted(set(frames) - set(run.frames.tolist()))
        if missing:
            first, stop = run.run["frames"]["start"], run.run["frames"]["stop"]
            problem = Issue.option(
                "--frames",
                "frames the run does not have",
                f"frames in {first}..{stop - 1}",
                ", ".join(map(str, missing[:10])),
            )
            raise BadInputError([problem])
    step("labels", 0.1)
    inst = instances(run)
    labels = label_section(inst)
    physics = physics_section(run)
    step("randomizer coverage", 0.35)
    coverage = coverage_lines(collect_draws(run.scenario, run.lineage))
    section = None
    if cond is not None:
        step("deployment conditions", 0.45)
        section = condition_cells(cond, str(conditions), run.frames, run.lineage, run.scenario, inst)
    step("checks", 0.5)
    checks = run_checks(run, inst, physics, verifier)
    step("done", 1.0)
    meta = run.run.get("frames", {})
    doc = {
        "schema": SCHEMA,
        "run": {
            "out": str(out),
            "scenario": run.scenario.name,
            "seed": int(run.run["seed"]),
            "frames": [int(meta.get("start", 0)), int(meta.get("stop", 0))],
            "n_frames": len(run.frames),
            "cameras": run.group_names("cameras"),
            "lidars": run.group_names("lidars"),
            "writers": sorted(run.run.get("writers", {})),
            "tool_version": str(run.run.get("tool_version", "")),
        },
        "sample_frames": sorted(set(frames)) if frames is not None else sample_frames(run.frames),
        "checks": checks,
        "labels": labels,
        "physics": physics,
        "coverage": coverage,
        "conditions": section,
        "verdict": verdict_of(checks),
    }
    return _plain(doc)
