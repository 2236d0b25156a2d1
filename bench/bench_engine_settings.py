"""The README's engine-settings table: tabletop frame 0, each render setting's time and its error.

    .venv/bin/python bench/bench_engine_settings.py [--reference-spp 64] [--repeats 3]

One warm render per setting of the tabletop example's camera (640 × 480), timed as the median of
``--repeats``; relative RMSE of the linear image (``HdrColor``) against a path-traced reference
of the same frame at ``--reference-spp`` (4 bounces, not denoised). This is how the example's
shipped setting (path, 2 spp, denoised) was chosen: the least time for an error close to the
best the denoiser gives.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from frame_zero import frame_zero, with_render
from scenesmith import config_path
from scenesmith.scenarios.loader import ScenarioDocument, parse
from scenesmith.scenarios.prim_paths import render_cameras

FAST = {"denoise": True, "denoise_quality": "fast"}  # OIDN's smaller network
SETTINGS: tuple[tuple[str, dict[str, object]], ...] = (
    ("direct, 4 spp", {"engine": "direct", "samples_per_pixel": 4, "denoise": False}),
    ("path, 1 spp", {"engine": "path", "samples_per_pixel": 1, "denoise": False}),
    ("path, 1 spp, denoised", {"engine": "path", "samples_per_pixel": 1, "denoise": True}),
    ("path, 2 spp, denoised (tabletop as shipped)", {"engine": "path", "samples_per_pixel": 2, "denoise": True}),
    ("path, 4 spp", {"engine": "path", "samples_per_pixel": 4, "denoise": False}),
    ("path, 4 spp, denoised", {"engine": "path", "samples_per_pixel": 4, "denoise": True}),
    ("path, 8 spp, denoised", {"engine": "path", "samples_per_pixel": 8, "denoise": True}),
    *((f"path, {spp} spp, denoised fast", {"engine": "path", "samples_per_pixel": spp, **FAST}) for spp in (1, 2, 4)),
)


def _renderer(doc: ScenarioDocument, render: dict[str, object]):  # type: ignore[no-untyped-def]
    backend, params, resolved = frame_zero(with_render(doc, **render))
    camera = render_cameras(resolved.scenario)[0].name
    backend.render_linear(params, camera)  # compile and warm caches outside the timing
    return lambda: backend.render_linear(params, camera)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-spp", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    doc = parse(config_path("scenarios", "tabletop.yaml"))
    reference = np.asarray(
        _renderer(doc, {"engine": "path", "samples_per_pixel": args.reference_spp, "denoise": False})(), np.float64
    )[..., :3]
    scale = float(np.sqrt(np.mean(reference**2)))
    print(
        f"| settings | ms | rel. RMSE (vs {args.reference_spp}-spp path) | without the 0.1% worst pixels |"
        "\n|---|---|---|---|"
    )
    for label, render in SETTINGS:
        render_once = _renderer(doc, render)
        times, image = [], None
        for _ in range(args.repeats):
            start = time.perf_counter()
            image = render_once()
            times.append(time.perf_counter() - start)
        squared = np.sort(np.mean((np.asarray(image, np.float64)[..., :3] - reference) ** 2, axis=-1).ravel())
        error = float(np.sqrt(squared.mean())) / scale
        # caustics (the sun glinting off the metal mug onto the table) are a few pixels' rare
        # paths that carry most of the squared error at low spp: a lottery of the seed; the
        # error without the 0.1% worst pixels shows the rest of the image
        trimmed = float(np.sqrt(squared[: len(squared) - len(squared) // 1000].mean())) / scale
        print(f"| {label} | {1000 * statistics.median(times):.0f} | {100 * error:.1f}% | {100 * trimmed:.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
