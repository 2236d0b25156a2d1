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

from pydantic import BeforeValidator, Field, WithJsonSchema, create_model, field_validator, model_validator

from ..sensors.outputs import AnnotatorName
from ..sensors.spec_base import (
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
from .distributions import POSITIVE, Distribution, dimension, within
from .randomizers import Randomizer, Trigger

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
    """Position in metres, in the stage's world frame (Z-up)."""
    rotation_deg: Vec3 | None = None
    """Orientation as XYZ Euler angles in degrees (one of rotation_deg, quat_wxyz, look_at_m)."""
    quat_wxyz: Vec4 | None = None
    """Orientation as a unit quaternion (w, x, y, z)."""
    look_at_m: Position | None = None
    """Orient towards this point in metres (cameras and LiDARs look along their -Z, others along +X)."""
    look_at_up_axis: Vec3 = (0.0, 0.0, 1.0)
    """World direction kept up when orienting with look_at_m."""

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
    """Edge length in metres (Replicator's rep.create.cube default, 1 m)."""


class SphereSpec(Spec):
    radius_m: PosFloat = 0.5
    """Radius in metres."""


class CylinderSpec(Spec):
    radius_m: PosFloat = 0.5
    """Radius in metres."""
    height_m: PosFloat = 1.0
    """Height along axis in metres."""
    axis: Axis = "Z"
    """Axis of the cylinder in its local frame."""


class ConeSpec(Spec):
    radius_m: PosFloat = 0.5
    """Base radius in metres."""
    height_m: PosFloat = 1.0
    """Height along axis in metres."""
    axis: Axis = "Z"
    """Axis of the cone in its local frame (apex towards +axis)."""


class CapsuleSpec(Spec):
    """USD capsule: ``height_m`` is the cylinder part; the caps add ``2 × radius_m``."""

    radius_m: PosFloat = 0.25
    """Radius of the cylinder and of its end caps, in metres."""
    height_m: PosFloat = 0.5
    """Length of the cylindrical part along axis, caps excluded, in metres."""
    axis: Axis = "Z"
    """Axis of the capsule in its local frame."""


class PlaneSpec(Spec):
    width_m: PosFloat = 1.0
    """Extent along the first in-plane axis, in metres."""
    length_m: PosFloat = 1.0
    """Extent along the second in-plane axis, in metres."""
    axis: Axis = "Z"
    """Normal of the plane in its local frame."""


class MeshSpec(Spec):
    """A triangle mesh file (OBJ, PLY, STL, glTF/GLB), authored into the stage as ``UsdGeom.Mesh``."""

    path: AssetPath
    """Mesh file (OBJ, STL, PLY, glTF/GLB), relative to the scenario's folder or an --asset-root."""
    units_m: PosFloat = 1.0
    """Length of one file unit in metres (0.001 for an STL in millimetres)."""
    up_axis: Literal["Y", "Z"] | None = None
    """Up axis of the file; default Y for glTF (its specification), Z for the others."""


class UsdRefSpec(Spec):
    """A USD file referenced into the stage."""

    path: AssetPath
    """USD file to reference, relative to the scenario's folder or an --asset-root."""
    prim: str | None = None
    """Prim of the file to reference (default: its default prim)."""


SHAPE_KEYS = ("cube", "sphere", "cylinder", "cone", "capsule", "plane", "mesh", "usd")
PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "capsule", "plane")


class Shape(Spec):
    """Exactly one geometry: a primitive, a mesh file or a USD reference."""

    cube: CubeSpec | None = None
    """A box primitive."""
    sphere: SphereSpec | None = None
    """A sphere primitive."""
    cylinder: CylinderSpec | None = None
    """A cylinder primitive."""
    cone: ConeSpec | None = None
    """A cone primitive."""
    capsule: CapsuleSpec | None = None
    """A capsule primitive."""
    plane: PlaneSpec | None = None
    """A finite plane primitive."""
    mesh: MeshSpec | None = None
    """A triangle mesh read from a file."""
    usd: UsdRefSpec | None = None
    """A prim referenced from a USD file."""

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
    """Static friction coefficient (MuJoCo's single sliding coefficient)."""
    dynamic: NonNegFloat = 0.5
    """Dynamic friction coefficient (PhysX; MuJoCo has one sliding coefficient)."""
    torsional: NonNegFloat = 0.005
    """Torsional friction (m), ``scenesmith:physics:torsionalFriction``; PhysX ignores it."""
    rolling: NonNegFloat = 0.0001
    """Rolling friction (m), ``scenesmith:physics:rollingFriction``; PhysX ignores it."""


