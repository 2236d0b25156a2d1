"""Run one frame through a backend: resolve, sample, apply, simulate, capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..scenarios.loader import ScenarioDocument
from .backend import create_backend
from .frame_step import step_frame, with_physics_state
from .usd.resolve import resolve

__all__ = ["capture_frame"]


def capture_frame(
    doc: ScenarioDocument,
    seed: int,
    frame: int,
    backend: str = "embedded",
    annotators: dict[str, tuple[str, ...]] | None = None,
    texture_dir: Path | None = None,
) -> dict[str, Any]:
    resolved = resolve(doc)
    engine = create_backend(backend, texture_dir=texture_dir)
    try:
        engine.build(resolved)
        step = step_frame(engine, resolved, seed, frame)
        return with_physics_state(engine.capture(step.params, annotators), step.state)
    finally:
        engine.close()
