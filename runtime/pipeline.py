"""``generate``: sample, apply, simulate, capture and write every frame, in shards.

The output folder holds ``run.json`` (the run's parameters, written first), ``scenario.yaml``
(the validated scenario), ``resolved.json`` (digests and asset measurements), ``stage.usda``
(the authored stage; ``stage_textures/`` and ``stage_assets/`` hold the files it names, so the
folder can move), ``shards/``, ``hdf5/``, ``coco/``, ``pose/`` and finally
``manifest.json``. Shards run in this process (``workers=1``) or in worker processes, one
shard at a time each; every frame depends only on (scenario, seed, frame), so the merged output
is identical for any worker count and shard size. Interrupted runs keep their published
shards; ``resume`` redoes the rest and ends with output identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import SCHEMA_VERSION, __version__, config_path
from ..scenarios.loader import ScenarioDocument
from ..scenarios.resolved import ResolvedScenario
from ..scenarios.yaml_dump import dump_yaml
from ..sensors.errors import BadInputError, Issue
from ..writers.base import RunInfo, atomic_write_bytes
from ..writers.content_hash import FRAME_HASH
from .backend import Backend, Capabilities, check_supported, create_backend
from .frame_step import step_frame
from .ipc_names import reclaim, run_key, semaphore_prefix
from .manifest import build_manifest, environment
from .resolve import resolve
from .run_folder import (
    LOCK_NAME,
    FolderLock,
    check_inputs_outside,
    check_overwrite_allowed,
    is_run,
    remove_owned,
    sweep,
)
from .shard_writer import ShardWriter, instantiate_writers
from .shards import ShardPlan, load_valid_records, plan_shards
from .writer_process import BackgroundShardWriter, WriterProcess

__all__ = [
    "GenerateOptions",
    "GenerateResult",
    "RunSetup",
    "ShardJob",
    "ShardWriter",
    "abandon_run",
    "finish_run",
    "generate",
    "prepare_run",
    "run_categories",
]

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
    writer_process: bool = True
    """With one worker, write in a child process while the next frame is captured."""


@dataclass
class GenerateResult:
    frames: int
    shards_done: int
    shards_kept: int
    manifest: dict[str, Any]


def _bad(option: str, message: str, expected: str, got: object) -> BadInputError:
    return BadInputError([Issue.option(option, message, expected, str(got))])


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
    # the scenario's writer keys are the registry's names (test_layout checks they agree)
    return {
        name: getattr(spec, name).model_dump(mode="json")
        for name in type(spec).model_fields
        if getattr(spec, name) is not None
    }


# --------------------------------------------------------------------------- one shard


@dataclass(frozen=True)
class ShardJob:
    document: ScenarioDocument
    seed: int
    plan: ShardPlan
    out: Path
    backend: str
    writer_configs: dict[str, dict[str, Any]]
    run_info: RunInfo


_WORKER_STATE: dict[str, Any] = {}


def _engine(job: ShardJob, resolved: ResolvedScenario | None = None) -> tuple[ResolvedScenario, Backend]:
    """Resolve and build once per process (cached across the shards a worker runs); a
    one-process run hands in the scenario ``prepare_run`` resolved instead of resolving again."""
    key = (job.document.file, job.run_info.scenario_digest, job.backend)
    if _WORKER_STATE.get("key") != key:
        resolved = resolved if resolved is not None else resolve(job.document)
        engine = create_backend(job.backend)
        engine.build(resolved)
        _WORKER_STATE.update(key=key, resolved=resolved, engine=engine)
    return _WORKER_STATE["resolved"], _WORKER_STATE["engine"]


def _wrapped_interrupt(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C behind ``exc``: one that lands while a compiled (numba) kernel returns comes
    back as ``SystemError: ... returned a result with an exception set`` chained to it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    wrapped = isinstance(exc, SystemError) and "returned a result with an exception set" in str(exc)
    return KeyboardInterrupt() if wrapped else None


def _run_shard(
    job: ShardJob,
    on_frame: Callable[[int], None] | None = None,
    writer: WriterProcess | None = None,
    resolved: ResolvedScenario | None = None,
) -> dict[str, Any] | None:
    """Capture and write one shard; its record, or None when ``writer`` publishes it later."""
    resolved, engine = _engine(job, resolved)
    shard = BackgroundShardWriter(job, resolved, writer) if writer is not None else ShardWriter(job, resolved)
    try:
        for frame in job.plan.frames:
            try:
                step = step_frame(engine, resolved, job.seed, frame)
                shard.write(frame, engine.capture(step.params, shard.annotators), step.state)
            except BadInputError:
                raise
            except Exception as exc:
                interrupt = _wrapped_interrupt(exc)
                if interrupt is not None:
                    raise interrupt from None
                exc.frame_index = frame  # type: ignore[attr-defined]  # the CLI reports where it failed
                raise
            if on_frame is not None:
                on_frame(1)
        return shard.close()
    except BaseException:
        shard.abort()  # nothing may still be writing when the run sweeps unfinished files
        raise


def _worker(job: ShardJob, queue: Any, log_level: int, formatter: logging.Formatter | None) -> dict[str, Any]:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent decides; workers just die
    # A spawned worker starts with logging unconfigured, where Python's last-resort handler
    # prints bare messages: log at the parent's level with the parent's formatter (once per
    # process; the worker's later shards find the handler in place).
    root = logging.getLogger()
    root.setLevel(log_level)
    if formatter is not None and not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
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
        "frame_hash": FRAME_HASH,
        "scenario_digest": resolved.scenario_digest,
        "randomization_digest": resolved.randomization_digest,
        "seed": opts.seed,
        "frames": {"start": start, "stop": stop},
        "shard_size": shard_size,
        "backend": opts.backend,
        "writers": writers,
    }


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; the folders created, innermost first."""
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _bad("--output", "cannot create the output folder", "a folder path that can be created",
                   f"{out} ({err.strerror})") from None  # fmt: skip
    return created


