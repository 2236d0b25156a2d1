"""Resource budgets: what one frame may cost, estimated from the scenario before any work.

A scenario can ask for more than any machine has (40 cameras at 8192², a LiDAR profile whose
``reportRateBaseHz`` makes 10¹³ rays a scan, ``physics.timestep_s: 1e-9``). Without a check
these end as ``MemoryError``, ``OverflowError`` or a run that never finishes, after the output
folder exists. :func:`check_budget` estimates each frame's memory and work from the counts
that drive them (pixels, rays, physics steps, texture pixels) and reports every estimate over
its budget as bad input, naming the key, the estimate and the budget. ``--allow-large`` (any
command that loads a scenario) skips the check.

The per-pixel and per-ray byte counts are measured on the embedded backend (capture of the
default annotators, peak RSS of a 1280 × 960 frame minus a 64 × 48 one: 266 B a pixel), rounded
up; the budgets are what a 32 GiB workstation runs without swapping, and pass every single
camera the scenario model accepts (8192 × 8192 is 18.75 GiB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..sensors.errors import Issue
from .model import Scenario
from .yaml_source import Loc, SourceMap

__all__ = [
    "BYTES_PER_LIDAR_RAY",
    "BYTES_PER_LIDAR_SUB_RAY",
    "BYTES_PER_PIXEL",
    "MAX_CAMERA_RAYS_PER_FRAME",
    "MAX_FRAME_BYTES",
    "MAX_LIDAR_EMITTERS",
    "MAX_LIDAR_RAYS_PER_SCAN",
    "MAX_LIDAR_SUB_RAYS_PER_SCAN",
    "MAX_PHYSICS_STEPS_PER_FRAME",
    "MAX_TEXTURE_PIXELS",
    "OVERRIDE_FLAG",
    "Estimate",
    "LidarRays",
    "check_budget",
    "estimates",
]

OVERRIDE_FLAG = "--allow-large"
"""The command-line flag that skips these budgets."""

BYTES_PER_PIXEL = 300
"""Working memory of one camera pixel in a frame (buffers of every annotator and the renderer)."""
BYTES_PER_LIDAR_RAY = 200
"""Working memory of one LiDAR ray (scan pattern, hit record, point in the payload)."""
BYTES_PER_LIDAR_SUB_RAY = 300
"""Working memory of one sub-ray of a multi-return beam (``returns``): its ray, hit record and
echo grouping (measured: 283 B of NumPy peak per sub-ray, OS1 REV7 with 16 sub-rays)."""

MAX_FRAME_BYTES = 24 << 30
"""Estimated memory of one frame's sensors: 24 GiB."""
MAX_CAMERA_RAYS_PER_FRAME = 1 << 32
"""Camera rays a frame casts (pixels × samples × (1 + light samples)): about 4.3e9, minutes of
CPU per frame; 640 × 480 at 4 spp with a dome and an area light casts 2.6e7."""
MAX_LIDAR_RAYS_PER_SCAN = 1 << 22
"""Rays of one LiDAR scan (emitters × ⌊reportRate / scanRate⌋): 4.2M, 17× a Velodyne VLS-128."""
MAX_LIDAR_SUB_RAYS_PER_SCAN = 1 << 26
"""Rays a multi-return scan casts (rays per scan × ``returns.sub_rays``): 67M, a VLS-128 at 256."""
MAX_LIDAR_EMITTERS = 1 << 16
"""Emitters of one LiDAR profile (shipped profiles have at most 128)."""
MAX_PHYSICS_STEPS_PER_FRAME = 1_000_000
"""Physics steps before a frame (settling plus one capture interval); 2,550 by default."""
MAX_TEXTURE_PIXELS = 1 << 26
"""Pixels of one texture, from a file or procedural (8192 × 8192)."""

CHECKER_PIXELS_PER_SQUARE = 16
"""Edge of one checker square in pixels (``runtime.usd.textures`` draws squares this size)."""
NOISE_SIZE_PX = 512
"""Edge of a noise texture in pixels (``runtime.usd.textures`` draws it this size)."""


@dataclass(frozen=True)
class LidarRays:
    """What the budget needs of a LiDAR's profile: rays per scan and emitters."""

    rays_per_scan: int
    emitters: int
    source: str
    """Profile file (or ``<inline>``), for the message."""


@dataclass(frozen=True)
class Estimate:
    """One estimated cost against its budget, with the key that drives it."""

    loc: Loc
    what: str
    value: float
    budget: float
    unit: str

    @property
    def over(self) -> bool:
        return self.value > self.budget


def _light_samples(s: Scenario) -> int:
    """Shadow/light rays per camera sample: one per distant light, the scenario's samples per
    area and dome light."""
    total = 0
    for light in s.lights.values():
        if light.type == "distant":
            total += 1
        elif light.type == "dome":
            total += s.render.dome_light_samples
        else:
            total += s.render.area_light_samples
    return total


