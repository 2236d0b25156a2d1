"""The scenario model: everything a scenario file can say, typed and immutable.

The YAML format mirrors these classes one to one (``scenesmith schema`` prints the JSON Schema).
Named things live in mappings keyed by name, because the name becomes the USD prim name
(DESIGN §9 "Prim paths"): assets at ``/World/<name>``, counted copies ``/World/<name>_<k:03d>``,
distractors under ``/World/Distractors/``, lights under ``/World/Lights/``, cameras and LiDARs at
``/World/<name>``, materials under ``/World/Looks/``.

Units are in the key names. Lengths are metres, angles degrees where the key says ``_deg``,
quaternions ``quat_wxyz``. Primitive default sizes follow Replicator 1.12.27's ``rep.create.*``
(edge 1 m cube; 0.5 m radius sphere, cylinder and cone of height 1 m; capsule radius 0.25 m and
height 0.5 m; 1 × 1 m plane), not USD's defaults (a 2 m cube).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from ..sensors.outputs import AnnotatorName
from .distributions import POSITIVE, Distribution, dimension, within
from .randomizers import Randomizer, Trigger
from .spec_base import (
    MIN_LOOK_AT_DISTANCE_M,
    Color,
    Name,
    NonNegFloat,
    Number,
    PosFloat,
    PosInt,
    Position,
    Spec,
    Unit,
    Vec2,
    Vec3,
    Vec4,
    invalid,
    scale3,
)

__all__ = [
    "ANNOTATOR_SYNONYMS",
    "AnnotatorOptions",
    "Asset",
    "BodyPhysics",
    "CameraSpec",
    "CapsuleSpec",
    "CheckerTexture",
    "ConeSpec",
    "CubeSpec",
    "CylinderSpec",
    "DistractorSpec",
    "EpisodeSpec",
    "FrictionSpec",
    "IsaacSpec",
    "Keyframe",
    "LightSpec",
    "LidarMotion",
    "LidarSpec",
    "MaterialSpec",
    "MeshSpec",
    "NoiseTexture",
    "OutputSpec",
    "PhysicsSpec",
    "Placement",
    "PlaneSpec",
    "RenderSpec",
    "Scenario",
    "SettleSpec",
    "Shape",
    "SimpleLidarSpec",
    "SphereSpec",
    "StageSpec",
    "TessellationSpec",
    "TextureSpec",
    "ToneMapSpec",
    "UsdRefSpec",
    "WritersSpec",
]

SCHEMA_VERSION = 1

ANNOTATOR_SYNONYMS: dict[str, str] = {
    "depth": "distance_to_image_plane",
    "depth_linear": "distance_to_image_plane",
    "z_depth": "distance_to_image_plane",
    "range": "distance_to_camera",
    "normal": "normals",
    "surface_normals": "normals",
    "segmentation": "semantic_segmentation",
    "semantic": "semantic_segmentation",
    "instance": "instance_segmentation",
    "instance_id": "instance_id_segmentation",
    "bbox": "bounding_box_2d_tight",
    "bbox_2d": "bounding_box_2d_tight",
    "bbox_3d": "bounding_box_3d",
    "rgba": "rgb",
    "color": "rgb",
    "camera_info": "camera_params",
}
"""Names other tools use (BlenderProc's ``depth``, Kubric's ``segmentation``…), mapped to the
annotator to suggest: a spelling match alone would not lead ``depth`` to
``distance_to_image_plane`` (Replicator's ``depth`` is that annotator's old name)."""

Axis = Literal["X", "Y", "Z"]
AssetPath = Annotated[str, Field(min_length=1, max_length=4096, strict=True)]
"""A file path, relative to the scenario's folder (or to an ``--asset-root``); checked at load."""

MAX_RESOLUTION_PX = 8192
MAX_PIXELS_PER_FRAME = 1 << 26
MAX_FRAMES = 100_000_000
MAX_INSTANCES = 10_000
"""Labelled instances per frame; also the per-image cap in COCO annotation ids (DESIGN §9)."""
MAX_SAMPLES_PER_PIXEL = 1024


def _labels(value: Any) -> Any:
    """``{class: mug}`` and ``{class: [mug, cup]}`` both become ``{class: (mug,)}``-style tuples."""
    if isinstance(value, dict):
        return {k: ([v] if isinstance(v, str) else v) for k, v in value.items()}
    return value