class Keyframe(Spec):
    time_s: NonNegFloat
    """Time of the keyframe from the start of the episode, in seconds."""
    position_m: Position
    """Position at time_s, in metres."""
    quat_wxyz: Vec4 = (1.0, 0.0, 0.0, 0.0)
    """Orientation at time_s as a unit quaternion (w, x, y, z)."""


class BodyPhysics(Spec):
    """How an asset takes part in physics (used only when ``physics.enabled``)."""

    body: Literal["dynamic", "static", "kinematic", "none"] = "static"
    """dynamic: simulated rigid body; static: collider only; kinematic: moved by keyframes or velocity; none: no
    physics."""
    mass_kg: PosFloat | None = None
    """Mass; when both are given, ``mass_kg`` wins over ``density_kg_m3`` (as UsdPhysics says)."""
    density_kg_m3: PosFloat | None = None
    """Density in kg/m³ (mass from the collider volume); default 1000 kg/m³ unless mass is given."""
    collider: Literal["auto", "box", "sphere", "capsule", "cylinder", "convex_hull", "none"] = "auto"
    """Collision shape: auto picks the primitive's own shape and a convex hull for meshes."""
    friction: FrictionSpec = FrictionSpec()
    """Friction of the body's physics material."""
    restitution: Unit = 0.0
    """Coefficient of restitution in [0, 1] (bounciness)."""
    linear_velocity_m_s: Vec3 = (0.0, 0.0, 0.0)
    """Initial velocity of a dynamic body, or the constant velocity of a kinematic one."""
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)
    """Initial angular velocity in degrees per second, world frame."""
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
    """A body counts as still below this linear speed, in m/s."""
    angular_speed_deg_s: PosFloat = 5.0
    """A body counts as still below this angular speed, in degrees per second."""
    hold_s: NonNegFloat = 0.1
    """Bodies must stay still this long, in seconds, before the frame is captured."""
    max_s: PosFloat = 5.0
    """Most simulated time spent settling, in seconds; a frame still moving then is captured with a warning."""


class EpisodeSpec(Spec):
    """Sequences: ``frames`` captures per episode, physics running continuously between them."""

    frames: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 1
    """Frames per episode: the first settles, the rest are captured capture_interval_s apart."""
    capture_interval_s: PosFloat = 0.1
    """Simulated time between captured frames of an episode, in seconds."""


class PhysicsSpec(Spec):
    enabled: bool = False
    """Simulate physics (MuJoCo on the embedded backend, PhysX in Isaac Sim)."""
    gravity_m_s2: Vec3 = (0.0, 0.0, -9.81)
    """Gravity vector in m/s²."""
    timestep_s: Annotated[float, Field(strict=True, gt=0, le=0.1)] = 0.002
    """Physics step in seconds."""
    settle: SettleSpec | None = SettleSpec()
    """Settle before each episode's first capture; ``null`` captures the initial state."""
    episode: EpisodeSpec = EpisodeSpec()
    """How frames are grouped into simulated episodes."""
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


