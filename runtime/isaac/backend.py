"""The Isaac Sim backend: our stage in Kit, RTX render products and Replicator annotators per
camera, RTX LiDAR from the same profile, PhysX settling (DESIGN §5).

- **Stage**: the same ``author_stage`` as the embedded backend, exported to the work folder and
  opened in Kit's USD context (``open_stage_async``); LiDARs are already ``OmniLidar`` prims
  with the profile's ``omni:sensor:Core:*`` attributes, which is how Isaac Sim 5.1's
  ``IsaacSensorCreateRtxLidar`` builds a sensor from a config it does not ship.
- **Sensors**: one render product per camera (``rep.create.render_product(camera, (w, h),
  name=camera)``, so Replicator's render-product name is our camera name) with the requested
  annotators attached; one per LiDAR with ``render_vars=["GenericModelOutput",
  "RtxSensorMetadata"]`` and the ``IsaacCreateRTXLidarScanBuffer`` annotator — the set-up of
  Isaac Sim 5.1's own ``test_annotators.py``.
- **Frames**: ``deterministic`` mode applies our sampler's values through USD (identical
  parameters to the embedded backend); ``replicator`` mode compiles the randomizers into a
  Replicator graph once (``replicator_graph.py``). Physics runs through the same
  :class:`~scenesmith.runtime.episode.PhysicsFrames` as the embedded backend, with PhysX.
- **Capture**: ``rep.orchestrator.step_async(rt_subframes=…, delta_time=0.0)`` renders the frame;
  each annotator's ``get_data()`` is normalised into the flat ``annotator`` payload our writers
  take (``writers/replicator_adapter.py``).

Kit renders only while its event loop turns, so capture is asynchronous; the synchronous
:class:`~scenesmith.runtime.backend.Backend` methods run the coroutines through ``runner``
(``SimulationApp.run_coroutine`` in headless runs). Every ``omni``/``carb`` name used here is
cited in ``extension/api_citations.toml``. This module has never run: Isaac Sim cannot be
installed on our machines (see the README's Isaac Sim section).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ...scenarios.frame_params import FrameParams
from ...scenarios.loader import ScenarioDocument
from ...scenarios.model import LIDAR_MODEL_KEYS
from ...scenarios.prim_paths import lidar_path, render_cameras
from ...scenarios.resolved import ResolvedScenario
from ...sensors.outputs import (
    AMODAL_ANNOTATOR,
    ANNOTATORS,
    LIDAR_ANNOTATOR,
    annotator_payload,
    camera_payload,
    empty_payload,
    lineage_payload,
    stereo_payload,
)
from ...writers.replicator_adapter import normalize_output, standard_name
from ..backend import Backend, Capabilities, check_supported, frame_reference_time
from ..episode import PhysicsFrames, StageFrames
from ..sensor_stage import apply_sensor_models, capture_annotators, rig_metadata
from ..usd.materials import texture_asset_path
from ..usd.stage import author_stage
from .physx_world import physx_world
from .replicator_graph import compile_randomizers, prepare_xform_ops, replicator_mode_problems, rotated_prims

__all__ = [
    "CAPABILITIES",
    "LIDAR_OUTPUTS",
    "PATH_TRACING_RENDERERS",
    "RENDERERS",
    "IsaacBackend",
    "path_tracing_settings",
    "scenario_renderer",
]

log = logging.getLogger(__name__)

LIDAR_OUTPUTS = (
    "outputIntensity",
    "outputDistance",
    "outputObjectId",
    "outputVelocity",
    "outputAzimuth",
    "outputElevation",
    "outputNormal",
    "outputTimestamp",
    "outputEmitterId",
    "outputMaterialId",
)
"""``IsaacCreateRTXLidarScanBuffer`` init flags (Isaac Sim 5.1 ``test_annotators.py``)."""
RENDERERS = ("RaytracedLighting", "PathTracing", "RealTimePathTracing")
"""Values of the ``/rtx/rendermode`` setting (``SimulationApp._set_render_settings``, 5.1)."""

PATH_TRACING_RENDERERS = ("PathTracing", "RealTimePathTracing")


def scenario_renderer(doc: ScenarioDocument) -> str:
    """The RTX render mode a scenario asks for: ``isaac.renderer`` when given, else
    ``PathTracing`` for ``render.engine: path`` (Isaac's own path tracer) and
    ``RaytracedLighting`` otherwise. ``path`` with a non-path-tracing renderer is bad input."""
    s = doc.scenario
    explicit = "renderer" in s.isaac.model_fields_set
    if s.render.engine != "path":
        return s.isaac.renderer
    if explicit and s.isaac.renderer not in PATH_TRACING_RENDERERS:
        raise doc.error(
            ("isaac", "renderer"),
            "render.engine: path needs one of Isaac Sim's path tracers",
            expected=" or ".join(PATH_TRACING_RENDERERS),
            got=s.isaac.renderer,
        )
    return s.isaac.renderer if explicit else "PathTracing"


def path_tracing_settings(doc: ScenarioDocument, renderer: str) -> dict[str, int | bool]:
    """The RTX settings ``render`` maps onto for ``render.engine: path`` under ``PathTracing``: the ones Isaac Sim's
    ``SimulationApp`` sets from its ``samples_per_pixel_per_frame``, ``max_bounces`` and
    ``denoiser`` options (``_set_render_settings``, isaacsim.simulation_app 5.1:
    ``/rtx/pathtracing/spp``, ``totalSpp`` and ``clampSpp`` = samples per pixel,
    ``/rtx/pathtracing/maxBounces``, ``/rtx/pathtracing/optixDenoiser/enabled``). Nothing for
    the other renderers: ``RealTimePathTracing`` reads its own ``/rtx/rtpt/`` settings, which no
    Isaac Sim 5.1 source sets, and ``RaytracedLighting`` has no samples or bounces to set.
    ``max_bounces`` passes through as the number: RTX's source does not say whether it counts
    direct light as a bounce (ours: N = 1 is direct light). A ``direct``-engine scenario that
    picks ``PathTracing`` through ``isaac.renderer`` keeps Isaac Sim's own settings: its
    samples and bounces are the embedded direct engine's, not a path tracer's."""
    if renderer != "PathTracing" or doc.scenario.render.engine != "path":
        return {}
    r = doc.scenario.render
    return {
        "/rtx/pathtracing/spp": r.samples_per_pixel,
        "/rtx/pathtracing/totalSpp": r.samples_per_pixel,
        "/rtx/pathtracing/clampSpp": r.samples_per_pixel,
        "/rtx/pathtracing/maxBounces": r.max_bounces,
        "/rtx/pathtracing/optixDenoiser/enabled": r.denoise,
    }


RTX_LIDAR_MODELS = (
    "the key left out: Isaac Sim's RTX LiDAR computes intensity, detection and echoes itself, from "
    "the profile's intensityProcessing, minReflectance and maxReturns (closed source, nothing to map onto)"
)
"""Why the LiDAR realism models (issue 17) are refused here (README "LiDAR realism")."""
_PAUSED = (
    "Isaac Sim renders each frame at one paused instant (physics is stepped off the timeline), "
    "so RTX sees nothing move during it; use the embedded backend"
)
CAPABILITIES = Capabilities(
    # Replicator (and Isaac Sim 6.0.1) has no amodal annotator: ours is the embedded backend's
    # per-object cast, so it, and the writers that read it (bop), are refused by name here
    annotators=frozenset(ANNOTATORS) - {"motion_vectors", AMODAL_ANNOTATOR},
    light_types=frozenset({"distant", "sphere", "disk", "rect", "dome"}),
    lidar=True,
    physics=True,
    randomization_modes=frozenset({"deterministic", "replicator"}),
    notes={
        **{f"the LiDAR {key} model": RTX_LIDAR_MODELS for key in LIDAR_MODEL_KEYS},
        "the motion_vectors annotator": _PAUSED,
        "camera shutters (motion blur, rolling shutter)": _PAUSED,
        "velocity randomizers": _PAUSED,
        f"the {AMODAL_ANNOTATOR} annotator": "the embedded backend (Replicator has no amodal annotator)",
        "render.denoise_quality fast": (
            "high: Isaac Sim's denoiser (/rtx/pathtracing/optixDenoiser/enabled) is on or off, with no quality"
        ),
    },
)
"""What Isaac mode realizes. Motion (camera shutters, ``velocity`` draws, ``motion_vectors``) is
refused by name: Isaac Sim's motion blur (``/omni/replicator/captureMotionBlur`` with
``rep.orchestrator.step(delta_time=…)``, its ``motion_blur.py`` example) integrates what the
timeline moves during a capture step, and this backend captures with ``delta_time=0`` and steps
PhysX itself; the exposure is still authored as the camera's ``shutter:open`` / ``shutter:close``
(``usd/motion_attrs.py``)."""


class IsaacBackend(StageFrames, Backend):
    name = "isaac"

    def __init__(
        self,
        texture_dir: Path | None = None,
        rt_subframes: int | None = None,
        renderer: str | None = None,
        work_dir: Path | None = None,
        runner: Callable[[Coroutine[Any, Any, Any]], Any] | None = None,
    ) -> None:
        """``rt_subframes`` and ``renderer`` override the scenario's ``isaac`` section."""
        if renderer is not None and renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
        if rt_subframes is not None and rt_subframes < 1:
            raise ValueError(f"rt_subframes must be >= 1, got {rt_subframes}")
        self.texture_dir = texture_dir
        self.rt_subframes = rt_subframes
        self.renderer = renderer
        self.work_dir = work_dir
        self.runner = runner
        self.resolved: ResolvedScenario | None = None
        self.stage: Any = None
        self.physics: PhysicsFrames | None = None
        self.replicator_mode = False
        self._products: dict[str, Any] = {}
        self._annotators: dict[tuple[str, str], Any] = {}

    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        if self.runner is None:
            coroutine.close()
            raise RuntimeError("inside Kit use the *_async methods; synchronous calls need runner=")
        return self.runner(coroutine)

    # ------------------------------------------------------------------ build

    def build(self, resolved: ResolvedScenario, stage: Any | None = None) -> None:
        """``stage`` is ignored: Isaac Sim authors into Kit's own stage (``omni.usd``)."""
        self._run(self.build_async(resolved))

    async def build_async(self, resolved: ResolvedScenario) -> None:
        import carb
        import omni.replicator.core as rep
        import omni.usd

        check_supported(resolved, self.capabilities(), self.name)
        self.replicator_mode = resolved.scenario.isaac.randomization_mode == "replicator"
        if self.replicator_mode:
            problems = replicator_mode_problems(resolved)
            if problems is not None:
                raise problems
        self.resolved = resolved
        self.rt_subframes = self.rt_subframes or resolved.scenario.isaac.rt_subframes
        self.renderer = self.renderer or scenario_renderer(resolved.document)
        work = Path(self.work_dir) if self.work_dir is not None else Path.cwd()
        work.mkdir(parents=True, exist_ok=True)
        textures = self.texture_dir or work / "stage_textures"
        self.texture_dir = textures
        path = work / "scenesmith_stage.usda"
        author_stage(resolved, textures).GetRootLayer().Export(str(path))
        context = omni.usd.get_context()
        result, error = await context.open_stage_async(str(path))
        if not result:
            raise RuntimeError(f"Kit could not open {path}: {error}")
        self.stage = context.get_stage()
        settings = carb.settings.get_settings()
        settings.set("/rtx/rendermode", self.renderer)
        for key, value in path_tracing_settings(resolved.document, self.renderer).items():
            settings.set(key, value)
        s = resolved.scenario
        for rc in render_cameras(s):
            cam = s.cameras[rc.camera]
            self._products[rc.name] = rep.create.render_product(rc.prim_path, tuple(cam.resolution), name=rc.name)
        for name in sorted(s.lidars):
            rp = rep.create.render_product(
                lidar_path(name), (1, 1), name=name, render_vars=["GenericModelOutput", "RtxSensorMetadata"]
            )
            self._products[name] = rp
            annotator = rep.AnnotatorRegistry.get_annotator(LIDAR_ANNOTATOR)
            annotator.initialize(**dict.fromkeys(LIDAR_OUTPUTS, True))
            annotator.attach([rp.path])
            self._annotators[(name, LIDAR_ANNOTATOR)] = annotator
        if s.physics.enabled:
            self.physics = PhysicsFrames(resolved, self.stage, physx_world, textures)
        if self.replicator_mode:
            prepare_xform_ops(self.stage, rotated_prims(resolved))
            files = {
                t: texture_asset_path(s, t, resolved.document.files, textures) for t in s.textures if s.textures[t].file
            }
            for line in compile_randomizers(rep, resolved, files):
                log.info("replicator graph: %s", line)

    def seed_graph(self, seed: int) -> None:
        """Seed Replicator's samplers (``replicator`` mode); the run's seed."""
        import omni.replicator.core as rep

        rep.set_global_seed(int(seed))

    # ------------------------------------------------------------------ frames

    def apply(self, params: FrameParams) -> None:
        if not self.replicator_mode:  # in replicator mode the graph draws on every capture
            super().apply(params)

    def _ensure_annotators(self, annotators: dict[str, tuple[str, ...]] | None) -> None:
        import omni.replicator.core as rep

        assert self.resolved is not None
        s = self.resolved.scenario
        wanted = annotators or {rc.name: tuple(s.cameras[rc.camera].outputs()) for rc in render_cameras(s)}
        for camera, names in sorted(wanted.items()):
            for anno in names:
                if (camera, anno) not in self._annotators:
                    annotator = rep.AnnotatorRegistry.get_annotator(anno)
                    annotator.attach([self._products[camera].path])
                    self._annotators[(camera, anno)] = annotator

    def capture(self, params: FrameParams, annotators: dict[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
        return self._run(self.capture_async(params, annotators))

    async def capture_async(
        self, params: FrameParams, annotators: dict[str, tuple[str, ...]] | None = None
    ) -> dict[str, Any]:
        import omni.replicator.core as rep

        assert self.resolved is not None
        s = self.resolved.scenario
        rigs = {rc.name: rc for rc in render_cameras(s)}
        spec = {name: s.cameras[rc.camera] for name, rc in rigs.items()}
        wanted = {
            name: annotators.get(name, spec[name].outputs()) if annotators is not None else spec[name].outputs()
            for name in rigs
        }
        captured = {name: capture_annotators(spec[name], names) for name, names in wanted.items()}
        self._ensure_annotators(captured)
        await rep.orchestrator.step_async(rt_subframes=self.rt_subframes, delta_time=0.0)
        payload = empty_payload(params.frame_index, frame_reference_time(self.resolved, params))
        for (product, anno), annotator in sorted(self._annotators.items()):
            if anno != LIDAR_ANNOTATOR and anno not in captured.get(product, ()):
                continue
            annotator_payload(payload, standard_name(anno), product, normalize_output(anno, annotator.get_data()))
        for name, rc in sorted(rigs.items()):
            camera_payload(payload, name, rc.prim_path, spec[name].resolution)
            if rc.role is not None:
                stereo_payload(payload, name, rig_metadata(rc, spec[name], spec[name].pinhole()))
        apply_sensor_models(payload, self.resolved.scenario, params, wanted)  # the same models as embedded
        lineage = None if self.replicator_mode else params.to_dict()  # Replicator drew the values
        lineage_payload(payload, lineage, self.resolved.scenario_digest)
        return payload

    def close(self) -> None:
        for annotator in self._annotators.values():
            annotator.detach()
        for product in self._products.values():
            product.destroy()
        self._annotators.clear()
        self._products.clear()
        if self.physics is not None and self.physics.episode.world is not None:
            self.physics.episode.world.close()
        self.physics = None
        self.stage = None
