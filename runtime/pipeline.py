"""``generate``: sample, apply, simulate, capture and write every frame, in shards.

The output folder holds ``run.json`` (the run's parameters, written first), ``scenario.yaml``
(the validated scenario), ``resolved.json`` (digests and asset measurements), ``stage.usda``
(the authored stage), ``shards/``, ``hdf5/``, ``coco/``, ``pose/`` and finally
``manifest.json``. Shards run in this process (``workers=1``) or in worker processes, one
shard at a time each; every frame depends only on (scenario, seed, frame), so the merged output
is identical for any worker count and shard size. Interrupted runs keep their published
shards; ``resume`` redoes the rest and ends with output identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import shutil
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import SCHEMA_VERSION, __version__
from ..scenarios.errors import BadInputError, Issue
from ..scenarios.loader import ScenarioDocument
from ..scenarios.resolved import ResolvedScenario
from ..scenarios.sampler import sample
from ..scenarios.yaml_dump import dump_yaml
from ..sensors.outputs import PHYSICS_STATE_KEY
from ..writers.base import RunInfo, ShardContext, Writer, atomic_write_bytes
from ..writers.content_hash import frame_content_hash
from ..writers.registry import default_registry
from .backend import Backend, check_supported, create_backend
from .manifest import build_manifest, environment
from .resolve import resolve
from .shards import ShardPlan, load_valid_records, plan_shards, publish_record, sweep

__all__ = ["GenerateOptions", "GenerateResult", "generate", "run_categories"]

log = logging.getLogger(__name__)

DEFAULT_FRAMES = 10


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    start: int | None = None
    stop: int | None = None
    seed: int = 0
    shard_size: int | None = None
    workers: int = 1
    resume: bool = False
    overwrite: bool = False
    backend: str = "embedded"
    progress: bool = True


@dataclass
class GenerateResult:
    frames: int
    shards_done: int
    shards_kept: int
    manifest: dict[str, Any]


def _bad(option: str, message: str, expected: str, got: object) -> BadInputError:
    return BadInputError([Issue(option, 1, 1, option, message, expected, str(got))])


def run_categories(resolved: ResolvedScenario) -> tuple[str, ...]:
    """Sorted class labels of everything that can be labelled (COCO categories, DESIGN §9)."""
    s = resolved.scenario
    labels = set()
    for asset in s.assets.values():
        if asset.semantics and "class" in asset.semantics:
            labels.add(", ".join(asset.semantics["class"]))
    for dist in s.distractors.values():
        if dist.labelled:
            labels.add(
                ", ".join(dist.semantics["class"]) if dist.semantics and "class" in dist.semantics else "distractor"
            )
    return tuple(sorted(labels))


def _writers(resolved: ResolvedScenario) -> dict[str, dict[str, Any]]:
    spec = resolved.scenario.output.writers
    return {
        name: getattr(spec, name).model_dump(mode="json")
        for name in ("hdf5", "coco", "pose", "pointcloud")
        if getattr(spec, name) is not None
    }


def _instantiate(configs: dict[str, dict[str, Any]]) -> list[Writer]:
    registry = default_registry()
    return [registry.get(name)(**options) for name, options in sorted(configs.items())]


def _annotators(resolved: ResolvedScenario, writers: list[Writer]) -> dict[str, tuple[str, ...]]:
    """Each camera's annotators plus what the writers need (order kept, no duplicates)."""
    needed = [a for w in writers for a in w.requires()]
    return {name: tuple(dict.fromkeys([*cam.annotators, *needed])) for name, cam in resolved.scenario.cameras.items()}


# --------------------------------------------------------------------------- one shard


@dataclass(frozen=True)
class _Job:
    document: ScenarioDocument
    seed: int
    plan: ShardPlan
    out: Path
    backend: str
    writer_configs: dict[str, dict[str, Any]]
    run_info: RunInfo


_WORKER_STATE: dict[str, Any] = {}


def _engine(job: _Job) -> tuple[ResolvedScenario, Backend]:
    """Resolve and build once per process (cached across the shards a worker runs)."""
    key = (job.document.file, job.run_info.scenario_digest, job.backend)
    if _WORKER_STATE.get("key") != key:
        resolved = resolve(job.document)
        engine = create_backend(job.backend)
        engine.build(resolved)
        _WORKER_STATE.update(key=key, resolved=resolved, engine=engine)
    return _WORKER_STATE["resolved"], _WORKER_STATE["engine"]


