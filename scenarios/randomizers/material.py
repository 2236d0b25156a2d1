"""``material``: one material per target per draw, from a list or a material pool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ...sensors.spec_base import Name, Number, invalid
from ..frame_params import PrimKey
from ..targets import match_targets
from .base import RandomizerKind

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario
    from .base import Loc, ReferenceChecker

__all__ = ["MaterialRandomizer"]


class MaterialRandomizer(RandomizerKind):
    """Bind one material per target per draw, from ``materials`` or a ``material_pools`` entry."""

    phase = 5
    target_sections = ("assets",)

    kind: Literal["material"]
    """Randomizer kind."""
    materials: Annotated[list[Name], Field(min_length=1)] | None = None
    """Materials drawn from (or pool)."""
    pool: Name | None = None
    """A material pool to draw from (or materials)."""
    weights: list[Annotated[Number, Field(ge=0)]] | None = None
    """Relative probability of each material (default: equal)."""

    @model_validator(mode="after")
    def _source(self) -> MaterialRandomizer:
        if (self.materials is None) == (self.pool is None):
            raise invalid(
                "give exactly one of materials and pool",
                expected="materials or pool",
                got="both" if self.materials else "neither",
            )
        if self.weights is not None and self.materials is not None and len(self.weights) != len(self.materials):
            raise invalid(
                "weights must have one entry per material",
                expected=f"{len(self.materials)} weights",
                got=f"{len(self.weights)} weights",
            )
        return self

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        for i, mat in enumerate(self.materials or ()):
            checker.material((*loc, "materials", i), mat)
        pools = checker.s.material_pools
        if self.pool is None:
            return
        if self.pool not in pools:
            checker.add((*loc, "pool"), f"unknown material pool '{self.pool}'", checker.one_of(pools), self.pool)
        elif self.weights is not None and len(self.weights) != len(pools[self.pool]):
            checker.add(
                (*loc, "weights"),
                "weights must have one entry per pool member",
                f"{len(pools[self.pool])} weights",
                f"{len(self.weights)} weights",
            )

    def choices(self, scenario: Scenario) -> list[str]:
        """The materials drawn from, in order."""
        return list(self.materials) if self.materials is not None else list(scenario.material_pools[self.pool or ""])

    def declared_distributions(self, scenario: Scenario) -> dict[str, Any]:
        weights = None if self.weights is None else list(self.weights)
        return {PrimKey.MATERIAL: {"choice": {"items": self.choices(scenario), "weights": weights}}}

    def default_materials(self, scenario: Scenario) -> dict[str, str]:
        first = self.choices(scenario)[0]
        return {target: first for target in match_targets(scenario, self.target_sections, self.targets)}

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        choices = self.choices(frame.s)
        weights = None if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                rng = frame.rng(name, key, path)
                index = (
                    int(rng.integers(len(choices)))
                    if weights is None
                    else int(rng.choice(len(choices), p=weights / weights.sum()))
                )
                frame.params.prim(path)[PrimKey.MATERIAL] = choices[index]
                frame.record(name, key, path, {PrimKey.MATERIAL: choices[index]})
