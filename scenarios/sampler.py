"""``sample(resolved, seed, frame_index) -> FrameParams``: the frame's randomness, alone.

A frame depends only on the randomization digest, the seed, the frame index and each
randomizer's stable id (DESIGN §4): frames 5..9 sampled alone equal frames 5..9 sampled within
0..9, in any process. Randomizers run in fixed phases, by name within a phase:

1. ``count`` then ``visibility`` (which copies are shown),
2. ``pose``, 3. ``scatter`` (needs the surface's pose), 4. ``look_at``,
5. ``light``, ``material``, ``material_inputs``, 6. distractors.

When two randomizers set the same attribute, the later one wins.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..sensors.conventions import (
    euler_xyz_deg_to_quat,
    look_at_quat,
    normalize_quat,
    quat_to_rotation_matrix,
    transform_matrix,
)
from .distributions import draw_scalar, draw_vector
from .frame_params import FrameParams
from .model import Asset, DistractorSpec, Scenario
from .placement import (
    convex_hull_2d,
    point_in_convex,
    polygon_inside,
    polygons_overlap,
    support_outline,
    uniform_quat,
)
from .prim_paths import asset_paths, distractor_slot_paths, target_paths
from .randomizers import (
    CountRandomizer,
    LightRandomizer,
    LookAtRandomizer,
    MaterialInputsRandomizer,
    MaterialRandomizer,
    PoseRandomizer,
    RotationDist,
    ScatterRandomizer,
    Trigger,
    VisibilityRandomizer,
)
from .references import expand_targets
from .resolved import ResolvedScenario, ShapeGeometry
from .seeding import frame_rng

__all__ = ["episode_of", "sample", "trigger_key"]

log = logging.getLogger(__name__)


def episode_of(scenario: Scenario, frame_index: int) -> tuple[int, int]:
    """(episode index, frame within episode): episodes exist only when physics runs sequences."""
    length = scenario.physics.episode.frames if scenario.physics.enabled else 1
    return frame_index // length, frame_index % length


def trigger_key(trigger: Trigger, frame_index: int, episode: int) -> int:
    """DESIGN §9 "Triggers": ``on_frame(interval=k)`` draws with key ⌊i/k⌋; per-episode with the episode."""
    return frame_index // trigger.interval if trigger.kind == "on_frame" else episode


class _Frame:
    """The state of one frame while randomizers fill it."""

    def __init__(self, resolved: ResolvedScenario, seed: int, frame_index: int) -> None:
        self.r = resolved
        self.s = resolved.scenario
        self.seed = seed
        episode, in_episode = episode_of(self.s, frame_index)
        self.params = FrameParams(frame_index, seed, episode, in_episode, resolved.randomization_digest)

    def rng(self, stream: str, key: int, path: str) -> np.random.Generator:
        return frame_rng(self.r.randomization_digest, self.seed, key, stream, path)

    def key(self, trigger: Trigger) -> int:
        return trigger_key(trigger, self.params.frame_index, self.params.episode_index)

    def record(self, name: str, key: int, path: str, values: dict[str, Any]) -> None:
        entry = self.params.draws.setdefault(name, {"trigger_key": key, "values": {}})
        entry["values"].setdefault(path, {}).update(values)

    # ------------------------------------------------------------------ current state

    def asset_of(self, path: str) -> tuple[str, Asset]:
        name = path.rsplit("/", 1)[1]
        if name not in self.s.assets:
            name = name.rsplit("_", 1)[0]
        return name, self.s.assets[name]

    def pose(self, path: str, base: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Translate, orientation and scale of ``path`` now (randomized values over authored ones)."""
        state = self.params.prims.get(path, {})
        translate = np.asarray(state.get("translate", base.position_m), dtype=np.float64)
        if "orient" in state:
            orient = np.asarray(state["orient"], dtype=np.float64)
        else:
            orient = authored_orientation(base)
        scale = np.asarray(state.get("scale", getattr(base, "scale", (1.0, 1.0, 1.0))), dtype=np.float64)
        return translate, orient, scale

    def visible(self, path: str, authored: bool = True) -> bool:
        return bool(self.params.prims.get(path, {}).get("visible", authored))


