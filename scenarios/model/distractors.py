"""Distractors: clutter drawn per frame from a pool of shapes, with its count and placement."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from ...sensors.spec_base import Name, Number, Position, Spec, Vec2, invalid
from ..distributions import POSITIVE, Distribution, dimension, within
from ..randomizers import Trigger
from .assets import Shape
from .common import MAX_INSTANCES, Semantics
from .physics import BodyPhysics

__all__ = [
    "Box3",
    "CountRange",
    "DistractorSpec",
    "Placement",
]


class Box3(Spec):
    min_m: Position
    """Minimum corner in metres."""
    max_m: Position
    """Maximum corner in metres."""

    @model_validator(mode="after")
    def _ordered(self) -> Box3:
        if any(a >= b for a, b in zip(self.min_m, self.max_m)):
            raise invalid(
                "box must satisfy min_m < max_m on every axis",
                expected="min < max",
                got={"min_m": list(self.min_m), "max_m": list(self.max_m)},
            )
        return self


class Placement(Spec):
    """``flying``: anywhere in ``volume``, random orientation. ``dropped``: released above
    ``surface`` (an asset name) from ``drop_height_m`` and settled by physics."""

    kind: Literal["flying", "dropped"]
    """flying: anywhere in volume; dropped: released above surface and settled by physics."""
    volume: Box3 | None = None
    """Box the objects are placed in (flying)."""
    surface: Name | None = None
    """Asset whose top the objects are dropped onto (dropped)."""
    drop_height_m: Vec2 = (0.05, 0.3)
    """Range of release heights above the surface, in metres."""
    rotation: Literal["so3", "yaw", "none"] = "so3"
    """Orientation drawn per object: uniform over SO(3), yaw only, or none."""
    no_overlap: bool = True
    """Reject placements whose bounds overlap already placed objects."""

    @model_validator(mode="after")
    def _needs(self) -> Placement:
        if self.kind == "flying" and self.volume is None:
            raise invalid("flying placement needs a volume", expected="volume: {min_m, max_m}", got=None)
        if self.kind == "dropped" and self.surface is None:
            raise invalid("dropped placement needs a surface", expected="the name of an asset", got=None)
        if not 0 <= self.drop_height_m[0] <= self.drop_height_m[1]:
            raise invalid(
                "drop_height_m must satisfy 0 <= low <= high", expected="0 <= low <= high", got=list(self.drop_height_m)
            )
        return self


class CountRange(Spec):
    min: Annotated[int, Field(strict=True, ge=0, le=MAX_INSTANCES)]
    """Fewest objects per frame."""
    max: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)]
    """Most objects per frame."""

    @model_validator(mode="after")
    def _ordered(self) -> CountRange:
        if self.min > self.max:
            raise invalid("count range is inverted", expected="min <= max", got={"min": self.min, "max": self.max})
        return self


def _count(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"min": value, "max": value}
    return value


class DistractorSpec(Spec):
    """Clutter: per frame, ``count`` objects drawn from ``pool``, scaled, placed and coloured."""

    pool: Annotated[list[Shape], Field(min_length=1, max_length=64)]
    """Shapes the objects are drawn from."""
    weights: list[Annotated[Number, Field(ge=0)]] | None = None
    """Relative probability of each pool entry (default: equal)."""
    count: Annotated[
        CountRange,
        BeforeValidator(_count),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["min", "max"],
                        "properties": {
                            "min": {"type": "integer", "minimum": 0, "description": "Fewest objects per frame."},
                            "max": {"type": "integer", "minimum": 1, "description": "Most objects per frame."},
                        },
                    },
                ]
            }
        ),
    ]
    """Objects per frame: a number, or {min, max} drawn uniformly."""
    scale: Annotated[Distribution, within(POSITIVE)] = 1.0
    """Uniform scale per object: a number or a distribution (positive)."""
    labelled: bool = False
    """Label the distractors (semantics) instead of leaving them unlabelled."""
    semantics: Semantics | None = None
    """Labels of labelled distractors."""
    materials: Annotated[list[Name], Field(min_length=1)] | None = None
    """Materials drawn per object (default: their own)."""
    placement: Placement
    """Where the objects go."""
    physics: BodyPhysics = BodyPhysics(body="dynamic")
    """Physics of each object (dynamic by default)."""
    trigger: Trigger = Trigger()
    """When the distractors are drawn again."""

    @field_validator("scale")
    @classmethod
    def _scale_dim(cls, value: Any) -> Any:
        if dimension(value) not in (1, 3):
            raise invalid(
                "scale draws one or three numbers", expected="1 or 3 components", got=f"{dimension(value)} components"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DistractorSpec:
        if self.weights is not None and len(self.weights) != len(self.pool):
            raise invalid(
                "weights must have one entry per pool entry",
                expected=f"{len(self.pool)} weights",
                got=f"{len(self.weights)} weights",
            )
        if self.semantics is not None and not self.labelled:
            raise invalid("semantics given for unlabelled distractors", expected="labelled: true", got=False)
        return self
