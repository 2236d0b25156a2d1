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

from .assets import (
    PRIMITIVES,
    SHAPE_KEYS,
    Asset,
    CapsuleSpec,
    ConeSpec,
    CubeSpec,
    CylinderSpec,
    MeshSpec,
    PlaneSpec,
    Shape,
    SphereSpec,
    UsdRefSpec,
)
from .cameras import ANNOTATOR_SYNONYMS, DEFAULT_ANNOTATORS, AnnotatorOptions, CameraSpec, StereoSpec
from .common import (
    MAX_FRAMES,
    MAX_INSTANCES,
    MAX_PIXELS_PER_FRAME,
    MAX_RESOLUTION_PX,
    MAX_SAMPLES_PER_PIXEL,
    SCHEMA_VERSION,
    AssetPath,
    Axis,
    Label,
    Semantics,
)
from .distractors import Box3, CountRange, DistractorSpec, Placement
from .lens import LensSpec
from .lidars import (
    LIDAR_MODEL_KEYS,
    LidarDropoutSpec,
    LidarIntensity,
    LidarMotion,
    LidarReturnsSpec,
    LidarSpec,
    SimpleLidarSpec,
)
from .lights import LightSpec
from .materials import CheckerTexture, MaterialSpec, NoiseTexture, SkyTexture, TextureSpec
from .output import (
    DEFAULT_WRITERS,
    IsaacSpec,
    OutputSpec,
    RenderSpec,
    StageSpec,
    TessellationSpec,
    ToneMapSpec,
    WritersSpec,
)
from .physics import BodyPhysics, EpisodeSpec, FrictionSpec, Keyframe, PhysicsSpec, SettleSpec
from .scenario import AnySensor, Scenario
from .sensor_models import CameraSensorSpec, DepthSensorSpec
from .shutter import ShutterSpec

__all__ = [
    "ANNOTATOR_SYNONYMS",
    "AnnotatorOptions",
    "AnySensor",
    "Asset",
    "AssetPath",
    "Axis",
    "BodyPhysics",
    "Box3",
    "CameraSpec",
    "LensSpec",
    "CameraSensorSpec",
    "DepthSensorSpec",
    "StereoSpec",
    "ShutterSpec",
    "CapsuleSpec",
    "CheckerTexture",
    "ConeSpec",
    "CountRange",
    "CubeSpec",
    "CylinderSpec",
    "DEFAULT_ANNOTATORS",
    "DEFAULT_WRITERS",
    "DistractorSpec",
    "EpisodeSpec",
    "FrictionSpec",
    "IsaacSpec",
    "Keyframe",
    "Label",
    "LIDAR_MODEL_KEYS",
    "LidarDropoutSpec",
    "LidarIntensity",
    "LidarMotion",
    "LidarReturnsSpec",
    "LidarSpec",
    "LightSpec",
    "MAX_FRAMES",
    "MAX_INSTANCES",
    "MAX_PIXELS_PER_FRAME",
    "MAX_RESOLUTION_PX",
    "MAX_SAMPLES_PER_PIXEL",
    "MaterialSpec",
    "MeshSpec",
    "NoiseTexture",
    "SkyTexture",
    "OutputSpec",
    "PRIMITIVES",
    "PhysicsSpec",
    "Placement",
    "PlaneSpec",
    "RenderSpec",
    "SCHEMA_VERSION",
    "SHAPE_KEYS",
    "Scenario",
    "Semantics",
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