class TextureSpec(Spec):
    """An image file (PNG/JPEG) or a procedural checker/noise pattern, tiled ``tiling`` times."""

    file: AssetPath | None = None
    """Image file (PNG or JPEG, sRGB), relative to the scenario's folder or an --asset-root."""
    checker: CheckerTexture | None = None
    """A procedural checkerboard."""
    noise: NoiseTexture | None = None
    """Procedural value noise."""
    tiling: Vec2 = (1.0, 1.0)
    """Repeats of the texture across the UV range (u, v)."""

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
    """Linear RGB base colour (UsdPreviewSurface diffuseColor)."""
    diffuse_texture: Name | None = None
    """Name of an entry of ``textures``; replaces ``diffuse_color``."""
    roughness: Unit = 0.5
    """Surface roughness in [0, 1] (UsdPreviewSurface roughness)."""
    metallic: Unit = 0.0
    """Metalness in [0, 1] (UsdPreviewSurface metallic)."""
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
    """Scale per axis (a single number scales uniformly)."""
    count: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)] = 1
    """Copies authored (``/World/<name>_000`` …); a ``count`` randomizer shows a subset."""
    semantics: Semantics | None = None
    """Semantic labels per taxonomy, e.g. {class: mug}; unlabelled assets appear as UNLABELLED."""
    material: Name | None = None
    """Name of a material under materials to bind."""
    visible: bool = True
    """Whether the asset is visible (a visibility randomizer can change it per frame)."""
    physics: BodyPhysics = BodyPhysics()
    """The asset's physics body."""


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
    """Write semantic segmentation as RGBA colours instead of ids (Replicator's colorize)."""
    instance_segmentation_colorize: bool = False
    """Write instance segmentation as RGBA colours instead of ids (Replicator's colorize)."""
    pointcloud_include_unlabelled: bool = False
    """Keep points of unlabelled geometry in the camera point cloud."""


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
    """Focal length in millimetres."""
    horizontal_aperture_mm: PosFloat = 20.955
    """Horizontal film aperture in millimetres (USD's default 20.955)."""
    vertical_aperture_mm: PosFloat = 15.2908
    """Vertical film aperture in millimetres (USD's default 15.2908; pixels are square)."""
    aperture_offset_mm: Vec2 = (0.0, 0.0)
    """Film offset (horizontal, vertical) in millimetres: moves the principal point."""
    clipping_range_m: Vec2 = (0.01, 10000.0)
    """Near and far clipping distances in metres."""
    focus_distance_m: NonNegFloat = 0.0
    """Focus distance in metres (USD focusDistance; 0 with f_stop 0 is a pinhole)."""
    f_stop: NonNegFloat = 0.0
    """Lens f-number for depth of field (USD fStop; 0 turns it off)."""
    annotators: Annotated[tuple[AnnotatorName, ...], Field(min_length=1)] = DEFAULT_ANNOTATORS  # type: ignore[assignment]
    """Annotators this camera produces, with Replicator's names."""
    annotator_options: AnnotatorOptions = AnnotatorOptions()
    """Options of the annotators."""

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
    """Vertical channels (beams), spread evenly over the vertical field of view."""
    elevation_deg: Vec2 = (-15.0, 15.0)
    """Lowest and highest beam elevation, evenly spaced over ``channels``."""
    azimuth_steps: Annotated[int, Field(strict=True, ge=1, le=65536)] = 1024
    """Firings per revolution."""
    scan_rate_hz: PosFloat = 10.0
    """Revolutions per second."""
    range_m: Vec2 = (0.1, 100.0)
    """Minimum and maximum range in metres."""
    range_accuracy_m: NonNegFloat = 0.0
    """Standard deviation of range noise in metres."""
    rotation_direction: Literal["CW", "CCW"] = "CW"
    """Spin direction seen from above."""

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
    """Sensor velocity in m/s during a scan (motion distortion)."""
    angular_velocity_deg_s: Vec3 = (0.0, 0.0, 0.0)
    """Sensor angular velocity in degrees per second during a scan."""