def _run_shard(job: _Job, on_frame: Callable[[int], None] | None = None) -> dict[str, Any]:
    resolved, engine = _engine(job)
    writers = _instantiate(job.writer_configs)
    annotators = _annotators(resolved, writers)
    context = ShardContext(job.out, job.plan.shard_id, (job.plan.start, job.plan.stop), job.run_info)
    for writer in writers:
        writer.open(context)
    hashes: dict[int, str] = {}
    for frame in job.plan.frames:
        try:
            params = sample(resolved, job.seed, frame)
            engine.apply(params)
            state = engine.simulate(params)
            payload = engine.capture(params, annotators)  # type: ignore[call-arg]
            if state is not None:
                payload[PHYSICS_STATE_KEY] = state
            hashes[frame] = frame_content_hash(payload)
            for writer in writers:
                writer.write(payload)
        except BadInputError:
            raise
        except Exception as exc:
            exc.frame_index = frame  # type: ignore[attr-defined]  # the CLI reports where it failed
            raise
        if on_frame is not None:
            on_frame(1)
    files = [f for writer in writers for f in writer.close()]
    return publish_record(job.out, job.plan, files, hashes)


def _worker(job: _Job, queue: Any) -> dict[str, Any]:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent decides; workers just die
    return _run_shard(job, lambda n: queue.put(n))


# --------------------------------------------------------------------------- the run


def _run_parameters(
    resolved: ResolvedScenario,
    opts: GenerateOptions,
    start: int,
    stop: int,
    shard_size: int,
    writers: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "environment": environment(),
        "scenario_digest": resolved.scenario_digest,
        "randomization_digest": resolved.randomization_digest,
        "seed": opts.seed,
        "frames": {"start": start, "stop": stop},
        "shard_size": shard_size,
        "backend": opts.backend,
        "writers": writers,
    }


def _prepare_folder(opts: GenerateOptions, run: dict[str, Any]) -> None:
    out = opts.out
    if out.exists() and not out.is_dir():
        raise _bad("--output", "output path is a file", "a folder", out)
    non_empty = out.is_dir() and any(out.iterdir())
    if non_empty and opts.overwrite:
        shutil.rmtree(out)
    elif non_empty and opts.resume:
        previous_path = out / "run.json"
        if not previous_path.is_file():
            raise _bad("--resume", "the folder holds no scenesmith run to resume", "a folder with run.json", out)
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
        for key in ("scenario_digest", "seed", "frames", "shard_size", "backend", "writers", "schema_version"):
            if previous.get(key) != run[key]:
                raise _bad(
                    "--resume",
                    f"the run to resume has a different {key}",
                    json.dumps(previous.get(key)),
                    json.dumps(run[key]),
                )
        return
    elif non_empty:
        raise _bad(
            "--output", "output folder exists and is not empty", "a new or empty folder (or --resume, --overwrite)", out
        )
    if not out.parent.is_dir():
        raise _bad("--output", "parent folder does not exist", "an existing parent folder", out.parent)
    out.mkdir(exist_ok=True)
    atomic_write_bytes(out / "run.json", (json.dumps(run, indent=1, sort_keys=True) + "\n").encode(), fsync=True)


def _write_run_files(out: Path, resolved: ResolvedScenario) -> list[Path]:
    """scenario.yaml, resolved.json and stage.usda (+ its textures); deterministic."""
    from .stage import author_stage

    atomic_write_bytes(out / "scenario.yaml", dump_yaml(resolved.scenario).encode())
    measured = {
        "scenario_digest": resolved.scenario_digest,
        "randomization_digest": resolved.randomization_digest,
        "asset_digests": resolved.asset_digests,
        "assets": {
            name: {
                "kind": g.kind,
                "bounds_m": [list(g.bounds.min), list(g.bounds.max)],
                "support_height_m": None if g.support is None else g.support.height,
            }
            for name, g in sorted(resolved.assets.items())
        },
    }
    atomic_write_bytes(out / "resolved.json", (json.dumps(measured, indent=1, sort_keys=True) + "\n").encode())
    stage = author_stage(resolved, texture_dir=out / "stage_textures")
    atomic_write_bytes(out / "stage.usda", stage.GetRootLayer().ExportToString().encode())
    files = [Path("scenario.yaml"), Path("resolved.json"), Path("stage.usda")]
    textures = out / "stage_textures"
    if textures.is_dir():
        files += sorted(p.relative_to(out) for p in textures.iterdir())
    return files


