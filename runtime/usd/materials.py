"""UsdShade materials: UsdPreviewSurface with optional UsdUVTexture, and physics materials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...scenarios.model import BodyPhysics, MaterialSpec, Scenario, TextureSpec
from ...scenarios.prim_paths import LOOKS_ROOT, PHYSICS_ROOT, SHADER_NAME, material_path
from .textures import procedural_image, write_hdr, write_png

__all__ = [
    "LIDAR_REFLECTANCE_ATTR",
    "PROCEDURAL_ATTR",
    "author_material",
    "author_physics_material",
    "procedural_json",
    "texture_asset_path",
]

LIDAR_REFLECTANCE_ATTR = "scenesmith:lidar_reflectance"
"""Material attribute read for LiDAR intensity (DESIGN §9 "LiDAR model")."""
PROCEDURAL_ATTR = "scenesmith:procedural"
"""JSON of a procedural texture's spec, on its UsdUVTexture, so readers need not open the PNG."""


def texture_asset_path(scenario: Scenario, name: str, files: dict[str, Path], texture_dir: Path | None) -> str:
    """Asset path a USD file should reference for texture ``name`` (writes procedural PNGs)."""
    spec: TextureSpec = scenario.textures[name]
    if spec.file is not None:
        return str(files[spec.file])
    if texture_dir is None:
        return ""
    hdr = spec.sky is not None  # radiance above 1: an HDR file, a PNG would clip it
    out = texture_dir / f"{name}.{'hdr' if hdr else 'png'}"
    if not out.exists():
        (write_hdr if hdr else write_png)(procedural_image(spec), out)
    return f"./{texture_dir.name}/{out.name}"


_RGB_ROLES = ("Diffuse", "Normal")
"""Texture roles read as three channels; the others are scalar maps read from red."""


def _texture_network(
    stage: Any, mat_path: str, scenario: Scenario, name: str, asset: str, role: str = "Diffuse"
) -> Any:
    """UV reader → tiling transform → UsdUVTexture for one input; colour (``Diffuse``) is sRGB,
    the scalar maps (``Roughness``, ``Metallic``) are raw data read from the red channel, and a
    ``Normal`` map is raw rgb scaled by 2 and biased by −1, as the UsdPreviewSurface spec asks."""
    from pxr import Gf, Sdf, UsdShade

    spec = scenario.textures[name]
    # the diffuse network keeps its original prim names (stages written before stay the same)
    prefix = "" if role == "Diffuse" else role
    reader = UsdShade.Shader.Define(stage, f"{mat_path}/{prefix}UVReader")
    reader.CreateIdAttr("UsdPrimvarReader_float2")
    reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("st")
    reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
    xform = UsdShade.Shader.Define(stage, f"{mat_path}/{prefix}UVTransform")
    xform.CreateIdAttr("UsdTransform2d")
    xform.CreateInput("in", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
    xform.CreateInput("scale", Sdf.ValueTypeNames.Float2).Set(tuple(spec.tiling))
    xform.CreateOutput("result", Sdf.ValueTypeNames.Float2)
    tex = UsdShade.Shader.Define(stage, f"{mat_path}/{role}Texture")
    tex.CreateIdAttr("UsdUVTexture")
    tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(asset))
    tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(xform.ConnectableAPI(), "result")
    tex.CreateInput("wrapS", Sdf.ValueTypeNames.Token).Set("repeat")
    tex.CreateInput("wrapT", Sdf.ValueTypeNames.Token).Set("repeat")
    tex.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB" if role == "Diffuse" else "raw")
    if role == "Normal":  # UsdPreviewSurface's normal input wants [-1, 1]: the texture maps [0, 1] onto it
        tex.CreateInput("scale", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(2.0, 2.0, 2.0, 1.0))
        tex.CreateInput("bias", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(-1.0, -1.0, -1.0, 0.0))
    tex.CreateOutput(
        "rgb" if role in _RGB_ROLES else "r",
        Sdf.ValueTypeNames.Float3 if role in _RGB_ROLES else Sdf.ValueTypeNames.Float,
    )
    tex.GetPrim().CreateAttribute("scenesmith:texture", Sdf.ValueTypeNames.String).Set(name)
    if spec.file is None:
        tex.GetPrim().CreateAttribute(PROCEDURAL_ATTR, Sdf.ValueTypeNames.String).Set(procedural_json(spec))
    return tex


