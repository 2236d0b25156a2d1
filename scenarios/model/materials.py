"""Textures (image files, procedural checker, noise and sky) and UsdPreviewSurface materials."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ...sensors.spec_base import Color, Name, PosInt, Spec, Unit, Vec2, invalid
from .common import AssetPath

__all__ = [
    "CheckerTexture",
    "MaterialSpec",
    "NoiseTexture",
    "SkyTexture",
    "TextureSpec",
]


class CheckerTexture(Spec):
    squares: PosInt = 8
    """Squares along each side of the texture."""
    color_a: Color = (0.9, 0.9, 0.9)
    """Linear RGB of the first squares."""
    color_b: Color = (0.1, 0.1, 0.1)
    """Linear RGB of the other squares."""


class NoiseTexture(Spec):
    cells: PosInt = 16
    """Lattice cells along each side at the coarsest octave."""
    octaves: Annotated[int, Field(strict=True, ge=1, le=8)] = 3
    """Octaves of value noise summed (each twice as fine, half as strong)."""
    color_a: Color = (0.8, 0.8, 0.8)
    """Linear RGB at noise value 0."""
    color_b: Color = (0.2, 0.2, 0.2)
    """Linear RGB at noise value 1."""
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    """Seed of the noise lattice."""


class SkyTexture(Spec):
    """Preetham, Shirley and Smits' analytic daylight sky (SIGGRAPH 1999) as a lat-long HDR
    image for a dome light: linear radiance whose luminance is the model's, in kcd/m²."""

    sun_elevation_deg: Annotated[float, Field(strict=True, ge=0.5, le=90.0)] = 45.0
    """Sun elevation above the horizon in degrees."""
    sun_azimuth_deg: Annotated[float, Field(strict=True, ge=-360.0, le=360.0)] = 0.0
    """Sun azimuth in degrees, from +X counter-clockwise (the dome's frame)."""
    turbidity: Annotated[float, Field(strict=True, ge=1.7, le=10.0)] = 3.0
    """Atmospheric turbidity: 2 very clear, 3 clear, 6 hazy, 10 overcast-like haze."""
    ground_albedo: Unit = 0.2
    """The lower hemisphere: this fraction of the sky's mean radiance (a diffuse ground)."""
    width_px: Annotated[int, Field(strict=True, ge=16, le=4096)] = 256
    """Width of the lat-long image in pixels (its height is half)."""


class TextureSpec(Spec):
    """An image file (PNG/JPEG; HDR .hdr/.exr for dome lights) or a procedural checker/noise
    pattern, tiled ``tiling`` times."""

    file: AssetPath | None = None
    """Image file (relative to the scenario or an --asset-root): PNG/JPEG (sRGB), or HDR .hdr/.exr (domes)."""
    checker: CheckerTexture | None = None
    """A procedural checkerboard."""
    noise: NoiseTexture | None = None
    """Procedural value noise."""
    sky: SkyTexture | None = None
    """A procedural daylight sky (for dome lights)."""
    tiling: Vec2 = (1.0, 1.0)
    """Repeats of the texture across the UV range (u, v)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> TextureSpec:
        given = [k for k in ("file", "checker", "noise", "sky") if getattr(self, k) is not None]
        if len(given) != 1:
            raise invalid(
                "give exactly one texture source", expected="one of file, checker, noise, sky", got=given or "none"
            )
        return self


class MaterialSpec(Spec):
    """UsdPreviewSurface inputs, plus the reflectance a LiDAR sees."""

    diffuse_color: Color = (0.18, 0.18, 0.18)
    """Linear RGB base colour (UsdPreviewSurface diffuseColor)."""
    diffuse_texture: Name | None = None
    """Name of an entry of ``textures``; replaces ``diffuse_color``."""
    roughness: Unit = 0.5
    """Surface roughness in [0, 1] (UsdPreviewSurface roughness)."""
    roughness_texture: Name | None = None
    """Name of an entry of ``textures`` whose red channel (read as raw data, not sRGB) replaces ``roughness``."""
    metallic: Unit = 0.0
    """Metalness in [0, 1] (UsdPreviewSurface metallic)."""
    metallic_texture: Name | None = None
    """Name of an entry of ``textures`` whose red channel (raw data) replaces ``metallic``."""
    normal_texture: Name | None = None
    """Name of an entry of ``textures`` holding a tangent-space normal map (raw data, OpenGL
    convention: +green is +v; rgb = (n + 1) / 2, so a flat texel is (0.5, 0.5, 1)); it bends the
    shading normal of every hit (UsdPreviewSurface ``normal``). Labels keep the geometric normals."""
    specular_color: Color | None = None
    """Switches to UsdPreviewSurface's specular workflow: reflectance at normal incidence
    (``specularColor``); ``metallic`` is then ignored. ``[0, 0, 0]`` gives a diffuse-only
    surface except at grazing angles."""
    emissive_color: Color = (0.0, 0.0, 0.0)
    """Emitted radiance (linear, in the same units as light radiance)."""
    opacity: Unit = 1.0
    """UsdPreviewSurface opacity: below 1 the rest is a smooth dielectric of ``ior`` (glass; path engine)."""
    ior: Annotated[float, Field(strict=True, ge=1.0, le=3.0)] = 1.5
    """Index of refraction of the dielectric part (UsdPreviewSurface ior; glass 1.5, water 1.33)."""
    lidar_reflectance: Unit | None = None
    """``scenesmith:lidar_reflectance``; default: luminance of the diffuse albedo (DESIGN §9)."""

    @field_validator("diffuse_color", "specular_color")
    @classmethod
    def _albedo(cls, value: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if value is not None and any(c > 1 for c in value):
            raise invalid("this colour is a reflectance", expected="components in [0, 1]", got=list(value))
        return value
