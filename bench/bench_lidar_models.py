"""Cost of each LiDAR realism model (issue 17) per scan, as a fraction of the scan without it.

Usage (repository root, shared/ beside it)::

    .venv/bin/python bench/bench_lidar_models.py [--scans 7] [--profile OS1_REV7_128ch10hz1024res]

The reference scene with a LiDAR at the reference pose (-2.0, -0.5, 1.5) m, profile noise on.
Each configuration — every model off, then ``intensity: calibrated``, ``dropout: {}``,
``returns`` (16 sub-rays, 2.3 mrad, 10 mm beam) and all three — runs the embedded backend's
``scan`` on the same frame geometry (built once, so the times are the scan's own: pattern,
noise, casting, echoes, fields, labels). Configurations are interleaved round by round so
machine drift hits them alike; each reports its median wall time and its ratio to the median
with every model off, and the same ratio in process CPU time (all threads), which other load
on a shared machine disturbs less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FIXTURES, REPO, SCENE

CONFIGS: dict[str, dict[str, Any]] = {
    "off": {},
    "intensity: calibrated": {"intensity": "calibrated"},
    "dropout": {"dropout": {}},
    "returns (16 sub-rays)": {"returns": {"divergence_mrad": 2.3, "beam_diameter_m": 0.01, "sub_rays": 16}},
}
CONFIGS["all three"] = {k: v for c in list(CONFIGS.values()) for k, v in c.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=7)
    parser.add_argument("--profile", default="OS1_REV7_128ch10hz1024res")
    args = parser.parse_args()
    if not SCENE.is_file():
        print(f"reference scene not found at {SCENE}", file=sys.stderr)
        return 2
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.embedded.lidar import scan, sensor_pose
    from scenesmith.runtime.embedded.scene import FrameGeometry
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.model import LidarSpec
    from scenesmith.scenarios.sampler import sample
    from scenesmith.scenarios.seeding import frame_rng

    scenario = {
        "version": 1,
        "stage": {"base_usd": "reference-scene/reference_scene.usda"},
        "lidars": {"l": {"profile": args.profile, "position_m": [-2.0, -0.5, 1.5]}},
        "render": {"tessellation": {"segments": 32, "rings": 15}},
    }
    resolved = resolve(build(scenario, base_dir=REPO / "bench", asset_roots=(FIXTURES,)))
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    assert backend.index is not None and backend.materials is not None
    frame = FrameGeometry(backend.index)
    materials = backend.materials.for_gprims([g.path for g in backend.index.gprims])
    base = sensor_pose(backend.stage.GetPrimAtPath("/World/l"))
    profile, pattern = resolved.lidar_profiles["l"], backend.patterns["l"]
    specs = {name: LidarSpec(profile=args.profile, **extra) for name, extra in CONFIGS.items()}
    # each model's parameters for frame 0, as the sampler draws them into the frame's lineage
    drawn = {}
    for name, extra in CONFIGS.items():
        lidar = {**scenario["lidars"]["l"], **extra}
        variant = resolve(build({**scenario, "lidars": {"l": lidar}}, base_dir=REPO / "bench", asset_roots=(FIXTURES,)))
        drawn[name] = sample(variant, 0, 0).sensors.get("l")

    def one(name: str, spec: LidarSpec) -> tuple[float, float, int]:
        rng = frame_rng(resolved.randomization_digest, 0, 0, "lidar", "/World/l")
        dropout = frame_rng(resolved.randomization_digest, 0, 0, "lidar_dropout", "/World/l")
        wall, cpu = time.perf_counter(), time.process_time()
        out = scan(frame, backend.index, materials, "l", spec, profile, pattern, base, rng, dropout, drawn[name])
        return time.perf_counter() - wall, time.process_time() - cpu, len(out["distance"])

    for name, spec in specs.items():
        one(name, spec)  # warm-up (and numba's compile)
    walls: dict[str, list[float]] = {name: [] for name in specs}
    cpus: dict[str, list[float]] = {name: [] for name in specs}
    points: dict[str, int] = {}
    for _ in range(args.scans):
        for name, spec in specs.items():
            wall, cpu, points[name] = one(name, spec)
            walls[name].append(wall)
            cpus[name].append(cpu)
    off_wall, off_cpu = statistics.median(walls["off"]), statistics.median(cpus["off"])
    print(f"{args.profile} on the reference scene: {len(pattern)} rays per scan, median of {args.scans}")
    print(f"  {'model':24s} {'wall':>9s} {'ratio':>6s} {'cpu':>9s} {'ratio':>6s}  points")
    for name in specs:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(
            f"  {name:24s} {wall * 1e3:7.1f}ms {wall / off_wall:5.2f}x {cpu * 1e3:7.1f}ms {cpu / off_cpu:5.2f}x"
            f"  {points[name]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
