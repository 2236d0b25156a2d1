"""Rendering, output (frames, shards, writers), the stage and the Isaac Sim backend's options."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, create_model, field_validator

from ...sensors.spec_base import Color, PosFloat, Spec, invalid
from ...writers.splits import DEFAULT_SPLITS, SPLIT_NAME
from .common import MAX_FRAMES, MAX_SAMPLES_PER_PIXEL, AssetPath

__all__ = [
    "DEFAULT_WRITERS",
    "IsaacSpec",
    "OutputSpec",
    "RenderSpec",
    "StageSpec",
    "TessellationSpec",
    "ToneMapSpec",
    "WritersSpec",
]


class ToneMapSpec(Spec):
    """Linear radiance × 2^exposure_ev → ``kind`` curve → sRGB encoding. No auto-exposure."""

    kind: Literal["clamp", "reinhard", "aces"] = "aces"
    """Tone map from linear radiance to the 8-bit RGB image."""
    exposure_ev: Annotated[float, Field(strict=True, ge=-30, le=30)] = 0.0
    """Exposure compensation in stops before tone mapping."""


class TessellationSpec(Spec):
    """How implicit primitives become triangles for ray casting."""

    segments: Annotated[int, Field(strict=True, ge=8, le=1024)] = 48
    """Divisions around the axis of spheres, cylinders, cones and capsules."""
    rings: Annotated[int, Field(strict=True, ge=4, le=512)] = 24
    """Divisions from pole to pole of spheres and capsule caps."""


class RenderSpec(Spec):
    engine: Literal["direct", "path"] = "direct"
    """RGB light transport: direct (emission + direct light from every light) or path
    (path tracing: inter-reflection, bounce light, reflections of the scene and environment)."""
    max_bounces: Annotated[int, Field(strict=True, ge=0, le=64)] = 4
    """path: scattering events per path (0 shows emitters and the environment only, 1 is direct lighting)."""
    denoise: bool = False
    """Denoise the RGB image with Intel Open Image Denoise, guided by first-hit albedo and normals (not labels)."""
    denoise_quality: Literal["high", "fast"] = "high"
    """Open Image Denoise's filter quality: high (its default, for final frames) or fast (a smaller
    network: about half the denoiser's time, slightly more error; README "Rendering and lighting")."""
    samples_per_pixel: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLES_PER_PIXEL)] = 1
    """Jittered camera rays per pixel for the RGB image (labels use one ray through the pixel centre)."""
    area_light_samples: Annotated[int, Field(strict=True, ge=1, le=256)] = 4
    """Shadow rays per area (sphere, disk, rect) light and camera sample."""
    dome_light_samples: Annotated[int, Field(strict=True, ge=1, le=1024)] = 16
    """Rays towards the dome light per camera sample."""
    tone_map: ToneMapSpec = ToneMapSpec()
    """Tone mapping of the RGB image."""
    tessellation: TessellationSpec = TessellationSpec()
    """How finely curved primitives are tessellated for ray casting."""
    background_color: Color = (0.0, 0.0, 0.0)
    """Linear radiance where a camera ray hits nothing and there is no dome light."""


def _writer_switch(value: Any) -> Any:
    """``true`` is a writer with its defaults, ``false`` (or ``null``) turns it off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


def _switchable(writer: type[Spec]) -> Any:
    return Annotated[
        writer | None,
        BeforeValidator(_writer_switch),
        WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "null"}, writer.model_json_schema()]}),
    ]


def _writers_spec() -> type[Spec]:
    """``output.writers``: one key per registered writer (``writers.registry``), its options
    model as the writer declares it, on or off by the writer's default."""
    from ...writers.registry import default_registry

    fields: dict[str, Any] = {}
    for writer in default_registry().classes():
        state = "on by default; false turns it off" if writer.enabled_by_default else "off by default; true turns it on"
        default = writer.options_spec() if writer.enabled_by_default else None
        fields[writer.name] = (
            _switchable(writer.options_spec),
            Field(default=default, description=f"{writer.summary} ({state})."),
        )
    return create_model(
        "WritersSpec",
        __base__=Spec,
        __module__=__name__,
        __doc__="""Which writers run. Each key is independent: listing one (``pointcloud: {format: ply}``)
    leaves the others at their defaults, so HDF5, COCO and pose JSON stay on until a key turns
    them off (``hdf5: false``); the point-cloud writer is off until listed (or ``true``).""",
        **fields,
    )


WritersSpec = _writers_spec()


DEFAULT_WRITERS = WritersSpec()


SplitName = Annotated[str, Field(pattern=f"^{SPLIT_NAME.pattern}$")]


class OutputSpec(Spec):
    frames: Annotated[int, Field(strict=True, ge=1, le=MAX_FRAMES)] | None = None
    """Default frame count of ``generate`` (``--frames`` overrides it)."""
    shard_size: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 8
    """Frames per shard (the unit of resume and of work per worker)."""
    writers: WritersSpec = DEFAULT_WRITERS
    """Which writers run, with their options."""
    splits: Annotated[dict[SplitName, PosFloat], Field(min_length=1, max_length=16)] = dict(DEFAULT_SPLITS)
    """Dataset splits and the fraction of frames in each (summing to 1), e.g. {train: 0.8, val: 0.1, test: 0.1};
    a frame's split is a hash of the seed and the frame (every writer uses it)."""

    @field_validator("splits")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        total = sum(value.values())
        if abs(total - 1.0) > 1e-9:
            raise invalid("split fractions must sum to 1", expected="fractions summing to 1", got=round(total, 12))
        return value


class StageSpec(Spec):
    meters_per_unit: PosFloat = 1.0
    """Stage metres per unit (only 1 is supported)."""
    up_axis: Literal["Z", "Y"] = "Z"
    """Stage up axis (only Z is supported)."""
    base_usd: AssetPath | None = None
    """A USD file referenced under ``/World/Base`` (environment, robot cell, warehouse)."""


class IsaacSpec(Spec):
    """Options of the Isaac Sim backend; the embedded backend refuses the ones it lacks."""

    randomization_mode: Literal["deterministic", "replicator"] = "deterministic"
    """Inside Isaac Sim: deterministic (scenesmith samples every frame) or replicator (an omni.replicator graph)."""
    rt_subframes: Annotated[int, Field(strict=True, ge=1, le=256)] = 8
    """RTX subframes rendered per captured frame (Replicator's rt_subframes)."""
    renderer: Literal["RaytracedLighting", "PathTracing", "RealTimePathTracing"] = "RaytracedLighting"
    """Isaac Sim's RTX renderer."""