def _not_empty(out: Path) -> BadInputError:
    return _bad(
        "--output", "output folder exists and is not empty", "a new or empty folder (or --resume, --overwrite)", out
    )


def _no_run_to_resume(out: Path) -> BadInputError:
    return _bad(
        "--resume", "the folder holds no scenesmith run to resume", "a folder with a readable run.json of ours", out
    )


def _claim_folder(opts: GenerateOptions, run: dict[str, Any], protected: list[Path], inputs: list[Path]) -> FolderLock:
    """Lock the output folder for this run, then start it (a new or empty folder, ``--overwrite``
    of an earlier run's files, or ``--resume`` of the same run). Every refusal happens before
    anything in the folder is touched; a folder this call created is removed again on refusal."""
    out = opts.out
    if out.exists() and not out.is_dir():
        raise _bad("--output", "output path is a file", "a folder", out)
    non_empty_before = out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir())
    if non_empty_before and opts.overwrite:
        check_overwrite_allowed(out, protected)
        check_inputs_outside(out, inputs, "--overwrite")
    elif non_empty_before and not opts.resume:
        # refused before the lock file is made: a user's folder is left exactly as it was
        raise _not_empty(out)
    elif non_empty_before and not is_run(out):
        raise _no_run_to_resume(out)
    elif non_empty_before:
        check_inputs_outside(out, inputs, "--resume")
    created = _make_folder(out)
    lock = FolderLock(out)
    fresh_lock = not lock.path.exists()
    try:
        lock.acquire()
        non_empty = any(p.name != LOCK_NAME for p in out.iterdir())
        if non_empty and opts.overwrite:
            check_overwrite_allowed(out, protected)  # again, now that no other run can change it
            removed = remove_owned(out)
            log.info("--overwrite removed %d files of the earlier run", len(removed))
        elif non_empty and opts.resume:
            if not is_run(out):  # again, now that no other run can change it
                raise _no_run_to_resume(out)
            previous = json.loads((out / "run.json").read_text(encoding="utf-8"))
            for key in ("scenario_digest", "seed", "frames", "shard_size", "backend", "writers", "schema_version"):
                if previous.get(key) != run[key]:
                    raise _bad(
                        "--resume",
                        f"the run to resume has a different {key}",
                        json.dumps(previous.get(key)),
                        json.dumps(run[key]),
                    )
            return lock
        elif non_empty:
            raise _not_empty(out)
        atomic_write_bytes(out / "run.json", (json.dumps(run, indent=1, sort_keys=True) + "\n").encode(), fsync=True)
    except BaseException:
        held = lock.held
        lock.release()
        if created or (fresh_lock and held):
            # a lock file this call made is removed on refusal: the folder is left as it was
            (out / LOCK_NAME).unlink(missing_ok=True)
            for folder in created:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        raise
    return lock


