"""Prim paths of everything a scenario authors (DESIGN §9 "Prim paths and names").

Both the sampler (draws are keyed by prim path) and the stage author use these, so a path
never depends on list order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Scenario

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
