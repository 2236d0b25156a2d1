"""The backend interface (DESIGN §5) and a registry that loads backends lazily by name.

A backend turns a resolved scenario into annotator payloads:
``build(resolved)`` once, then per frame ``apply(frame_params)``, ``simulate(...)`` and
``capture()``; ``close()`` at the end. ``capabilities()`` says what it can do, so features it
lacks are refused before a run starts (exit 2, naming the feature) — never silently ignored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..sensors.errors import BadInputError

if TYPE_CHECKING:  # annotations only: the CLI reads BACKENDS without loading the scenario model
    from ..scenarios.frame_params import FrameParams
    from ..scenarios.resolved import ResolvedScenario

__all__ = ["BACKENDS", "Backend", "Capabilities", "check_supported", "create_backend", "frame_reference_time"]


@dataclass(frozen=True)
class Capabilities:
    annotators: frozenset[str]
    light_types: frozenset[str]
    lidar: bool = False
    lidar_models: frozenset[str] = frozenset()
    """LiDAR realism models implemented (``LidarSpec`` keys from ``LIDAR_MODEL_KEYS``)."""
    physics: bool = False
    randomization_modes: frozenset[str] = frozenset({"deterministic"})
    up_axes: frozenset[str] = frozenset({"Z"})
    meters_per_unit: frozenset[float] = frozenset({1.0})
    features: frozenset[str] = frozenset()
    """Scenario features beyond the above a backend realizes: ``motion`` (camera shutters, with
    motion blur and rolling shutter, and the randomizer kinds that need it, e.g. ``velocity``);
    ``denoise_quality`` (Open Image Denoise's ``fast`` filter for ``render.denoise_quality``)."""
    notes: dict[str, str] = field(default_factory=dict)


class Backend(ABC):
    """Produces Replicator-shaped payloads for frames of one resolved scenario."""

    name: str = "abstract"

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def build(self, resolved: ResolvedScenario, stage: Any | None = None) -> None:
        """Author the stage and prepare sensors; called once before any frame. ``stage``, when
        given, is this scenario already authored in memory (the one a run wrote as stage.usda),
        which a backend that works on a usd-core stage uses instead of authoring its own."""

    def preflight(self, resolved: ResolvedScenario) -> None:  # noqa: B027 - optional hook
        """Raise ``BadInputError`` for what only this backend's own build of the scenario reveals
        (MuJoCo refuses a flat dynamic mesh), before the output folder is claimed."""

    @abstractmethod
    def apply(self, params: FrameParams) -> None:
        """Set one frame's sampled values on the scene."""

    @abstractmethod
    def simulate(self, params: FrameParams) -> dict[str, Any] | None:
        """Run physics for the frame (settle or step); returns the physics state, or None."""

    @abstractmethod
    def capture(self, params: FrameParams, annotators: dict[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
        """The frame's payload in Replicator's ``annotator`` data structure; ``annotators``
        overrides cameras' annotator lists (by camera name), e.g. a shard's or the preview's."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op unless a backend holds resources
        """Release native resources; safe to call twice."""


BACKENDS = {
    "embedded": "scenesmith.runtime.embedded.backend:EmbeddedBackend",
    "isaac": "scenesmith.runtime.isaac.backend:IsaacBackend",
}


def create_backend(name: str, **options: Any) -> Backend:
    """Import and instantiate a backend by name (its heavy imports happen only now)."""
    try:
        module_name, cls_name = BACKENDS[name].split(":")
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(sorted(BACKENDS))}") from None
    return getattr(import_module(module_name), cls_name)(**options)


def check_supported(resolved: ResolvedScenario, caps: Capabilities, backend: str) -> None:
    """Refuse, with exit 2 and the key, every scenario feature ``caps`` lacks."""
    doc = resolved.document
    s = resolved.scenario
    problems: list[BadInputError] = []

    def refuse(loc: tuple, what: str, got: object) -> None:
        problems.append(
            doc.error(
                loc,
                f"the {backend} backend does not support {what}",
                expected=caps.notes.get(what, "a supported value"),
                got=got,
            )
        )

    if s.isaac.randomization_mode not in caps.randomization_modes:
        refuse(
            ("isaac", "randomization_mode"),
            f"randomization_mode {s.isaac.randomization_mode}",
            s.isaac.randomization_mode,
        )
    if s.stage.up_axis not in caps.up_axes:
        refuse(("stage", "up_axis"), f"up_axis {s.stage.up_axis}", s.stage.up_axis)
    if s.stage.meters_per_unit not in caps.meters_per_unit:
        refuse(("stage", "meters_per_unit"), "stages with meters_per_unit other than 1", s.stage.meters_per_unit)
    for name, cam in s.cameras.items():
        for i, anno in enumerate(cam.annotators):
            if anno not in caps.annotators:
                refuse(("cameras", name, "annotators", i), f"the {anno} annotator", anno)
    if "motion" not in caps.features:
        for name, cam in s.cameras.items():
            if cam.shutter is not None:
                refuse(("cameras", name, "shutter"), "camera shutters (motion blur, rolling shutter)", cam.shutter.kind)
    if s.render.denoise and s.render.denoise_quality != "high" and "denoise_quality" not in caps.features:
        refuse(("render", "denoise_quality"), f"render.denoise_quality {s.render.denoise_quality}",
               s.render.denoise_quality)  # fmt: skip
    for name, rnd in s.randomizers.items():
        for need in type(rnd).needs:
            if need not in caps.features:
                refuse(("randomizers", name, "kind"), f"{rnd.kind} randomizers", rnd.kind)
    for name, light in s.lights.items():
        if light.type not in caps.light_types:
            refuse(("lights", name, "type"), f"{light.type} lights", light.type)
    if s.lidars and not caps.lidar:
        refuse(("lidars",), "LiDAR sensors", sorted(s.lidars))
    for name, lidar in sorted(s.lidars.items()):
        for key, value in lidar.models_on().items():
            if key not in caps.lidar_models:
                got = value.model_dump() if hasattr(value, "model_dump") else value
                refuse(("lidars", name, key), f"the LiDAR {key} model", got)
    if s.physics.enabled and not caps.physics:
        refuse(("physics", "enabled"), "physics", True)
    for name, needs in _writer_annotators(resolved).items():
        for anno in needs:
            if anno not in caps.annotators:
                problems.append(
                    doc.error(
                        ("output", "writers", name),
                        f"the {backend} backend does not support the {name} writer (it reads the {anno} annotator)",
                        expected=caps.notes.get(
                            f"the {anno} annotator", f"writers whose annotators the {backend} backend has"
                        ),
                        got=name,
                    )
                )
    if problems:
        raise BadInputError([issue for p in problems for issue in p.issues])


def _writer_annotators(resolved: ResolvedScenario) -> dict[str, tuple[str, ...]]:
    """The camera annotators each writer the scenario turns on reads, as configured."""
    from ..writers.registry import default_registry

    writers = resolved.scenario.output.writers
    registry = default_registry()
    on = {name: getattr(writers, name) for name in type(writers).model_fields if getattr(writers, name) is not None}
    return {name: registry.get(name)(**options.model_dump(mode="json")).requires() for name, options in on.items()}


def frame_reference_time(resolved: ResolvedScenario, params: FrameParams) -> tuple[int, int]:
    """The payload's ``reference_time`` (numerator, denominator) in seconds: the frame's time in
    its episode (0 without physics sequences)."""
    s = resolved.scenario
    interval = Fraction(s.physics.episode.capture_interval_s).limit_denominator(10**6)
    time = params.frame_in_episode * interval if s.physics.enabled else Fraction(0)
    return time.numerator, time.denominator
