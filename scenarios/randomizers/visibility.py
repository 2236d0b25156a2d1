"""``visibility``: each target shown with a probability per draw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ...sensors.spec_base import Unit
from ..frame_params import PrimKey
from .base import RandomizerKind

if TYPE_CHECKING:
    from ..frame_state import FrameState

__all__ = ["VisibilityRandomizer"]


class VisibilityRandomizer(RandomizerKind):
    phase = 1
    target_sections = ("assets", "lights")

    kind: Literal["visibility"]
    """Randomizer kind: each target is visible with probability per draw."""
    probability: Unit = 0.5
    """Probability that each target is visible."""

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                shown = bool(frame.rng(name, key, path).random() < self.probability)
                prim = frame.params.prim(path)
                prim[PrimKey.VISIBLE] = prim.get(PrimKey.VISIBLE, True) and shown
                frame.record(name, key, path, {PrimKey.VISIBLE: shown})
