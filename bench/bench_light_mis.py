"""Light MIS against light sampling alone: the same path engine, the same samples, side by side.

    .venv/bin/python bench/bench_light_mis.py [--spp 4 16 64] [--reference-spp 1024] [--repeats 3]

A glossy floor, a polished metal wall and a sphere lamp beside it (96 × 72, 3 scattering
events): the scene where light sampling alone is weakest, since the wall's narrow lobe sees
the lamp by the rare light sample that lands in it. Each variant renders each sample count
warm (median of ``--repeats``); the error is the relative RMSE of the linear image against a
``--reference-spp`` render with MIS (both estimators are unbiased: the reference could be either,
and the light-sampling-only one would need far more samples to converge). "Light sampling
alone" is the engine with no light weighed (``path_tracer._weighed`` returning False): BRDF
rays then never see a lamp, which is how the engine worked before light MIS. The ratio is the
error without MIS over the error with it at equal samples, and the time ratio likewise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from scenesmith.runtime.embedded import path_tracer
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample

GLOSSY = {"diffuse_color": [0.6, 0.5, 0.4], "metallic": 0.4, "roughness": 0.3}


def _scene(spp: int) -> dict[str, Any]:
    return {
        "version": 1,
        "materials": {"floor": GLOSSY, "metal": {**GLOSSY, "metallic": 0.9, "roughness": 0.15}},
        "assets": {
            "ground": {"plane": {"width_m": 20.0, "length_m": 20.0}, "material": "floor"},
            "wall": {
                "cube": {"size_m": 1.0},
                "position_m": [-1.2, 0.0, 0.5],
                "scale": [0.2, 3.0, 1.0],
                "material": "metal",
            },
        },  # fmt: skip
        "lights": {"lamp": {"type": "sphere", "radius_m": 0.3, "intensity": 60.0, "position_m": [-0.6, 0.0, 0.8]}},
        "cameras": {
            "cam": {
                "resolution": [96, 72],
                "position_m": [0.0, 0.0, 2.5],
                "quat_wxyz": [1.0, 0.0, 0.0, 0.0],
                "annotators": ["rgb"],
            }
        },  # fmt: skip
        "render": {"engine": "path", "max_bounces": 3, "samples_per_pixel": spp, "area_light_samples": min(spp, 256)},
    }


def _render(spp: int, mis: bool) -> tuple[np.ndarray, float]:
    """The linear image and the seconds of a warm render."""
    backend = EmbeddedBackend()
    resolved = resolve(build(_scene(spp)))
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    weighed = path_tracer._weighed
    if not mis:
        path_tracer._weighed = lambda light: False  # type: ignore[assignment]
    try:
        backend.render_linear(params, "cam")  # compile and warm outside the timing
        start = time.perf_counter()
        image = backend.render_linear(params, "cam")
        return np.asarray(image, dtype=np.float64)[..., :3], time.perf_counter() - start
    finally:
        path_tracer._weighed = weighed  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spp", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--reference-spp", type=int, default=1024, help="<= 1024 (render.samples_per_pixel)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    reference = _render(args.reference_spp, True)[0]
    scale = float(np.sqrt(np.mean(reference**2)))
    print(f"glossy floor + metal wall + sphere lamp, 96x72, 3 bounces; rel. RMSE vs {args.reference_spp}-spp MIS")
    print(
        "| spp | light sampling alone: ms, error | MIS: ms, error | error ratio | time ratio |\n|---|---|---|---|---|"
    )
    for spp in args.spp:
        row: dict[bool, tuple[float, float]] = {}
        for mis in (False, True):
            runs = [_render(spp, mis) for _ in range(args.repeats)]
            error = float(np.sqrt(np.mean((runs[0][0] - reference) ** 2))) / scale
            row[mis] = (statistics.median(s for _, s in runs) * 1e3, error)
        (t_off, e_off), (t_on, e_on) = row[False], row[True]
        print(
            f"| {spp} | {t_off:.0f}, {e_off:.1%} | {t_on:.0f}, {e_on:.1%} | {e_off / e_on:.2f}x | {t_on / t_off:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
