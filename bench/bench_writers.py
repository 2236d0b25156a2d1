"""Writer overhead, HDF5 throughput and COCO RLE cost on the reference scene (issue 6).

Usage (repository root, shared/ beside it)::

    .venv/bin/python bench/bench_writers.py [--frames 6]

In one process: captures frames of the reference scene (all camera annotators + RGB, 640×480),
then measures (1) the writer overhead: the generate loop (sample, apply, capture, write) with
the HDF5, COCO and pose writers in the writer process (the default) and in this process,
beside the same loop capturing only, as extra time per frame over the capture time (target
≤ 20%), and the CPU time each writer spends per frame; (2) HDF5 write throughput beside a raw
sequential write of the same bytes to the same disk; (3) pycocotools RLE time per mask.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FIXTURES, REPO, SCENE, _scenario


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _loop_overhead(
    resolved: Any, backend: Any, info: Any, frames: int, compression: str, shard_size: int, rounds: int = 5
) -> dict[str, float]:
    """Median seconds per frame of the generate loop over ``frames`` frames in shards of
    ``shard_size``: capture only, writers in the writer process (generate's default), writers
    in this process. Every shard is closed and published inside the timing."""
    from scenesmith.runtime.run.shard_writer import ShardWriter
    from scenesmith.runtime.run.shards import ShardJob, plan_shards
    from scenesmith.runtime.run.writer_process import BackgroundShardWriter, WriterProcess
    from scenesmith.scenarios.sampler import sample

    configs: dict[str, dict[str, Any]] = {"hdf5": {"compression": compression}, "coco": {}, "pose": {}}
    doc = resolved.document
    plans = plan_shards(0, frames, shard_size)
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        process = WriterProcess()

        def job(name: str, plan: Any) -> ShardJob:
            return ShardJob(doc, 0, plan, Path(tmp) / name, "embedded", configs, info)

        warm = BackgroundShardWriter(job("warm", plans[0]), resolved, process)  # child imports, first files
        for i in plans[0].frames:
            warm.write(i, backend.capture(sample(resolved, 0, i)), None)
        warm.close()
        process.collect()
        makers = {
            "capture only": lambda plan, r: None,
            "writers in writer process": lambda plan, r: BackgroundShardWriter(job(f"bg{r}", plan), resolved, process),
            "writers in this process": lambda plan, r: ShardWriter(job(f"fg{r}", plan), resolved),
        }
        samples: dict[str, list[float]] = {name: [] for name in makers}
        cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
        for r in range(rounds):  # interleaved rounds: machine noise hits every variant alike
            for name, make in makers.items():
                start = time.perf_counter()
                cpu_start = (time.process_time(), _process_cpu_s(process.pid))
                for plan in plans:
                    shard = make(plan, r)
                    for i in plan.frames:
                        params = sample(resolved, 0, i)
                        backend.apply(params)
                        payload = backend.capture(params)
                        if shard is not None:
                            shard.write(i, payload, None)
                    if shard is not None:
                        shard.close()
                process.collect()  # the writer process's last shards, inside the timing
                samples[name].append((time.perf_counter() - start) / frames)
                cpu_end = (time.process_time(), _process_cpu_s(process.pid))
                cpu[name].append(tuple((b - a) / frames for a, b in zip(cpu_start, cpu_end, strict=True)))
        out = {name: statistics.median(values) for name, values in samples.items()}
        base = samples["capture only"]
        for name, values in samples.items():  # paired per round: the machine drifts between rounds
            out[f"overhead {name}"] = statistics.median(v / b - 1 for v, b in zip(values, base, strict=True))
        for name, values in cpu.items():  # core-seconds per frame: this process, writer process
            out[f"cpu {name}"] = tuple(statistics.median(v[i] for v in values) for i in range(2))
        process.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--loop-frames", type=int, default=32, help="frames of each generate-loop measurement")
    parser.add_argument("--shard-size", type=int, default=8, help="shard size in the loop (the scenario default)")
    parser.add_argument("--compression", choices=("auto", "lzf", "gzip", "none"), default="auto")
    args = parser.parse_args()
    if not SCENE.is_file():
        print(f"reference scene not found at {SCENE}", file=sys.stderr)
        return 2

    from scenesmith import SCHEMA_VERSION, __version__
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.run.pipeline import run_categories
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample
    from scenesmith.writers.base import RunInfo, ShardContext
    from scenesmith.writers.coco_writer import CocoWriter, rle_encode
    from scenesmith.writers.hdf5_writer import Hdf5Writer
    from scenesmith.writers.pose_writer import PoseJsonWriter

    resolved = resolve(build(_scenario(640, 480), base_dir=REPO / "bench", asset_roots=(FIXTURES,)))
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    backend.capture(params)
    payloads, capture_s = [], []
    for i in range(args.frames):
        params = sample(resolved, 0, i)
        backend.apply(params)
        start = time.perf_counter()
        payloads.append(backend.capture(params))
        capture_s.append(time.perf_counter() - start)

    info = RunInfo(
        __version__,
        SCHEMA_VERSION,
        resolved.scenario_digest,
        resolved.randomization_digest,
        0,
        run_categories(resolved) or ("box", "cylinder", "sphere", "torus"),
        ("cam",),
    )
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        out = Path(tmp)
        context = ShardContext(out, 0, (0, args.frames), info)
        writers = {"hdf5": Hdf5Writer(compression=args.compression), "coco": CocoWriter(), "pose": PoseJsonWriter()}
        spent = {name: 0.0 for name in writers}
        for name, writer in writers.items():
            start = time.perf_counter()
            writer.open(context)
            for payload in payloads:
                writer.write(payload)
            writer.close()
            spent[name] = time.perf_counter() - start
        h5 = next((out / "hdf5").glob("*.h5"))
        h5_bytes = h5.stat().st_size
        uncompressed = sum(
            value.nbytes
            for p in payloads
            for a in p["annotators"].values()
            if isinstance(a, dict)
            for v in a.values()
            if isinstance(v, dict)
            for value in v.values()
            if isinstance(value, np.ndarray)
        )
        # uncompressed HDF5 for a like-for-like throughput figure
        start = time.perf_counter()
        plain = Hdf5Writer(compression="none")
        plain.open(ShardContext(out / "plain", 0, (0, args.frames), info))
        for payload in payloads:
            plain.write(payload)
        plain.close()
        plain_s = time.perf_counter() - start
        plain_bytes = next((out / "plain" / "hdf5").glob("*.h5")).stat().st_size
        # raw sequential write of as many bytes as the uncompressed HDF5 file, fsynced like it
        blob = os.urandom(plain_bytes)
        start = time.perf_counter()
        with open(out / "raw.bin", "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        raw_s = time.perf_counter() - start

    masks = []
    for payload in payloads:
        seg = payload["annotators"]["instance_segmentation"]["cam"]["data"]
        masks += [seg == i for i in np.unique(seg) if i >= 2]
    start = time.perf_counter()
    for mask in masks:
        rle_encode(mask)
    rle_ms = (time.perf_counter() - start) / max(1, len(masks)) * 1e3

    loops = _loop_overhead(resolved, backend, info, args.loop_frames, args.compression, args.shard_size)
    capture = statistics.median(capture_s)
    per_frame = {name: s / args.frames for name, s in spent.items()}
    total = sum(per_frame.values())
    print(f"reference scene 640x480, all annotators, {args.frames} frames")
    print(f"  capture: {capture * 1e3:.1f} ms/frame (median)")
    for name, s in per_frame.items():
        print(f"  writer {name:5s}: {s * 1e3:7.1f} ms/frame ({s / capture:.1%} of capture)")
    print(f"  all writers, CPU in one process: {total * 1e3:.1f} ms/frame = {total / capture:.1%} of capture")
    for name, per_frame_s in loops.items():
        if name.startswith(("cpu ", "overhead ")):
            continue
        overhead = loops[f"overhead {name}"]
        extra = f" -> writer overhead {overhead:.1%} of capture" if name != "capture only" else ""
        here, child = loops[f"cpu {name}"]
        print(
            f"  loop, {name:26s}: {per_frame_s * 1e3:6.1f} ms/frame{extra}"
            f" (CPU ms/frame: this process {here * 1e3:.0f}, writer process {child * 1e3:.0f})"
        )
    print(
        f"  (loops: {args.loop_frames} frames in shards of {args.shard_size}, medians of 5 interleaved rounds;"
        " overhead: median over rounds of the round's ratio to capture only)"
    )
    print("  (target: writer overhead <= 20% with the default writer process)")
    print(f"  HDF5 {args.compression}: {h5_bytes / 2**20:.1f} MiB from {uncompressed / 2**20:.1f} MiB of arrays")
    print(
        f"  HDF5 uncompressed: {plain_bytes / 2**20 / plain_s:.0f} MiB/s vs raw sequential write "
        f"{plain_bytes / 2**20 / raw_s:.0f} MiB/s (ratio {raw_s / plain_s:.2f})"
    )
    print(f"  COCO RLE: {rle_ms:.3f} ms per mask over {len(masks)} masks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