Label = Annotated[str, Field(min_length=1, max_length=256, strict=True)]
Semantics = Annotated[
    dict[Name, Annotated[tuple[Label, ...], Field(min_length=1)]],
    BeforeValidator(_labels),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ]
            },
        }
    ),
]
"""Semantic labels per taxonomy, written with UsdSemantics ``LabelsAPI`` (taxonomy ``class``)."""


# --------------------------------------------------------------------------- poses


class _Posed(Spec):
    """Position and one optional way to orient: XYZ Euler degrees, a quaternion, or a look-at."""

    position_m: Position = (0.0, 0.0, 0.0)
    rotation_deg: Vec3 | None = None
    quat_wxyz: Vec4 | None = None
    look_at_m: Position | None = None
    look_at_up_axis: Vec3 = (0.0, 0.0, 1.0)

    @model_validator(mode="after")
    def _one_orientation(self) -> _Posed:
        given = [k for k in ("rotation_deg", "quat_wxyz", "look_at_m") if getattr(self, k) is not None]
        if len(given) > 1:
            raise invalid(
                "give at most one of rotation_deg, quat_wxyz and look_at_m",
                expected="one orientation",
                got=given,
                key=given[1],
            )
        if self.quat_wxyz is not None and sum(c * c for c in self.quat_wxyz) < 1e-12:
            raise invalid("quat_wxyz must not be zero", expected="a non-zero quaternion", got=list(self.quat_wxyz))
        if sum(c * c for c in self.look_at_up_axis) < 1e-12:
            raise invalid(
                "look_at_up_axis must not be zero", expected="a non-zero vector", got=list(self.look_at_up_axis)
            )
        if self.look_at_m is not None and math.dist(self.look_at_m, self.position_m) < MIN_LOOK_AT_DISTANCE_M:
            raise invalid(
                "look_at_m is at position_m: no direction to look in",
                expected=f"a target at least {MIN_LOOK_AT_DISTANCE_M:g} m from position_m",
                got=list(self.look_at_m),
                key="look_at_m",
            )
        return self


# --------------------------------------------------------------------------- shapes


class CubeSpec(Spec):
    size_m: PosFloat = 1.0


class SphereSpec(Spec):
    radius_m: PosFloat = 0.5


class CylinderSpec(Spec):
    radius_m: PosFloat = 0.5
    height_m: PosFloat = 1.0
    axis: Axis = "Z"


class ConeSpec(Spec):
    radius_m: PosFloat = 0.5
    height_m: PosFloat = 1.0
    axis: Axis = "Z"


class CapsuleSpec(Spec):
    """USD capsule: ``height_m`` is the cylinder part; the caps add ``2 × radius_m``."""

    radius_m: PosFloat = 0.25
    height_m: PosFloat = 0.5
    axis: Axis = "Z"


class PlaneSpec(Spec):
    width_m: PosFloat = 1.0
    length_m: PosFloat = 1.0
    axis: Axis = "Z"


class MeshSpec(Spec):
    """A triangle mesh file (OBJ, PLY, STL, glTF/GLB), authored into the stage as ``UsdGeom.Mesh``."""

    path: AssetPath
    units_m: PosFloat = 1.0
    """Length of one file unit in metres (0.001 for an STL in millimetres)."""
    up_axis: Literal["Y", "Z"] | None = None
    """Up axis of the file; default Y for glTF (its specification), Z for the others."""


class UsdRefSpec(Spec):
    """A USD file referenced into the stage."""

    path: AssetPath
    prim: str | None = None
    """Prim of the file to reference (default: its default prim)."""


SHAPE_KEYS = ("cube", "sphere", "cylinder", "cone", "capsule", "plane", "mesh", "usd")
PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "capsule", "plane")


