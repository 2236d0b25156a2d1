"""Physics across an episode, for any backend: settle-then-capture, then sequences.

An episode's first frame builds a physics world (MuJoCo on the embedded backend, PhysX in Isaac
Sim — a ``world_factory``) from the stage as the frame left it, logs the
initial state, settles (if the scenario asks), and writes the poses back to the stage. Each
later frame steps ``capture_interval_s`` further. Every frame returns its physics state in the
schema of :mod:`scenesmith.sensors.physics_state`.

Which top each body was placed on comes from the scenario: ``dropped`` distractors rest on
their ``placement.surface``, targets of a ``scatter`` randomizer with a ``surface`` on it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..scenarios.frame_params import FrameParams
from ..scenarios.model import PhysicsSpec, Scenario
from ..scenarios.placement import support_outline
from ..scenarios.prim_paths import asset_paths, distractor_slot_paths
from ..scenarios.resolved import ResolvedScenario
from ..scenarios.sampler import sample
from ..sensors.physics_state import SETTLE_STATUS
from .physics_world import PhysicsLog, SimWorld, Support
from .usd.apply import apply

__all__ = ["EpisodePhysics", "PhysicsFrames", "StageFrames", "WorldFactory", "support_assets"]

WorldFactory = Callable[[Any, PhysicsSpec], SimWorld]
"""Builds a backend's physics world from (stage, scenario physics spec)."""

log = logging.getLogger(__name__)


def support_assets(scenario: Scenario) -> dict[str, str]:
    """Body prim path → name of the asset it was placed on."""
    out: dict[str, str] = {}
    for name in sorted(scenario.randomizers):
        out.update(scenario.randomizers[name].resting_on(scenario))
    for name in sorted(scenario.distractors):
        spec = scenario.distractors[name]
        if spec.placement.kind == "dropped" and spec.placement.surface is not None:
            for slots in distractor_slot_paths(name, len(spec.pool), spec.count.max):
                for path in slots:
                    out[path] = spec.placement.surface
    return out


class EpisodePhysics:
    """The running episode's world and its bookkeeping."""

    def __init__(self, resolved: ResolvedScenario, stage: Any, world_factory: WorldFactory) -> None:
        s = resolved.scenario.physics
        # the loader checked that the interval is a whole number of steps
        steps = round(s.episode.capture_interval_s / s.timestep_s)
        self.resolved = resolved
        self.spec = s
        self.stage = stage
        self.world_factory = world_factory
        self.steps_per_capture = steps
        self.supports_of = support_assets(resolved.scenario)
        self.world: SimWorld | None = None
        self.key: tuple[int, int] | None = None
        self.frame = -1
        self.log = PhysicsLog(every=s.log_every_n_steps)
        self.hidden: set[str] = set()

    def is_next(self, params: FrameParams) -> bool:
        """True when ``params`` continues the running episode (or starts one)."""
        if params.frame_in_episode == 0:
            return True
        return self.key == (params.seed, params.episode_index) and self.frame == params.frame_in_episode - 1

    def run(self, params: FrameParams) -> dict[str, Any]:
        """Simulate up to ``params``' capture (which must satisfy :meth:`is_next`)."""
        assert self.is_next(params)
        if params.frame_in_episode == 0:
            status, settle_s = self._start(params)
        else:
            assert self.world is not None
            self.world.step(self.steps_per_capture, self.log)
            status, settle_s = SETTLE_STATUS[2], 0.0
        self.frame = params.frame_in_episode
        assert self.world is not None
        if not self.log.step_index or self.log.step_index[-1] != self.world.step_count:
            self.world.log_now(self.log)  # the captured instant is always in the log
        self.world.write_back()
        return self._state(params, status, settle_s)

    def _start(self, params: FrameParams) -> tuple[str, float]:
        s = self.spec
        if self.world is not None:
            self.world.close()
        self.world = self.world_factory(self.stage, s)
        self.key = (params.seed, params.episode_index)
        self.log = PhysicsLog(every=s.log_every_n_steps)
        self.world.set_supports(self._supports())
        self.world.log_now(self.log)
        if s.settle is None:
            return SETTLE_STATUS[2], 0.0
        status, settle_s = self.world.settle(
            s.settle.linear_speed_m_s,
            float(np.radians(s.settle.angular_speed_deg_s)),
            s.settle.hold_s,
            s.settle.max_s,
            self.log,
        )
        if status != SETTLE_STATUS[0]:
            log.warning(
                "frame %d: bodies still moving after the %.3g s settle cap (residual speeds in the physics log)",
                params.frame_index,
                s.settle.max_s,
            )
        return status, settle_s

    def _supports(self) -> dict[str, Support]:
        from pxr import UsdGeom

        cache = UsdGeom.XformCache()
        scenario = self.resolved.scenario
        tops: dict[str, Support] = {}
        out: dict[str, Support] = {}
        for body, asset in self.supports_of.items():
            if asset not in tops:
                geometry = self.resolved.assets[asset]
                if geometry.support is None:
                    continue
                path = asset_paths(asset, scenario.assets[asset].count)[0]
                matrix = np.asarray(cache.GetLocalToWorldTransform(self.stage.GetPrimAtPath(path)))
                outline, height = support_outline(geometry.support.height, np.asarray(geometry.support.polygon), matrix)
                tops[asset] = Support(path, outline, height)
            out[body] = tops[asset]
        return out

    def _state(self, params: FrameParams, status: str, settle_s: float) -> dict[str, Any]:
        world = self.world
        assert world is not None
        snap = world.snapshot()
        fell, left = world.off_support(snap.position_m)
        out_of_labels = (fell | left) if self.spec.drop_fallen_from_labels else np.zeros(len(fell), dtype=bool)
        self._set_hidden({p for p, hide in zip(world.bodies, out_of_labels) if hide})
        state: dict[str, Any] = {
            "frame_index": int(params.frame_index),
            "episode_index": int(params.episode_index),
            "frame_in_episode": int(params.frame_in_episode),
            "time_s": snap.time_s,
            "capture_time_s": params.frame_in_episode * self.steps_per_capture * world.timestep_s,
            "timestep_s": world.timestep_s,
            "log_every_n_steps": int(self.spec.log_every_n_steps),
            "settle_status": status,
            "settle_time_s": float(settle_s),
            "body_paths": list(world.bodies),
            "body_kind": list(world.body_kind),
            "position_m": snap.position_m,
            "quat_wxyz": snap.quat_wxyz,
            "linear_velocity_m_s": snap.linear_velocity_m_s,
            "angular_velocity_rad_s": snap.angular_velocity_rad_s,
            "residual_linear_speed_m_s": np.linalg.norm(snap.linear_velocity_m_s, axis=1),
            "residual_angular_speed_rad_s": np.linalg.norm(snap.angular_velocity_rad_s, axis=1),
            "support_paths": [world.support_path(p) for p in world.bodies],
            "fell_off_support": fell,
            "left_scene": left,
            "in_labels": ~out_of_labels,
            "collider_paths": list(world.colliders),
        }
        state.update(self.log.take(world.body_frame_mask))
        if fell.any() or left.any():
            log.info(
                "frame %d: %d bodies fell off their support, %d left the scene",
                params.frame_index,
                int(fell.sum()),
                int(left.sum()),
            )
        return state

    def _set_hidden(self, paths: set[str]) -> None:
        """Hide bodies that left their support from images and labels alike (so labels stay exact)."""
        from pxr import Sdf

        with Sdf.ChangeBlock():
            for path in self.hidden - paths:
                self.stage.GetPrimAtPath(path).GetAttribute("visibility").Set("inherited")
            for path in paths - self.hidden:
                self.stage.GetPrimAtPath(path).GetAttribute("visibility").Set("invisible")
        self.hidden = set(paths)

    def restore_visibility(self) -> None:
        """Show bodies hidden by the previous episode (called before a new episode is applied)."""
        self._set_hidden(set())


