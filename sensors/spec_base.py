"""Base class and field types of every spec users write: the scenario model and the options
of each writer (a writer declares its own, next to its code; both packages may import this
leaf).

Models are frozen pydantic models that reject unknown keys (with a did-you-mean hint), NaN and
infinities. Numbers are strict: ``"1.0"`` and ``true`` are not numbers. Units live in key
suffixes (``_m``, ``_deg``, ``_mm``, ``_s``, ``_kg``), so a wrong suffix is an unknown key.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_POSITION_M",
    "MIN_LOOK_AT_DISTANCE_M",
    "Color",
    "Name",
    "NonNegFloat",
    "Number",
    "PosFloat",
    "Position",
    "PosInt",
    "Spec",
    "Unit",
    "Vec2",
    "Vec3",
    "Vec4",
    "invalid",
    "scale3",
]


def invalid(
    message: str, *, expected: str | None = None, got: Any = ..., key: str | None = None
) -> PydanticCustomError:
    """A validation error whose text becomes ``message (expected …, got …)``.

    ``key`` names the offending key inside the model being validated, so the error points at
    that key's line rather than at the model's first line.
    """
    ctx: dict[str, Any] = {}
    if key is not None:
        ctx["key"] = key
    if expected is not None:
        ctx["expected"] = expected
    if got is not ...:
        ctx["got"] = got
    return PydanticCustomError("invalid", message.replace("{", "{{").replace("}", "}}"), ctx)


class Spec(BaseModel):
    """Frozen, strict model that names unknown keys with a suggestion."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=False, use_attribute_docstrings=True
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}",
                        {"key": str(key), "hint": hint, "allowed": sorted(known)},
                    )
        return data


Number = Annotated[float, Strict()]
PosFloat = Annotated[float, Strict(), Field(gt=0)]
NonNegFloat = Annotated[float, Strict(), Field(ge=0)]
Unit = Annotated[float, Strict(), Field(ge=0, le=1)]
PosInt = Annotated[int, Strict(), Field(gt=0)]

Vec2 = tuple[Number, Number]
Vec3 = tuple[Number, Number, Number]
Vec4 = tuple[Number, Number, Number, Number]
Color = tuple[NonNegFloat, NonNegFloat, NonNegFloat]

MAX_POSITION_M = 1e6
"""Largest coordinate accepted (1000 km): beyond it float32 stages lose centimetres and a
value that large is a typo (a unit slip), not a scene."""
Coordinate = Annotated[float, Strict(), Field(ge=-MAX_POSITION_M, le=MAX_POSITION_M)]
Position = tuple[Coordinate, Coordinate, Coordinate]
"""A point in metres, each coordinate within ±``MAX_POSITION_M``."""
MIN_LOOK_AT_DISTANCE_M = 1e-4
"""Closest a look-at target may be to the eye (static or drawn): 100× the 1e-6 m below which
``sensors.conventions.look_at_quat`` has no direction, so rounding a drawn eye (target +
distance · direction, ~1e-10 m at coordinates of 1e6 m) never crosses that."""

Name = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64),
]
"""Names of assets, lights, sensors, materials and randomizers: they become USD prim names."""


def _scale_to_vec3(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value, value)
    return value


def _positive_scale(value: tuple[float, float, float]) -> tuple[float, float, float]:
    if any(v <= 0 for v in value):
        raise invalid("scale must be positive on every axis", expected="> 0", got=list(value))
    return value


scale3 = Annotated[
    Vec3,
    BeforeValidator(_scale_to_vec3),
    AfterValidator(_positive_scale),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 3, "maxItems": 3},
            ]
        }
    ),
]
"""A scale given as one number (uniform) or three; stored as three."""