class Shape(Spec):
    """Exactly one geometry: a primitive, a mesh file or a USD reference."""

    cube: CubeSpec | None = None
    sphere: SphereSpec | None = None
    cylinder: CylinderSpec | None = None
    cone: ConeSpec | None = None
    capsule: CapsuleSpec | None = None
    plane: PlaneSpec | None = None
    mesh: MeshSpec | None = None
    usd: UsdRefSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Shape:
        given = [k for k in SHAPE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise invalid(
                "give exactly one geometry",
                expected="one of " + ", ".join(SHAPE_KEYS),
                got=given or "none",
                key=given[1] if len(given) > 1 else None,
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SHAPE_KEYS if getattr(self, k) is not None)

    @property
    def spec(self) -> Spec:
        return getattr(self, self.kind)


# --------------------------------------------------------------------------- physics


class FrictionSpec(Spec):
    static: NonNegFloat = 0.6
    dynamic: NonNegFloat = 0.5
    torsional: NonNegFloat = 0.005
    """Torsional friction (m), ``scenesmith:physics:torsionalFriction``; PhysX ignores it."""
    rolling: NonNegFloat = 0.0001
    """Rolling friction (m), ``scenesmith:physics:rollingFriction``; PhysX ignores it."""


class Keyframe(Spec):
    time_s: NonNegFloat
    position_m: Position
    quat_wxyz: Vec4 = (1.0, 0.0, 0.0, 0.0)


class BodyPhysics(Spec):
    """How an asset takes part in physics (used only when ``physics.enabled``)."""

    body: Literal["dynamic", "static", "kinematic", "none"] = "static"
    mass_kg: PosFloat | None = None
    """Mass; when both are given, ``mass_kg`` wins over ``density_kg_m3`` (as UsdPhysics says)."""
    density_kg_m3: PosFloat | None = None
    collider: Literal["auto", "box", "sphere", "capsule", "cylinder", "convex_hull", "none"] = "auto"
    friction: FrictionSpec = FrictionSpec()
    restitution: Unit = 0.0
    linear_velocity_m_s: Vec3 = (0.0, 0.0, 0.0)
    """Initial velocity of a dynamic body, or the constant velocity of a kinematic one."""
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)
    path: Annotated[list[Keyframe], Field(min_length=2)] | None = None
    """Keyframed path of a kinematic body (linear in position, slerp in rotation)."""

    @model_validator(mode="after")
    def _consistent(self) -> BodyPhysics:
        if self.path is not None:
            if self.body != "kinematic":
                raise invalid("path is only for kinematic bodies", expected="body: kinematic", got=self.body)
            times = [k.time_s for k in self.path]
            if any(b <= a for a, b in zip(times, times[1:])):
                raise invalid("path keyframes must have increasing time_s", expected="increasing times", got=times)
        if self.body in ("dynamic", "kinematic") and self.collider == "none":
            raise invalid(f"a {self.body} body needs a collider", expected="collider other than none", got="none")
        return self


class SettleSpec(Spec):
    """Step until every dynamic body stays under both speeds for ``hold_s``, or ``max_s`` passes."""

    linear_speed_m_s: PosFloat = 0.01
    angular_speed_deg_s: PosFloat = 5.0
    hold_s: NonNegFloat = 0.1
    max_s: PosFloat = 5.0


class EpisodeSpec(Spec):
    """Sequences: ``frames`` captures per episode, physics running continuously between them."""

    frames: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 1
    capture_interval_s: PosFloat = 0.1


class PhysicsSpec(Spec):
    enabled: bool = False
    gravity_m_s2: Vec3 = (0.0, 0.0, -9.81)
    timestep_s: Annotated[float, Field(strict=True, gt=0, le=0.1)] = 0.002
    settle: SettleSpec | None = SettleSpec()
    """Settle before each episode's first capture; ``null`` captures the initial state."""
    episode: EpisodeSpec = EpisodeSpec()
    log_every_n_steps: PosInt = 10
    """Log body states and contacts every n physics steps (50 Hz at the default 2 ms step); the
    initial and every captured instant are always logged."""
    ground_plane: bool = False
    """Add an infinite static ground plane at z = 0."""
    drop_fallen_from_labels: bool = False
    """Leave bodies that fell off their support out of the labels (they stay in the physics log)."""


# --------------------------------------------------------------------------- materials


class CheckerTexture(Spec):
    squares: PosInt = 8
    color_a: Color = (0.9, 0.9, 0.9)
    color_b: Color = (0.1, 0.1, 0.1)


class NoiseTexture(Spec):
    cells: PosInt = 16
    octaves: Annotated[int, Field(strict=True, ge=1, le=8)] = 3
    color_a: Color = (0.8, 0.8, 0.8)
    color_b: Color = (0.2, 0.2, 0.2)
    seed: Annotated[int, Field(strict=True, ge=0)] = 0


