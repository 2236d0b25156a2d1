"""The state of one frame while randomizers fill it, and the draws several kinds share.

A randomizer kind's ``draw`` gets a :class:`FrameState`: the resolved scenario, the frame's
keyed random streams (DESIGN §4), the values set so far (``params``) and the lineage record.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sensors.conventions import euler_xyz_deg_to_quat, look_at_quat, normalize_quat
from .distributions import dimension, draw_scalar, draw_vector
from .frame_params import FrameParams, PrimKey
from .placement import uniform_quat
from .prim_paths import target_paths
from .seeding import frame_rng
from .targets import match_targets

if TYPE_CHECKING:
    from .model import Asset, Scenario
    from .randomizers import RotationDist, Trigger
    from .resolved import ResolvedScenario

__all__ = [
    "FrameState",
    "authored_orientation",
    "axis_angle",
    "draw_rotation",
    "draw_scale",
    "episode_of",
    "trigger_key",
]


def episode_of(scenario: Scenario, frame_index: int) -> tuple[int, int]:
    """(episode index, frame within episode): episodes exist only when physics runs sequences."""
    length = scenario.physics.episode.frames if scenario.physics.enabled else 1
    return frame_index // length, frame_index % length


def trigger_key(trigger: Trigger, frame_index: int, episode: int) -> int:
    """DESIGN §9 "Triggers": ``on_frame(interval=k)`` draws with key ⌊i/k⌋; per-episode with the episode."""
    return frame_index // trigger.interval if trigger.kind == "on_frame" else episode


class FrameState:
    """One frame being sampled: ``params`` collects what the randomizers set."""

    def __init__(self, resolved: ResolvedScenario, seed: int, frame_index: int) -> None:
        self.r = resolved
        self.s = resolved.scenario
        self.seed = seed
        episode, in_episode = episode_of(self.s, frame_index)
        self.params = FrameParams(frame_index, seed, episode, in_episode, resolved.randomization_digest)

    def rng(self, stream: str, key: int, path: str) -> np.random.Generator:
        """The generator of ``stream`` (a randomizer's name) for one prim and trigger key."""
        return frame_rng(self.r.randomization_digest, self.seed, key, stream, path)

    def key(self, trigger: Trigger) -> int:
        return trigger_key(trigger, self.params.frame_index, self.params.episode_index)

    def record(self, name: str, key: int, path: str, values: dict[str, Any]) -> None:
        """Lineage: ``name`` drew ``values`` for ``path`` with trigger ``key``."""
        entry = self.params.draws.setdefault(name, {"trigger_key": key, "values": {}})
        entry["values"].setdefault(path, {}).update(values)

    def targets(self, rnd: Any) -> list[str]:
        """Names a randomizer's ``targets`` match in the sections its kind may target, sorted."""
        return match_targets(self.s, type(rnd).target_sections, rnd.targets)

    def target_paths(self, name: str) -> list[str]:
        """Prim paths a target name stands for (every copy of a counted asset)."""
        return target_paths(self.s, name)

    # ------------------------------------------------------------------ current state

    def asset_of(self, path: str) -> tuple[str, Asset]:
        name = path.rsplit("/", 1)[1]
        if name not in self.s.assets:
            name = name.rsplit("_", 1)[0]
        return name, self.s.assets[name]

    def pose(self, path: str, base: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Translate, orientation and scale of ``path`` now (randomized values over authored ones)."""
        state = self.params.prims.get(path, {})
        translate = np.asarray(state.get(PrimKey.TRANSLATE, base.position_m), dtype=np.float64)
        if PrimKey.ORIENT in state:
            orient = np.asarray(state[PrimKey.ORIENT], dtype=np.float64)
        else:
            orient = authored_orientation(base)
        scale = np.asarray(state.get(PrimKey.SCALE, getattr(base, "scale", (1.0, 1.0, 1.0))), dtype=np.float64)
        return translate, orient, scale

    def visible(self, path: str, authored: bool = True) -> bool:
        return bool(self.params.prims.get(path, {}).get(PrimKey.VISIBLE, authored))


def authored_orientation(spec: Any) -> np.ndarray:
    """The orientation a posed spec was authored with (Euler, quaternion or look-at)."""
    if spec.quat_wxyz is not None:
        return normalize_quat(spec.quat_wxyz)
    if spec.rotation_deg is not None:
        return euler_xyz_deg_to_quat(spec.rotation_deg)
    if spec.look_at_m is not None:
        return look_at_quat(spec.position_m, spec.look_at_m, spec.look_at_up_axis)
    return np.array([1.0, 0.0, 0.0, 0.0])


def draw_rotation(dist: RotationDist | None, rng: np.random.Generator, key: int, default: str) -> np.ndarray:
    """A drawn orientation; without ``dist``: ``so3`` uniform, ``yaw`` about +Z, else identity."""
    if dist is None:
        if default == "so3":
            return uniform_quat(rng)
        if default == "yaw":
            return axis_angle((0.0, 0.0, 1.0), rng.uniform(0.0, 360.0))
        return np.array([1.0, 0.0, 0.0, 0.0])
    if dist.euler_deg is not None:
        return euler_xyz_deg_to_quat(draw_vector(dist.euler_deg, rng, key, 3))
    if dist.uniform_so3:
        return uniform_quat(rng)
    assert dist.about_axis is not None
    return axis_angle(dist.about_axis.axis, draw_scalar(dist.about_axis.angle_deg, rng, key))


def axis_angle(axis: tuple[float, float, float] | np.ndarray, angle_deg: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    half = math.radians(angle_deg) / 2
    return normalize_quat([math.cos(half), *(a * math.sin(half))])


def draw_scale(
    frame: FrameState, dist: Any, rng: np.random.Generator, key: int, loc: tuple[str | int, ...]
) -> np.ndarray:
    """A drawn scale as 3 values (a scalar draw is uniform); a draw that is not positive is bad input at ``loc``."""
    value = draw_vector(dist, rng, key, 3 if dimension(dist) == 3 else 1)
    scale = np.repeat(value, 3) if value.shape == (1,) else value
    if np.any(scale <= 0):
        raise frame.r.document.error(loc, "a scale draw is not positive", expected="> 0", got=scale.tolist())
    return scale
