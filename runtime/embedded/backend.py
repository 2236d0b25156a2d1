"""The embedded CPU backend: USD stage + Embree ray casting (Open3D) (+ MuJoCo physics)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...scenarios.frame_params import FrameParams
from ...scenarios.model import LIDAR_MODEL_KEYS, PhysicsSpec, Scenario
from ...scenarios.prim_paths import camera_path, lidar_path, render_cameras, render_product_path, scenario_key_of
from ...scenarios.resolved import ResolvedScenario
from ...scenarios.seeding import frame_rng
from ...sensors.lidar import scan_pattern
from ...sensors.motion import RigidMotion
from ...sensors.outputs import (
    ANNOTATORS,
    LIDAR_ANNOTATOR,
    annotator_payload,
    camera_payload,
    empty_payload,
    lineage_payload,
    stereo_payload,
)
from ..allocator import retain_freed_memory
from ..backend import Backend, Capabilities, check_supported, frame_reference_time
from ..episode import PhysicsFrames, StageFrames
from ..sensor_stage import apply_sensor_models, capture_annotators, rig_metadata
from ..usd.stage import author_stage
from .annotators import camera_annotators, cast_camera
from .camera_rays import read_camera
from .lidar import scan, sensor_pose
from .materials import MaterialTable
from .motion import CameraTiming, FrameMotion, MovingScene, frame_motion, motion_vectors
from .physics import PhysicsWorld
from .physics_model import AUTHORED_STAGE, PhysicsInputError
from .render import Renderer
from .scene import FrameGeometry, SceneIndex

__all__ = ["EmbeddedBackend"]

CAPABILITIES = Capabilities(
    annotators=frozenset(ANNOTATORS),
    light_types=frozenset({"distant", "sphere", "disk", "rect", "dome"}),
    lidar=True,
    lidar_models=frozenset(LIDAR_MODEL_KEYS),
    physics=True,
    features=frozenset({"motion", "denoise_quality"}),
    notes={
        "randomization_mode replicator": "randomization_mode: deterministic (replicator mode needs Isaac Sim)",
        "up_axis Y": "up_axis: Z",
        "stages with meters_per_unit other than 1": "meters_per_unit: 1.0",
    },
)


class EmbeddedBackend(StageFrames, Backend):
    name = "embedded"

    def __init__(self, texture_dir: Path | None = None) -> None:
        self.texture_dir = texture_dir
        self.resolved: ResolvedScenario | None = None
        self.stage: Any = None
        self.index: SceneIndex | None = None
        self.materials: MaterialTable | None = None
        self.physics: PhysicsFrames | None = None

    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def build(self, resolved: ResolvedScenario, stage: Any | None = None) -> None:
        check_supported(resolved, self.capabilities(), self.name)
        retain_freed_memory()
        self.resolved = resolved
        self.stage = stage if stage is not None else author_stage(resolved, self.texture_dir)
        tess = resolved.scenario.render.tessellation
        self.index = SceneIndex(self.stage, tess.segments, tess.rings)
        self.materials = MaterialTable(self.stage)
        self.patterns = {name: scan_pattern(profile) for name, profile in resolved.lidar_profiles.items()}
        if resolved.scenario.physics.enabled:
            self.physics = PhysicsFrames(resolved, self.stage, _mujoco_world, self.texture_dir)

    def preflight(self, resolved: ResolvedScenario) -> None:
        """Build the physics model once from the authored stage, every distractor slot shown
        (a pool entry is in some frame), so a collider MuJoCo refuses is bad input at its
        scenario key before any output exists, not in the first shard."""
        if not resolved.scenario.physics.enabled:
            return
        from pxr import Usd, UsdGeom

        from ...scenarios.prim_paths import DISTRACTORS_ROOT

        stage = author_stage(resolved)
        root = stage.GetPrimAtPath(DISTRACTORS_ROOT)
        if root:
            for prim in Usd.PrimRange(root):
                if prim.IsA(UsdGeom.Imageable):
                    UsdGeom.Imageable(prim).GetVisibilityAttr().Set(UsdGeom.Tokens.inherited)
        with scenario_located(resolved):
            _mujoco_world(stage, resolved.scenario.physics)

    def simulate(self, params: FrameParams) -> dict[str, Any] | None:
        assert self.resolved is not None
        with scenario_located(self.resolved):
            return super().simulate(params)

    def capture(self, params: FrameParams, annotators: dict[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
        """Payload of the frame; ``annotators`` overrides each camera's list (preview)."""
        assert self.resolved is not None and self.index is not None and self.materials is not None
        scenario = self.resolved.scenario
        payload = empty_payload(params.frame_index, frame_reference_time(self.resolved, params))
        frame = FrameGeometry(self.index)
        motion = self._motion(frame) if _needs_motion(scenario, annotators) else None
        moving = MovingScene(frame, motion) if motion is not None and motion.groups else None
        renderer = Renderer(
            frame,
            self.materials,
            scenario.render,
            self.resolved.randomization_digest,
            params.seed,
            params.frame_index,
            moving,
        )
        wanted: dict[str, tuple[str, ...]] = {}
        for rc in render_cameras(scenario):
            name, spec = rc.name, scenario.cameras[rc.camera]
            wanted[name] = annotators.get(name, spec.outputs()) if annotators is not None else spec.outputs()
            spec = spec.model_copy(update={"annotators": capture_annotators(spec, wanted[name])})
            model, cam_to_world = read_camera(self.stage, rc.prim_path, render_product_path(name))
            # a camera moves with its prim at /World/<camera> (a stereo rig's Xform moves both views)
            mover = camera_path(rc.camera)
            hits = cast_camera(frame, model, cam_to_world, _timing(spec, motion, moving, mover))
            flow = None
            if motion is not None:
                interval = scenario.physics.episode.capture_interval_s
                flow = functools.partial(motion_vectors, hits, motion, mover, interval)
            outputs = camera_annotators(
                self.index, frame, name, spec, hits, lambda h=hits, n=name: renderer.image(n, h),
                lambda h=hits: renderer.diffuse_albedo(h), flow,
            )  # fmt: skip
            for anno, value in outputs.items():
                annotator_payload(payload, anno, name, value)
            camera_payload(payload, name, rc.prim_path, (model.width, model.height))
            if rc.role is not None:
                stereo_payload(payload, name, rig_metadata(rc, spec, model))
        if scenario.lidars:
            gprim_materials = self.materials.for_gprims([g.path for g in self.index.gprims])
            for name in sorted(scenario.lidars):
                path = lidar_path(name)
                rng = frame_rng(self.resolved.randomization_digest, params.seed, params.frame_index, "lidar", path)
                # its own stream, so dropout never shifts the noise draws of the points it keeps
                dropout_rng = frame_rng(
                    self.resolved.randomization_digest, params.seed, params.frame_index, "lidar_dropout", path
                )
                base = sensor_pose(self.stage.GetPrimAtPath(path))
                output = scan(
                    frame,
                    self.index,
                    gprim_materials,
                    name,
                    scenario.lidars[name],
                    self.resolved.lidar_profiles[name],
                    self.patterns[name],
                    base,
                    rng,
                    dropout_rng,
                    params.sensors.get(name),
                    moving if scenario.lidars[name].objects_move else None,
                )
                annotator_payload(payload, LIDAR_ANNOTATOR, name, output)
        apply_sensor_models(payload, scenario, params, wanted)
        lineage_payload(payload, params.to_dict(), self.resolved.scenario_digest)
        return payload

    def render_linear(self, params: FrameParams, camera: str) -> Any:
        """Linear radiance (H, W, 3) of one camera before tone mapping (diagnostics, tests, bench)."""
        assert self.resolved is not None and self.index is not None and self.materials is not None
        frame = FrameGeometry(self.index)
        rc = {c.name: c for c in render_cameras(self.resolved.scenario)}[camera]
        model, cam_to_world = read_camera(self.stage, rc.prim_path, render_product_path(camera))
        spec = self.resolved.scenario.cameras[rc.camera]
        motion = self._motion(frame) if spec.shutter is not None else None
        moving = MovingScene(frame, motion) if motion is not None and motion.groups else None
        renderer = Renderer(
            frame,
            self.materials,
            self.resolved.scenario.render,
            self.resolved.randomization_digest,
            params.seed,
            params.frame_index,
            moving,
        )
        timing = _timing(spec, motion, moving, camera_path(rc.camera))
        return renderer.render_linear(camera, cast_camera(frame, model, cam_to_world, timing))

    def _motion(self, frame: FrameGeometry) -> FrameMotion:
        """What moves about this frame's capture instant: physics bodies at their simulated
        velocities (this instant's), velocity draws on the stage, cameras."""
        assert self.resolved is not None
        bodies: dict[str, RigidMotion] = {}
        world = self.physics.episode.world if self.physics is not None else None
        if world is not None:
            state = world.snapshot()
            for i, path in enumerate(world.bodies):
                bodies[path] = RigidMotion.of(
                    state.position_m[i], state.linear_velocity_m_s[i], state.angular_velocity_rad_s[i]
                )
        cameras = [camera_path(name) for name in sorted(self.resolved.scenario.cameras)]
        return frame_motion(frame, cameras, bodies)

    def close(self) -> None:
        self.stage = None
        self.index = None
        self.physics = None


