"""UsdLux lights and the keys that apply to each light type."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...sensors.spec_base import Color, Name, NonNegFloat, PosFloat, invalid
from .common import _Posed

__all__ = [
    "LightSpec",
]


_LIGHT_FIELDS = {
    "distant": {"angle_deg", "visible_in_primary_ray"},
    "sphere": {"radius_m", "visible_in_primary_ray"},
    "disk": {"radius_m", "visible_in_primary_ray"},
    "rect": {"width_m", "height_m", "visible_in_primary_ray"},
    "dome": {"texture"},
}
_LIGHT_SPECIFIC = {"angle_deg", "radius_m", "width_m", "height_m", "texture", "visible_in_primary_ray"}


class LightSpec(_Posed):
    """A UsdLux light. Radiance = intensity × 2^exposure × colour (× blackbody colour).

    For ``distant`` lights the product is the irradiance (W/m², in our linear units) on a
    surface facing the light; for area lights it is the radiance of the emitting surface,
    divided by its area when ``normalize`` is set (UsdLux's ``inputs:normalize``).
    """

    type: Literal["distant", "sphere", "disk", "rect", "dome"]
    """USD light type: distant (sun), sphere, disk, rect (area) or dome (environment)."""
    intensity: NonNegFloat = 1.0
    """Intensity (USD inputs:intensity); radiance scales with intensity × 2^exposure."""
    exposure: Annotated[float, Field(strict=True, ge=-30, le=30)] = 0.0
    """Exposure in stops (USD inputs:exposure)."""
    color: Color = (1.0, 1.0, 1.0)
    """Linear RGB colour (USD inputs:color)."""
    color_temperature_k: Annotated[float, Field(strict=True, ge=1000, le=40000)] | None = None
    """Enables UsdLux ``enableColorTemperature``; the blackbody colour multiplies ``color``."""
    normalize: bool = False
    """Divide power by the light's area so its size does not change brightness (USD inputs:normalize)."""
    angle_deg: Annotated[float, Field(strict=True, ge=0, le=180)] = 0.53
    """Angular diameter of a distant light in degrees (the sun is 0.53)."""
    radius_m: PosFloat = 0.5
    """Radius of a sphere or disk light, in metres."""
    width_m: PosFloat = 1.0
    """Width of a rect light, in metres."""
    height_m: PosFloat = 1.0
    """Height of a rect light, in metres."""
    texture: Name | None = None
    """Dome lights: name of an entry of ``textures`` (lat-long); also seen as the background."""
    shadows: bool = True
    """Whether the light casts shadows."""
    visible_in_primary_ray: bool = False
    """Camera rays see the light's emitting surface (a lamp in view, the sun's disc): RTX's own
    ``visibleInPrimaryRay`` attribute, authored on the light either way. A zero-angle sun has
    no disc to see. Reflections (``render.engine: path``) show sphere, disk and rect lights and
    suns with an angle whatever this says, when they cast shadows. Not for domes, which are
    always the background."""

    @model_validator(mode="after")
    def _fields_of_type(self) -> LightSpec:
        extra = sorted((self.model_fields_set & _LIGHT_SPECIFIC) - _LIGHT_FIELDS[self.type])
        if extra:
            allowed = sorted(_LIGHT_FIELDS[self.type])
            raise invalid(
                f"{extra[0]} does not apply to a {self.type} light",
                expected=f"for {self.type} lights only " + ", ".join(allowed),
                got=extra[0],
                key=extra[0],
            )
        return self