def _write_run_files(out: Path, resolved: ResolvedScenario) -> list[Path]:
    """scenario.yaml, resolved.json and stage.usda (+ its textures and copies of the files it
    names); deterministic."""
    from .stage import author_stage
    from .stage_assets import localize_layer

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
    # the scenario's files are copied into the folder and named relative to stage.usda, so the
    # folder keeps working when moved to another place or machine
    doc = resolved.document
    roots = (doc.base_dir, *doc.asset_roots, config_path())  # config: shipped LiDAR profiles
    layer, copies = localize_layer(stage.GetRootLayer(), out, roots)
    atomic_write_bytes(out / "stage.usda", layer.ExportToString().encode())
    files = [Path("scenario.yaml"), Path("resolved.json"), Path("stage.usda"), *copies]
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


@dataclass
class RunSetup:
    """A prepared run: folder checked and claimed, run files written, shards planned."""

    opts: GenerateOptions
    resolved: ResolvedScenario
    run: dict[str, Any]
    run_files: list[Path]
    info: RunInfo
    writer_configs: dict[str, dict[str, Any]]
    plans: list[ShardPlan]
    records: dict[int, dict[str, Any]]
    jobs: list[ShardJob]
    lock: FolderLock
    """Held from the claim until ``finish_run`` or ``abandon_run``."""

    @property
    def total(self) -> int:
        return sum(len(p.frames) for p in self.plans)

    @property
    def remaining(self) -> int:
        return sum(len(j.plan.frames) for j in self.jobs)


def prepare_run(doc: ScenarioDocument, opts: GenerateOptions, caps: Capabilities | None = None) -> RunSetup:
    """Validate options against the scenario and backend, claim the folder (or check the run to
    resume), write run.json, scenario.yaml, resolved.json and stage.usda, plan the shards."""
    s = doc.scenario
    start = 0 if opts.start is None else opts.start
    stop = (s.output.frames or DEFAULT_FRAMES) if opts.stop is None else opts.stop
    shard_size = opts.shard_size or s.output.shard_size
    resolved = resolve(doc)
    if caps is None:
        engine = create_backend(opts.backend)
        check_supported(resolved, engine.capabilities(), opts.backend)
        engine.preflight(resolved)
    else:  # a running backend (Isaac Sim's session) gave its capabilities
        check_supported(resolved, caps, opts.backend)
    episode = s.physics.episode.frames if s.physics.enabled else 1
    if episode > 1 and (shard_size % episode or start % episode):
        raise _bad(
            "--shard-size",
            "shards must hold whole episodes",
            f"a multiple of physics.episode.frames ({episode}) and a start frame on an episode boundary",
            f"shard size {shard_size}, start {start}",
        )
    writer_configs = _writers(resolved)
    if "coco" in writer_configs:
        from ..writers.coco_writer import id_range_problem

        problem = id_range_problem(stop, len(s.cameras))
        if problem is not None and opts.stop is None:  # the frame count is the scenario's own
            raise doc.error(
                ("output", "frames"), "too many frames for exact COCO ids", expected="fewer frames or cameras per run",
                got=problem,
            )  # fmt: skip
        if problem is not None:
            raise _bad("--frames", "too many frames for exact COCO ids", "fewer frames or cameras per run", problem)
    run = _run_parameters(resolved, opts, start, stop, shard_size, writer_configs)
    inputs = [Path(doc.file), *doc.files.values()]  # LiDAR profile files are among doc.files
    lock = _claim_folder(opts, run, [doc.base_dir, *doc.asset_roots], inputs)
    out = opts.out
    try:
        reclaim(run_key(out))  # shared memory and semaphores a killed run on this folder left
        plans = plan_shards(start, stop, shard_size)
        records = load_valid_records(out, plans)
        removed = sweep(out, records)
        if removed:
            log.info("removed %d files of unfinished shards", len(removed))
        run_files = [Path("run.json"), *_write_run_files(out, resolved)]
    except BaseException:
        lock.release()
        raise
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
    jobs = [
        ShardJob(doc, opts.seed, plan, out, opts.backend, writer_configs, info)
        for plan in plans
        if plan.shard_id not in records
    ]
    return RunSetup(opts, resolved, run, run_files, info, writer_configs, plans, records, jobs, lock)


