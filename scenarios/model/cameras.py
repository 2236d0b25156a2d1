"""Cameras: pinhole intrinsics, their annotators and the annotator names other tools use."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ...sensors.camera import PinholeCamera
from ...sensors.lens import PIXEL_CENTRE, Lens
from ...sensors.outputs import AnnotatorName
from ...sensors.spec_base import NonNegFloat, PosFloat, PosInt, Spec, Vec2, invalid
from .common import MAX_PIXELS_PER_FRAME, MAX_RESOLUTION_PX, _Posed
from .lens import LensSpec
from .sensor_models import CameraSensorSpec, DepthSensorSpec
from .shutter import ShutterSpec

__all__ = [
    "StereoSpec",
    "ANNOTATOR_SYNONYMS",
    "AnnotatorOptions",
    "CameraSpec",
    "DEFAULT_ANNOTATORS",
]


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


class StereoSpec(Spec):
    """A stereo rig: this camera's spec twice, ``<name>_left`` at the pose and ``<name>_right``
    ``baseline_m`` along the camera's +x (image right), axes parallel (already rectified)."""

    baseline_m: PosFloat
    """Distance between the two cameras' centres in metres."""


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
    lens: LensSpec | None = None
    """Lens distortion model (Isaac Sim's names); none is the ideal pinhole of the keys above."""
    stereo: StereoSpec | None = None
    """A stereo rig of two such cameras (rendered as <name>_left and <name>_right); none: one camera."""
    sensor: CameraSensorSpec | None = None
    """Image sensor and ISP model (noise, ADC, white balance, tone curve, JPEG) applied to ``rgb``; none: ideal."""
    depth_sensor: DepthSensorSpec | None = None
    """Active stereo depth camera model: adds the ``depth_sensor`` annotator; none: off."""
    shutter: ShutterSpec | None = None
    """Exposure and shutter kind (motion blur, rolling shutter); none is an instantaneous capture."""
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

    @model_validator(mode="after")
    def _models_of_annotators(self) -> CameraSpec:
        if "raw" in self.annotators and self.sensor is None:
            raise invalid(
                "the raw annotator is the sensor model's output", expected="a sensor: block on this camera",
                got="no sensor", key="annotators",
            )  # fmt: skip
        if "depth_sensor" in self.annotators and self.depth_sensor is None:
            raise invalid(
                "the depth_sensor annotator is the depth sensor model's output",
                expected="a depth_sensor: block on this camera", got="no depth_sensor", key="annotators",
            )  # fmt: skip
        return self

    def outputs(self) -> tuple[str, ...]:
        """The annotators this camera delivers: its list, plus ``depth_sensor`` when the depth
        model is on (the block turns it on; ``raw`` only comes when listed)."""
        extra = ("depth_sensor",) if self.depth_sensor is not None and "depth_sensor" not in self.annotators else ()
        return (*self.annotators, *extra)

    def pinhole(self) -> PinholeCamera:
        """The ideal camera of these keys (no lens)."""
        return PinholeCamera(
            *self.resolution,
            self.focal_length_mm,
            self.horizontal_aperture_mm,
            self.vertical_aperture_mm,
            self.aperture_offset_mm,
            *self.clipping_range_m,
        )

    def lens_model(self) -> Lens | None:
        """The lens, its defaults filled from the pinhole intrinsics (``None`` without one)."""
        if self.lens is None:
            return None
        cam = self.pinhole()
        return self.lens.lens(cam.width, cam.height, cam.fx, cam.cx - PIXEL_CENTRE, cam.cy - PIXEL_CENTRE)
