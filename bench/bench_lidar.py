"""LiDAR scan time vs. the raw Embree cast of the same rays, on the reference scene (issue 7).

Usage (repository root, shared/ beside it)::

    .venv/bin/python bench/bench_lidar.py [--scans 7]

An OS1 REV7 128-channel profile (131,072 rays per scan) at the reference LiDAR pose
(-2.0, -0.5, 1.5) m: median wall time of a full scan (pattern, noise, casting, per-point fields,
labels) beside the median time of Open3D ``cast_rays`` alone on the same rays, in the same
process with the same thread count. Target: ≤ 3× the raw cast on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FIXTURES, REPO, SCENE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=7)
    args = parser.parse_args()
    if not SCENE.is_file():
        print(f"reference scene not found at {SCENE}", file=sys.stderr)
        return 2
    import open3d as o3d
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.embedded.scene import FrameGeometry
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample
    from scenesmith.sensors.outputs import LIDAR_ANNOTATOR

    scenario = {
        "version": 1,
        "stage": {"base_usd": "reference-scene/reference_scene.usda"},
        "lidars": {"os1": {"profile": "OS1_REV7_128ch10hz1024res", "position_m": [-2.0, -0.5, 1.5]}},
        "render": {"tessellation": {"segments": 32, "rings": 15}},
    }
    resolved = resolve(build(scenario, base_dir=REPO / "bench", asset_roots=(FIXTURES,)))
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    backend.capture(params)  # warm-up
    full, raw = [], []
    for _ in range(args.scans):
        start = time.perf_counter()
        out = backend.capture(params)["annotators"][LIDAR_ANNOTATOR]["os1"]
        full.append(time.perf_counter() - start)
        # the same rays, cast alone (including the BVH build the scan pays for)
        pattern = backend.patterns["os1"]
        el, az = pattern.elevation_rad, pattern.azimuth_rad
        dirs = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)
        rays = np.concatenate([np.broadcast_to([-2.0, -0.5, 1.5], dirs.shape), dirs], axis=1).astype(np.float32)
        tensor = o3d.core.Tensor.from_numpy(np.ascontiguousarray(rays))
        start = time.perf_counter()
        geometry = FrameGeometry(backend.index)
        geometry.scene.cast_rays(tensor)
        raw.append(time.perf_counter() - start)
    f_ms, r_ms = statistics.median(full) * 1e3, statistics.median(raw) * 1e3
    print(f"OS1 REV7 on the reference scene: {len(pattern)} rays, {len(out['distance'])} returns")
    print(f"  full scan (scene rebuild + cast + fields): {f_ms:7.1f} ms (median of {args.scans})")
    print(f"  raw Embree cast of the same rays (+ rebuild): {r_ms:7.1f} ms")
    print(f"  ratio: {f_ms / r_ms:.2f}x (target <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
