"""Prim paths of everything a scenario authors (DESIGN §9 "Prim paths and names").

Both the sampler (draws are keyed by prim path) and the stage author use these, so a path
never depends on list order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import CameraSpec, Scenario

__all__ = [
    "BASE_PATH",
    "DISTRACTORS_ROOT",
    "LIGHTS_ROOT",
    "LOOKS_ROOT",
    "PHYSICS_ROOT",
    "RENDER_ROOT",
    "WORLD",
    "asset_paths",
    "camera_path",
    "distractor_slot_paths",
    "light_path",
    "lidar_path",
    "material_path",
    "render_product_path",
    "RenderCamera",
    "STEREO_ROLES",
    "render_cameras",
    "render_cameras_of",
    "SHADER_NAME",
    "shader_path",
    "scenario_key_of",
    "target_paths",
]

WORLD = "/World"
LIGHTS_ROOT = "/World/Lights"
DISTRACTORS_ROOT = "/World/Distractors"
LOOKS_ROOT = "/World/Looks"
PHYSICS_ROOT = "/World/Physics"
BASE_PATH = "/World/Base"
RENDER_ROOT = "/Render"
SHADER_NAME = "Shader"
"""The UsdPreviewSurface shader under each material prim."""


def asset_paths(name: str, count: int) -> list[str]:
    """``/World/<name>``, or ``/World/<name>_000`` … for counted copies."""
    if count == 1:
        return [f"{WORLD}/{name}"]
    return [f"{WORLD}/{name}_{k:03d}" for k in range(count)]


def distractor_slot_paths(name: str, pool_size: int, max_count: int) -> list[list[str]]:
    """Slots per pool entry: entry ``e`` owns ``<name>_<e*max + j:03d>`` for ``j < max``."""
    return [[f"{DISTRACTORS_ROOT}/{name}_{e * max_count + j:03d}" for j in range(max_count)] for e in range(pool_size)]


def light_path(name: str) -> str:
    return f"{LIGHTS_ROOT}/{name}"


def camera_path(name: str) -> str:
    return f"{WORLD}/{name}"


def lidar_path(name: str) -> str:
    return f"{WORLD}/{name}"


def material_path(name: str) -> str:
    return f"{LOOKS_ROOT}/{name}"


def shader_path(material: str) -> str:
    """The material's UsdPreviewSurface shader prim (whose ``inputs:*`` the randomizers edit)."""
    return f"{material_path(material)}/{SHADER_NAME}"


def render_product_path(camera: str) -> str:
    """Render-product name = camera name = folder name under ``pose/``."""
    return f"{RENDER_ROOT}/{camera}"


STEREO_ROLES = ("left", "right")
"""A stereo rig's cameras, in order; the right one sits ``baseline_m`` along the rig's +x."""


@dataclass(frozen=True)
class RenderCamera:
    """A camera that renders: a scenario camera, or one of a stereo rig's two. The rig is an
    Xform at ``/World/<rig>`` carrying the pose (randomizers move it), its cameras are children
    ``/World/<rig>/left`` and ``/World/<rig>/right``, rendered as ``<rig>_left`` and ``<rig>_right``."""

    name: str
    """Render-product name = the name outputs use (``pose/<name>/``, COCO file names, HDF5 groups)."""
    camera: str
    """The scenario's camera key (its spec: ``scenario.cameras[camera]``)."""
    prim_path: str
    """The ``UsdGeom.Camera`` prim."""
    role: str | None = None
    """``left`` or ``right`` in a rig, else ``None``."""
    offset_m: float = 0.0
    """The camera's position along the rig's +x (left 0, right the baseline)."""


def render_cameras_of(name: str, spec: CameraSpec) -> tuple[RenderCamera, ...]:
    """The cameras one scenario camera renders with: itself, or a rig's left and right."""
    if spec.stereo is None:
        return (RenderCamera(name, name, camera_path(name)),)
    return tuple(
        RenderCamera(f"{name}_{role}", name, f"{camera_path(name)}/{role}", role,
                     spec.stereo.baseline_m if role == "right" else 0.0)
        for role in STEREO_ROLES
    )  # fmt: skip


def render_cameras(scenario: Scenario) -> tuple[RenderCamera, ...]:
    """Every camera that renders, sorted by render-product name (the one list backends, stage
    authoring, writers' run info and sensor models iterate)."""
    cams = [rc for name, spec in scenario.cameras.items() for rc in render_cameras_of(name, spec)]
    return tuple(sorted(cams, key=lambda c: c.name))


def target_paths(scenario: Scenario, name: str) -> list[str]:
    """Prim paths a randomizer target name stands for (all copies of a counted asset)."""
    if name in scenario.assets:
        return asset_paths(name, scenario.assets[name].count)
    if name in scenario.lights:
        return [light_path(name)]
    if name in scenario.cameras:
        return [camera_path(name)]
    if name in scenario.lidars:
        return [lidar_path(name)]
    if name in scenario.materials:
        return [material_path(name)]
    raise KeyError(name)


def scenario_key_of(scenario: Scenario, prim_path: str) -> tuple[str | int, ...] | None:
    """The scenario key that authored ``prim_path`` (or an ancestor of it), for errors found in
    the authored stage: ``('assets', 'mug')`` for ``/World/mug_003/Mesh``, ``('distractors',
    'clutter', 'pool', 2)`` for a slot of pool entry 2. ``None`` when no key authored it."""

    def under(path: str) -> bool:
        return prim_path == path or prim_path.startswith(path + "/")

    for name, asset in scenario.assets.items():
        if any(under(p) for p in asset_paths(name, asset.count)):
            return ("assets", name)
    for name, spec in scenario.distractors.items():
        for entry, slots in enumerate(distractor_slot_paths(name, len(spec.pool), spec.count.max)):
            if any(under(p) for p in slots):
                return ("distractors", name, "pool", entry)
    for name in scenario.lights:
        if under(light_path(name)):
            return ("lights", name)
    return None
