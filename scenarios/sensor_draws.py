"""The sensor models' parameters of one frame: drawn per camera, recorded as lineage (issue 17).

Each camera with a ``sensor`` or ``depth_sensor`` block draws every parameter once per frame
(trigger key = the frame index) from a stream keyed by the model and the camera's prim path, so
the draws of one camera or model never move another's, and the scene's draws never move at all
(sensor settings are outside the randomization digest's space, DESIGN §9). A LiDAR with a
``dropout`` or ``returns`` block draws their distribution-valued keys the same way, keyed by
the LiDAR's prim path, into its own entry.
"""

from __future__ import annotations

from typing import Any

from ..sensors.models.camera_sensor import SensorDraw
from ..sensors.models.depth_sensor import DepthSensorDraw
from ..sensors.models.lidar_returns import Beam
from .distributions import draw_scalar, draw_vector
from .frame_state import FrameState
from .model import LidarSpec
from .prim_paths import lidar_path, render_cameras

__all__ = ["LIDAR_MODELS", "SENSOR_MODELS", "beam_draw", "depth_sensor_draw", "draw_sensor_models", "sensor_draw"]

SENSOR_MODELS = ("sensor", "depth_sensor")
"""The camera keys that hold sensor models, which are also their lineage keys and stream names."""
LIDAR_MODELS = ("dropout", "returns")
"""The LiDAR keys whose parameters are drawn per frame (lineage keys; streams ``sensor:<key>``)."""

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
    for name, lidar in sorted(frame.s.lidars.items()):
        drawn = _draw_lidar(lidar, frame, lidar_path(name))
        if drawn:  # a LiDAR named like a stereo camera's <rig>_<role> shares its entry, not its keys
            frame.params.sensors.setdefault(name, {}).update(drawn)


def _draw_lidar(spec: LidarSpec, frame: FrameState, prim_path: str) -> dict[str, Any]:
    key = frame.params.frame_index
    out: dict[str, Any] = {}
    if spec.dropout is not None:
        rng = frame.rng("sensor:dropout", key, prim_path)
        out["dropout"] = {"width_db": draw_scalar(spec.dropout.width_db, rng, key)}
    if spec.returns is not None:
        r = spec.returns
        rng = frame.rng("sensor:returns", key, prim_path)
        out["returns"] = {  # one divergence value is a round beam: both axes
            "divergence_mrad": [float(v) for v in draw_vector(r.divergence_mrad, rng, key, 2)],
            "beam_diameter_m": draw_scalar(r.beam_diameter_m, rng, key),
            "min_separation_m": None if r.min_separation_m is None else draw_scalar(r.min_separation_m, rng, key),
        }
    return out


def sensor_draw(values: dict[str, Any]) -> SensorDraw:
    """The camera sensor's parameters from a frame's lineage entry."""
    v = dict(values)
    v["white_balance"] = tuple(v["white_balance"])
    return SensorDraw(**v)


def depth_sensor_draw(values: dict[str, Any]) -> DepthSensorDraw:
    """The depth sensor's parameters from a frame's lineage entry."""
    return DepthSensorDraw(**values)


def beam_draw(values: dict[str, Any], sub_rays: int) -> Beam:
    """A LiDAR's beam from a frame's lineage entry (``returns``) and its spec's sub-ray count."""
    h, v = values["divergence_mrad"]
    return Beam((h, v), values["beam_diameter_m"], sub_rays, values["min_separation_m"])
