"""The Ray executor: shards as tasks on Ray actors, one actor per worker, on any Ray cluster.

Each actor keeps its engine warm across shards through the same per-process cache as a local
worker (``local_executor.run_shard``), writes its shard's files straight into the output folder
(storage every node sees under the same path) and publishes the shard record last, exactly as a
local worker does; only the outcome comes back through Ray (the driver reads the records from
the shared storage when it writes the manifest, so its memory does not grow with the run). A worker or node that
dies mid-shard restarts its actor (``max_restarts``) and Ray retries the shard on it
(``max_task_retries``); the retry rewrites the shard's files from scratch, so the bytes do not
depend on the failure. Failures that are not deaths come back as values, never as Ray
exceptions: bad input re-raises as the same ``BadInputError`` (exit 2, the scenario's file:line),
anything else as a ``ShardFailedError`` naming the shard and the worker.

``ray`` is imported only here, and only when a run asks for it (the embedded install does not
need it, and ``scenesmith --help`` stays fast).
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...plugins import PLUGINS_ENV
from ...sensors.errors import BadInputError, Issue
from ...writers.base import OutputWriteError
from .shards import ShardJob

__all__ = ["MAX_RETRIES", "RayOptions", "RayStatus", "ShardFailedError", "connected", "run_ray"]

log = logging.getLogger(__name__)

MAX_RETRIES = 3
"""Restarts of one worker's actor, and retries of its shard, after the worker or its node died."""
ALIVE_WINDOW_S = 2.0
"""A worker counts as alive while it answered a ping within this window (its actor restarting
after a death does not answer)."""
PROBE_S = 5.0
"""How long ``--ray-address`` may take to accept a TCP connection before it is refused."""
POLL_S = 0.2
"""How often the driver collects finished shards, progress and pings."""
QUEUED_PER_WORKER = 2
"""Shards queued on each worker's actor: the next one is there when a shard ends, so a worker
does not wait a round trip through the driver between shards (Ray runs an actor's tasks one at
a time, in order)."""
PROGRESS_S = 0.25
"""How often a worker reports its frames to the progress tracker (and after a shard's last frame)."""
FORWARDED_ENV = (PLUGINS_ENV, "PYTHONPATH")
"""The driver's variables a worker needs to load the same code (plugins) wherever it runs."""


@dataclass(frozen=True)
class RayOptions:
    """Where and how big: ``address`` None starts or joins a local Ray instance (``ray.init``)."""

    address: str | None = None
    num_cpus_per_worker: float = 1.0


@dataclass(frozen=True)
class RayStatus:
    """What the progress bar shows: frames written so far (this run), workers alive, retries."""

    frames: int
    alive: int
    retries: int


class ShardFailedError(RuntimeError):
    """An internal failure on a worker: names the shard, the worker and the frame."""

    def __init__(self, message: str, frame_index: int | None = None, remote_traceback: str = "") -> None:
        super().__init__(message)
        self.frame_index = frame_index
        self.remote_traceback = remote_traceback

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.frame_index, self.remote_traceback))


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BadInputError(
            [Issue.option("--executor", "ray is not installed", "pip install 'scenesmith[ray]'", "ray")]
        ) from None
    return ray


# --------------------------------------------------------------------------- the actors


class _Tracker:
    """Progress fed by the workers: frames per shard (reset when a shard starts again) and the
    number of starts per shard (a second start is a retry)."""

    def __init__(self) -> None:
        self.frames: dict[int, int] = {}
        self.starts: dict[int, int] = {}

    def start(self, shard: int) -> None:
        self.starts[shard] = self.starts.get(shard, 0) + 1
        self.frames[shard] = 0

    def frame(self, shard: int, done: int) -> None:
        self.frames[shard] = done

    def snapshot(self) -> tuple[int, int]:
        return sum(self.frames.values()), sum(n - 1 for n in self.starts.values())


