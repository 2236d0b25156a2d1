"""The sensor models between capture and writers (DESIGN §10; issue 17 items 3 and 4).

Both backends call it at the end of ``capture``: a camera with a ``sensor`` block gets its
``rgb`` (and, when listed, ``raw``) from its linear ``HdrColor`` through the sensor and ISP; a
camera with a ``depth_sensor`` block gets ``depth_sensor`` from its exact depth, normals,
``DiffuseAlbedo`` and ``camera_params``. The backend is asked for those inputs
(:func:`capture_annotators`), and inputs the run did not ask for are dropped afterwards, so the
writers see exactly the annotators they asked for. Labels never pass through a model.

Randomness: the parameters are the frame's lineage (``FrameParams.sensors``); the noise streams
are keyed by the frame and the camera's prim path; the fixed-pattern maps by the camera only.
"""

from __future__ import annotations

from typing import Any

from ..scenarios.frame_params import FrameParams
from ..scenarios.model import CameraSpec, Scenario
from ..scenarios.prim_paths import RenderCamera, render_cameras
from ..scenarios.seeding import frame_rng
from ..scenarios.sensor_draws import depth_sensor_draw, sensor_draw
from ..sensors.camera import PinholeCamera
from ..sensors.models.camera_sensor import FixedPattern, develop, expose, jpeg_roundtrip
from ..sensors.models.depth_sensor import measure_depth
from ..sensors.outputs import MODEL_ANNOTATORS
from ..sensors.stereo import rectification

__all__ = ["MODEL_INPUTS", "apply_sensor_models", "capture_annotators", "rig_metadata"]

MODEL_INPUTS: dict[str, tuple[str, ...]] = {
    "sensor": ("HdrColor",),
    "depth_sensor": ("distance_to_image_plane", "normals", "DiffuseAlbedo", "camera_params"),
}
"""The annotators each model reads (its key on the camera → Replicator names)."""
_OUTPUTS = {"sensor": ("rgb", "raw"), "depth_sensor": ("depth_sensor",)}
"""The annotators each model makes."""
_PATTERN_KEY = 0
"""Trigger key of the fixed-pattern stream: one pattern per camera for the whole run."""


def rig_metadata(rc: RenderCamera, spec: CameraSpec, model: PinholeCamera) -> dict[str, Any]:
    """A stereo rig camera's rectification metadata (``sensors.stereo``), for its payload."""
    assert rc.role is not None and spec.stereo is not None
    other = f"{rc.camera}_{'right' if rc.role == 'left' else 'left'}"
    return rectification(model, spec.stereo.baseline_m, rc.camera, rc.role, other)


def _active(spec: CameraSpec, wanted: tuple[str, ...]) -> list[str]:
    """The models of ``spec`` whose outputs are wanted."""
    return [m for m, outs in _OUTPUTS.items() if getattr(spec, m) is not None and set(outs) & set(wanted)]


def capture_annotators(spec: CameraSpec, wanted: tuple[str, ...]) -> tuple[str, ...]:
    """What a backend captures for a camera that should deliver ``wanted``: the models' outputs
    replaced by their inputs (``rgb`` too, when the sensor model makes it; kept if the point
    cloud needs the renderer's colours)."""
    models = _active(spec, wanted)
    made = {a for m in models for a in _OUTPUTS[m]}
    keep = [a for a in wanted if a not in made and a not in MODEL_ANNOTATORS]
    return tuple(dict.fromkeys([*keep, *(a for m in models for a in MODEL_INPUTS[m])]))


def apply_sensor_models(
    payload: dict[str, Any], scenario: Scenario, params: FrameParams, wanted: dict[str, tuple[str, ...]]
) -> dict[str, Any]:
    """``payload`` with every camera's models applied and their unrequested inputs dropped."""
    annotators = payload["annotators"]
    cameras = {rc.name: rc for rc in render_cameras(scenario)}
    for camera in sorted(wanted):
        spec = scenario.cameras[cameras[camera].camera]
        models = _active(spec, wanted[camera])
        if not models:
            continue
        want = set(wanted[camera])
        path = cameras[camera].prim_path
        drawn = params.sensors[camera]

        def rng(stream: str, key: int, path: str = path) -> Any:
            return frame_rng(params.randomization_digest, params.seed, key, stream, path)

        if "sensor" in models:
            draw = sensor_draw(drawn["sensor"])
            linear = annotators["HdrColor"][camera]["data"]
            h, w = linear.shape[:2]
            pattern = FixedPattern.draw(rng("sensor:pattern", _PATTERN_KEY), h, w)
            base_ev = scenario.render.tone_map.exposure_ev
            raw = expose(linear, draw, rng("sensor:noise", params.frame_index), pattern, base_ev)
            if "raw" in want:
                annotators.setdefault("raw", {})[camera] = {"data": raw}
            if "rgb" in want:
                rgb = develop(raw, draw)
                if draw.jpeg_quality > 0:
                    rgb = jpeg_roundtrip(rgb, draw.jpeg_quality)
                annotators.setdefault("rgb", {})[camera] = {"data": rgb}
        if "depth_sensor" in models:
            depth = measure_depth(
                annotators["distance_to_image_plane"][camera]["data"],
                annotators["normals"][camera]["data"],
                annotators["DiffuseAlbedo"][camera]["data"],
                annotators["camera_params"][camera],
                depth_sensor_draw(drawn["depth_sensor"]),
                rng("depth_sensor:noise", params.frame_index),
            )
            annotators.setdefault("depth_sensor", {})[camera] = {"data": depth}
        for model in models:
            for anno in MODEL_INPUTS[model]:
                if anno not in want and camera in annotators.get(anno, {}):
                    del annotators[anno][camera]
                    if not annotators[anno]:
                        del annotators[anno]
    return payload
