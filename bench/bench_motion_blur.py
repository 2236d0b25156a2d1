"""Motion blur's cost and the samples it needs, on the tabletop example at 640 × 480 (issue 17).

Usage (from the repository root)::

    .venv/bin/python bench/bench_motion_blur.py [--spp 1 2 4 8] [--reference-spp 32] [--repeats 6]

The tabletop example's frame 0 (path engine, as shipped: 4 bounces, denoised) rendered three
ways: still (no shutter); blurred, a 1/30 s global shutter with the table's objects and the
camera moving (a ``velocity`` randomizer: objects ±0.5 m/s and ±90°/s about z, a hand-held
camera's ±0.2 m/s and ~6°/s shake); and rolling, the same motion with a 20 µs line time. For each
samples-per-pixel count it prints the RGB render time (median of ``--repeats`` warm renders,
the modes timed in turns so a busy machine slows each alike), its ratio to the still render at
the same count (median of the per-round ratios), and the relative mean absolute error of the
(undenoised) image against its own ``--reference-spp`` render: blur spreads each pixel over
the exposure, so it may need more samples for the same noise; then the example as shipped
(2 spp, denoised). It first prints the cost of the label pass (camera annotators without RGB),
which a rolling shutter makes cast at per-row times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "scenarios" / "tabletop.yaml"
LABELS = ("distance_to_image_plane", "instance_segmentation", "bounding_box_2d_tight", "bounding_box_2d_loose",
          "occlusion")  # fmt: skip

MOTION = {
    "object_motion": {
        "kind": "velocity",
        "targets": ["mug", "can", "box", "ball", "cone"],
        "linear_velocity_m_s": {"uniform": {"lower": [-0.5, -0.5, 0.0], "upper": [0.5, 0.5, 0.0]}},
        "angular_velocity_deg_s": {"uniform": {"lower": [0.0, 0.0, -90.0], "upper": [0.0, 0.0, 90.0]}},
    },
    "handheld": {
        "kind": "velocity",
        "targets": ["front"],
        "linear_velocity_m_s": {"uniform": {"lower": [-0.2, -0.2, -0.2], "upper": [0.2, 0.2, 0.2]}},
        "angular_velocity_deg_s": {"uniform": {"lower": [-6.0, -6.0, -6.0], "upper": [6.0, 6.0, 6.0]}},
    },
}
SHUTTERS: dict[str, dict[str, Any] | None] = {
    "still": None,
    "blurred": {"exposure_s": 1 / 30},
    "rolling": {"kind": "rolling", "exposure_s": 1 / 30, "line_time_s": 2e-5},
}


def _backend(shutter: dict[str, Any] | None, spp: int, denoise: bool) -> tuple[Any, Any]:
    sys.path.insert(0, str(REPO.parent))
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build, parse
    from scenesmith.scenarios.sampler import sample
    from scenesmith.scenarios.yaml_dump import to_data

    data = to_data(parse(EXAMPLE).scenario)
    data["randomizers"].update(MOTION)  # the same draws in every mode: the digest sees these only
    data["lidars"] = {}
    data["render"].update({"samples_per_pixel": spp, "denoise": denoise})
    camera = data["cameras"]["front"]
    camera["annotators"] = ["rgb", *LABELS]
    if shutter is not None:
        camera["shutter"] = shutter
    resolved = resolve(build(data, base_dir=EXAMPLE.parent))
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    return backend, params


def _paired_ms(backends: dict[str, tuple[Any, Any]], repeats: int, call: Any) -> dict[str, list[float]]:
    """Per mode, ``repeats`` timings of ``call(backend, params)`` taken in turns (one of each mode
    per round, after a warm-up round, the order rotated every round: whichever runs after
    another pays for the caches that one filled), so a busy machine slows every mode alike."""
    times: dict[str, list[float]] = {mode: [] for mode in backends}
    modes = list(backends)
    for round_ in range(repeats + 1):
        for mode in modes[round_ % len(modes) :] + modes[: round_ % len(modes)]:
            backend, params = backends[mode]
            start = time.perf_counter()
            call(backend, params)
            if round_:
                times[mode].append((time.perf_counter() - start) * 1000)
    return times


def _ratios(times: dict[str, list[float]], mode: str) -> float:
    """Median over rounds of ``mode``'s time over the still frame's in the same round."""
    return statistics.median(a / b for a, b in zip(times[mode], times["still"]))


def _rel_error(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute error over the reference's mean (path-traced fireflies, rare and bright,
    would dominate a squared error and hide the trend with samples)."""
    return float(np.mean(np.abs(image - reference)) / max(float(np.mean(np.abs(reference))), 1e-12))


def _render(backend: Any, params: Any) -> np.ndarray:
    return backend.render_linear(params, "front")


def _labels(backend: Any, params: Any) -> None:
    backend.capture(params, annotators={"front": LABELS})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spp", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--reference-spp", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args(argv)
    references = {}
    for mode, shutter in SHUTTERS.items():
        backend, params = _backend(shutter, args.reference_spp, denoise=False)
        references[mode] = _render(backend, params)
    backends = {mode: _backend(shutter, 1, denoise=False) for mode, shutter in SHUTTERS.items()}
    times = _paired_ms(backends, args.repeats, _labels)
    print("labels (depth, instances, 2D boxes, occlusion; no RGB), median ms and x still:")
    for mode in SHUTTERS:
        print(f"  {mode:>8} {statistics.median(times[mode]):7.0f} {_ratios(times, mode):6.2f}")
    print(
        f"RGB (path engine, 4 bounces), relative mean abs. error against each mode's {args.reference_spp}-spp render:"
    )
    print(f"{'spp':>6} {'mode':>8} {'ms':>7} {'x still':>8} {'rel MAE':>8}")
    ladder = [(spp, False) for spp in args.spp] + [(2, True)]  # the example as shipped: 2 spp, denoised
    for spp, denoise in ladder:
        backends = {mode: _backend(shutter, spp, denoise) for mode, shutter in SHUTTERS.items()}
        times = _paired_ms(backends, args.repeats, _render)
        for mode, (backend, params) in backends.items():
            error = "" if denoise else f"{_rel_error(_render(backend, params), references[mode]):>8.1%}"
            label = f"{spp}{'+dn' if denoise else ''}"
            print(f"{label:>6} {mode:>8} {statistics.median(times[mode]):>7.0f} {_ratios(times, mode):>8.2f} {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