def _progress(enabled: bool, total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    class _Rate(TextColumn):
        def __init__(self) -> None:
            super().__init__("")

        def render(self, task: Any) -> Any:
            from rich.text import Text

            speed = task.speed
            return Text(f"{speed:.2f} frames/s" if speed else "-- frames/s")

    progress = Progress(
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )
    return progress


def generate(doc: ScenarioDocument, opts: GenerateOptions) -> GenerateResult:
    s = doc.scenario
    start = 0 if opts.start is None else opts.start
    stop = (s.output.frames or DEFAULT_FRAMES) if opts.stop is None else opts.stop
    shard_size = opts.shard_size or s.output.shard_size
    resolved = resolve(doc)
    check_supported(resolved, create_backend(opts.backend).capabilities(), opts.backend)
    episode = s.physics.episode.frames if s.physics.enabled else 1
    if episode > 1 and (shard_size % episode or start % episode):
        raise _bad(
            "--shard-size",
            "shards must hold whole episodes",
            f"a multiple of physics.episode.frames ({episode}) and a start frame on an episode boundary",
            f"shard size {shard_size}, start {start}",
        )
    writer_configs = _writers(resolved)
    run = _run_parameters(resolved, opts, start, stop, shard_size, writer_configs)
    _prepare_folder(opts, run)
    out = opts.out
    plans = plan_shards(start, stop, shard_size)
    records = load_valid_records(out, plans)
    removed = sweep(out, records)
    if removed:
        log.info("removed %d files of unfinished shards", len(removed))
    run_files = [Path("run.json"), *_write_run_files(out, resolved)]
    info = RunInfo(
        __version__,
        SCHEMA_VERSION,
        resolved.scenario_digest,
        resolved.randomization_digest,
        opts.seed,
        run_categories(resolved),
        tuple(sorted(s.cameras)),
        tuple(sorted(s.lidars)),
    )
    todo = [p for p in plans if p.shard_id not in records]
    kept = len(records)
    jobs = [_Job(doc, opts.seed, plan, out, opts.backend, writer_configs, info) for plan in todo]
    total = sum(len(p.frames) for p in plans)
    progress = _progress(opts.progress, total)
    try:
        with progress:
            task = progress.add_task("frames", total=total, completed=total - sum(len(j.plan.frames) for j in jobs))
            advance = lambda n: progress.advance(task, n)  # noqa: E731
            if opts.workers == 1 or len(jobs) <= 1:
                for job in jobs:
                    records[job.plan.shard_id] = _run_shard(job, advance)
            else:
                records.update(_run_pool(jobs, opts.workers, advance))
    except BaseException:
        # Keep what was published; remove the unfinished shards' files so nothing half-written
        # looks complete. --resume redoes them.
        sweep(out, load_valid_records(out, plans))
        raise
    for writer in _instantiate(writer_configs):
        run_files += writer.on_final_frame(out, info, sorted(records))
    manifest = build_manifest(out, run, records, run_files)
    return GenerateResult(total, len(jobs), kept, manifest)


def _run_pool(jobs: list[_Job], workers: int, advance: Callable[[int], None]) -> dict[int, dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    queue = manager.Queue()
    results: dict[int, dict[str, Any]] = {}
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx)
    try:
        pending = {pool.submit(_worker, job, queue): job for job in jobs}
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            while not queue.empty():
                advance(queue.get_nowait())
            for future in done:
                job = pending.pop(future)
                record = future.result()
                results[job.plan.shard_id] = record
        while not queue.empty():
            advance(queue.get_nowait())
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        manager.shutdown()
        raise
    pool.shutdown(wait=True)
    manager.shutdown()
    time.sleep(0)
    return results