def abandon_run(setup: RunSetup) -> None:
    """After an interruption: keep what was published, remove the unfinished shards' files so
    nothing half-written looks complete (``--resume`` redoes them); release the folder."""
    try:
        sweep(setup.opts.out, load_valid_records(setup.opts.out, setup.plans))
    finally:
        setup.lock.release()


def finish_run(setup: RunSetup) -> GenerateResult:
    """Writers' final merges, then manifest.json; release the folder."""
    try:
        run_files = list(setup.run_files)
        for writer in instantiate_writers(setup.writer_configs):
            run_files += writer.on_final_frame(setup.opts.out, setup.info, sorted(setup.records))
        manifest = build_manifest(setup.opts.out, setup.run, setup.records, run_files)
    finally:
        setup.lock.release()
    return GenerateResult(setup.total, len(setup.jobs), len(setup.plans) - len(setup.jobs), manifest)


def generate(doc: ScenarioDocument, opts: GenerateOptions) -> GenerateResult:
    setup = prepare_run(doc, opts)
    jobs = setup.jobs
    progress = _progress(opts.progress, setup.total)
    try:
        with progress:
            task = progress.add_task("frames", total=setup.total, completed=setup.total - setup.remaining)
            advance = lambda n: progress.advance(task, n)  # noqa: E731
            if opts.workers == 1 or len(jobs) <= 1:
                # one capture loop: a writer process overlaps writing with capture (with
                # several workers every core is already capturing)
                writer = WriterProcess(run_key(opts.out)) if opts.writer_process and jobs else None
                try:
                    for job in jobs:
                        record = _run_shard(job, advance, writer, setup.resolved)
                        if record is not None:
                            setup.records[job.plan.shard_id] = record
                    if writer is not None:
                        setup.records.update((r["shard"], r) for r in writer.collect())
                except BaseException:
                    if writer is not None:
                        writer.abort()  # it may hold half a message: stop it, do not talk to it
                    raise
                if writer is not None:
                    writer.shutdown()
            else:
                with _semaphores_named(semaphore_prefix(run_key(opts.out))):
                    setup.records.update(_run_pool(jobs, opts.workers, advance))
    except BaseException:
        abandon_run(setup)
        raise
    return finish_run(setup)


@contextmanager
def _semaphores_named(prefix: str) -> Iterator[None]:
    """Name the pool's POSIX semaphores after the run (``ipc_names``), so a run after a
    ``kill -9`` of the process group can reclaim them. multiprocessing has no public setting
    for it: ``semprefix`` in the process config is what ``SemLock`` names are built from."""
    config = multiprocessing.current_process()._config
    previous = config.get("semprefix", "/mp")
    config["semprefix"] = prefix
    try:
        yield
    finally:
        config["semprefix"] = previous


def _run_pool(jobs: list[ShardJob], workers: int, advance: Callable[[int], None]) -> dict[int, dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    queue = manager.Queue()
    results: dict[int, dict[str, Any]] = {}
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx)
    root = logging.getLogger()
    # the parent's first formatter (the CLI's), pickled to the workers for their stderr handler
    formatter = next((h.formatter for h in root.handlers if h.formatter is not None), None)
    try:
        pending = {pool.submit(_worker, job, queue, root.getEffectiveLevel(), formatter): job for job in jobs}
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
