"""``material_inputs``: UsdPreviewSurface inputs of the target materials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import field_validator

from ..distributions import NON_NEGATIVE, UNIT_INTERVAL, Distribution, draw_scalar, draw_vector, within
from ..frame_params import MaterialKey
from .base import RandomizerKind, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState

__all__ = ["MaterialInputsRandomizer"]


class MaterialInputsRandomizer(RandomizerKind):
    """Randomize UsdPreviewSurface inputs of the target materials."""

    phase = 5
    target_sections = ("materials",)

    kind: Literal["material_inputs"]
    """Randomizer kind."""
    diffuse_color: Annotated[Distribution, within(UNIT_INTERVAL)] | None = None
    """Linear RGB base colour in [0, 1]."""
    roughness: Annotated[Distribution, within(UNIT_INTERVAL)] | None = None
    """Roughness in [0, 1]."""
    metallic: Annotated[Distribution, within(UNIT_INTERVAL)] | None = None
    """Metalness in [0, 1]."""
    emissive_color: Annotated[Distribution, within(NON_NEGATIVE)] | None = None
    """Linear RGB emission (non-negative)."""

    @field_validator("diffuse_color", "emissive_color")
    @classmethod
    def _color(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (3,), "this colour")
        return value

    @field_validator("roughness", "metallic")
    @classmethod
    def _scalar(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (1,), "this value")
        return value

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            path = frame.target_paths(target)[0]
            rng = frame.rng(name, key, path)
            values: dict[str, Any] = {}
            if self.diffuse_color is not None:
                values[MaterialKey.DIFFUSE_COLOR] = np.clip(draw_vector(self.diffuse_color, rng, key, 3), 0.0, 1.0)
            if self.roughness is not None:
                values[MaterialKey.ROUGHNESS] = float(np.clip(draw_scalar(self.roughness, rng, key), 0.0, 1.0))
            if self.metallic is not None:
                values[MaterialKey.METALLIC] = float(np.clip(draw_scalar(self.metallic, rng, key), 0.0, 1.0))
            if self.emissive_color is not None:
                values[MaterialKey.EMISSIVE_COLOR] = np.clip(draw_vector(self.emissive_color, rng, key, 3), 0.0, None)
            frame.params.materials.setdefault(target, {}).update(values)
            frame.record(name, key, path, values)
