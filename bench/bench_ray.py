"""Ray executor overhead against the local pool, scaling, and an efficiency model (issue 19).

Usage (repository root, with the ``ray`` extra installed)::

    .venv/bin/python bench/bench_ray.py [--frames 24 72] [--shard-size 4] [--soak 0] [--soak-only]

In one process, on one local Ray instance (started once, so its start-up is not counted), runs
the same physics-free 160 × 120 scene through ``prepare_run`` → executor → ``finish_run`` with
the local pool (``run_workers``) and with ``run_ray``, both with the same worker count, timing
each phase. From pairs of runs it derives (1) the run phase's cost per frame (slope between two
frame counts) and per shard (shard size 1 against ``--shard-size`` at the same frames) for each
executor, and Ray's overhead on both against the pool (target ≤ 5%); (2) throughput with 1 and
2 workers; (3) the driver's merge cost per frame (``finish_run``); and from those (4) a model
of efficiency at 8–256 workers for a 10^6-frame dataset, with the shard size that reaches 0.9
at 256 workers. ``--soak N`` also runs N frames through Ray and samples driver and worker RSS
(growth per 1000 frames: the slope of RSS over the run after its first fifth); ``--soak-only``
runs the soak alone.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

SCENE = """\
version: 1
name: bench_ray
materials:
  wood: {diffuse_color: [0.6, 0.4, 0.2], roughness: 0.7}
  red: {diffuse_color: [0.8, 0.1, 0.1], roughness: 0.4}
assets:
  floor: {plane: {width_m: 6.0, length_m: 6.0}}
  table: {cube: {size_m: 1.0}, scale: [1.2, 0.8, 0.75], position_m: [0.0, 0.0, 0.375], material: wood,
          semantics: {class: table}}
  box: {cube: {size_m: 0.1}, count: 3, material: red, semantics: {class: box}}
  ball: {sphere: {radius_m: 0.04}, count: 3, semantics: {class: ball}}
lights:
  sun: {type: distant, intensity: 3.0, rotation_deg: [30.0, 10.0, 0.0]}
  sky: {type: dome, intensity: 0.3}
cameras:
  cam: {resolution: [160, 120], position_m: [1.6, -1.2, 1.5], look_at_m: [0.0, 0.0, 0.78]}
randomizers:
  on_table: {kind: scatter, targets: [box, ball], surface: table, margin_m: 0.01}
