"""Run one frame through a backend: resolve, sample, apply, simulate, capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..scenarios.loader import ScenarioDocument
from ..scenarios.sampler import sample
from .backend import create_backend
from .resolve import resolve

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
        params = sample(resolved, seed, frame)
        engine.apply(params)
        state = engine.simulate(params)
        payload = engine.capture(params, annotators) if annotators is not None else engine.capture(params)
        if state is not None:
            payload["physics_state"] = state
        return payload
    finally:
        engine.close()
