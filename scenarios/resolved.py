"""The resolved scenario: a validated scenario plus what was measured from its assets.

``runtime.usd.resolve()`` fills it (it may read meshes and USD files); the sampler only reads it.
Everything here is immutable: arrays are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..sensors.lidar import LidarProfile
from .loader import ScenarioDocument
from .model import Scenario

__all__ = ["Bounds", "MeshData", "ResolvedScenario", "ShapeGeometry", "SupportSurface"]


@dataclass(frozen=True)
class Bounds:
    """Axis-aligned box in a prim's local frame, before its scale (stage units)."""

    min: tuple[float, float, float]
    max: tuple[float, float, float]

    @property
    def half_extents(self) -> np.ndarray:
        return (np.asarray(self.max) - np.asarray(self.min)) / 2

    @property
    def center(self) -> np.ndarray:
        return (np.asarray(self.max) + np.asarray(self.min)) / 2

    def corners(self) -> np.ndarray:
        lo, hi = np.asarray(self.min), np.asarray(self.max)
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


@dataclass(frozen=True)
class SupportSurface:
    """The upward-facing top of a shape: height and convex outline in its local frame."""

    height: float
    polygon: tuple[tuple[float, float], ...]


@dataclass(frozen=True, eq=False)
class MeshData:
    """Triangles read from a mesh file, already in metres and Z-up."""

    vertices: np.ndarray  # (N, 3) float64
    faces: np.ndarray  # (M, 3) int32
    uvs: np.ndarray | None = None  # (N, 2) float64, per vertex

    def __post_init__(self) -> None:
        for arr in (self.vertices, self.faces, self.uvs):
            if arr is not None:
                arr.flags.writeable = False


@dataclass(frozen=True)
class ShapeGeometry:
    kind: str
    bounds: Bounds
    support: SupportSurface | None = None
    mesh: MeshData | None = None
    unit_scale: float = 1.0
    """USD references: scale from the referenced file's units to the stage's."""


@dataclass(frozen=True)
class ResolvedScenario:
    document: ScenarioDocument
    assets: dict[str, ShapeGeometry]
    distractor_pools: dict[str, tuple[ShapeGeometry, ...]]
    scenario_digest: str
    randomization_digest: str
    asset_digests: dict[str, str] = field(default_factory=dict)
    lidar_profiles: dict[str, LidarProfile] = field(default_factory=dict)
    """Per LiDAR name, its loaded profile (shipped, from a file, or built from ``simple``)."""

    @property
    def scenario(self) -> Scenario:
        return self.document.scenario