class _ShardWorker:
    """One worker: runs shard after shard with a warm engine (``run_shard``'s process cache)."""

    def __init__(self, index: int, tracker: str, log_level: int, formatter: logging.Formatter | None) -> None:
        import ray

        # the worker logs like the driver (as a local pool's worker does); Ray forwards the lines
        root = logging.getLogger()
        root.setLevel(log_level)
        if formatter is not None:
            if not root.handlers:
                root.addHandler(logging.StreamHandler())
            for handler in root.handlers:
                handler.setFormatter(formatter)
        self.index = index
        # looked up by name: a handle among the constructor's arguments would live in the
        # object store, which a restart after the loss of a node may no longer reach
        self.tracker = ray.get_actor(tracker)

    def where(self) -> str:
        import socket

        return f"worker {self.index} (pid {os.getpid()} on {socket.gethostname()})"

    def run(self, job: ShardJob) -> tuple[str, Any]:
        """``("ok", None)`` (the record is on the shared storage: only the outcome crosses back),
        or the failure as a value: ``("error", exception)`` for bad input
        and a refused output file, ``("failure", ShardFailedError)`` for anything else."""
        from .local_executor import run_shard

        shard = job.plan.shard_id
        self.tracker.start.remote(shard)  # calls from one caller arrive in order
        done, sent_at = 0, time.monotonic()

        def on_frame(n: int) -> None:
            # at most one progress message per PROGRESS_S: a message per frame cost each
            # worker ~1 ms of CPU per frame (its own and the tracker's) on a busy node
            nonlocal done, sent_at
            done += n
            now = time.monotonic()
            if now - sent_at >= PROGRESS_S or done == len(job.plan.frames):
                sent_at = now
                self.tracker.frame.remote(shard, done)

        try:
            run_shard(job, on_frame)
        except (BadInputError, OutputWriteError) as exc:
            return "error", exc
        except Exception as exc:
            frame = getattr(exc, "frame_index", None)
            message = f"shard {shard} failed on {self.where()}: {type(exc).__name__}: {exc}"
            return "failure", ShardFailedError(message, frame, traceback.format_exc())
        return "ok", None

    def ping(self) -> int:
        return os.getpid()


def _worker_class(ray: Any) -> Any:
    """The actor class: ``ping`` in a concurrency group of its own, so it answers while a shard
    runs (``ray`` is imported lazily, so the decoration happens here)."""

    class ShardWorker(_ShardWorker):
        @ray.method(concurrency_group="ping", max_task_retries=0)
        def ping(self) -> int:
            return os.getpid()

    return ray.remote(max_restarts=MAX_RETRIES, max_task_retries=MAX_RETRIES, concurrency_groups={"ping": 1})(
        ShardWorker
    )


# --------------------------------------------------------------------------- the driver


def _bad_address(address: str, message: str) -> BadInputError:
    expected = "the address of a running cluster's head, host:port (ray start --head prints it), auto, or none"
    return BadInputError([Issue.option("--ray-address", message, expected, address)])


def _probe(address: str) -> None:
    """Refuse an address nothing listens on at once: Ray itself retries for minutes."""
    import socket

    host, sep, port = address.rpartition(":")
    if address.startswith("ray://") or not sep:
        return  # Ray Client, or a name Ray resolves itself: let ray.init judge
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_S).close()
    except ValueError:
        raise _bad_address(address, "not host:port") from None
    except OSError as exc:
        raise _bad_address(address, f"nothing answers there ({exc.strerror or exc})") from None