class TextureSpec(Spec):
    """An image file (PNG/JPEG) or a procedural checker/noise pattern, tiled ``tiling`` times."""

    file: AssetPath | None = None
    checker: CheckerTexture | None = None
    noise: NoiseTexture | None = None
    tiling: Vec2 = (1.0, 1.0)

    @model_validator(mode="after")
    def _exactly_one(self) -> TextureSpec:
        given = [k for k in ("file", "checker", "noise") if getattr(self, k) is not None]
        if len(given) != 1:
            raise invalid(
                "give exactly one texture source", expected="one of file, checker, noise", got=given or "none"
            )
        return self


class MaterialSpec(Spec):
    """UsdPreviewSurface inputs, plus the reflectance a LiDAR sees."""

    diffuse_color: Color = (0.18, 0.18, 0.18)
    diffuse_texture: Name | None = None
    """Name of an entry of ``textures``; replaces ``diffuse_color``."""
    roughness: Unit = 0.5
    metallic: Unit = 0.0
    specular_color: Color | None = None
    """Switches to UsdPreviewSurface's specular workflow: reflectance at normal incidence
    (``specularColor``); ``metallic`` is then ignored. ``[0, 0, 0]`` gives a diffuse-only
    surface except at grazing angles."""
    emissive_color: Color = (0.0, 0.0, 0.0)
    """Emitted radiance (linear, in the same units as light radiance)."""
    lidar_reflectance: Unit | None = None
    """``scenesmith:lidar_reflectance``; default: luminance of the diffuse albedo (DESIGN §9)."""

    @field_validator("diffuse_color", "specular_color")
    @classmethod
    def _albedo(cls, value: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if value is not None and any(c > 1 for c in value):
            raise invalid("this colour is a reflectance", expected="components in [0, 1]", got=list(value))
        return value


# --------------------------------------------------------------------------- assets


class Asset(_Posed, Shape):
    """Something placed in the scene: a primitive, a mesh or a USD reference."""

    scale: scale3 = (1.0, 1.0, 1.0)
    count: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)] = 1
    """Copies authored (``/World/<name>_000`` …); a ``count`` randomizer shows a subset."""
    semantics: Semantics | None = None
    material: Name | None = None
    visible: bool = True
    physics: BodyPhysics = BodyPhysics()


# --------------------------------------------------------------------------- lights

_LIGHT_FIELDS = {
    "distant": {"angle_deg"},
    "sphere": {"radius_m"},
    "disk": {"radius_m"},
    "rect": {"width_m", "height_m"},
    "dome": {"texture"},
}
_LIGHT_SPECIFIC = {"angle_deg", "radius_m", "width_m", "height_m", "texture"}


class LightSpec(_Posed):
    """A UsdLux light. Radiance = intensity × 2^exposure × colour (× blackbody colour).

    For ``distant`` lights the product is the irradiance (W/m², in our linear units) on a
    surface facing the light; for area lights it is the radiance of the emitting surface,
    divided by its area when ``normalize`` is set (UsdLux's ``inputs:normalize``).
    """

    type: Literal["distant", "sphere", "disk", "rect", "dome"]
    intensity: NonNegFloat = 1.0
    exposure: Annotated[float, Field(strict=True, ge=-30, le=30)] = 0.0
    color: Color = (1.0, 1.0, 1.0)
    color_temperature_k: Annotated[float, Field(strict=True, ge=1000, le=40000)] | None = None
    """Enables UsdLux ``enableColorTemperature``; the blackbody colour multiplies ``color``."""
    normalize: bool = False
    angle_deg: Annotated[float, Field(strict=True, ge=0, le=180)] = 0.53
    radius_m: PosFloat = 0.5
    width_m: PosFloat = 1.0
    height_m: PosFloat = 1.0
    texture: Name | None = None
    """Dome lights: name of an entry of ``textures`` (lat-long); also seen as the background."""
    shadows: bool = True

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


# --------------------------------------------------------------------------- sensors


class AnnotatorOptions(Spec):
    semantic_segmentation_colorize: bool = False
    instance_segmentation_colorize: bool = False
    pointcloud_include_unlabelled: bool = False


DEFAULT_ANNOTATORS: tuple[str, ...] = (
    "rgb",
    "distance_to_image_plane",
    "distance_to_camera",
    "normals",
    "instance_segmentation",
    "semantic_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "bounding_box_3d",
    "occlusion",
    "camera_params",
)


