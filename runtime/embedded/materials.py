"""Read UsdPreviewSurface materials bound to gprims into arrays the renderer can index.

Supports what the scenario format authors (and what most simple USD assets carry): a
``UsdPreviewSurface`` with constant inputs, its ``diffuseColor`` optionally driven by a
``UsdUVTexture`` whose ``st`` comes through an optional ``UsdTransform2d`` (its ``scale`` is
the tiling), the same texture networks on ``roughness``/``metallic`` (red channel) and
``normal`` (a tangent-space map, through the texture's scale and bias), and ``opacity``/``ior``
for dielectrics. Procedural textures are read from their
``scenesmith:procedural`` description.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...scenarios.model import TextureSpec
from ..usd.materials import LIDAR_REFLECTANCE_ATTR, PROCEDURAL_ATTR
from ..usd.textures import load_texture, procedural_image, srgb_to_linear

__all__ = ["DEFAULT_ALBEDO", "MaterialParams", "MaterialTable", "Texture", "luminance"]

DEFAULT_ALBEDO = (0.18, 0.18, 0.18)
"""Diffuse albedo of geometry without a material (UsdPreviewSurface's default)."""


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luminance of linear RGB."""
    return np.asarray(rgb) @ np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True, eq=False)
class Texture:
    image: np.ndarray  # (H, W, 3) linear RGB, row 0 at v = 1
    tiling: tuple[float, float]

    def sample(self, uv: np.ndarray) -> np.ndarray:
        """Nearest-texel lookup with repeat wrapping."""
        h, w = self.image.shape[:2]
        u = uv[:, 0] * self.tiling[0]
        v = uv[:, 1] * self.tiling[1]
        x = np.floor(u * w).astype(np.int64) % w
        y = np.floor((1.0 - v) * h).astype(np.int64) % h
        return self.image[y, x]


@dataclass(frozen=True)
class MaterialParams:
    diffuse: tuple[float, float, float] = DEFAULT_ALBEDO
    texture: Texture | None = None
    roughness: float = 0.5
    metallic: float = 0.0
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lidar_reflectance: float | None = None
    specular: tuple[float, float, float] | None = None
    """Normal-incidence reflectance in the specular workflow; None in the metallic workflow."""
    opacity: float = 1.0
    """Below 1, the remaining fraction is a smooth dielectric of ``ior`` (the path engine)."""
    roughness_texture: Texture | None = None
    """Raw-data map whose red channel replaces ``roughness``."""
    metallic_texture: Texture | None = None
    """Raw-data map whose red channel replaces ``metallic``."""
    normal_texture: Texture | None = None
    """Tangent-space normal map, already scaled and biased to [-1, 1] (UsdPreviewSurface ``normal``)."""
    ior: float = 1.5

    @property
    def reflectance(self) -> float:
        """ρ for LiDAR intensity: the explicit attribute, else the diffuse albedo's luminance."""
        if self.lidar_reflectance is not None:
            return self.lidar_reflectance
        if self.texture is not None:
            return float(luminance(self.texture.image.reshape(-1, 3).mean(axis=0)))
        return float(luminance(np.asarray(self.diffuse)))


def _input_value(shader: Any, name: str, default: Any) -> Any:
    inp = shader.GetInput(name)
    if not inp:
        return default
    value = inp.Get()
    return default if value is None else value


class MaterialTable:
    """Per-frame material of every gprim (bindings and inputs may be randomized)."""

    def __init__(self, stage: Any) -> None:
        self.stage = stage
        self._textures: dict[str, Texture] = {}

    def _texture(self, tex_shader: Any) -> Texture | None:
        from pxr import UsdShade

        prim = tex_shader.GetPrim()
        procedural = prim.GetAttribute(PROCEDURAL_ATTR)
        file_input = tex_shader.GetInput("file")
        srgb = str(_input_value(tex_shader, "sourceColorSpace", "sRGB")) != "raw"
        tiling = (1.0, 1.0)
        st = tex_shader.GetInput("st")
        if st and st.HasConnectedSource():
            source = UsdShade.Shader(st.GetConnectedSource()[0].GetPrim())
            if source.GetIdAttr().Get() == "UsdTransform2d":
                scale = _input_value(source, "scale", (1.0, 1.0))
                tiling = (float(scale[0]), float(scale[1]))
        if procedural and procedural.Get():
            key = "proc:" + procedural.Get()
            if key not in self._textures:
                spec = TextureSpec.model_validate(json.loads(procedural.Get()))
                self._textures[key] = Texture(procedural_image(spec), (1.0, 1.0))
        else:
            asset = file_input.Get() if file_input else None
            path = getattr(asset, "resolvedPath", "") or getattr(asset, "path", "")
            if not path or not Path(path).is_file():
                return None
            key = f"file:{'srgb' if srgb else 'raw'}:" + path
            if key not in self._textures:
                self._textures[key] = Texture(load_texture(TextureSpec(file=path), Path(path), srgb), (1.0, 1.0))
        base = self._textures[key]
        # UsdUVTexture's scale and bias (rgb; defaults 1 and 0): normal maps map [0, 1] onto [-1, 1]
        scale = np.asarray(_input_value(tex_shader, "scale", (1.0, 1.0, 1.0, 1.0)), dtype=np.float64)[:3]
        bias = np.asarray(_input_value(tex_shader, "bias", (0.0, 0.0, 0.0, 0.0)), dtype=np.float64)[:3]
        if (scale == 1.0).all() and (bias == 0.0).all():
            return Texture(base.image, tiling)
        return Texture(base.image * scale + bias, tiling)

    def _connected_texture(self, shader: Any, name: str) -> Texture | None:
        """The UsdUVTexture driving input ``name`` of ``shader``, if one does."""
        from pxr import UsdShade

        inp = shader.GetInput(name)
        if not (inp and inp.HasConnectedSource()):
            return None
        source = UsdShade.Shader(inp.GetConnectedSource()[0].GetPrim())
        return self._texture(source) if source.GetIdAttr().Get() == "UsdUVTexture" else None

    def material_at(self, material_path: str) -> MaterialParams:
        from pxr import UsdShade

        prim = self.stage.GetPrimAtPath(material_path)
        if not prim:
            return MaterialParams()
        material = UsdShade.Material(prim)
        shader, _, _ = material.ComputeSurfaceSource()
        if not shader:
            return MaterialParams()
        diffuse_in = shader.GetInput("diffuseColor")
        texture = None
        diffuse = tuple(map(float, _input_value(shader, "diffuseColor", DEFAULT_ALBEDO)))
        if diffuse_in and diffuse_in.HasConnectedSource():
            source = UsdShade.Shader(diffuse_in.GetConnectedSource()[0].GetPrim())
            if source.GetIdAttr().Get() == "UsdUVTexture":
                texture = self._texture(source)
        maps = {name: self._connected_texture(shader, name) for name in ("roughness", "metallic", "normal")}
        reflectance = prim.GetAttribute(LIDAR_REFLECTANCE_ATTR)
        specular = None
        if int(_input_value(shader, "useSpecularWorkflow", 0)) == 1:
            specular = tuple(map(float, _input_value(shader, "specularColor", (0.0, 0.0, 0.0))))
        return MaterialParams(
            diffuse=diffuse,  # type: ignore[arg-type]
            texture=texture,
            roughness=float(_input_value(shader, "roughness", 0.5)),
            metallic=float(_input_value(shader, "metallic", 0.0)),
            emissive=tuple(map(float, _input_value(shader, "emissiveColor", (0.0, 0.0, 0.0)))),  # type: ignore[arg-type]
            lidar_reflectance=float(reflectance.Get()) if reflectance and reflectance.Get() is not None else None,
            specular=specular,  # type: ignore[arg-type]
            opacity=float(_input_value(shader, "opacity", 1.0)),
            roughness_texture=maps["roughness"],
            metallic_texture=maps["metallic"],
            normal_texture=maps["normal"],
            ior=float(_input_value(shader, "ior", 1.5)),
        )

    def for_gprims(self, paths: list[str]) -> list[MaterialParams]:
        """The bound material of each gprim path (inherited bindings resolved)."""
        from pxr import UsdShade

        prims = [self.stage.GetPrimAtPath(path) for path in paths]
        # one batched binding resolution (shares the ancestors' collection queries)
        bound, _ = UsdShade.MaterialBindingAPI.ComputeBoundMaterials(prims) if prims else ([], [])
        cache: dict[str, MaterialParams] = {}
        out = []
        for material in bound:
            key = str(material.GetPath()) if material else ""
            if key not in cache:
                cache[key] = self.material_at(key) if key else MaterialParams()
            out.append(cache[key])
        return out


__all__ += ["srgb_to_linear"]
