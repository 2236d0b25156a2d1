"""Distractors' draws: how many of which pool entries, their scale, material and placement.

They draw after every randomizer (the last phase), from the stream ``distractor:<name>``, so
they land on the surfaces and around the objects as posed this frame.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from .frame_params import PrimKey
from .frame_state import draw_rotation, draw_scale
from .placement import (
    VolumePlacer,
    bounding_radius,
    footprint,
    obstacles,
    point_in_convex,
    polygon_inside,
    surface_outline,
)
from .prim_paths import distractor_slot_paths

if TYPE_CHECKING:
    from .frame_state import FrameState
    from .model import DistractorSpec

__all__ = ["draw_distractors"]

log = logging.getLogger(__name__)


def draw_distractors(f: FrameState, name: str, spec: DistractorSpec) -> None:
    """Show, scale, dress and place distractor group ``name`` for this frame."""
    stream = f"distractor:{name}"
    key = f.key(spec.trigger)
    group_rng = f.rng(stream, key, f"/World/Distractors/{name}")
    count = int(group_rng.integers(spec.count.min, spec.count.max + 1))
    weights = None if spec.weights is None else np.asarray(spec.weights, dtype=np.float64)
    entries = [
        int(group_rng.integers(len(spec.pool)))
        if weights is None
        else int(group_rng.choice(len(spec.pool), p=weights / weights.sum()))
        for _ in range(count)
    ]
    slots = distractor_slot_paths(name, len(spec.pool), spec.count.max)
    used = [0] * len(spec.pool)
    assigned: list[tuple[str, int]] = []
    for entry in entries:
        assigned.append((slots[entry][used[entry]], entry))
        used[entry] += 1
    placement = spec.placement
    loc = ("distractors", name, "placement", "surface")
    if placement.kind == "flying":
        assert placement.volume is not None
        volume: VolumePlacer | None = VolumePlacer(
            np.asarray(placement.volume.min_m), np.asarray(placement.volume.max_m), 0.0, placement.no_overlap
        )
        outline = None
    else:
        volume = None
        outline, height = surface_outline(f, loc, placement.surface or "")
        drop_spheres: list[tuple[np.ndarray, float]] = []
        standing = obstacles(f, placement.surface or "")
    shown = {path for path, _ in assigned}
    for path in (p for entry_slots in slots for p in entry_slots):
        if path not in shown:
            f.params.prim(path)[PrimKey.VISIBLE] = False
    for path, entry in assigned:
        geometry = f.r.distractor_pools[name][entry]
        rng = f.rng(stream, key, path)
        scale = draw_scale(f, spec.scale, rng, key, ("distractors", name, "scale"))
        values: dict[str, Any] = {PrimKey.VISIBLE: True, PrimKey.SCALE: scale, "pool_entry": entry}
        if spec.materials:
            values[PrimKey.MATERIAL] = spec.materials[int(rng.integers(len(spec.materials)))]
        radius = bounding_radius(geometry, scale)
        placed = False
        for _ in range(1000):
            orient = draw_rotation(None, rng, key, placement.rotation)
            if volume is not None:
                point = volume.try_place(rng, radius)
                if point is not None:
                    values.update({PrimKey.TRANSLATE: point, PrimKey.ORIENT: orient})
                    placed = True
                    break
            else:
                assert outline is not None
                shape, bottom = footprint(geometry, scale, orient)
                center = rng.uniform(outline.min(axis=0), outline.max(axis=0))
                if not polygon_inside(shape + center, outline) or not point_in_convex(outline, center):
                    continue
                lift = rng.uniform(*placement.drop_height_m)
                # released above whatever already stands under it, never inside it
                lo, hi = shape.min(axis=0) + center, shape.max(axis=0) + center
                floor = max([height] + [top for o_lo, o_hi, top in standing if np.all(o_lo < hi) and np.all(lo < o_hi)])
                point = np.array([center[0], center[1], floor - bottom + lift])
                if placement.no_overlap and any(np.linalg.norm(point - p) < radius + r for p, r in drop_spheres):
                    continue
                drop_spheres.append((point, radius))
                values.update({PrimKey.TRANSLATE: point, PrimKey.ORIENT: orient})
                placed = True
                break
        if not placed:
            log.warning("distractors %s: could not place %s; hiding it this frame", name, path)
            values = {PrimKey.VISIBLE: False}
        f.params.prim(path).update({k: v for k, v in values.items() if k != "pool_entry"})
        f.record(stream, key, path, values)
