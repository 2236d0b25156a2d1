"""A lens on a ``UsdGeom.Camera`` as Isaac Sim's RTX renderer reads it: the
``OmniLensDistortion*API`` schemas and their ``omni:lensdistortion:<model>:<key>`` attributes.

Isaac Sim 5.1 and 6.0 apply these schemas and set these attributes (``isaacsim.sensors.camera``
``camera.py`` ``set_lens_distortion_model``, ``set_opencv_pinhole_properties`` …; cited in
``extension/api_citations.toml`` under ``[[usd_schema]]``), so the stage this module authors
renders distorted in Isaac Sim without any Kit call, and the embedded backend reads the lens
back from the same attributes: one description for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sensors.lens import PIXEL_CENTRE, RADIAL_NAMES, TANGENTIAL_NAMES, THIN_PRISM_NAMES, Lens

__all__ = ["LENS_SCHEMAS", "LensSchema", "author_lens", "read_lens"]

MODEL_ATTR = "omni:lensdistortion:model"


@dataclass(frozen=True)
class LensSchema:
    api: str
    """The applied API schema's name."""
    token: str
    """The value of ``omni:lensdistortion:model`` and the attributes' namespace."""
    opencv: bool
    """Intrinsics as fx, fy, cx, cy, imageSize (else nominalWidth/Height, opticalCenter, maxFov)."""


LENS_SCHEMAS: dict[str, LensSchema] = {
    "pinholeOpenCV": LensSchema("OmniLensDistortionOpenCvPinholeAPI", "opencvPinhole", True),
    "fisheyeOpenCV": LensSchema("OmniLensDistortionOpenCvFisheyeAPI", "opencvFisheye", True),
    "fisheyePolynomial": LensSchema("OmniLensDistortionFthetaAPI", "ftheta", False),
    "fisheyeKannalaBrandtK3": LensSchema("OmniLensDistortionKannalaBrandtK3API", "kannalaBrandtK3", False),
}
"""scenesmith's model name (Isaac's ``cameraModel``) → the schema Isaac Sim's renderer reads."""
_BY_TOKEN = {schema.token: model for model, schema in LENS_SCHEMAS.items()}


def _attr(schema: LensSchema, key: str) -> str:
    return f"omni:lensdistortion:{schema.token}:{key}"


def author_lens(prim: Any, lens: Lens) -> None:
    """Applies the lens's schema to a camera prim and sets every one of its attributes."""
    from pxr import Gf, Sdf

    schema = LENS_SCHEMAS[lens.model]
    prim.AddAppliedSchema(schema.api)
    prim.CreateAttribute(MODEL_ATTR, Sdf.ValueTypeNames.Token).Set(schema.token)

    def put(key: str, type_: Any, value: Any) -> None:
        prim.CreateAttribute(_attr(schema, key), type_).Set(value)

    if schema.opencv:
        for key, value in (("fx", lens.fx), ("fy", lens.fy), ("cx", lens.cx), ("cy", lens.cy)):
            put(key, Sdf.ValueTypeNames.Float, value)
        put("imageSize", Sdf.ValueTypeNames.Int2, Gf.Vec2i(lens.width, lens.height))
    else:
        put("nominalWidth", Sdf.ValueTypeNames.Float, lens.nominal_px[0])
        put("nominalHeight", Sdf.ValueTypeNames.Float, lens.nominal_px[1])
        put("opticalCenter", Sdf.ValueTypeNames.Float2, Gf.Vec2f(*lens.optical_center_px))
        put("maxFov", Sdf.ValueTypeNames.Float, lens.max_fov_deg)
    for key, value in zip(RADIAL_NAMES[lens.model], lens.k):
        put(key, Sdf.ValueTypeNames.Float, value)
    if lens.model == "pinholeOpenCV":
        for key, value in zip(TANGENTIAL_NAMES + THIN_PRISM_NAMES, (*lens.p, *lens.s)):
            put(key, Sdf.ValueTypeNames.Float, value)


def read_lens(prim: Any, width: int, height: int) -> Lens | None:
    """The lens authored on a camera prim (``None`` for an ideal pinhole). An OpenCV calibration
    made at another ``imageSize`` scales to the render resolution, as a resized image does."""
    attr = prim.GetAttribute(MODEL_ATTR)
    token = attr.Get() if attr else None
    if not token:
        return None
    model = _BY_TOKEN.get(str(token))
    if model is None:
        raise ValueError(f"{prim.GetPath()}: lens model {token!r} is not supported (one of {sorted(_BY_TOKEN)})")
    schema = LENS_SCHEMAS[model]

    def get(key: str, default: Any = 0.0) -> Any:
        value = prim.GetAttribute(_attr(schema, key)).Get() if prim.HasAttribute(_attr(schema, key)) else None
        return default if value is None else value

    k = tuple(float(get(key)) for key in RADIAL_NAMES[model])
    if schema.opencv:
        size = get("imageSize", (width, height))
        sx, sy = width / float(size[0]), height / float(size[1])
        # pixel centres at integers: scaling acts on centre-based coordinates
        return Lens(
            model,  # type: ignore[arg-type]
            width,
            height,
            fx=float(get("fx")) * sx,
            fy=float(get("fy")) * sy,
            cx=(float(get("cx")) + PIXEL_CENTRE) * sx - PIXEL_CENTRE,
            cy=(float(get("cy")) + PIXEL_CENTRE) * sy - PIXEL_CENTRE,
            k=k,
            p=tuple(float(get(key)) for key in TANGENTIAL_NAMES) if model == "pinholeOpenCV" else (0.0, 0.0),  # type: ignore[arg-type]
            s=tuple(float(get(key)) for key in THIN_PRISM_NAMES) if model == "pinholeOpenCV" else (0.0,) * 4,  # type: ignore[arg-type]
        )
    centre = get("opticalCenter", (width / 2 - PIXEL_CENTRE, height / 2 - PIXEL_CENTRE))
    return Lens(
        model,  # type: ignore[arg-type]
        width,
        height,
        k=k,
        nominal_px=(float(get("nominalWidth", width)), float(get("nominalHeight", height))),
        optical_center_px=(float(centre[0]), float(centre[1])),
        max_fov_deg=float(get("maxFov", 200.0)),
    )
