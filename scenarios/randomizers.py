"""Randomizers in Replicator's vocabulary, keyed by name in the scenario (DESIGN §9).

Each randomizer has a ``kind``, ``targets`` (names, ``fnmatch`` patterns allowed) and a
``trigger``. The kinds and what they target:

=================  ==========================  =============================================
kind               targets                     draws
=================  ==========================  =============================================
pose               assets, cameras, lidars,    position, rotation (Euler / SO(3) / about an
                   lights                      axis), scale
scatter            assets                      non-overlapping placement on a surface or in
                                               a volume
look_at            cameras, lights, lidars     a position on a shell around a target, oriented
                                               with Replicator's look-at rule
light              lights                      intensity, exposure, colour, colour
                                               temperature, dome texture
material           assets                      one material of a list or pool, per target
material_inputs    materials                   UsdPreviewSurface inputs
visibility         assets, lights              shown with a probability
count              assets with ``count`` > 1   how many copies are shown
=================  ==========================  =============================================
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union, get_args

from pydantic import Field, field_validator, model_validator

from ..sensors.spec_base import (
    MAX_POSITION_M,
    MIN_LOOK_AT_DISTANCE_M,
    Name,
    Number,
    PosInt,
    Position,
    Spec,
    Unit,
    Vec3,
    invalid,
)
from .distributions import NON_NEGATIVE, POSITION, POSITIVE, UNIT_INTERVAL, Distribution, Domain, dimension, within

# Domains of the randomized keys that are not one of the shared ones (the static keys of
# scenarios.model say the same with their field types).
EXPOSURE = Domain(lower=-30.0, upper=30.0)
COLOR_TEMPERATURE_K = Domain(lower=1000.0, upper=40000.0)
LOOK_AT_DISTANCE_M = Domain(lower=MIN_LOOK_AT_DISTANCE_M, upper=MAX_POSITION_M)
"""Far enough from the target that there is a direction to look in."""

__all__ = [
    "AboutAxis",
    "CountRandomizer",
    "LightRandomizer",
    "LookAtRandomizer",
    "MaterialInputsRandomizer",
    "MaterialRandomizer",
    "PoseRandomizer",
    "Randomizer",
    "RotationDist",
    "ScatterRandomizer",
    "Trigger",
    "VisibilityRandomizer",
]

Pattern = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_*?\[\]!]+$", strict=True)]


def _check_dim(value: object, allowed: tuple[int, ...], what: str) -> None:
    dim = dimension(value)
    if dim not in allowed:
        expected = " or ".join(str(a) for a in allowed) + (" component" if allowed == (1,) else " components")
        raise invalid(f"{what} has the wrong number of components", expected=expected, got=f"{dim} components")


class Trigger(Spec):
    """When a randomizer draws: every ``interval`` frames (key ⌊i/k⌋) or once per episode."""

    kind: Literal["on_frame", "per_episode"] = "on_frame"
    """on_frame: draw every interval frames; per_episode: draw once per physics episode."""
    interval: PosInt = 1
    """Frames between draws (on_frame)."""

    @model_validator(mode="after")
    def _interval(self) -> Trigger:
        if self.kind == "per_episode" and "interval" in self.model_fields_set:
            raise invalid("interval applies to on_frame triggers only", expected="kind: on_frame", got=self.kind)
        return self


class _Randomizer(Spec):
    phase: ClassVar[int]
    """Order within a frame's sampling, lowest first: counts and visibility, then poses, then
    scatter (which rests objects on the posed surfaces), then look-at (which aims at them),
    then appearance. Kinds of one phase draw in randomizer-name order."""
    target_sections: ClassVar[tuple[str, ...]]
    """Which scenario sections the kind may target."""

    targets: Annotated[tuple[Pattern, ...], Field(min_length=1)]
    """Names (or glob patterns) of the scenario entries this randomizer changes."""
    trigger: Trigger = Trigger()
    """When the randomizer draws."""


class AboutAxis(Spec):
    axis: Vec3 = (0.0, 0.0, 1.0)
    """Rotation axis in the target's parent frame."""
    angle_deg: Distribution
    """Rotation angle about axis in degrees: a number or a distribution."""

    @field_validator("angle_deg")
    @classmethod
    def _dim(cls, value: object) -> object:
        _check_dim(value, (1,), "angle_deg")
        return value

    @field_validator("axis")
    @classmethod
    def _nonzero(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if sum(c * c for c in value) < 1e-12:
            raise invalid("axis must not be zero", expected="a non-zero vector", got=list(value))
        return value


class RotationDist(Spec):
    """Exactly one of: XYZ Euler angles (degrees), uniform over SO(3), or about one axis."""

    euler_deg: Distribution | None = None
    """XYZ Euler angles in degrees: a constant or a distribution of 3 values."""
    uniform_so3: bool | None = None
    """Draw orientations uniformly over SO(3)."""
    about_axis: AboutAxis | None = None
    """Rotate about one axis by a drawn angle."""

    @field_validator("euler_deg")
    @classmethod
    def _dim(cls, value: object) -> object:
        if value is not None:
            _check_dim(value, (3,), "euler_deg")
        return value

    @model_validator(mode="after")
    def _one(self) -> RotationDist:
        given = [k for k in ("euler_deg", "uniform_so3", "about_axis") if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise invalid(
                "give exactly one rotation", expected="euler_deg, uniform_so3: true or about_axis", got=given or "none"
            )
        return self


class PoseRandomizer(_Randomizer):
    phase = 2
    target_sections = ("assets", "cameras", "lidars", "lights")

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
            _check_dim(value, (3,), "position_m")
        return value

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: object) -> object:
        if value is not None:
            _check_dim(value, (1, 3), "scale")
        return value

    @model_validator(mode="after")
    def _something(self) -> PoseRandomizer:
        if self.position_m is None and self.rotation is None and self.scale is None:
            raise invalid(
                "a pose randomizer needs position_m, rotation or scale", expected="at least one of them", got="none"
            )
        return self


class Box(Spec):
    min_m: Position
    """Minimum corner in metres."""
    max_m: Position
    """Maximum corner in metres."""

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if any(a > b for a, b in zip(self.min_m, self.max_m)):
            raise invalid(
                "box is inverted", expected="min_m <= max_m", got={"min_m": list(self.min_m), "max_m": list(self.max_m)}
            )
        return self


class ScatterRandomizer(_Randomizer):
    """Place targets without overlap on the top surface of an asset or inside a volume.

    On a surface, objects rest upright on it and turn about the vertical (unless ``rotation``
    says otherwise); in a volume they default to a uniform SO(3) rotation.
    """

    phase = 3
    target_sections = ("assets",)

    kind: Literal["scatter"]
    """Randomizer kind."""
    surface: Name | None = None
    """Asset whose flat top the targets are scattered on."""
    volume: Box | None = None
    """Box the targets are scattered in (instead of a surface)."""
    rotation: RotationDist | None = None
    """Orientation drawn per target (default: about the vertical on a surface, uniform SO(3) in a volume)."""
    no_overlap: bool = True
    """Reject placements whose footprints overlap."""
    margin_m: Annotated[float, Field(strict=True, ge=0)] = 0.0
    """Distance kept from the surface's edge, in metres."""
    max_attempts: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 1000
    """Placement attempts per target before the frame fails."""

    @model_validator(mode="after")
    def _where(self) -> ScatterRandomizer:
        if (self.surface is None) == (self.volume is None):
            raise invalid(
                "give exactly one of surface and volume",
                expected="surface or volume",
                got="both" if self.surface else "neither",
            )
        return self


class LookAtRandomizer(_Randomizer):
    """Eye on a shell around ``target_m``: distance, azimuth (from +X, CCW) and elevation."""

    phase = 4
    target_sections = ("cameras", "lights", "lidars")

    kind: Literal["look_at"]
    """Randomizer kind."""
    target_m: Annotated[Distribution, within(POSITION)] = (0.0, 0.0, 0.0)
    """Point looked at, in metres: a constant or a distribution of 3 values."""
    distance_m: Annotated[Distribution, within(LOOK_AT_DISTANCE_M)]
    """Distance of the eye from the target in metres (at least 1e-4)."""
    azimuth_deg: Distribution = 0.0
    """Azimuth of the eye around the target in degrees, from +X counter-clockwise."""
    elevation_deg: Distribution = 30.0
    """Elevation of the eye above the target's horizontal plane, in degrees."""
    look_at_up_axis: Vec3 = (0.0, 0.0, 1.0)
    """World direction kept up."""

    @field_validator("target_m")
    @classmethod
    def _target(cls, value: object) -> object:
        _check_dim(value, (3,), "target_m")
        return value

    @field_validator("distance_m", "azimuth_deg", "elevation_deg")
    @classmethod
    def _scalar(cls, value: object) -> object:
        _check_dim(value, (1,), "this value")
        return value


class LightRandomizer(_Randomizer):
    phase = 5
    target_sections = ("lights",)

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
            _check_dim(value, (1,), "this value")
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: object) -> object:
        if value is not None:
            _check_dim(value, (3,), "color")
        return value


