"""``visibility``: each target shown with a probability per draw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ...sensors.spec_base import Unit
from ..frame_params import PrimKey
from .base import RandomizerKind

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario

__all__ = ["VisibilityRandomizer"]


class VisibilityRandomizer(RandomizerKind):
    phase = 1
    target_sections = ("assets", "lights")

    kind: Literal["visibility"]
    """Randomizer kind: each target is visible with probability per draw."""
    probability: Unit = 0.5
    """Probability that each target is visible."""

    def declared_distributions(self, scenario: Scenario) -> dict[str, Any]:
        if self.probability in (0.0, 1.0):
            return {}
        return {
            PrimKey.VISIBLE: {"choice": {"items": [True, False], "weights": [self.probability, 1 - self.probability]}}
        }

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                shown = bool(frame.rng(name, key, path).random() < self.probability)
                prim = frame.params.prim(path)
                prim[PrimKey.VISIBLE] = prim.get(PrimKey.VISIBLE, True) and shown
                frame.record(name, key, path, {PrimKey.VISIBLE: shown})