def procedural_json(spec: TextureSpec) -> str:
    """The :data:`PROCEDURAL_ATTR` value of a procedural texture ("" for a texture file)."""
    return "" if spec.file is not None else json.dumps(spec.model_dump(mode="json"), sort_keys=True)


def author_material(
    stage: Any, scenario: Scenario, name: str, spec: MaterialSpec, files: dict[str, Path], texture_dir: Path | None
) -> Any:
    from pxr import Gf, Sdf, UsdShade

    path = material_path(name)
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/{SHADER_NAME}")
    shader.CreateIdAttr("UsdPreviewSurface")
    diffuse = shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f)
    diffuse.Set(Gf.Vec3f(*spec.diffuse_color))
    roughness = shader.CreateInput("roughness", Sdf.ValueTypeNames.Float)
    roughness.Set(spec.roughness)
    metallic = shader.CreateInput("metallic", Sdf.ValueTypeNames.Float)
    metallic.Set(spec.metallic)
    shader.CreateInput("emissiveColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*spec.emissive_color))
    shader.CreateInput("useSpecularWorkflow", Sdf.ValueTypeNames.Int).Set(0 if spec.specular_color is None else 1)
    if spec.specular_color is not None:
        shader.CreateInput("specularColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*spec.specular_color))
    if spec.opacity < 1.0:  # authored only for see-through materials: opaque ones stay as they were
        shader.CreateInput("opacity", Sdf.ValueTypeNames.Float).Set(spec.opacity)
        shader.CreateInput("ior", Sdf.ValueTypeNames.Float).Set(spec.ior)
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    if spec.diffuse_texture is not None:
        asset = texture_asset_path(scenario, spec.diffuse_texture, files, texture_dir)
        tex = _texture_network(stage, path, scenario, spec.diffuse_texture, asset)
        diffuse.ConnectToSource(tex.ConnectableAPI(), "rgb")
    for role, texture, target in (
        ("Roughness", spec.roughness_texture, roughness),
        ("Metallic", spec.metallic_texture, metallic),
    ):
        if texture is not None:
            asset = texture_asset_path(scenario, texture, files, texture_dir)
            target.ConnectToSource(_texture_network(stage, path, scenario, texture, asset, role).ConnectableAPI(), "r")
    if spec.normal_texture is not None:
        asset = texture_asset_path(scenario, spec.normal_texture, files, texture_dir)
        tex = _texture_network(stage, path, scenario, spec.normal_texture, asset, "Normal")
        normal = shader.CreateInput("normal", Sdf.ValueTypeNames.Normal3f)
        normal.ConnectToSource(tex.ConnectableAPI(), "rgb")
    if spec.lidar_reflectance is not None:
        material.GetPrim().CreateAttribute(LIDAR_REFLECTANCE_ATTR, Sdf.ValueTypeNames.Float).Set(spec.lidar_reflectance)
    return material


def author_physics_material(stage: Any, owner: str, physics: BodyPhysics) -> Any:
    """A physics material per body: friction, restitution, and the extra friction MuJoCo uses."""
    from pxr import Sdf, UsdPhysics, UsdShade

    path = f"{PHYSICS_ROOT}/Materials/{owner}"
    material = UsdShade.Material.Define(stage, path)
    api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
    api.CreateStaticFrictionAttr(physics.friction.static)
    api.CreateDynamicFrictionAttr(physics.friction.dynamic)
    api.CreateRestitutionAttr(physics.restitution)
    prim = material.GetPrim()
    prim.CreateAttribute("scenesmith:physics:torsionalFriction", Sdf.ValueTypeNames.Float).Set(
        physics.friction.torsional
    )
    prim.CreateAttribute("scenesmith:physics:rollingFriction", Sdf.ValueTypeNames.Float).Set(physics.friction.rolling)
    return material


__all__ += ["LOOKS_ROOT"]