class MaterialRandomizer(_Randomizer):
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


class MaterialInputsRandomizer(_Randomizer):
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
            _check_dim(value, (3,), "this colour")
        return value

    @field_validator("roughness", "metallic")
    @classmethod
    def _scalar(cls, value: object) -> object:
        if value is not None:
            _check_dim(value, (1,), "this value")
        return value


class VisibilityRandomizer(_Randomizer):
    phase = 1
    target_sections = ("assets", "lights")

    kind: Literal["visibility"]
    """Randomizer kind: each target is visible with probability per draw."""
    probability: Unit = 0.5
    """Probability that each target is visible."""


class CountRandomizer(_Randomizer):
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


RANDOMIZER_KINDS: tuple[type[_Randomizer], ...] = (
    PoseRandomizer,
    ScatterRandomizer,
    LookAtRandomizer,
    LightRandomizer,
    MaterialRandomizer,
    MaterialInputsRandomizer,
    VisibilityRandomizer,
    CountRandomizer,
)
"""Every randomizer kind: the one list the scenario union, the target rules and the sampler's
phases derive from."""

Randomizer = Annotated[Union[RANDOMIZER_KINDS], Field(discriminator="kind")]  # type: ignore[valid-type]


def kind_of(cls: type[_Randomizer]) -> str:
    """The ``kind:`` value of a randomizer class."""
    return get_args(cls.model_fields["kind"].annotation)[0]


TARGET_KINDS: dict[str, tuple[str, ...]] = {kind_of(cls): cls.target_sections for cls in RANDOMIZER_KINDS}
"""Which scenario sections each randomizer kind may target."""

__all__ += [
    "COLOR_TEMPERATURE_K",
    "EXPOSURE",
    "LOOK_AT_DISTANCE_M",
    "RANDOMIZER_KINDS",
    "TARGET_KINDS",
    "Box",
    "kind_of",
]
