"""Cost of the camera models per 640×480 frame, side by side with the ideal camera (issue 17).

    .venv/bin/python bench/bench_sensor_models.py [--repeat 5]

On the tabletop example's frame 0 (its camera, its render settings), one backend captures the
camera's annotators with each variant, interleaved round-robin so machine load hits all alike;
the median per variant and its ratio to the ideal camera are printed. Variants: the ideal
pinhole; a Brown–Conrady lens (``pinholeOpenCV``) and an f-theta fisheye (rays through the
lens, and the occlusion pass casting everywhere); the sensor model (noise + ISP) and with JPEG;
the depth sensor. Targets (issue 17): noise + ISP + JPEG ≤ 10% of the render; distortion ≤ 5%.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from typing import Any

from frame_zero import frame_zero
from scenesmith import config_path
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.scenarios.loader import parse

ANNOTATORS = (
    "rgb", "distance_to_camera", "distance_to_image_plane", "normals", "instance_segmentation",
    "semantic_segmentation", "bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "occlusion",
    "camera_params",
)  # fmt: skip
CAMERA_MODELS = ("lens", "sensor", "depth_sensor", "stereo", "shutter")
"""The example's own camera models, removed so each variant adds only its own."""
VARIANTS: dict[str, dict[str, Any]] = {
    "ideal pinhole": {},
    "lens pinholeOpenCV": {"lens": {"model": "pinholeOpenCV", "k1": -0.12, "k2": 0.03, "p1": 0.001}},
    "lens fisheyePolynomial": {"lens": {"model": "fisheyePolynomial"}},
    "sensor noise + ISP": {"sensor": {}},
    "sensor noise + ISP + JPEG q90": {"sensor": {"jpeg_quality": 90}},
    "depth sensor": {"depth_sensor": {}},
}


def _backend(doc: Any, camera: str, update: dict[str, Any]) -> tuple[EmbeddedBackend, Any]:
    s = doc.scenario
    spec = s.cameras[camera]
    base = {k: v for k, v in spec.model_dump(exclude_unset=True).items() if k not in CAMERA_MODELS}
    parsed = type(spec).model_validate({**base, **update, "annotators": ANNOTATORS})
    doc = dataclasses.replace(doc, scenario=s.model_copy(update={"cameras": {**s.cameras, camera: parsed}}))
    backend, params, _ = frame_zero(doc)
    backend.capture(params)  # compile and warm caches outside the timing
    return backend, params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    doc = parse(config_path("scenarios", "tabletop.yaml"), asset_roots=(config_path("scenarios"),))
    camera = sorted(doc.scenario.cameras)[0]
    setups = {name: _backend(doc, camera, update) for name, update in VARIANTS.items()}
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeat):
        for name, (backend, params) in setups.items():
            start = time.perf_counter()
            backend.capture(params)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["ideal pinhole"])
    print(f"tabletop frame 0, camera {camera}, {args.repeat} interleaved captures each (median):")
    for name in VARIANTS:
        t = statistics.median(times[name])
        print(f"  {name:32s} {t * 1000:8.1f} ms   {t / base:5.3f} × ideal   (+{(t - base) / base * 100:5.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
