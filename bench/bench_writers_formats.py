"""Per-frame cost of the YOLO, KITTI, VOC and webdataset writers beside HDF5 + COCO (issue 18).

Usage (repository root)::

    .venv/bin/python bench/bench_writers_formats.py [--frames 6]

Captures frames of ``config/scenarios/tabletop.yaml`` (640×480, a LiDAR) with the embedded
backend, timing each capture, then runs each writer alone in this process over the same
payloads (open, every frame, close) and prints its wall time per frame as a share of the
median capture time (the issue's target: each new format ≤ 10 %). Writers run one after the
other on an otherwise idle process, so the numbers are CPU cost, not overlap with capture
(``generate`` runs writers in a separate writer process). Camera lenses are removed from the
scenario (KITTI refuses lensed cameras; the other writers do not care).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "config" / "scenarios" / "tabletop.yaml"
WRITERS: dict[str, tuple[str, dict[str, Any]]] = {
    "hdf5": ("hdf5", {}),
    "coco": ("coco", {}),
    "yolo detect": ("yolo", {"task": "detect"}),
    "yolo segment": ("yolo", {"task": "segment"}),
    "kitti": ("kitti", {}),
    "voc": ("voc", {}),
    "webdataset": ("webdataset", {}),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=6)
    args = parser.parse_args()

    from scenesmith import SCHEMA_VERSION, __version__
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.run.pipeline import run_categories
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import parse
    from scenesmith.scenarios.sampler import sample
    from scenesmith.writers.base import RunInfo, ShardContext
    from scenesmith.writers.registry import default_registry

    doc = parse(SCENARIO)
    cameras = {name: cam.model_copy(update={"lens": None}) for name, cam in doc.scenario.cameras.items()}
    doc = dataclasses.replace(doc, scenario=doc.scenario.model_copy(update={"cameras": cameras}))
    resolved = resolve(doc)
    backend = EmbeddedBackend()
    backend.build(resolved)
    warm = sample(resolved, 0, 0)
    backend.apply(warm)
    backend.capture(warm)  # warm-up: kernels compiled, caches filled
    payloads, capture_s = [], []
    for i in range(args.frames):
        params = sample(resolved, 0, i)
        backend.apply(params)
        start = time.perf_counter()
        payloads.append(backend.capture(params))
        capture_s.append(time.perf_counter() - start)
    s = resolved.scenario
    info = RunInfo(
        __version__,
        SCHEMA_VERSION,
        resolved.scenario_digest,
        resolved.randomization_digest,
        0,
        run_categories(resolved),
        tuple(sorted(s.cameras)),
        tuple(sorted(s.lidars)),
    )
    capture = statistics.median(capture_s)
    registry = default_registry()
    print(f"{SCENARIO.name}: {args.frames} frames, capture {capture * 1e3:.0f} ms/frame (median)")
    with tempfile.TemporaryDirectory() as tmp:
        for label, (name, options) in WRITERS.items():
            writer = registry.get(name)(**options)
            out = Path(tmp) / label.replace(" ", "_")
            start = time.perf_counter()
            writer.open(ShardContext(out, 0, (0, args.frames), info))
            for payload in payloads:
                writer.write(payload)
            writer.close()
            writer.on_final_frame(out, info, [0])
            per_frame = (time.perf_counter() - start) / args.frames
            print(f"  {label:13s} {per_frame * 1e3:7.1f} ms/frame = {per_frame / capture:6.1%} of capture")
    return 0


if __name__ == "__main__":
    sys.exit(main())
