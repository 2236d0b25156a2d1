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
sky                sky domes, distant lights   the sun of a procedural sky (and the sun light)
velocity           assets, cameras             linear and angular velocity during an exposure
=================  ==========================  =============================================

Each kind is one module here (its class carries its keys, phase, targets and draw, see
``base``), named in :data:`KIND_MODULES`; :data:`RANDOMIZER_KINDS` is the one list of kinds,
ours then the plugins' (``scenesmith.plugins``: modules listing theirs in ``RANDOMIZERS``).
The classes are re-exported here for convenience; nothing derives from these imports.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Annotated, Union, get_args

from pydantic import Field

from ...plugins import PLUGINS_ENV, PluginError, plugin_classes
from .base import AboutAxis, Box, RandomizerKind, RotationDist, Trigger
from .count import CountRandomizer
from .light import COLOR_TEMPERATURE_K, EXPOSURE, LightRandomizer
from .look_at import LOOK_AT_DISTANCE_M, LookAtRandomizer
from .material import MaterialRandomizer
from .material_inputs import MaterialInputsRandomizer
from .pose import PoseRandomizer
from .scatter import ScatterRandomizer
from .sky import SkyRandomizer
from .velocity import VelocityRandomizer
from .visibility import VisibilityRandomizer

__all__ = [
    "KIND_MODULES",
    "COLOR_TEMPERATURE_K",
    "EXPOSURE",
    "LOOK_AT_DISTANCE_M",
    "RANDOMIZER_KINDS",
    "TARGET_KINDS",
    "AboutAxis",
    "Box",
    "CountRandomizer",
    "LightRandomizer",
    "LookAtRandomizer",
    "MaterialInputsRandomizer",
    "MaterialRandomizer",
    "PoseRandomizer",
    "Randomizer",
    "RandomizerKind",
    "RotationDist",
    "ScatterRandomizer",
    "SkyRandomizer",
    "Trigger",
    "VelocityRandomizer",
    "VisibilityRandomizer",
    "kind_of",
]


def kind_of(cls: type[RandomizerKind]) -> str:
    """The ``kind:`` value of a randomizer class."""
    return get_args(cls.model_fields["kind"].annotation)[0]


KIND_MODULES = (
    "pose",
    "scatter",
    "look_at",
    "light",
    "material",
    "material_inputs",
    "visibility",
    "count",
    "sky",
    "velocity",
)
"""Our kinds' modules, in the order of the scenario union (a new kind: its module, and its name here)."""

_SECTIONS = frozenset({"assets", "cameras", "lidars", "lights", "materials"})


def _declared(module: ModuleType) -> list[type[RandomizerKind]]:
    """The kind classes a module defines (not the ones it imports)."""
    return [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, RandomizerKind) and cls.__module__ == module.__name__
        and "kind" in cls.model_fields
    ]  # fmt: skip


def _check(cls: object, origin: str) -> type[RandomizerKind]:
    """A kind class as the union needs it, or an error naming what it lacks."""
    if not (isinstance(cls, type) and issubclass(cls, RandomizerKind)):
        raise PluginError(f"{origin}: {cls!r} does not derive scenesmith's RandomizerKind")
    kind = cls.model_fields.get("kind")
    if kind is None or len(get_args(kind.annotation)) != 1:
        raise ValueError(f'{origin}: {cls.__qualname__} declares no kind: Literal["<name>"] field')
    if not isinstance(getattr(cls, "phase", None), int):
        raise PluginError(f"{origin}: {cls.__qualname__} declares no integer phase")
    sections = getattr(cls, "target_sections", None)
    if not sections or not set(sections) <= _SECTIONS:
        raise PluginError(f"{origin}: {cls.__qualname__}.target_sections must name some of {sorted(_SECTIONS)}")
    return cls


def _kinds() -> tuple[type[RandomizerKind], ...]:
    out: list[type[RandomizerKind]] = []
    for name in KIND_MODULES:
        out += [
            _check(cls, f"scenesmith.scenarios.randomizers.{name}")
            for cls in _declared(import_module(f".{name}", __name__))
        ]
    for cls in plugin_classes("RANDOMIZERS"):
        _check(cls, PLUGINS_ENV)
        clash = [other for other in out if kind_of(other) == kind_of(cls) and other is not cls]
        if clash:
            raise ValueError(
                f"randomizer kind {kind_of(cls)!r} of {cls.__qualname__} is already {clash[0].__qualname__}"
            )
        if cls not in out:
            out.append(cls)
    return tuple(out)


RANDOMIZER_KINDS: tuple[type[RandomizerKind], ...] = _kinds()
"""Every randomizer kind: the one list the scenario union, the target rules and the sampler's
phases derive from."""

Randomizer = Annotated[Union[RANDOMIZER_KINDS], Field(discriminator="kind")]  # type: ignore[valid-type]

TARGET_KINDS: dict[str, tuple[str, ...]] = {kind_of(cls): cls.target_sections for cls in RANDOMIZER_KINDS}
"""Which scenario sections each randomizer kind may target."""