class CameraSpec(_Posed):
    """A pinhole ``UsdGeom.Camera`` with its render product.

    Apertures are stored as authored (USD defaults 20.955 × 15.2908 mm); pixels are square,
    fx = fy = focal / horizontal aperture × width (DESIGN §9 "Camera intrinsics").
    """

    resolution: tuple[PosInt, PosInt] = (640, 480)
    """Width, height in pixels."""
    focal_length_mm: PosFloat = 24.0
    horizontal_aperture_mm: PosFloat = 20.955
    vertical_aperture_mm: PosFloat = 15.2908
    aperture_offset_mm: Vec2 = (0.0, 0.0)
    clipping_range_m: Vec2 = (0.01, 10000.0)
    focus_distance_m: NonNegFloat = 0.0
    f_stop: NonNegFloat = 0.0
    annotators: Annotated[tuple[AnnotatorName, ...], Field(min_length=1)] = DEFAULT_ANNOTATORS  # type: ignore[assignment]
    annotator_options: AnnotatorOptions = AnnotatorOptions()

    @field_validator("resolution")
    @classmethod
    def _size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if max(value) > MAX_RESOLUTION_PX or value[0] * value[1] > MAX_PIXELS_PER_FRAME:
            raise invalid(
                "resolution is too large",
                expected=f"at most {MAX_RESOLUTION_PX} px a side and {MAX_PIXELS_PER_FRAME} pixels",
                got=list(value),
            )
        return value

    @field_validator("clipping_range_m")
    @classmethod
    def _clip(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1]:
            raise invalid("clipping range must satisfy 0 < near < far", expected="0 < near < far", got=list(value))
        return value

    @field_validator("annotators")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise invalid("annotators are listed twice", expected="each annotator once", got=list(value))
        return value


class SimpleLidarSpec(Spec):
    """An idealised rotary LiDAR declared inline instead of an Isaac Sim profile."""

    channels: Annotated[int, Field(strict=True, ge=1, le=1024)] = 16
    elevation_deg: Vec2 = (-15.0, 15.0)
    """Lowest and highest beam elevation, evenly spaced over ``channels``."""
    azimuth_steps: Annotated[int, Field(strict=True, ge=1, le=65536)] = 1024
    scan_rate_hz: PosFloat = 10.0
    range_m: Vec2 = (0.1, 100.0)
    range_accuracy_m: NonNegFloat = 0.0
    rotation_direction: Literal["CW", "CCW"] = "CW"

    @field_validator("elevation_deg")
    @classmethod
    def _elevation(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not -90 <= value[0] <= value[1] <= 90:
            raise invalid(
                "elevation range must satisfy -90 <= low <= high <= 90",
                expected="-90 <= low <= high <= 90",
                got=list(value),
            )
        return value

    @field_validator("range_m")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1]:
            raise invalid("range must satisfy 0 <= near < far", expected="0 <= near < far", got=list(value))
        return value


class LidarMotion(Spec):
    """Constant sensor velocity during a scan (its points show the matching distortion)."""

    linear_velocity_m_s: Vec3 = (0.0, 0.0, 0.0)
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)


class LidarSpec(_Posed):
    """A LiDAR: an Isaac Sim RTX profile (shipped name or JSON path) or an inline simple spec."""

    profile: Annotated[str, Field(min_length=1, max_length=4096, strict=True)] | None = None
    simple: SimpleLidarSpec | None = None
    noise: bool = True
    """Apply the profile's range accuracy and angle errors (seeded per frame)."""
    motion: LidarMotion | None = None
    pose_path: Annotated[list[Keyframe], Field(min_length=2)] | None = None
    """Sensor pose over the scan (time from the scan start); exclusive with ``motion``."""

    @model_validator(mode="after")
    def _source(self) -> LidarSpec:
        if (self.profile is None) == (self.simple is None):
            raise invalid(
                "give exactly one of profile and simple",
                expected="profile or simple",
                got="both" if self.profile is not None else "neither",
            )
        if self.motion is not None and self.pose_path is not None:
            raise invalid("give at most one of motion and pose_path", expected="one", got="both")
        return self


# --------------------------------------------------------------------------- distractors


