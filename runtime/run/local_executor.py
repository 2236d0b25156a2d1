"""The local executor: shards in this process (with a writer process) or in a pool of spawned workers.

Each process resolves the scenario and builds its engine once, then runs shard after shard
(``run_shard``); a shard's files are published by its record, so any process may run any shard
and the merged output does not depend on which did. ``ray_executor`` runs the same
``run_shard`` on Ray actors.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...scenarios.resolved import ResolvedScenario
from ...sensors.errors import BadInputError
from ..backend import Backend, create_backend
from ..frame_step import step_frame
from ..usd.resolve import resolve
from .ipc_names import run_key, semaphore_prefix
from .shard_writer import ShardWriter
from .shards import ShardJob
from .writer_process import BackgroundShardWriter, WriterProcess

__all__ = ["run_in_process", "run_pool", "run_shard", "run_workers"]


_WORKER_STATE: dict[str, Any] = {}


def _engine(
    job: ShardJob, resolved: ResolvedScenario | None = None, stage: Any | None = None
) -> tuple[ResolvedScenario, Backend]:
    """Resolve and build once per process (cached across the shards a worker runs); a
    one-process run hands in the scenario ``prepare_run`` resolved and the stage it authored for
    stage.usda instead of resolving and authoring again."""
    key = (job.document.file, job.run_info.scenario_digest, job.backend)
    if _WORKER_STATE.get("key") != key:
        resolved = resolved if resolved is not None else resolve(job.document)
        engine = create_backend(job.backend)
        if stage is not None:
            engine.build(resolved, stage)
        else:  # as every backend takes it (``stage`` is optional in Backend.build)
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


def run_shard(
    job: ShardJob,
    on_frame: Callable[[int], None] | None = None,
    writer: WriterProcess | None = None,
    resolved: ResolvedScenario | None = None,
    stage: Any | None = None,
) -> dict[str, Any] | None:
    """Capture and write one shard; its record, or None when ``writer`` publishes it later."""
    resolved, engine = _engine(job, resolved, stage)
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


def _worker(job: ShardJob, queue: Any, log_level: int, formatter: logging.Formatter | None) -> None:
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
    run_shard(job, lambda n: queue.put(n))  # its record is on disk: nothing crosses back


def run_in_process(
    jobs: list[ShardJob],
    advance: Callable[[int], None],
    out: Path,
    writer_process: bool,
    resolved: ResolvedScenario | None = None,
    stage: Any | None = None,
) -> set[int]:
    """Run ``jobs`` one after another here; the ids of the shards they published. A writer
    process overlaps writing with capture (with several workers every core is already capturing)."""
    published: set[int] = set()
    writer = WriterProcess(run_key(out)) if writer_process and jobs else None
    try:
        for job in jobs:
            if run_shard(job, advance, writer, resolved, stage) is not None:
                published.add(job.plan.shard_id)
        if writer is not None:
            published.update(r["shard"] for r in writer.collect())
    except BaseException:
        if writer is not None:
            writer.abort()  # it may hold half a message: stop it, do not talk to it
        raise
    if writer is not None:
        writer.shutdown()
    return published


def run_workers(jobs: list[ShardJob], workers: int, advance: Callable[[int], None], out: Path) -> set[int]:
    """Run ``jobs`` on ``workers`` spawned processes, named after the run for reclaiming; the
    ids of the shards they published."""
    with _semaphores_named(semaphore_prefix(run_key(out))):
        return run_pool(jobs, workers, advance)


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


def run_pool(jobs: list[ShardJob], workers: int, advance: Callable[[int], None]) -> set[int]:
    """The published shards' ids: their records stay on disk (``shards/``), so the parent's
    memory does not grow with the run (``manifest.build_manifest`` reads them back)."""
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    queue = manager.Queue()
    published: set[int] = set()
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
                future.result()  # raises the worker's failure
                published.add(job.plan.shard_id)
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
    return published
