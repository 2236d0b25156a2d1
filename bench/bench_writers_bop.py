"""BOP writer cost beside HDF5 + COCO on the table-top example (issue 18), per frame and as a
share of capture time.

Usage (repository root)::

    .venv/bin/python bench/bench_writers_bop.py [--frames 4]

In one process: captures frames of ``config/scenarios/tabletop.yaml`` (640×480, its own render
settings) with every annotator the HDF5, COCO and BOP writers read, timing the capture; the
amodal pass exists for BOP, so its cost is reported beside the writer's, as the difference
between capturing ``instance_segmentation`` alone and with ``instance_segmentation_amodal``
(no RGB, whose render noise would swamp it; the fastest of 3 each). In the writers' own set the
boxes' occlusion pass runs anyway, and the amodal masks reuse it. Then runs each writer alone over the
same payloads, timing open, every write, close and the end-of-run merge, per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENE = REPO / "config" / "scenarios" / "tabletop.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args()

    from scenesmith import SCHEMA_VERSION, __version__
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.run.pipeline import run_categories
    from scenesmith.runtime.usd.object_models import object_models
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.runtime.usd.stage import author_stage
    from scenesmith.scenarios.loader import parse
    from scenesmith.scenarios.sampler import sample
    from scenesmith.sensors.outputs import AMODAL_ANNOTATOR
    from scenesmith.writers.base import RunInfo, ShardContext
    from scenesmith.writers.bop_writer import BopWriter
    from scenesmith.writers.coco_writer import CocoWriter
    from scenesmith.writers.hdf5_writer import Hdf5Writer

    resolved = resolve(parse(SCENE))
    writers = {"hdf5": Hdf5Writer, "coco": CocoWriter, "bop": BopWriter}
    camera, spec = next(iter(resolved.scenario.cameras.items()))
    wanted = tuple(dict.fromkeys([*spec.outputs(), *(a for w in writers.values() for a in w().requires())]))
    labels_without = ("instance_segmentation",)
    labels = (*labels_without, AMODAL_ANNOTATOR)

    def fastest(params: object, annotators: tuple[str, ...]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            backend.capture(params, {camera: annotators})
            times.append(time.perf_counter() - start)
        return min(times)

    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    backend.capture(params, {camera: wanted})  # warm-up: compiled kernels, BVH caches
    payloads, capture_s, amodal_s = [], [], []
    for i in range(args.frames):
        params = sample(resolved, 0, i)
        backend.apply(params)
        start = time.perf_counter()
        payloads.append(backend.capture(params, {camera: wanted}))
        capture_s.append(time.perf_counter() - start)
        amodal_s.append(fastest(params, labels) - fastest(params, labels_without))
    backend.close()

    info = RunInfo(
        __version__,
        SCHEMA_VERSION,
        resolved.scenario_digest,
        resolved.randomization_digest,
        0,
        run_categories(resolved),
        tuple(sorted(resolved.scenario.cameras)),
        objects=object_models(resolved, author_stage(resolved)),
    )
    spent = {}
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        for name, cls in writers.items():
            out = Path(tmp) / name
            writer = cls()
            start = time.perf_counter()
            writer.open(ShardContext(out, 0, (0, args.frames), info))
            for payload in payloads:
                writer.write(payload)
            writer.close()
            writer.on_final_frame(out, info, [0])
            spent[name] = (time.perf_counter() - start) / args.frames
    capture = statistics.median(capture_s)
    amodal = statistics.median(amodal_s)
    print(f"{SCENE.name} {spec.resolution[0]}x{spec.resolution[1]}, {args.frames} frames, medians")
    print(f"  capture (every annotator the writers read): {capture * 1e3:8.1f} ms/frame")
    share = amodal / capture
    print(f"  amodal annotator alone (no boxes):          {amodal * 1e3:8.1f} ms/frame ({share:.1%} of capture)")
    for name, s in spent.items():
        print(f"  writer {name:5s} (in one process):            {s * 1e3:8.1f} ms/frame ({s / capture:.1%} of capture)")
    both = spent["hdf5"] + spent["coco"]
    total = (spent["bop"] + amodal) / capture
    print(f"  BOP / (HDF5 + COCO): {spent['bop'] / both:.2f}; BOP writer + amodal pass: {total:.1%} of capture")
    print("  (target: each writer <= 10% of capture time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
