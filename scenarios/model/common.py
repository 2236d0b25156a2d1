"""What every domain of the model shares: limits, asset paths, semantic labels and the posed base."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from ...sensors.outputs import MAX_INSTANCES
from ...sensors.spec_base import MIN_LOOK_AT_DISTANCE_M, Name, Position, Spec, Vec3, Vec4, invalid

__all__ = [
    "AssetPath",
    "Axis",
    "Label",
    "MAX_FRAMES",
    "MAX_INSTANCES",
    "MAX_PIXELS_PER_FRAME",
    "MAX_RESOLUTION_PX",
    "MAX_SAMPLES_PER_PIXEL",
    "SCHEMA_VERSION",
    "Semantics",
]


SCHEMA_VERSION = 1


Axis = Literal["X", "Y", "Z"]
AssetPath = Annotated[str, Field(min_length=1, max_length=4096, strict=True)]
"""A file path, relative to the scenario's folder (or to an ``--asset-root``); checked at load."""

MAX_RESOLUTION_PX = 8192
MAX_PIXELS_PER_FRAME = 1 << 26
MAX_FRAMES = 100_000_000
MAX_SAMPLES_PER_PIXEL = 1024


def _labels(value: Any) -> Any:
    """``{class: mug}`` and ``{class: [mug, cup]}`` both become ``{class: (mug,)}``-style tuples."""
    if isinstance(value, dict):
        return {k: ([v] if isinstance(v, str) else v) for k, v in value.items()}
    return value


Label = Annotated[str, Field(min_length=1, max_length=256, strict=True)]
Semantics = Annotated[
    dict[Name, Annotated[tuple[Label, ...], Field(min_length=1)]],
    BeforeValidator(_labels),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ]
            },
        }
    ),
]
"""Semantic labels per taxonomy, written with UsdSemantics ``LabelsAPI`` (taxonomy ``class``)."""


class _Posed(Spec):
    """Position and one optional way to orient: XYZ Euler degrees, a quaternion, or a look-at."""

    position_m: Position = (0.0, 0.0, 0.0)
    """Position in metres, in the stage's world frame (Z-up)."""
    rotation_deg: Vec3 | None = None
    """Orientation as XYZ Euler angles in degrees (one of rotation_deg, quat_wxyz, look_at_m)."""
    quat_wxyz: Vec4 | None = None
    """Orientation as a unit quaternion (w, x, y, z)."""
    look_at_m: Position | None = None
    """Orient towards this point in metres (cameras and LiDARs look along their -Z, others along +X)."""
    look_at_up_axis: Vec3 = (0.0, 0.0, 1.0)
    """World direction kept up when orienting with look_at_m."""

    @model_validator(mode="after")
    def _one_orientation(self) -> _Posed:
        given = [k for k in ("rotation_deg", "quat_wxyz", "look_at_m") if getattr(self, k) is not None]
        if len(given) > 1:
            raise invalid(
                "give at most one of rotation_deg, quat_wxyz and look_at_m",
                expected="one orientation",
                got=given,
                key=given[1],
            )
        if self.quat_wxyz is not None and sum(c * c for c in self.quat_wxyz) < 1e-12:
            raise invalid("quat_wxyz must not be zero", expected="a non-zero quaternion", got=list(self.quat_wxyz))
        if sum(c * c for c in self.look_at_up_axis) < 1e-12:
            raise invalid(
                "look_at_up_axis must not be zero", expected="a non-zero vector", got=list(self.look_at_up_axis)
            )
        if self.look_at_m is not None and math.dist(self.look_at_m, self.position_m) < MIN_LOOK_AT_DISTANCE_M:
            raise invalid(
                "look_at_m is at position_m: no direction to look in",
                expected=f"a target at least {MIN_LOOK_AT_DISTANCE_M:g} m from position_m",
                got=list(self.look_at_m),
                key="look_at_m",
            )
        return self
