"""``count``: how many of a counted asset's authored copies are shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from ...sensors.spec_base import invalid
from ..frame_params import PrimKey
from ..prim_paths import asset_paths
from .base import RandomizerKind

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario
    from .base import Loc, ReferenceChecker

__all__ = ["CountRandomizer"]


class CountRandomizer(RandomizerKind):
    """Show ``min``..``max`` (inclusive, uniform) of each target's authored copies."""

    phase = 0
    target_sections = ("assets",)

    kind: Literal["count"]
    """Randomizer kind: shows a drawn number of a counted asset's copies."""
    min: Annotated[int, Field(strict=True, ge=0)]
    """Fewest copies shown."""
    max: Annotated[int, Field(strict=True, ge=0)]
    """Most copies shown."""

    @model_validator(mode="after")
    def _ordered(self) -> CountRandomizer:
        if self.min > self.max:
            raise invalid("count range is inverted", expected="min <= max", got={"min": self.min, "max": self.max})
        return self

    def declared_distributions(self, scenario: Scenario) -> dict[str, Any]:
        if self.min == self.max:
            return {}
        return {"count": {"choice": {"items": list(range(self.min, self.max + 1)), "weights": None}}}

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        for target in matched:
            count = checker.s.assets[target].count
            if self.max > count:
                checker.add(
                    (*loc, "max"),
                    f"asset '{target}' has only {count} authored copies",
                    f"max <= {count} (raise the asset's count)",
                    self.max,
                )

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            paths = asset_paths(target, frame.s.assets[target].count)
            n = int(frame.rng(name, key, paths[0]).integers(self.min, self.max + 1))
            for k, path in enumerate(paths):
                frame.params.prim(path)[PrimKey.VISIBLE] = k < n
            frame.record(name, key, f"/World/{target}", {"count": n})