@contextmanager
def connected(options: RayOptions) -> Iterator[None]:
    """Join the cluster at ``options.address`` (or start a local instance) for the run; leave
    Ray as found (a caller that is already connected, a notebook or a test, stays connected)."""
    ray = _ray()
    if ray.is_initialized():
        yield
        return
    if options.address not in (None, "auto", "local"):
        _probe(options.address)
    env = {name: os.environ[name] for name in FORWARDED_ENV if os.environ.get(name)}
    settings: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": True}
    if options.address is None:
        settings["include_dashboard"] = False  # a local instance for this run only
    if env:
        settings["runtime_env"] = {"env_vars": env}
    try:
        ray.init(address=options.address, **settings)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise _bad_address(str(options.address), f"cannot join a Ray cluster there: {exc}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _stop(ray: Any, actors: list[Any], tracker: Any, pending: list[Any]) -> None:
    """Kill the workers and wait until they are gone, so nothing still writes when the run
    sweeps unfinished shards' files (their shards cancelled first: not retried, not reported)."""
    for ref in pending:
        ray.cancel(ref)
    for actor in [*actors, tracker]:
        ray.kill(actor, no_restart=True)
    deadline = time.monotonic() + 30.0
    for actor in actors:
        while time.monotonic() < deadline:
            try:
                ray.get(actor.ping.remote(), timeout=1.0)
            except ray.exceptions.RayActorError:
                break
            except ray.exceptions.GetTimeoutError:
                continue


def run_ray(
    jobs: list[ShardJob],
    workers: int,
    report: Callable[[RayStatus], None],
    out: Path,
    options: RayOptions,
) -> set[int]:
    """Run ``jobs`` on ``workers`` Ray actors; the ids of the shards they published (their
    records stay on disk, so the driver's memory does not grow with the run). ``out`` must be
    the same path on every node."""
    with connected(options):
        return _drive(_ray(), jobs, workers, report, options)


def _drive(
    ray: Any, jobs: list[ShardJob], workers: int, report: Callable[[RayStatus], None], options: RayOptions
) -> set[int]:
    import uuid

    root = logging.getLogger()
    formatter = next((h.formatter for h in root.handlers if h.formatter is not None), None)
    tracker_name = f"scenesmith-progress-{uuid.uuid4().hex}"
    # on the driver's node: it lives as long as the run, whichever worker node goes away
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    tracker = ray.remote(num_cpus=0, max_restarts=0)(_Tracker).options(name=tracker_name, scheduling_strategy=here)
    tracker = tracker.remote()
    worker_class = _worker_class(ray)
    count = max(1, min(workers, len(jobs)))
    actors = [
        worker_class.options(num_cpus=options.num_cpus_per_worker, scheduling_strategy="SPREAD").remote(
            k, tracker_name, root.getEffectiveLevel(), formatter
        )
        for k in range(count)
    ]
    queue = list(reversed(jobs))
    pending: dict[Any, tuple[int, ShardJob]] = {}
    published: set[int] = set()
    pings: dict[int, Any] = {}
    answered: dict[int, float] = {}
    snapshot_ref = None
    frames, retries, alive = 0, 0, 0
    polled_at = -float("inf")

    def submit(k: int) -> None:
        if queue:
            job = queue.pop()
            pending[actors[k].run.remote(job)] = (k, job)

    try:
        for _ in range(QUEUED_PER_WORKER):  # round-robin: the first shards spread over every worker
            for k in range(count):
                submit(k)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
            for ref in done:
                k, job = pending.pop(ref)
                _result(ray, ref, k, job)  # raises the shard's failure
                published.add(job.plan.shard_id)
                submit(k)
            now = time.monotonic()
            if now - polled_at < POLL_S:
                continue  # shards end often when they are small: pings and progress stay at POLL_S
            polled_at = now
            for k, actor in enumerate(actors):
                ref = pings.get(k)
                if ref is not None and ray.wait([ref], timeout=0)[0]:
                    del pings[k]
                    try:
                        ray.get(ref)
                        answered[k] = now
                    except ray.exceptions.RayError:
                        answered.pop(k, None)
                if k not in pings:
                    pings[k] = actor.ping.remote()
            if snapshot_ref is not None and ray.wait([snapshot_ref], timeout=0)[0]:
                frames, retries = ray.get(snapshot_ref)
                snapshot_ref = None
            if snapshot_ref is None:
                snapshot_ref = tracker.snapshot.remote()
            alive = sum(1 for t in answered.values() if now - t <= ALIVE_WINDOW_S)
            report(RayStatus(frames, alive, retries))
        frames, retries = ray.get(tracker.snapshot.remote())
        report(RayStatus(frames, alive, retries))
    finally:
        _stop(ray, actors, tracker, list(pending))
    if retries:
        log.info("%d shard(s) retried after a worker died", retries)
    return published


def _result(ray: Any, ref: Any, k: int, job: ShardJob) -> None:
    """A finished shard's failure raised as bad input, a refused file or a ``ShardFailedError``
    naming the shard and the worker."""
    shard = job.plan.shard_id
    try:
        status, value = ray.get(ref)
    except ray.exceptions.RayActorError as exc:
        raise ShardFailedError(
            f"shard {shard} failed: worker {k} died {MAX_RETRIES + 1} times running it "
            f"({type(exc).__name__}; its node may be gone, or its process killed)"
        ) from None
    if status == "ok":
        return
    if isinstance(value, ShardFailedError) and value.remote_traceback:
        log.debug("worker traceback:\n%s", value.remote_traceback)
    raise value
