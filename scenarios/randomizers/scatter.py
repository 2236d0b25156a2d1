"""``scatter``: non-overlapping placement of the target assets on a surface or in a volume."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ...sensors.spec_base import Name, invalid
from ..frame_params import PrimKey
from ..frame_state import draw_rotation
from ..placement import SurfacePlacer, VolumePlacer, bounding_radius, footprint, surface_outline
from ..prim_paths import target_paths
from ..targets import match_targets
from .base import Box, RandomizerKind, RotationDist

if TYPE_CHECKING:
    from ..frame_state import FrameState
    from ..model import Scenario
    from .base import Loc, ReferenceChecker

__all__ = ["ScatterRandomizer"]

log = logging.getLogger(__name__)


class ScatterRandomizer(RandomizerKind):
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

    def check_references(self, checker: ReferenceChecker, loc: Loc, matched: list[str]) -> None:
        checker.asset((*loc, "surface"), self.surface)
        if self.surface in matched:
            checker.add(
                (*loc, "surface"),
                "the scatter surface is also one of its targets",
                "a surface that is not scattered",
                self.surface,
            )

    def resting_on(self, scenario: Scenario) -> dict[str, str]:
        if self.surface is None:
            return {}
        targets = match_targets(scenario, self.target_sections, self.targets)
        return {path: self.surface for target in targets for path in target_paths(scenario, target)}

    def draw(self, frame: FrameState, name: str) -> None:
        key = frame.key(self.trigger)
        loc = ("randomizers", name, "surface")
        paths = sorted(p for t in frame.targets(self) for p in frame.target_paths(t))
        if self.surface is not None:
            outline, height = surface_outline(frame, loc, self.surface)
            placer: SurfacePlacer | VolumePlacer = SurfacePlacer(outline, height, self.margin_m, self.no_overlap)
        else:
            assert self.volume is not None
            placer = VolumePlacer(
                np.asarray(self.volume.min_m), np.asarray(self.volume.max_m), self.margin_m, self.no_overlap
            )
        for path in paths:
            if not frame.visible(path):
                continue
            target, asset = frame.asset_of(path)
            geometry = frame.r.assets[target]
            scale = frame.pose(path, asset)[2]
            rng = frame.rng(name, key, path)
            values: dict[str, Any] | None = None
            for _ in range(self.max_attempts):
                if isinstance(placer, SurfacePlacer):
                    orient = draw_rotation(self.rotation, rng, key, "yaw")
                    shape, bottom = footprint(geometry, scale, orient)
                    center = placer.try_place(rng, shape)
                    if center is not None:
                        values = {
                            PrimKey.TRANSLATE: np.array([center[0], center[1], placer.height - bottom]),
                            PrimKey.ORIENT: orient,
                        }
                        break
                else:
                    orient = draw_rotation(self.rotation, rng, key, "so3")
                    point = placer.try_place(rng, bounding_radius(geometry, scale))
                    if point is not None:
                        values = {PrimKey.TRANSLATE: point, PrimKey.ORIENT: orient}
                        break
            if values is None:
                # Deterministic like any draw: the same frame always leaves the same object out.
                log.warning(
                    "randomizer %s: could not place %s in %d attempts; hiding it this frame",
                    name,
                    path,
                    self.max_attempts,
                )
                values = {PrimKey.VISIBLE: False}
            frame.params.prim(path).update(values)
            frame.record(name, key, path, values)
