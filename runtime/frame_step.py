"""One frame's step before capture: sample, apply, simulate (DESIGN §1's frame loop).

Every run goes through it: the pipeline's shards, ``capture``/``preview`` (one frame), and
Isaac Sim's session (generate and the panel's preview). Only the capture call differs between
them (Isaac's is awaited), so it stays with the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..scenarios.frame_params import FrameParams
from ..scenarios.resolved import ResolvedScenario
from ..scenarios.sampler import sample
from ..sensors.outputs import PHYSICS_STATE_KEY
from .backend import Backend

__all__ = ["FrameStep", "step_frame", "with_physics_state"]


@dataclass(frozen=True)
class FrameStep:
    params: FrameParams
    """The frame's sampled values, now applied to the backend's scene."""
    state: dict[str, Any] | None
    """The physics state after settling or stepping, or None without physics."""


def step_frame(engine: Backend, resolved: ResolvedScenario, seed: int, frame: int) -> FrameStep:
    """Sample frame ``frame`` of ``resolved`` with ``seed``, apply it to ``engine`` and run its
    physics; the caller captures ``engine`` next."""
    params = sample(resolved, seed, frame)
    engine.apply(params)
    return FrameStep(params, engine.simulate(params))


def with_physics_state(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """``payload`` carrying the frame's physics state (one-frame outputs keep it inline)."""
    if state is not None:
        payload[PHYSICS_STATE_KEY] = state
    return payload