def authored_orientation(spec: Any) -> np.ndarray:
    """The orientation a posed spec was authored with (Euler, quaternion or look-at)."""
    if spec.quat_wxyz is not None:
        return normalize_quat(spec.quat_wxyz)
    if spec.rotation_deg is not None:
        return euler_xyz_deg_to_quat(spec.rotation_deg)
    if spec.look_at_m is not None:
        return look_at_quat(spec.position_m, spec.look_at_m, spec.look_at_up_axis)
    return np.array([1.0, 0.0, 0.0, 0.0])


def _rotation(dist: RotationDist | None, rng: np.random.Generator, key: int, default: str) -> np.ndarray:
    if dist is None:
        if default == "so3":
            return uniform_quat(rng)
        if default == "yaw":
            return _axis_angle((0.0, 0.0, 1.0), rng.uniform(0.0, 360.0))
        return np.array([1.0, 0.0, 0.0, 0.0])
    if dist.euler_deg is not None:
        return euler_xyz_deg_to_quat(draw_vector(dist.euler_deg, rng, key, 3))
    if dist.uniform_so3:
        return uniform_quat(rng)
    assert dist.about_axis is not None
    return _axis_angle(dist.about_axis.axis, draw_scalar(dist.about_axis.angle_deg, rng, key))


