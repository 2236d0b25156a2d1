"""The sensor models' parameters of one frame: drawn per camera, recorded as lineage (issue 17).

Each camera with a ``sensor`` or ``depth_sensor`` block draws every parameter once per frame
(trigger key = the frame index) from a stream keyed by the model and the camera's prim path, so
the draws of one camera or model never move another's, and the scene's draws never move at all
(sensor settings are outside the randomization digest's space, DESIGN §9).
"""

from __future__ import annotations

from typing import Any

from ..sensors.models.camera_sensor import SensorDraw
from ..sensors.models.depth_sensor import DepthSensorDraw
from .distributions import draw_scalar, draw_vector
from .frame_state import FrameState
from .prim_paths import render_cameras

__all__ = ["SENSOR_MODELS", "depth_sensor_draw", "draw_sensor_models", "sensor_draw"]

SENSOR_MODELS = ("sensor", "depth_sensor")
"""The camera keys that hold sensor models, which are also their lineage keys and stream names."""

_INTEGER = {"bit_depth", "jpeg_quality", "edge_px"}
"""Parameters drawn as numbers and used as integers (rounded)."""


def _draw_spec(spec: Any, frame: FrameState, stream: str, prim_path: str) -> dict[str, Any]:
    key = frame.params.frame_index
    rng = frame.rng(f"sensor:{stream}", key, prim_path)
    values: dict[str, Any] = {}
    for name in type(spec).model_fields:  # declaration order: the draw order, fixed
        dist = getattr(spec, name)
        if name == "white_balance":
            values[name] = [float(v) for v in draw_vector(dist, rng, key, 3)]
        elif name == "gamma":
            values[name] = 0.0 if dist == "srgb" else draw_scalar(dist, rng, key)
        elif name == "jpeg_quality" and dist is None:
            values[name] = 0
        else:
            value = draw_scalar(dist, rng, key)
            values[name] = int(round(value)) if name in _INTEGER else value
    return values


def draw_sensor_models(frame: FrameState) -> None:
    """Every camera's sensor-model parameters for this frame, into ``frame.params.sensors``."""
    for rc in render_cameras(frame.s):  # a stereo rig's two cameras draw independently
        spec = frame.s.cameras[rc.camera]
        drawn = {
            model: _draw_spec(getattr(spec, model), frame, model, rc.prim_path)
            for model in SENSOR_MODELS
            if getattr(spec, model) is not None
        }
        if drawn:
            frame.params.sensors[rc.name] = drawn


def sensor_draw(values: dict[str, Any]) -> SensorDraw:
    """The camera sensor's parameters from a frame's lineage entry."""
    v = dict(values)
    v["white_balance"] = tuple(v["white_balance"])
    return SensorDraw(**v)


def depth_sensor_draw(values: dict[str, Any]) -> DepthSensorDraw:
    """The depth sensor's parameters from a frame's lineage entry."""
    return DepthSensorDraw(**values)