class PhysicsFrames:
    """How a backend applies and simulates frames when physics runs (shared by all backends).

    Inside an episode physics owns the bodies: the sampler's poses, scales and visibility of
    rigid bodies apply only on an episode's first frame, and every episode starts from the
    authored scene. A frame asked for out of order (``capture`` of frame k alone, a resumed
    run) replays its episode from the start, so it comes out identical to the same frame of a
    full run.
    """

    def __init__(
        self, resolved: ResolvedScenario, stage: Any, world_factory: WorldFactory, texture_dir: Path | None = None
    ) -> None:
        self.resolved = resolved
        self.stage = stage
        self.texture_dir = texture_dir
        self.episode = EpisodePhysics(resolved, stage, world_factory)
        self.rest_poses = _body_poses(stage)
        self.bodies = frozenset(self.rest_poses)

    def apply(self, params: FrameParams) -> None:
        owned: frozenset[str] = frozenset()
        if params.frame_in_episode == 0:
            # every episode starts from the authored scene, not where the last one ended
            self.episode.restore_visibility()
            _set_body_poses(self.stage, self.rest_poses)
        else:
            owned = self.bodies
        apply(self.stage, params, self.texture_dir, self.resolved, owned)

    def simulate(self, params: FrameParams) -> dict[str, Any]:
        """Settle (an episode's first frame) or step to the frame's capture time."""
        if not self.episode.is_next(params):
            start = params.frame_index - params.frame_in_episode
            self.apply(sample(self.resolved, params.seed, start))
            for k in range(params.frame_in_episode):
                self.episode.run(dataclasses.replace(params, frame_index=start + k, frame_in_episode=k))
            self.apply(params)
        return self.episode.run(params)


def _body_poses(stage: Any) -> dict[str, tuple[Any, Any]]:
    """Authored translate and orient of every rigid body prim."""
    from pxr import Usd, UsdPhysics

    return {
        str(prim.GetPath()): (prim.GetAttribute("xformOp:translate").Get(), prim.GetAttribute("xformOp:orient").Get())
        for prim in Usd.PrimRange(stage.GetPseudoRoot())
        if prim.HasAPI(UsdPhysics.RigidBodyAPI)
    }


def _set_body_poses(stage: Any, poses: dict[str, tuple[Any, Any]]) -> None:
    from pxr import Sdf

    with Sdf.ChangeBlock():
        for path, (translate, orient) in poses.items():
            prim = stage.GetPrimAtPath(path)
            prim.GetAttribute("xformOp:translate").Set(translate)
            prim.GetAttribute("xformOp:orient").Set(orient)


class StageFrames:
    """Backend mixin: ``apply`` and ``simulate`` for backends whose scene is a USD stage."""

    stage: Any
    resolved: ResolvedScenario | None
    texture_dir: Path | None
    physics: PhysicsFrames | None

    def apply(self, params: FrameParams) -> None:
        if self.physics is not None:
            self.physics.apply(params)
        else:
            apply(self.stage, params, self.texture_dir, self.resolved)

    def simulate(self, params: FrameParams) -> dict[str, Any] | None:
        return None if self.physics is None else self.physics.simulate(params)