def _axis_angle(axis: tuple[float, float, float] | np.ndarray, angle_deg: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    half = math.radians(angle_deg) / 2
    return normalize_quat([math.cos(half), *(a * math.sin(half))])


def _scale3(value: np.ndarray) -> np.ndarray:
    return np.repeat(value, 3) if value.shape == (1,) else value


# --------------------------------------------------------------------- randomizers


def _count(f: _Frame, name: str, rnd: CountRandomizer) -> None:
    key = f.key(rnd.trigger)
    for target in expand_targets(f.s, "count", rnd.targets):
        paths = asset_paths(target, f.s.assets[target].count)
        n = int(f.rng(name, key, paths[0]).integers(rnd.min, rnd.max + 1))
        for k, path in enumerate(paths):
            f.params.prim(path)["visible"] = k < n
        f.record(name, key, f"/World/{target}", {"count": n})


def _visibility(f: _Frame, name: str, rnd: VisibilityRandomizer) -> None:
    key = f.key(rnd.trigger)
    for target in expand_targets(f.s, "visibility", rnd.targets):
        for path in target_paths(f.s, target):
            shown = bool(f.rng(name, key, path).random() < rnd.probability)
            prim = f.params.prim(path)
            prim["visible"] = prim.get("visible", True) and shown
            f.record(name, key, path, {"visible": shown})


def _pose(f: _Frame, name: str, rnd: PoseRandomizer) -> None:
    key = f.key(rnd.trigger)
    for target in expand_targets(f.s, "pose", rnd.targets):
        for path in target_paths(f.s, target):
            rng = f.rng(name, key, path)
            values: dict[str, Any] = {}
            if rnd.position_m is not None:
                values["translate"] = draw_vector(rnd.position_m, rng, key, 3)
            if rnd.rotation is not None:
                values["orient"] = _rotation(rnd.rotation, rng, key, "none")
            if rnd.scale is not None:
                scale = _scale3(draw_vector(rnd.scale, rng, key, 3 if _dim(rnd.scale) == 3 else 1))
                if np.any(scale <= 0):
                    raise f.r.document.error(
                        ("randomizers", name, "scale"),
                        "a scale draw is not positive",
                        expected="> 0",
                        got=scale.tolist(),
                    )
                values["scale"] = scale
            f.params.prim(path).update(values)
            f.record(name, key, path, values)


def _dim(dist: Any) -> int:
    from .distributions import dimension

    return dimension(dist)


def _surface_outline(f: _Frame, name: str, loc: tuple, surface: str) -> tuple[np.ndarray, float]:
    """World outline (CCW polygon) and height of the top of ``surface`` this frame."""
    geometry = f.r.assets[surface]
    if geometry.support is None:
        raise f.r.document.error(
            loc,
            f"asset '{surface}' has no upward-facing top to place objects on",
            expected="a box, cylinder, plane or mesh with a flat top",
            got=geometry.kind,
        )
    path = asset_paths(surface, f.s.assets[surface].count)[0]
    translate, orient, scale = f.pose(path, f.s.assets[surface])
    matrix = transform_matrix(translate, orient, scale)
    if abs(matrix[2, 2] / np.linalg.norm(matrix[2, :3]) - 1.0) > 1e-6:
        raise f.r.document.error(
            loc,
            f"surface '{surface}' is tilted; objects can only rest on a level top",
            expected="a surface rotated only about the vertical",
            got=orient.tolist(),
        )
    return support_outline(geometry.support.height, np.asarray(geometry.support.polygon), matrix)


def _obstacles(f: _Frame, surface: str) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """World (xy min, xy max, top z) of every visible asset other than ``surface`` this frame."""
    out = []
    for name in sorted(f.s.assets):
        if name == surface:
            continue
        asset = f.s.assets[name]
        for path in asset_paths(name, asset.count):
            if not f.visible(path, asset.visible):
                continue
            translate, orient, scale = f.pose(path, asset)
            corners = f.r.assets[name].bounds.corners() * scale @ quat_to_rotation_matrix(orient) + translate
            out.append((corners[:, :2].min(axis=0), corners[:, :2].max(axis=0), float(corners[:, 2].max())))
    return out


def _footprint(geometry: ShapeGeometry, scale: np.ndarray, orient: np.ndarray) -> tuple[np.ndarray, float]:
    """Ground-plane footprint (relative to the prim origin) and lowest point of the rotated box."""
    corners = geometry.bounds.corners() * scale @ quat_to_rotation_matrix(orient)
    return convex_hull_2d(corners[:, :2]), float(corners[:, 2].min())


def _bounding_radius(geometry: ShapeGeometry, scale: np.ndarray) -> float:
    return float(np.linalg.norm(geometry.bounds.corners() * scale, axis=1).max())


class _SurfacePlacer:
    """Rejection sampling of non-overlapping resting poses on one convex top surface."""

    def __init__(self, outline: np.ndarray, height: float, margin: float, no_overlap: bool) -> None:
        self.outline = outline
        self.height = height
        self.margin = margin
        self.no_overlap = no_overlap
        self.lo, self.hi = outline.min(axis=0), outline.max(axis=0)
        self.placed: list[np.ndarray] = []

    def try_place(self, rng: np.random.Generator, footprint: np.ndarray) -> np.ndarray | None:
        center = rng.uniform(self.lo, self.hi)
        shape = footprint + center
        if not polygon_inside(shape, self.outline, self.margin):
            return None
        if self.no_overlap and any(polygons_overlap(shape, other, self.margin) for other in self.placed):
            return None
        self.placed.append(shape)
        return center


class _VolumePlacer:
    def __init__(self, lo: np.ndarray, hi: np.ndarray, margin: float, no_overlap: bool) -> None:
        self.lo, self.hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        self.margin = margin
        self.no_overlap = no_overlap
        self.placed: list[tuple[np.ndarray, float]] = []

    def try_place(self, rng: np.random.Generator, radius: float) -> np.ndarray | None:
        lo, hi = self.lo + radius, self.hi - radius
        mid = (self.lo + self.hi) / 2
        lo, hi = np.where(lo <= hi, lo, mid), np.where(lo <= hi, hi, mid)
        point = rng.uniform(lo, hi)
        if self.no_overlap and any(np.linalg.norm(point - p) < radius + r + self.margin for p, r in self.placed):
            return None
        self.placed.append((point, radius))
        return point


def _scatter(f: _Frame, name: str, rnd: ScatterRandomizer) -> None:
    key = f.key(rnd.trigger)
    loc = ("randomizers", name, "surface")
    paths = sorted(p for t in expand_targets(f.s, "scatter", rnd.targets) for p in target_paths(f.s, t))
    if rnd.surface is not None:
        outline, height = _surface_outline(f, name, loc, rnd.surface)
        placer: _SurfacePlacer | _VolumePlacer = _SurfacePlacer(outline, height, rnd.margin_m, rnd.no_overlap)
    else:
        assert rnd.volume is not None
        placer = _VolumePlacer(np.asarray(rnd.volume.min_m), np.asarray(rnd.volume.max_m), rnd.margin_m, rnd.no_overlap)
    for path in paths:
        if not f.visible(path):
            continue
        target, asset = f.asset_of(path)
        geometry = f.r.assets[target]
        scale = f.pose(path, asset)[2]
        rng = f.rng(name, key, path)
        values: dict[str, Any] | None = None
        for _ in range(rnd.max_attempts):
            if isinstance(placer, _SurfacePlacer):
                orient = _rotation(rnd.rotation, rng, key, "yaw")
                footprint, bottom = _footprint(geometry, scale, orient)
                center = placer.try_place(rng, footprint)
                if center is not None:
                    values = {"translate": np.array([center[0], center[1], placer.height - bottom]), "orient": orient}
                    break
            else:
                orient = _rotation(rnd.rotation, rng, key, "so3")
                point = placer.try_place(rng, _bounding_radius(geometry, scale))
                if point is not None:
                    values = {"translate": point, "orient": orient}
                    break
        if values is None:
            # Deterministic like any draw: the same frame always leaves the same object out.
            log.warning(
                "randomizer %s: could not place %s in %d attempts; hiding it this frame", name, path, rnd.max_attempts
            )
            values = {"visible": False}
        f.params.prim(path).update(values)
        f.record(name, key, path, values)


def _look_at(f: _Frame, name: str, rnd: LookAtRandomizer) -> None:
    key = f.key(rnd.trigger)
    up = f.s.stage.up_axis
    for target in expand_targets(f.s, "look_at", rnd.targets):
        for path in target_paths(f.s, target):
            rng = f.rng(name, key, path)
            aim = draw_vector(rnd.target_m, rng, key, 3)
            distance = draw_scalar(rnd.distance_m, rng, key)
            azimuth = math.radians(draw_scalar(rnd.azimuth_deg, rng, key))
            elevation = math.radians(draw_scalar(rnd.elevation_deg, rng, key))
            if distance <= 0:
                raise f.r.document.error(
                    ("randomizers", name, "distance_m"), "a distance draw is not positive", expected="> 0", got=distance
                )
            eye = aim + distance * np.array(
                [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
            )
            values = {"translate": eye, "orient": look_at_quat(eye, aim, rnd.look_at_up_axis, up), "look_at": aim}
            f.params.prim(path).update({"translate": eye, "orient": values["orient"]})
            f.record(name, key, path, values)


def _light(f: _Frame, name: str, rnd: LightRandomizer) -> None:
    key = f.key(rnd.trigger)
    for target in expand_targets(f.s, "light", rnd.targets):
        for path in target_paths(f.s, target):
            rng = f.rng(name, key, path)
            values: dict[str, Any] = {}
            if rnd.intensity is not None:
                values["intensity"] = max(0.0, draw_scalar(rnd.intensity, rng, key))
            if rnd.exposure is not None:
                values["exposure"] = draw_scalar(rnd.exposure, rng, key)
            if rnd.color is not None:
                values["color"] = np.clip(draw_vector(rnd.color, rng, key, 3), 0.0, None)
            if rnd.color_temperature_k is not None:
                values["color_temperature"] = float(
                    np.clip(draw_scalar(rnd.color_temperature_k, rng, key), 1000.0, 40000.0)
                )
                values["enable_color_temperature"] = True
            if rnd.textures:
                values["texture"] = rnd.textures[int(rng.integers(len(rnd.textures)))]
            f.params.prim(path).update(values)
            f.record(name, key, path, values)


def _material(f: _Frame, name: str, rnd: MaterialRandomizer) -> None:
    key = f.key(rnd.trigger)
    choices = list(rnd.materials) if rnd.materials is not None else list(f.s.material_pools[rnd.pool or ""])
    weights = None if rnd.weights is None else np.asarray(rnd.weights, dtype=np.float64)
    for target in expand_targets(f.s, "material", rnd.targets):
        for path in target_paths(f.s, target):
            rng = f.rng(name, key, path)
            index = (
                int(rng.integers(len(choices)))
                if weights is None
                else int(rng.choice(len(choices), p=weights / weights.sum()))
            )
            f.params.prim(path)["material"] = choices[index]
            f.record(name, key, path, {"material": choices[index]})


def _material_inputs(f: _Frame, name: str, rnd: MaterialInputsRandomizer) -> None:
    key = f.key(rnd.trigger)
    for target in expand_targets(f.s, "material_inputs", rnd.targets):
        rng = f.rng(name, key, target_paths(f.s, target)[0])
        values: dict[str, Any] = {}
        if rnd.diffuse_color is not None:
            values["diffuse_color"] = np.clip(draw_vector(rnd.diffuse_color, rng, key, 3), 0.0, 1.0)
        if rnd.roughness is not None:
            values["roughness"] = float(np.clip(draw_scalar(rnd.roughness, rng, key), 0.0, 1.0))
        if rnd.metallic is not None:
            values["metallic"] = float(np.clip(draw_scalar(rnd.metallic, rng, key), 0.0, 1.0))
        if rnd.emissive_color is not None:
            values["emissive_color"] = np.clip(draw_vector(rnd.emissive_color, rng, key, 3), 0.0, None)
        f.params.materials.setdefault(target, {}).update(values)
        f.record(name, key, target_paths(f.s, target)[0], values)


_HANDLERS: dict[type, Callable[[_Frame, str, Any], None]] = {
    CountRandomizer: _count,
    VisibilityRandomizer: _visibility,
    PoseRandomizer: _pose,
    ScatterRandomizer: _scatter,
    LookAtRandomizer: _look_at,
    LightRandomizer: _light,
    MaterialRandomizer: _material,
    MaterialInputsRandomizer: _material_inputs,
}
"""How each kind draws; the order of kinds comes from their ``phase``."""


# --------------------------------------------------------------------- distractors


def _distractors(f: _Frame, name: str, spec: DistractorSpec) -> None:
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
        volume: _VolumePlacer | None = _VolumePlacer(
            np.asarray(placement.volume.min_m), np.asarray(placement.volume.max_m), 0.0, placement.no_overlap
        )
        outline = None
    else:
        volume = None
        outline, height = _surface_outline(f, name, loc, placement.surface or "")
        drop_spheres: list[tuple[np.ndarray, float]] = []
        obstacles = _obstacles(f, placement.surface or "")
    shown = {path for path, _ in assigned}
    for path in (p for entry_slots in slots for p in entry_slots):
        if path not in shown:
            f.params.prim(path)["visible"] = False
    for path, entry in assigned:
        geometry = f.r.distractor_pools[name][entry]
        rng = f.rng(stream, key, path)
        scale = _scale3(draw_vector(spec.scale, rng, key, 3 if _dim(spec.scale) == 3 else 1))
        if np.any(scale <= 0):
            raise f.r.document.error(
                ("distractors", name, "scale"), "a scale draw is not positive", expected="> 0", got=scale.tolist()
            )
        values: dict[str, Any] = {"visible": True, "scale": scale, "pool_entry": entry}
        if spec.materials:
            values["material"] = spec.materials[int(rng.integers(len(spec.materials)))]
        radius = _bounding_radius(geometry, scale)
        placed = False
        for _ in range(1000):
            orient = _rotation(None, rng, key, placement.rotation)
            if volume is not None:
                point = volume.try_place(rng, radius)
                if point is not None:
                    values.update(translate=point, orient=orient)
                    placed = True
                    break
            else:
                assert outline is not None
                footprint, bottom = _footprint(geometry, scale, orient)
                center = rng.uniform(outline.min(axis=0), outline.max(axis=0))
                if not polygon_inside(footprint + center, outline) or not point_in_convex(outline, center):
                    continue
                lift = rng.uniform(*placement.drop_height_m)
                # released above whatever already stands under it, never inside it
                lo, hi = footprint.min(axis=0) + center, footprint.max(axis=0) + center
                floor = max(
                    [height] + [top for o_lo, o_hi, top in obstacles if np.all(o_lo < hi) and np.all(lo < o_hi)]
                )
                point = np.array([center[0], center[1], floor - bottom + lift])
                if placement.no_overlap and any(np.linalg.norm(point - p) < radius + r for p, r in drop_spheres):
                    continue
                drop_spheres.append((point, radius))
                values.update(translate=point, orient=orient)
                placed = True
                break
        if not placed:
            log.warning("distractors %s: could not place %s; hiding it this frame", name, path)
            values = {"visible": False}
        f.params.prim(path).update({k: v for k, v in values.items() if k != "pool_entry"})
        f.record(stream, key, path, values)


def sample(resolved: ResolvedScenario, seed: int, frame_index: int) -> FrameParams:
    """Every value drawn for ``frame_index`` under ``seed`` (pure; no global state)."""
    frame = _Frame(resolved, seed, frame_index)
    randomizers = resolved.scenario.randomizers
    for name in sorted(randomizers, key=lambda n: (randomizers[n].phase, n)):
        rnd = randomizers[name]
        _HANDLERS[type(rnd)](frame, name, rnd)
    for name in sorted(resolved.scenario.distractors):
        _distractors(frame, name, resolved.scenario.distractors[name])
    return frame.params
