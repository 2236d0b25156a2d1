"""Frame 0 of a scenario, ready to capture: the benchmarks' shared set-up.

Resolved, built on the embedded backend, sampled, applied and simulated, so a benchmark times
only what it measures (a capture, a render) and compares variants of one frame.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import ScenarioDocument
from scenesmith.scenarios.sampler import sample

__all__ = ["frame_zero", "with_render"]


def with_render(doc: ScenarioDocument, **render: object) -> ScenarioDocument:
    """``doc`` with its ``render`` section's keys replaced."""
    s = doc.scenario
    return dataclasses.replace(doc, scenario=s.model_copy(update={"render": s.render.model_copy(update=render)}))


def frame_zero(doc: ScenarioDocument) -> tuple[EmbeddedBackend, Any, Any]:
    """(backend, frame 0's parameters, the resolved scenario), the frame applied and simulated."""
    resolved = resolve(doc)
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    backend.simulate(params)
    return backend, params, resolved