class Box3(Spec):
    min_m: Position
    max_m: Position

    @model_validator(mode="after")
    def _ordered(self) -> Box3:
        if any(a >= b for a, b in zip(self.min_m, self.max_m)):
            raise invalid(
                "box must satisfy min_m < max_m on every axis",
                expected="min < max",
                got={"min_m": list(self.min_m), "max_m": list(self.max_m)},
            )
        return self


class Placement(Spec):
    """``flying``: anywhere in ``volume``, random orientation. ``dropped``: released above
    ``surface`` (an asset name) from ``drop_height_m`` and settled by physics."""

    kind: Literal["flying", "dropped"]
    volume: Box3 | None = None
    surface: Name | None = None
    drop_height_m: Vec2 = (0.05, 0.3)
    rotation: Literal["so3", "yaw", "none"] = "so3"
    no_overlap: bool = True

    @model_validator(mode="after")
    def _needs(self) -> Placement:
        if self.kind == "flying" and self.volume is None:
            raise invalid("flying placement needs a volume", expected="volume: {min_m, max_m}", got=None)
        if self.kind == "dropped" and self.surface is None:
            raise invalid("dropped placement needs a surface", expected="the name of an asset", got=None)
        if not 0 <= self.drop_height_m[0] <= self.drop_height_m[1]:
            raise invalid(
                "drop_height_m must satisfy 0 <= low <= high", expected="0 <= low <= high", got=list(self.drop_height_m)
            )
        return self


class CountRange(Spec):
    min: Annotated[int, Field(strict=True, ge=0, le=MAX_INSTANCES)]
    max: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)]

    @model_validator(mode="after")
    def _ordered(self) -> CountRange:
        if self.min > self.max:
            raise invalid("count range is inverted", expected="min <= max", got={"min": self.min, "max": self.max})
        return self


def _count(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"min": value, "max": value}
    return value


class DistractorSpec(Spec):
    """Clutter: per frame, ``count`` objects drawn from ``pool``, scaled, placed and coloured."""

    pool: Annotated[list[Shape], Field(min_length=1, max_length=64)]
    weights: list[Annotated[Number, Field(ge=0)]] | None = None
    count: Annotated[
        CountRange,
        BeforeValidator(_count),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["min", "max"],
                        "properties": {
                            "min": {"type": "integer", "minimum": 0},
                            "max": {"type": "integer", "minimum": 1},
                        },
                    },
                ]
            }
        ),
    ]
    scale: Annotated[Distribution, within(POSITIVE)] = 1.0
    labelled: bool = False
    semantics: Semantics | None = None
    materials: Annotated[list[Name], Field(min_length=1)] | None = None
    placement: Placement
    physics: BodyPhysics = BodyPhysics(body="dynamic")
    trigger: Trigger = Trigger()

    @field_validator("scale")
    @classmethod
    def _scale_dim(cls, value: Any) -> Any:
        if dimension(value) not in (1, 3):
            raise invalid(
                "scale draws one or three numbers", expected="1 or 3 components", got=f"{dimension(value)} components"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DistractorSpec:
        if self.weights is not None and len(self.weights) != len(self.pool):
            raise invalid(
                "weights must have one entry per pool entry",
                expected=f"{len(self.pool)} weights",
                got=f"{len(self.weights)} weights",
            )
        if self.semantics is not None and not self.labelled:
            raise invalid("semantics given for unlabelled distractors", expected="labelled: true", got=False)
        return self


# --------------------------------------------------------------------------- render, output


class ToneMapSpec(Spec):
    """Linear radiance × 2^exposure_ev → ``kind`` curve → sRGB encoding. No auto-exposure."""

    kind: Literal["clamp", "reinhard", "aces"] = "aces"
    exposure_ev: Annotated[float, Field(strict=True, ge=-30, le=30)] = 0.0


class TessellationSpec(Spec):
    """How implicit primitives become triangles for ray casting."""

    segments: Annotated[int, Field(strict=True, ge=8, le=1024)] = 48
    """Divisions around the axis of spheres, cylinders, cones and capsules."""
    rings: Annotated[int, Field(strict=True, ge=4, le=512)] = 24
    """Divisions from pole to pole of spheres and capsule caps."""


class RenderSpec(Spec):
    samples_per_pixel: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLES_PER_PIXEL)] = 1
    area_light_samples: Annotated[int, Field(strict=True, ge=1, le=256)] = 4
    dome_light_samples: Annotated[int, Field(strict=True, ge=1, le=1024)] = 16
    tone_map: ToneMapSpec = ToneMapSpec()
    tessellation: TessellationSpec = TessellationSpec()
    background_color: Color = (0.0, 0.0, 0.0)
    """Linear radiance where a camera ray hits nothing and there is no dome light."""