def _needs_motion(scenario: Scenario, annotators: dict[str, tuple[str, ...]] | None) -> bool:
    """Whether any camera has a shutter or asks for motion vectors, or a LiDAR sees objects move
    during its sweep (only then is the frame's motion looked at, so frames without any are made
    exactly as before)."""
    for rc in render_cameras(scenario):
        cam = scenario.cameras[rc.camera]
        wanted = cam.annotators if annotators is None else annotators.get(rc.name, cam.annotators)
        if cam.shutter is not None or "motion_vectors" in wanted:
            return True
    return any(lidar.objects_move for lidar in scenario.lidars.values())


def _timing(spec: Any, motion: FrameMotion | None, moving: MovingScene | None, path: str) -> CameraTiming | None:
    """The camera's shutter timing when it has a shutter and something moves while it is open;
    otherwise None: the frame is captured at one instant, exactly as without a shutter."""
    if spec.shutter is None or motion is None:
        return None
    camera = motion.cameras.get(path)
    if camera is None and moving is None:
        return None
    shutter = spec.shutter.shutter()
    if shutter.instantaneous and not shutter.rolling:
        return None
    return CameraTiming(shutter, camera, moving)


@contextmanager
def scenario_located(resolved: ResolvedScenario) -> Iterator[None]:
    """Re-raise a physics error on a prim our stage authored at the scenario key behind it
    (``s.yaml:8:5: assets.sheet.physics``), not at ``<authored stage>:1:1``."""
    try:
        yield
    except PhysicsInputError as err:
        key = scenario_key_of(resolved.scenario, err.prim_path)
        if key is None or err.issues[0].file != AUTHORED_STAGE:
            raise
        loc = (*key, "physics") if key[0] == "assets" else key
        message = f"{err.message} (prim {err.prim_path})"
        raise resolved.document.error(loc, message, expected=err.expected, got=err.got) from None


def _mujoco_world(stage: Any, spec: PhysicsSpec) -> PhysicsWorld:
    return PhysicsWorld(stage, spec.timestep_s, tuple(spec.gravity_m_s2), spec.ground_plane)
