"""The top-level Scenario: every section of a scenario file."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from ...sensors.spec_base import Name, Spec
from ..randomizers import Randomizer
from .assets import Asset
from .cameras import CameraSpec
from .distractors import DistractorSpec
from .lidars import LidarSpec
from .lights import LightSpec
from .materials import MaterialSpec, TextureSpec
from .output import IsaacSpec, OutputSpec, RenderSpec, StageSpec
from .physics import PhysicsSpec

__all__ = [
    "AnySensor",
    "Scenario",
]


class Scenario(Spec):
    """A whole scenario. ``version`` is the file-format version (currently 1)."""

    version: Literal[1]
    """Scenario format version (1)."""
    name: Annotated[str, Field(max_length=256, strict=True)] | None = None
    """Name of the scenario."""
    description: Annotated[str, Field(max_length=4096, strict=True)] | None = None
    """Free text describing the scenario."""
    stage: StageSpec = StageSpec()
    """Stage units and up axis."""
    textures: dict[Name, TextureSpec] = {}
    """Textures by name (files or procedural)."""
    materials: dict[Name, MaterialSpec] = {}
    """Materials by name."""
    material_pools: dict[Name, Annotated[tuple[Name, ...], Field(min_length=1)]] = {}
    """Named lists of materials that randomizers and distractors draw from."""
    assets: dict[Name, Asset] = {}
    """Objects of the scene by name (prims /World/<name>)."""
    lights: dict[Name, LightSpec] = {}
    """Lights by name (prims /World/Lights/<name>)."""
    cameras: dict[Name, CameraSpec] = {}
    """Cameras by name (render products /Render/<name>)."""
    lidars: dict[Name, LidarSpec] = {}
    """LiDARs by name."""
    distractors: dict[Name, DistractorSpec] = {}
    """Groups of clutter objects drawn per frame."""
    physics: PhysicsSpec = PhysicsSpec()
    """Physics simulation."""
    render: RenderSpec = RenderSpec()
    """Embedded renderer settings."""
    output: OutputSpec = OutputSpec()
    """Frames, shards and writers."""
    isaac: IsaacSpec = IsaacSpec()
    """Settings used only inside Isaac Sim."""
    randomizers: dict[Name, Randomizer] = {}
    """Randomizers by name, applied in phase order each frame."""


# Types that other modules match on.
AnySensor = Union[CameraSpec, LidarSpec]