class LidarSpec(_Posed):
    """A LiDAR: an Isaac Sim RTX profile (shipped name or JSON path) or an inline simple spec."""

    profile: Annotated[str, Field(min_length=1, max_length=4096, strict=True)] | None = None
    """An Isaac Sim RTX LiDAR profile: a shipped name (scenesmith lidar-profiles) or a JSON file."""
    simple: SimpleLidarSpec | None = None
    """A spinning LiDAR described by its channels and steps instead of a profile."""
    noise: bool = True
    """Apply the profile's range accuracy and angle errors (seeded per frame)."""
    motion: LidarMotion | None = None
    """Sensor motion during the scan."""
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
    """Minimum corner in metres."""
    max_m: Position
    """Maximum corner in metres."""

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
    """flying: anywhere in volume; dropped: released above surface and settled by physics."""
    volume: Box3 | None = None
    """Box the objects are placed in (flying)."""
    surface: Name | None = None
    """Asset whose top the objects are dropped onto (dropped)."""
    drop_height_m: Vec2 = (0.05, 0.3)
    """Range of release heights above the surface, in metres."""
    rotation: Literal["so3", "yaw", "none"] = "so3"
    """Orientation drawn per object: uniform over SO(3), yaw only, or none."""
    no_overlap: bool = True
    """Reject placements whose bounds overlap already placed objects."""

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
    """Fewest objects per frame."""
    max: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)]
    """Most objects per frame."""

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
    """Shapes the objects are drawn from."""
    weights: list[Annotated[Number, Field(ge=0)]] | None = None
    """Relative probability of each pool entry (default: equal)."""
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
                            "min": {"type": "integer", "minimum": 0, "description": "Fewest objects per frame."},
                            "max": {"type": "integer", "minimum": 1, "description": "Most objects per frame."},
                        },
                    },
                ]
            }
        ),
    ]
    """Objects per frame: a number, or {min, max} drawn uniformly."""
    scale: Annotated[Distribution, within(POSITIVE)] = 1.0
    """Uniform scale per object: a number or a distribution (positive)."""
    labelled: bool = False
    """Label the distractors (semantics) instead of leaving them unlabelled."""
    semantics: Semantics | None = None
    """Labels of labelled distractors."""
    materials: Annotated[list[Name], Field(min_length=1)] | None = None
    """Materials drawn per object (default: their own)."""
    placement: Placement
    """Where the objects go."""
    physics: BodyPhysics = BodyPhysics(body="dynamic")
    """Physics of each object (dynamic by default)."""
    trigger: Trigger = Trigger()
    """When the distractors are drawn again."""

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
    from ..writers.registry import default_registry

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


class OutputSpec(Spec):
    frames: Annotated[int, Field(strict=True, ge=1, le=MAX_FRAMES)] | None = None
    """Default frame count of ``generate`` (``--frames`` overrides it)."""
    shard_size: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 8
    """Frames per shard (the unit of resume and of work per worker)."""
    writers: WritersSpec = DEFAULT_WRITERS
    """Which writers run, with their options."""


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


# --------------------------------------------------------------------------- scenario


class Scenario(Spec):
    """A whole scenario. ``version`` is the file-format version (currently 1)."""

    version: Literal[1]
    """Scenario format version (1)."""
    name: Annotated[str, Field(max_length=256, strict=True)] | None = None
    """Name of the scenario."""
    description: Annotated[str, Field(max_length=4096, strict=True)] | None = None
    """Free text describing the scenario."""
    stage: StageSpec = StageSpec()
    """Stage units and up axis."""
    textures: dict[Name, TextureSpec] = {}
    """Textures by name (files or procedural)."""
    materials: dict[Name, MaterialSpec] = {}
    """Materials by name."""
    material_pools: dict[Name, Annotated[tuple[Name, ...], Field(min_length=1)]] = {}
    """Named lists of materials that randomizers and distractors draw from."""
    assets: dict[Name, Asset] = {}
    """Objects of the scene by name (prims /World/<name>)."""
    lights: dict[Name, LightSpec] = {}
    """Lights by name (prims /World/Lights/<name>)."""
    cameras: dict[Name, CameraSpec] = {}
    """Cameras by name (render products /Render/<name>)."""
    lidars: dict[Name, LidarSpec] = {}
    """LiDARs by name."""
    distractors: dict[Name, DistractorSpec] = {}
    """Groups of clutter objects drawn per frame."""
    physics: PhysicsSpec = PhysicsSpec()
    """Physics simulation."""
    render: RenderSpec = RenderSpec()
    """Embedded renderer settings."""
    output: OutputSpec = OutputSpec()
    """Frames, shards and writers."""
    isaac: IsaacSpec = IsaacSpec()
    """Settings used only inside Isaac Sim."""
    randomizers: dict[Name, Randomizer] = {}
    """Randomizers by name, applied in phase order each frame."""


# Types that other modules match on.
AnySensor = Union[CameraSpec, LidarSpec]
