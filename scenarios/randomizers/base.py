"""What every randomizer kind is: its scenario keys, its phase, what it may target, and how it draws.

A kind is one class deriving :class:`RandomizerKind`, in one module of this package (or of a
plugin): its pydantic fields are the scenario keys, ``phase`` and ``target_sections`` say when it
draws and what it may change, :meth:`RandomizerKind.draw` fills a frame's parameters, and the
optional hooks check its cross-references and the bindings the stage must author for it. The
package's ``RANDOMIZER_KINDS`` lists the kinds; everything else derives from that list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import Field, field_validator, model_validator

from ...sensors.spec_base import PosInt, Position, Spec, Vec3, invalid
from ..distributions import Choice, Combine, Distribution, LogUniform, Normal, Sequence, Uniform, dimension

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario

__all__ = [
    "AboutAxis",
    "Box",
    "Pattern",
    "RandomizerKind",
    "ReferenceChecker",
    "RotationDist",
    "Trigger",
    "check_dim",
]

Pattern = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_*?\[\]!]+$", strict=True)]
Loc = tuple[str | int, ...]


def check_dim(value: object, allowed: tuple[int, ...], what: str) -> None:
    """Bad input unless the constant or distribution ``value`` has one of ``allowed`` components."""
    dim = dimension(value)
    if dim not in allowed:
        expected = " or ".join(str(a) for a in allowed) + (" component" if allowed == (1,) else " components")
        raise invalid(f"{what} has the wrong number of components", expected=expected, got=f"{dim} components")


class ReferenceChecker(Protocol):
    """What a kind's :meth:`RandomizerKind.check_references` may report through."""

    s: Scenario

    def add(self, loc: Loc, message: str, expected: str | None = None, got: object = ...) -> None: ...
    def asset(self, loc: Loc, name: str | None) -> None: ...
    def material(self, loc: Loc, name: str | None) -> None: ...
    def texture(self, loc: Loc, name: str | None) -> None: ...
    def one_of(self, names: dict | set) -> str: ...


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


class RandomizerKind(Spec):
    """Base of every randomizer kind (subclasses add ``kind: Literal[...]`` and their keys)."""

    phase: ClassVar[int]
    """Order within a frame's sampling, lowest first: counts and visibility, then poses, then
    scatter (which rests objects on the posed surfaces), then look-at (which aims at them),
    then appearance. Kinds of one phase draw in randomizer-name order."""
    target_sections: ClassVar[tuple[str, ...]]
    """Which scenario sections the kind may target."""
    needs: ClassVar[tuple[str, ...]] = ()
    """Backend features the kind's values need (``Capabilities.features``, e.g. ``motion``): a
    backend without one refuses the randomizer by name instead of ignoring its draws."""

    targets: Annotated[tuple[Pattern, ...], Field(min_length=1)]
    """Names (or glob patterns) of the scenario entries this randomizer changes."""
    trigger: Trigger = Trigger()
    """When the randomizer draws."""

    def draw(self, frame: FrameState, name: str) -> None:
        """Draw this frame's values into ``frame.params`` and record them (``frame.record``)."""
        raise NotImplementedError(f"randomizer kind {type(self).__name__} does not draw")

    def matched_targets(self, scenario: Scenario) -> list[str]:
        """The scenario entries this randomizer's ``targets`` name, sorted (writers, which do not
        import ``scenarios``, ask the randomizer)."""
        from ..targets import match_targets

        return match_targets(scenario, self.target_sections, tuple(self.targets))

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        """Report names this randomizer refers to beyond its targets (``matched``) that do not exist."""

    def default_materials(self, scenario: Scenario) -> dict[str, str]:
        """Target → material the stage binds at authoring so there is a binding to edit."""
        return {}

    def resting_on(self, scenario: Scenario) -> dict[str, str]:
        """Prim path → asset this randomizer rests it on (physics checks it stays supported)."""
        return {}

    # ------------------------------------------------------------------ reading draws back

    lineage_keys: ClassVar[dict[str, str]] = {}
    """Scenario key → the key its raw draw has in a target's lineage record, where they differ
    (``color_temperature_k`` is recorded as ``color_temperature``)."""
    shared_draw: ClassVar[bool] = False
    """One draw per trigger key serves every target (``sky``), so a report counts it once."""

    def declared_distributions(self, scenario: Scenario) -> dict[str, Any]:
        """Scenario key → the declared distribution (JSON, as written) of each key whose draws
        the lineage records raw, one per target and trigger key; constants are left out, and
        so are keys recorded only after a transformation or a rejection loop (scatter)."""
        out: dict[str, Any] = {}
        for key in type(self).model_fields:
            value = getattr(self, key)
            if isinstance(value, (Uniform, Normal, LogUniform, Choice, Sequence, Combine)):
                out[key] = value.model_dump(mode="json")
        return out

    def raw_draws(self, values: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
        """The raw draws of :meth:`declared_distributions`' keys in one target's lineage record
        (``draws[name]["values"][path]``), by scenario key."""
        keys = type(self).lineage_keys
        return {
            key: values[keys.get(key, key)]
            for key in self.declared_distributions(scenario)
            if keys.get(key, key) in values
        }


class AboutAxis(Spec):
    axis: Vec3 = (0.0, 0.0, 1.0)
    """Rotation axis in the target's parent frame."""
    angle_deg: Distribution
    """Rotation angle about axis in degrees: a number or a distribution."""

    @field_validator("angle_deg")
    @classmethod
    def _dim(cls, value: object) -> object:
        check_dim(value, (1,), "angle_deg")
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
            check_dim(value, (3,), "euler_deg")
        return value

    @model_validator(mode="after")
    def _one(self) -> RotationDist:
        given = [k for k in ("euler_deg", "uniform_so3", "about_axis") if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise invalid(
                "give exactly one rotation", expected="euler_deg, uniform_so3: true or about_axis", got=given or "none"
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