class Hdf5Writer(Spec):
    compression: Literal["auto", "gzip", "lzf", "none"] = "auto"
    """``auto``: gzip level 1 + shuffle for bulk arrays (raw when they barely compress), gzip at
    ``compression_level`` for small ones — readable by any HDF5 reader and byte-reproducible;
    ``lzf`` is faster but needs h5py to read and is *not* byte-reproducible across runs."""
    compression_level: Annotated[int, Field(strict=True, ge=0, le=9)] = 4


class CocoWriter(Spec):
    keypoints: bool = False
    """Add the 9 projected cuboid corners as a keypoints field (PoseWriter's order)."""
    min_visible_pixels: PosInt = 1


class PoseWriter(Spec):
    isaac_quirks: bool = True
    """Copy Isaac Sim's PoseWriter quirks so files match it; false writes correct camera-frame values."""
    visibility_threshold: Unit = 0.0


class PointCloudWriter(Spec):
    format: Literal["pcd", "ply"] = "pcd"


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


class WritersSpec(Spec):
    """Which writers run. Each key is independent: listing one (``pointcloud: {format: ply}``)
    leaves the others at their defaults, so HDF5, COCO and pose JSON stay on until a key turns
    them off (``hdf5: false``); the point-cloud writer is off until listed (or ``true``)."""

    hdf5: _switchable(Hdf5Writer) = Hdf5Writer()  # type: ignore[valid-type]
    coco: _switchable(CocoWriter) = CocoWriter()  # type: ignore[valid-type]
    pose: _switchable(PoseWriter) = PoseWriter()  # type: ignore[valid-type]
    pointcloud: _switchable(PointCloudWriter) = None  # type: ignore[valid-type]


DEFAULT_WRITERS = WritersSpec()


class OutputSpec(Spec):
    frames: Annotated[int, Field(strict=True, ge=1, le=MAX_FRAMES)] | None = None
    """Default frame count of ``generate`` (``--frames`` overrides it)."""
    shard_size: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 8
    writers: WritersSpec = DEFAULT_WRITERS


class StageSpec(Spec):
    meters_per_unit: PosFloat = 1.0
    up_axis: Literal["Z", "Y"] = "Z"
    base_usd: AssetPath | None = None
    """A USD file referenced under ``/World/Base`` (environment, robot cell, warehouse)."""


class IsaacSpec(Spec):
    """Options of the Isaac Sim backend; the embedded backend refuses the ones it lacks."""

    randomization_mode: Literal["deterministic", "replicator"] = "deterministic"
    rt_subframes: Annotated[int, Field(strict=True, ge=1, le=256)] = 8
    renderer: Literal["RaytracedLighting", "PathTracing", "RealTimePathTracing"] = "RaytracedLighting"


# --------------------------------------------------------------------------- scenario


class Scenario(Spec):
    """A whole scenario. ``version`` is the file-format version (currently 1)."""

    version: Literal[1]
    name: Annotated[str, Field(max_length=256, strict=True)] | None = None
    description: Annotated[str, Field(max_length=4096, strict=True)] | None = None
    stage: StageSpec = StageSpec()
    textures: dict[Name, TextureSpec] = {}
    materials: dict[Name, MaterialSpec] = {}
    material_pools: dict[Name, Annotated[tuple[Name, ...], Field(min_length=1)]] = {}
    assets: dict[Name, Asset] = {}
    lights: dict[Name, LightSpec] = {}
    cameras: dict[Name, CameraSpec] = {}
    lidars: dict[Name, LidarSpec] = {}
    distractors: dict[Name, DistractorSpec] = {}
    physics: PhysicsSpec = PhysicsSpec()
    render: RenderSpec = RenderSpec()
    output: OutputSpec = OutputSpec()
    isaac: IsaacSpec = IsaacSpec()
    randomizers: dict[Name, Randomizer] = {}


# Types that other modules match on.
AnySensor = Union[CameraSpec, LidarSpec]
