"""Dataset commands: ``generate``, ``verify`` and ``inspect``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from .cmd_scenario import load

__all__ = ["generate", "inspect", "options_from_args", "verify"]


def _resume_hint(args: argparse.Namespace) -> str:
    parts = ["scenesmith", "generate", args.scenario, "-o", args.output, "--seed", str(args.seed)]
    if args.frames is not None:
        parts += ["--frames", f"{args.frames.start}:{args.frames.stop}"]
    if args.shard_size is not None:
        parts += ["--shard-size", str(args.shard_size)]
    for root in args.asset_root:
        parts += ["--asset-root", root]
    if getattr(args, "executor", "local") == "ray":  # either executor may resume; keep the one asked for
        parts += ["--executor", "ray"] + (["--ray-address", args.ray_address] if args.ray_address else [])
    return "resume with: " + " ".join(parts + ["--resume"])


def options_from_args(args: argparse.Namespace, backend: str, workers: int, progress: bool) -> Any:
    """``GenerateOptions`` from the ``generate`` arguments (shared with ``isaac_generate.py``)."""
    from ..runtime.run.pipeline import GenerateOptions
    from ..runtime.run.ray_executor import RayOptions

    executor = getattr(args, "executor", "local")
    _check_ray_options(args, executor)
    cpus = getattr(args, "ray_num_cpus_per_worker", None)
    return GenerateOptions(
        out=Path(args.output),
        start=None if args.frames is None else args.frames.start,
        stop=None if args.frames is None else args.frames.stop,
        seed=args.seed,
        shard_size=args.shard_size,
        workers=workers,
        resume=args.resume,
        overwrite=args.overwrite,
        backend=backend,
        progress=progress,
        writer_process=not getattr(args, "in_process_writers", False),
        executor=executor,
        ray=RayOptions(getattr(args, "ray_address", None), 1.0 if cpus is None else cpus),
    )


def _check_ray_options(args: argparse.Namespace, executor: str) -> None:
    """The Ray options mean nothing to the local executor: refuse them there rather than ignore them."""
    from ..sensors.errors import BadInputError, Issue

    if executor != "ray":
        for option in ("ray_address", "ray_num_cpus_per_worker"):
            if getattr(args, option, None) is not None:
                name = "--" + option.replace("_", "-")
                raise BadInputError([Issue.option(name, "only used by the Ray executor", "--executor ray", name)])


def generate(args: argparse.Namespace) -> int:
    from ..runtime.run.pipeline import generate as run

    doc = load(args)
    opts = options_from_args(args, args.backend, args.workers, not args.no_progress and sys.stderr.isatty())
    try:
        result = run(doc, opts)
        # The run is finished and its manifest published: a Ctrl-C from here on (while the
        # interpreter and the writer process wind down) must not turn it into a failure.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        print(f"interrupted: finished shards are kept in {args.output}\n{_resume_hint(args)}", file=sys.stderr)
        return 130
    except Exception as exc:
        if not hasattr(exc, "resume_hint"):
            try:
                exc.resume_hint = _resume_hint(args)  # type: ignore[attr-defined]
            except AttributeError:  # exceptions without a __dict__
                pass
        raise
    print(
        f"wrote {result.frames} frames to {args.output} ({result.shards_done} shards generated, "
        f"{result.shards_kept} kept)",
        flush=True,
    )
    return 0


def _manifest_or_bad(folder: Path) -> dict:
    from ..runtime.run.manifest import load_manifest

    return load_manifest(folder)


def verify(args: argparse.Namespace) -> int:
    from ..runtime.run.manifest import verify_folder
    from .cli import EXIT_MISMATCH

    folder = Path(args.output)
    report = verify_folder(folder, _manifest_or_bad(folder))
    for line in report.lines():
        print(line)
    if not report.ok:
        print(f"verify: {len(report.lines())} problems in {report.checked} files", file=sys.stderr)
        return EXIT_MISMATCH
    print(f"ok: {report.checked} files match the manifest")
    return 0


def inspect(args: argparse.Namespace) -> int:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    from ..writers.coco_writer import ANNOTATIONS_PATH, EXTRA_KEY

    folder = Path(args.output)
    manifest = _manifest_or_bad(folder)
    console = Console()
    frames = manifest["frames"]
    console.print(
        f"[bold]{folder}[/bold]: frames {frames['start']}..{frames['stop'] - 1} "
        f"({frames['stop'] - frames['start']}), seed {manifest['seed']}, {len(manifest['shards'])} shards, "
        f"scenario {manifest['scenario_digest'][:12]}"
    )
    coco = folder / ANNOTATIONS_PATH
    if coco.is_file():
        data = json.loads(coco.read_text(encoding="utf-8"))
        names = {c["id"]: c["name"] for c in data["categories"]}
        counts = Counter(names[a["category_id"]] for a in data["annotations"])
        table = Table(title="instances per class (COCO)")
        table.add_column("class")
        table.add_column("instances", justify="right")
        table.add_column("mean visibility", justify="right")
        for name in sorted(names.values()):
            vis = [a[EXTRA_KEY]["visibility"] for a in data["annotations"] if names[a["category_id"]] == name]
            table.add_row(name, str(counts[name]), f"{sum(vis) / len(vis):.2f}" if vis else "-")
        console.print(table)
        console.print(f"images: {len(data['images'])}, annotations: {len(data['annotations'])}")
    sizes: Counter[str] = Counter()
    counts_by_top: Counter[str] = Counter()
    for rel, entry in manifest["files"].items():
        top = rel.split("/", 1)[0] if "/" in rel else "(top level)"
        sizes[top] += entry["bytes"]
        counts_by_top[top] += 1
    table = Table(title="files")
    table.add_column("folder")
    table.add_column("files", justify="right")
    table.add_column("MiB", justify="right")
    for top in sorted(sizes):
        table.add_row(top, str(counts_by_top[top]), f"{sizes[top] / 2**20:.2f}")
    console.print(table)
    return 0
