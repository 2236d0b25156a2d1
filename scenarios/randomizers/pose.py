"""``pose``: position, rotation (Euler / SO(3) / about an axis) and scale of the targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import field_validator, model_validator

from ...sensors.spec_base import invalid
from ..distributions import POSITION, POSITIVE, Distribution, draw_vector, within
from ..frame_params import PrimKey
from ..frame_state import draw_rotation, draw_scale
from .base import RandomizerKind, RotationDist, check_dim

if TYPE_CHECKING:
    from ..frame_state import FrameState

__all__ = ["PoseRandomizer"]


class PoseRandomizer(RandomizerKind):
    phase = 2
    target_sections = ("assets", "cameras", "lidars", "lights")

    lineage_keys = {"position_m": PrimKey.TRANSLATE}

    kind: Literal["pose"]
    """Randomizer kind."""
    position_m: Annotated[Distribution, within(POSITION)] | None = None
    """Position in metres: a constant or a distribution of 3 values."""
    rotation: RotationDist | None = None
    """Orientation drawn per frame."""
    scale: Annotated[Distribution, within(POSITIVE)] | None = None
    """Scale: a number, 3 values, or a distribution (positive)."""

    @field_validator("position_m")
    @classmethod
    def _pos(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (3,), "position_m")
        return value

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: object) -> object:
        if value is not None:
            check_dim(value, (1, 3), "scale")
        return value

    @model_validator(mode="after")
    def _something(self) -> PoseRandomizer:
        if self.position_m is None and self.rotation is None and self.scale is None:
            raise invalid(
                "a pose randomizer needs position_m, rotation or scale", expected="at least one of them", got="none"
            )
        return self

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        for target in frame.targets(self):
            for path in frame.target_paths(target):
                rng = frame.rng(name, key, path)
                values: dict[str, Any] = {}
                if self.position_m is not None:
                    values[PrimKey.TRANSLATE] = draw_vector(self.position_m, rng, key, 3)
                if self.rotation is not None:
                    values[PrimKey.ORIENT] = draw_rotation(self.rotation, rng, key, "none")
                if self.scale is not None:
                    values[PrimKey.SCALE] = draw_scale(frame, self.scale, rng, key, ("randomizers", name, "scale"))
                frame.params.prim(path).update(values)
                frame.record(name, key, path, values)