render: {samples_per_pixel: 1, area_light_samples: 1, dome_light_samples: 2}
"""

DATASET_FRAMES = 10**6
"""The dataset size the efficiency model is evaluated for (the issue's million frames)."""


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def run_once(doc: Any, out: Path, executor: str, workers: int, frames: int, shard: int) -> dict[str, float]:
    """One run through the pipeline's phases: seconds per phase, and the steady rate (frames/s
    between a quarter and all of the frames done, so the workers' start-up is left out)."""
    from scenesmith.runtime.run.local_executor import run_workers
    from scenesmith.runtime.run.pipeline import GenerateOptions, finish_run, prepare_run
    from scenesmith.runtime.run.ray_executor import RayOptions, run_ray

    opts = GenerateOptions(
        out=out, stop=frames, shard_size=shard, workers=workers, overwrite=True, progress=False, executor=executor
    )
    marks: list[tuple[float, int]] = []
    count = [0]

    def advance(n: int) -> None:
        count[0] += n
        marks.append((time.perf_counter(), count[0]))

    t0 = time.perf_counter()
    setup = prepare_run(doc, opts)
    t1 = time.perf_counter()
    if executor == "ray":
        report = lambda status: marks.append((time.perf_counter(), status.frames))  # noqa: E731
        published = run_ray(setup.jobs, workers, report, out, RayOptions())
    else:  # the pool even for one worker: the same in-process writers as a Ray actor
        published = run_workers(setup.jobs, workers, advance, out)
    setup.published.update(published)
    t2 = time.perf_counter()
    finish_run(setup)
    t3 = time.perf_counter()
    quarter = next(m for m in marks if m[1] >= frames // 4)
    last = next(m for m in marks if m[1] >= frames)
    # a short Ray run may report a quarter and the end at once (progress comes every 0.2 s)
    rate = (last[1] - quarter[1]) / (last[0] - quarter[0]) if last[0] > quarter[0] else frames / (t2 - t1)
    return {"prepare": t1 - t0, "run": t2 - t1, "merge": t3 - t2, "rate": rate}


def efficiency(workers: int, shard: int, frame_s: float, shard_s: float, merge_s: float, start_s: float) -> float:
    """Ideal time (frames × frame time / workers) over modelled time: start-up (engine build,
    in parallel), waves of shards (each shard: frames × frame time + per-shard overhead; the last
    wave may be partial), then the driver's serial merge."""
    shards = math.ceil(DATASET_FRAMES / shard)
    waves = math.ceil(shards / workers)
    run = start_s + waves * (shard * frame_s + shard_s) + DATASET_FRAMES * merge_s
    return DATASET_FRAMES * frame_s / workers / run


def soak(doc: Any, root: Path, frames: int, workers: int) -> None:
    """``frames`` frames through Ray; RSS of the driver and of each worker sampled each second;
    growth per 1000 frames after warm-up (the first fifth of the run)."""
    samples: list[tuple[float, int, dict[int, int]]] = []
    stop = threading.Event()
    driver = os.getpid()

    def worker_pids() -> list[int]:
        pids = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and b"ShardWorker" in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                pass
        return pids

    def sample() -> None:
        start = time.perf_counter()
        while not stop.wait(1.0):
            samples.append((time.perf_counter() - start, _rss_kb(driver), {p: _rss_kb(p) for p in worker_pids()}))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t = run_once(doc, root / "soak", "ray", workers, frames, 100)
    stop.set()
    thread.join()
    rate = frames / t["run"]
    print(f"\nsoak: {frames} frames in {t['run']:.0f} s ({rate:.1f} frames/s), merge {t['merge']:.1f} s")
    running = [s for s in samples if s[2]]  # while the workers live
    warm = [s for s in running if s[0] > running[-1][0] * 0.2]
    seconds = np.array([s[0] for s in warm])

    def per_thousand(rss_kb: list[int]) -> float:
        """Growth per 1000 frames: the least-squares slope of RSS over time (first and last
        samples alone follow the allocator's noise), at the run's rate."""
        return float(np.polyfit(seconds, np.array(rss_kb) / 1024, 1)[0]) * 1000 / rate

    d0, d1 = warm[0][1], warm[-1][1]
    driver_growth = per_thousand([s[1] for s in warm])
    print(f"soak RSS driver: {d0 / 1024:.0f} -> {d1 / 1024:.0f} MB ({driver_growth:+.2f} MB per 1000 frames)")
    for pid in sorted(set(warm[0][2]) & set(warm[-1][2])):
        kept = [s for s in warm if pid in s[2]]
        if len(kept) != len(warm):
            continue  # a worker restarted mid-run: no single series
        series = [s[2][pid] for s in warm]
        print(
            f"soak RSS worker {pid}: {series[0] / 1024:.0f} -> {series[-1] / 1024:.0f} MB "
            f"({per_thousand(series):+.2f} MB per 1000 frames)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=(40, 200), help="two frame counts")
    parser.add_argument("--shard-size", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--soak", type=int, default=0, help="frames of the soak run (0: none)")
    parser.add_argument("--soak-only", action="store_true", help="the soak run alone (no comparison, no model)")
    args = parser.parse_args()

    import ray
    from scenesmith.scenarios.loader import parse

    root = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    scene = root / "bench_ray.yaml"
    scene.write_text(SCENE)
    doc = parse(scene)
    ray.init(include_dashboard=False, logging_level="WARNING", num_cpus=args.workers)
    small, large = args.frames
    w, n = args.workers, args.shard_size
    run_once(doc, root / "warm-up", "local", 1, 2, 1)  # compile caches, file-system caches
    if args.soak_only:
        soak(doc, root, args.soak, w)
        ray.shutdown()
        return
    times: dict[tuple, dict[str, float]] = {}
    # interleaved, so a change in the machine's load hits both executors alike
    for frames, shard, workers in ((large, n, w), (large, 1, w), (large, n, 1), (small, n, w)):
        for executor in ("local", "ray"):
            key = (executor, frames, shard, workers)
            times[key] = run_once(doc, root / "_".join(map(str, key)), executor, workers, frames, shard)
            print(key, {k: round(v, 3) for k, v in times[key].items()}, flush=True)

    print(
        f"\nscene 160 x 120, {w} workers, shard size {n}, {large} frames; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    model: dict[str, float] = {}
    for executor in ("local", "ray"):
        steady = times[(executor, large, n, w)]
        frame_s = w / steady["rate"]  # one worker's seconds per frame, shards of n
        per_shard = (w / times[(executor, large, 1, w)]["rate"] - frame_s) / (1 - 1 / n)
        start = steady["run"] - large / steady["rate"]
        merge = (steady["merge"] - times[(executor, small, n, w)]["merge"]) / (large - small)
        print(
            f"{executor:5s}: {frame_s * 1000:6.1f} ms per frame and worker (shards of {n}), "
            f"{per_shard * 1000:5.1f} ms per shard, start-up {start:.1f} s, merge {merge * 1000:.3f} ms/frame; "
            f"throughput 1 worker {times[(executor, large, n, 1)]['rate']:.2f}, {w} workers {steady['rate']:.2f} "
            f"frames/s (x{steady['rate'] / times[(executor, large, n, 1)]['rate']:.2f})"
        )
        model.update({f"{executor}_frame": frame_s, f"{executor}_shard": per_shard, f"{executor}_start": start})
        model[f"{executor}_merge"] = merge
    print(
        f"Ray vs the pool: per frame {model['ray_frame'] / model['local_frame'] - 1:+.1%} "
        f"({(model['ray_frame'] - model['local_frame']) * 1000:+.1f} ms), per shard "
        f"{(model['ray_shard'] - model['local_shard']) * 1000:+.1f} ms"
    )
    shard_s = max(model["ray_shard"], 0.0)
    merge_s = max(model["ray_merge"], 0.0)
    start_s = max(model["ray_start"], 0.0)
    for frame_s, what in ((model["ray_frame"], "this scene"), (1.7, "tabletop 640 x 480 with camera models")):
        print(
            f"\nmodel, {DATASET_FRAMES:.0e} frames of {what}: {frame_s * 1000:.0f} ms/frame, per-shard "
            f"{shard_s * 1000:.0f} ms, driver merge {merge_s * 1000:.3f} ms/frame, start-up {start_s:.1f} s"
        )
        sizes = (1, 4, 16, 64, 256, 1024)
        print("workers  " + "  ".join(f"n={s:<5d}" for s in sizes))
        for workers in (8, 16, 32, 64, 128, 256):
            cells = [efficiency(workers, s, frame_s, shard_s, merge_s, start_s) for s in sizes]
            print(f"{workers:7d}  " + "  ".join(f"{c:7.3f}" for c in cells))
        best = next(
            (s for s in range(1, 100_001) if efficiency(256, s, frame_s, shard_s, merge_s, start_s) >= 0.9), None
        )
        cap = frame_s / 256 / (frame_s / 256 + merge_s)
        print(f"shard size for >= 0.9 at 256 workers: {best} (the driver's merge alone caps it at {cap:.3f})")
    if args.soak:
        soak(doc, root, args.soak, w)
    ray.shutdown()


if __name__ == "__main__":
    main()
