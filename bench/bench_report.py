"""How long the numbers of ``scenesmith report`` take on a 1,000-frame run (issue 20).

Usage (repository root)::

    .venv/bin/python bench/bench_report.py [--frames 1000] [--resolution 64x48] [--repeats 3]

Generates ``tests/scenarios/report_tiny.yaml`` at a small resolution once (kept in a cache
folder beside the system's temporary files, reused while the scenario is unchanged), then
times ``build_report`` (labels, coverage, conditions, checks; no images decoded except the
instance masks the label ↔ mask check reads) without and with ``verify`` (which re-hashes
every file), then the HTML page from the last document (sample grid and charts), the best of
``--repeats``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "tests" / "scenarios" / "report_tiny.yaml"
CONDITIONS_TEXT = """version: 1
target_frames: 20
axes:
  elevation: {lineage: camera_orbit.elevation_deg, bins: [30.0, 40.0, 50.0, 65.0]}
  class: {label: class}
  occlusion: {label: occlusion, bins: [0.0, 0.1, 0.5, 1.0]}
"""


def _run(frames: int, resolution: str) -> Path:
    from scenesmith.runtime.run.pipeline import GenerateOptions, generate
    from scenesmith.scenarios import loader

    width, height = (int(v) for v in resolution.split("x"))
    text = SCENARIO.read_text().replace("resolution: [32, 24]", f"resolution: [{width}, {height}]")
    key = hashlib.sha256(f"{text}{frames}".encode()).hexdigest()[:12]
    out = Path(tempfile.gettempdir()) / f"scenesmith-bench-report-{key}"
    if (out / "manifest.json").is_file():
        return out
    scenario = Path(tempfile.gettempdir()) / f"scenesmith-bench-report-{key}.yaml"
    scenario.write_text(text)
    # asset paths: none (primitives only), so the scenario may live anywhere
    doc = loader.parse(scenario)
    start = time.perf_counter()
    generate(
        doc,
        GenerateOptions(out=out, start=0, stop=frames, shard_size=250, progress=False, overwrite=True),
    )
    print(f"generated {frames} frames at {resolution} in {time.perf_counter() - start:.1f} s -> {out}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--resolution", default="64x48")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from scenesmith.report.document import build_report
    from scenesmith.scripts.cmd_report import verify_lines

    out = _run(args.frames, args.resolution)
    conditions = Path(tempfile.gettempdir()) / "scenesmith-bench-report-conditions.yaml"
    conditions.write_text(CONDITIONS_TEXT)
    rows = []
    for label, kwargs in (
        ("build_report", {}),
        ("build_report + conditions", {"conditions": conditions}),
        ("build_report + conditions + verify", {"conditions": conditions, "verifier": verify_lines}),
    ):
        best = float("inf")
        steps: dict[str, float] = {}
        for _ in range(args.repeats):
            marks: list[tuple[str, float]] = []
            start = time.perf_counter()
            doc = build_report(
                out, progress=lambda step, _done, m=marks: m.append((step, time.perf_counter())), **kwargs
            )
            total = time.perf_counter() - start
            if total < best:
                best = total
                # each mark is a step's start; a step lasts until the next one starts
                steps = {a[0]: b[1] - a[1] for a, b in zip(marks, marks[1:])}
        rows.append((label, best, steps))
        assert doc["run"]["n_frames"] == args.frames
    from scenesmith.report.html import render_html

    best, size = float("inf"), 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        page = render_html(doc, out)
        best, size = min(best, time.perf_counter() - start), len(page)
    charts = page.count("data:image/svg+xml")
    rows.append((f"render_html ({len(doc['sample_frames'])} frames, {charts} charts)", best, {"MB": size / 1e6}))
    print(f"{args.frames} frames, {args.resolution}, best of {args.repeats}:")
    for label, best, steps in rows:
        detail = ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        print(f"  {label:40s} {best:6.2f} s   ({detail})")


if __name__ == "__main__":
    main()