def _texture_estimates(s: Scenario, file_sizes: Mapping[str, tuple[int, int]]) -> list[Estimate]:
    out = []
    for name, tex in sorted(s.textures.items()):
        if tex.checker is not None:
            edge = tex.checker.squares * CHECKER_PIXELS_PER_SQUARE
            out.append(
                Estimate(
                    ("textures", name, "checker", "squares"), "checker texture", edge * edge, MAX_TEXTURE_PIXELS, "px"
                )
            )
        elif tex.noise is not None:
            # the finest octave's lattice is allocated whole, besides the fixed-size image
            cells = tex.noise.cells * 2 ** (tex.noise.octaves - 1) + 1
            pixels = max(cells * cells, NOISE_SIZE_PX * NOISE_SIZE_PX)
            out.append(
                Estimate(
                    ("textures", name, "noise", "cells"), "noise texture lattice", pixels, MAX_TEXTURE_PIXELS, "px"
                )
            )
        elif tex.file is not None and tex.file in file_sizes:
            w, h = file_sizes[tex.file]
            out.append(
                Estimate(("textures", name, "file"), f"texture image {w} × {h}", w * h, MAX_TEXTURE_PIXELS, "px")
            )
    return out


def estimates(
    s: Scenario,
    lidars: Mapping[str, LidarRays] | None = None,
    texture_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> list[Estimate]:
    """Every estimate of ``s`` with its budget (over budget or not). ``lidars`` maps LiDAR names
    to their profiles' ray counts; ``texture_sizes`` maps texture file paths (as written) to
    their (width, height). Pure: nothing is allocated or read."""
    out: list[Estimate] = []
    lidars = lidars or {}
    # memory of one frame: every camera's pixels and every LiDAR's rays
    sensors: list[tuple[Loc, str, float]] = []
    for name, cam in sorted(s.cameras.items()):
        w, h = cam.resolution
        views = 1 if cam.stereo is None else 2  # a stereo rig renders twice
        sensors.append((("cameras", name, "resolution"), f"camera '{name}' {w} × {h}", views * w * h * BYTES_PER_PIXEL))
    for name, rays in sorted(lidars.items()):
        key = ("lidars", name, "simple") if s.lidars[name].simple is not None else ("lidars", name, "profile")
        sensors.append((key, f"LiDAR '{name}'", rays.rays_per_scan * BYTES_PER_LIDAR_RAY))
        returns = s.lidars[name].returns
        if returns is not None:
            cast = rays.rays_per_scan * returns.sub_rays
            loc = ("lidars", name, "returns", "sub_rays")
            sensors.append((loc, f"LiDAR '{name}' sub-rays", cast * BYTES_PER_LIDAR_SUB_RAY))
            out.append(Estimate(loc, f"sub-rays per scan of {rays.source}", cast, MAX_LIDAR_SUB_RAYS_PER_SCAN, "rays"))
        out.append(
            Estimate(key, f"rays per scan of {rays.source}", rays.rays_per_scan, MAX_LIDAR_RAYS_PER_SCAN, "rays")
        )
        out.append(Estimate(key, f"emitters of {rays.source}", rays.emitters, MAX_LIDAR_EMITTERS, "emitters"))
    if sensors:
        total = sum(b for _, _, b in sensors)
        loc, what, biggest = max(sensors, key=lambda x: x[2])
        # name the sensor when it alone is over, else the section of the largest one
        where = loc if biggest > MAX_FRAME_BYTES else loc[:1]
        label = f"frame memory (largest: {what})" if len(sensors) > 1 else f"frame memory of {what}"
        out.append(Estimate(where, label, total, MAX_FRAME_BYTES, "bytes"))
    pixels = sum(c.resolution[0] * c.resolution[1] * (1 if c.stereo is None else 2) for c in s.cameras.values())
    rays = pixels * s.render.samples_per_pixel * (1 + _light_samples(s))
    if s.cameras:
        # the key to change: samples_per_pixel when the file sets it, else the largest camera
        largest = max(sorted(s.cameras), key=lambda n: s.cameras[n].resolution[0] * s.cameras[n].resolution[1])
        authored = "samples_per_pixel" in s.render.model_fields_set
        loc = ("render", "samples_per_pixel") if authored else ("cameras", largest, "resolution")
        out.append(Estimate(loc, "camera rays per frame", rays, MAX_CAMERA_RAYS_PER_FRAME, "rays"))
    p = s.physics
    if p.enabled:
        settle_s = p.settle.max_s if p.settle is not None else 0.0
        steps = (settle_s + p.episode.capture_interval_s) / p.timestep_s
        out.append(
            Estimate(("physics", "timestep_s"), "physics steps per frame", steps, MAX_PHYSICS_STEPS_PER_FRAME, "steps")
        )
    out += _texture_estimates(s, texture_sizes or {})
    return out


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / (1 << 30):.3g} GiB"
    return f"{value:.3g} {unit}"


def check_budget(
    s: Scenario,
    smap: SourceMap,
    lidars: Mapping[str, LidarRays] | None = None,
    texture_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> list[Issue]:
    """One issue per estimate over its budget, at the key that drives it."""
    return [
        smap.issue(
            e.loc,
            f"{e.what} is over the budget; {OVERRIDE_FLAG} runs it anyway",
            expected=f"at most {_amount(e.budget, e.unit)}",
            got=_amount(e.value, e.unit),
        )
        for e in estimates(s, lidars, texture_sizes)
        if e.over
    ]
