"""``light``: intensity, exposure, colour, colour temperature and dome texture of the target lights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, field_validator

from ...sensors.spec_base import Name
from ..distributions import NON_NEGATIVE, Distribution, Domain, draw_scalar, draw_vector, within
from ..frame_params import PrimKey
from .base import RandomizerKind, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from .base import Loc, ReferenceChecker

__all__ = ["COLOR_TEMPERATURE_K", "EXPOSURE", "LightRandomizer"]

EXPOSURE = Domain(lower=-30.0, upper=30.0)
COLOR_TEMPERATURE_K = Domain(lower=1000.0, upper=40000.0)


class LightRandomizer(RandomizerKind):
    phase = 5
    target_sections = ("lights",)

    lineage_keys = {"color_temperature_k": PrimKey.COLOR_TEMPERATURE}

    kind: Literal["light"]
    """Randomizer kind."""
    intensity: Annotated[Distribution, within(NON_NEGATIVE)] | None = None
    """Intensity (non-negative distribution)."""
    exposure: Annotated[Distribution, within(EXPOSURE)] | None = None
    """Exposure in stops."""
    color: Annotated[Distribution, within(NON_NEGATIVE)] | None = None
    """Linear RGB colour (non-negative distribution of 3 values)."""
    color_temperature_k: Annotated[Distribution, within(COLOR_TEMPERATURE_K)] | None = None
    """Colour temperature in kelvin (1000-40000)."""
    textures: Annotated[list[Name], Field(min_length=1)] | None = None
    """Dome lights: one texture of this list per draw."""

    @field_validator("intensity", "exposure", "color_temperature_k")
    @classmethod
    def _scalar(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (1,), "this value")
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (3,), "color")
        return value

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        for i, tex in enumerate(self.textures or ()):
            checker.texture((*loc, "textures", i), tex)
        if self.textures:
            for target in matched:
                light_type = checker.s.lights[target].type
                if light_type != "dome":
                    checker.add(
                        (*loc, "textures"),
                        f"textures apply to dome lights, but '{target}' is {light_type}",
                        "dome light targets",
                        target,
                    )
                    break

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                rng = frame.rng(name, key, path)
                values: dict[str, Any] = {}
                if self.intensity is not None:
                    values[PrimKey.INTENSITY] = max(0.0, draw_scalar(self.intensity, rng, key))
                if self.exposure is not None:
                    values[PrimKey.EXPOSURE] = draw_scalar(self.exposure, rng, key)
                if self.color is not None:
                    values[PrimKey.COLOR] = np.clip(draw_vector(self.color, rng, key, 3), 0.0, None)
                if self.color_temperature_k is not None:
                    values[PrimKey.COLOR_TEMPERATURE] = float(
                        np.clip(draw_scalar(self.color_temperature_k, rng, key), 1000.0, 40000.0)
                    )
                    values[PrimKey.ENABLE_COLOR_TEMPERATURE] = True
                if self.textures:
                    values[PrimKey.TEXTURE] = self.textures[int(rng.integers(len(self.textures)))]
                frame.params.prim(path).update(values)
                frame.record(name, key, path, values)
