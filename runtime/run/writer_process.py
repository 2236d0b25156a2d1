"""Shard writers in a child process, so writing frame k overlaps capturing frame k + 1.

The capture loop and the writers share two cores; in one process they also share the GIL
(Open3D's ray casts and much of h5py hold it), so writing adds its full cost to every frame.
Here a child process runs ``ShardWriter`` — the same writers, the same files — and a frame
crosses over as a pickle whose array buffers (protocol 5, out of band) are copied into one of
two reusable shared-memory slots and out again by the child: the capture side pays one
memcpy and, when the writer is two frames behind, waits for it.

Failure behaviour: a writer error in the child comes back as ``WriterProcessError`` (with
its traceback) at the next call; the child dies with its parent (``PR_SET_PDEATHSIG`` on
Linux, and an end-of-pipe check everywhere), so a killed run leaves only temporary files,
which ``--resume`` sweeps; ``abort`` stops it before the run's own sweep.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ...scenarios.resolved import ResolvedScenario
from ...writers.base import OutputWriteError
from ..allocator import retain_freed_memory
from .ipc_names import shm_name
from .shard_writer import ShardWriter, instantiate_writers, shard_annotators

if TYPE_CHECKING:
    from .shards import ShardJob

__all__ = ["BackgroundShardWriter", "WriterProcess", "WriterProcessError"]

SLOTS = 2
"""Frames in flight: the one being written and the one being handed over."""

WRITER_NICE = 19
"""Scheduling niceness of the writer process: the lowest weight, so a capture thread that wakes
(numba's parallel kernels wait at barriers) preempts the writer at once instead of waiting out
its slice. Interleaved A/B on the reference scene, 5 rounds of 32 frames: median overhead 20.4%
at nice 10, 13.7% at nice 19, 10.8% under SCHED_IDLE — not taken: a SCHED_IDLE writer starves
on a machine other jobs keep busy, and with the slots full the run would stall."""

_log = logging.getLogger(__name__)


class WriterProcessError(RuntimeError):
    """The writer process failed or died; the message carries its traceback or exit code."""


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT back while a message goes down the pipe: a KeyboardInterrupt between two
    writes of one message leaves the child waiting for the rest, and whatever is sent next is
    read as that rest (a Ctrl-C then took the 60 s shutdown timeout). The interrupt is raised
    as soon as the message is out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WriterProcess:
    """A long-lived child process that writes shards, one at a time, for this process.

    ``ipc_key`` (``ipc_names.run_key`` of the output folder) names its shared memory, so a
    later run on the folder can reclaim what a killed one left."""

    def __init__(self, ipc_key: str = "anon") -> None:
        # A plain interpreter running this module, not multiprocessing's spawn: spawn re-runs
        # the parent's main script in the child, which a user's unguarded script does not survive.
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, str(to_child_r), str(to_parent_w), str(os.getpid())],
            pass_fds=(to_child_r, to_parent_w),
            env=env,
        )
        os.close(to_child_r)
        os.close(to_parent_w)
        self._to_child = Connection(to_child_w, readable=False)
        self._from_child = Connection(to_parent_r, writable=False)
        self._slots: list[shared_memory.SharedMemory | None] = [None] * SLOTS
        self._busy = [False] * SLOTS
        self._closing = 0  # shards asked to finish whose records have not arrived
        self._records: list[dict[str, Any]] = []
        self._ipc_key = ipc_key
        self._generation = 0
        self._broken = False  # a send failed: the pipe may hold half a message

    @property
    def pid(self) -> int:
        return self._proc.pid

    # ------------------------------------------------------------------ parent side

    def open(self, job: ShardJob) -> None:
        self._send(("open", job))

    def write(self, frame: int, payload: dict[str, Any], state: dict[str, Any] | None) -> None:
        buffers: list[pickle.PickleBuffer] = []
        meta = pickle.dumps((frame, payload, state), protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
        size = sum(r.nbytes for r in raws)
        k = self._free_slot()
        shm = self._slots[k]
        if shm is None or shm.size < size:
            self._release(k)
            self._generation += 1
            shm = self._slots[k] = shared_memory.SharedMemory(
                name=shm_name(self._ipc_key, k, self._generation), create=True, size=max(1, size + size // 4)
            )
        offset, sizes = 0, []
        for raw in raws:
            shm.buf[offset : offset + raw.nbytes] = raw
            offset += raw.nbytes
            sizes.append(raw.nbytes)
        self._busy[k] = True
        self._send(("write", k, shm.name, meta, sizes))

    def finish_shard(self) -> None:
        """Ask for the shard to be finished (every frame written, files closed, the record
        published) without waiting: the next shard's capture starts meanwhile."""
        self._send(("close",))
        self._closing += 1

    def collect(self) -> list[dict[str, Any]]:
        """Wait for every shard asked to finish; their published records, in order."""
        while self._closing:
            self._receive()
        records, self._records = self._records, []
        return records

    def close(self) -> dict[str, Any]:
        """Finish the shard and wait for its record."""
        self.finish_shard()
        return self.collect()[-1]

    def abort(self) -> None:
        """Stop the child now (an interrupted or failed shard) and free the shared memory."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait(timeout=10)
        self._free_all()

    def shutdown(self) -> None:
        """Let the child exit after what it was sent, then free the shared memory (after a
        failed send the pipe cannot carry another message: stop the child instead)."""
        if self._broken:
            self.abort()
            return
        if self._proc.poll() is None:
            try:
                self._to_child.send(("exit",))
                self._proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._free_all()

    def _free_slot(self) -> int:
        while all(self._busy):
            self._receive()
        return self._busy.index(False)

    def _send(self, message: tuple) -> None:
        try:
            with _interrupts_deferred():
                self._to_child.send(message)
        except OSError as exc:
            self._broken = True
            raise self._gone() from exc
        except BaseException:
            self._broken = True
            raise

    def _gone(self) -> Exception:
        """Why the child stopped listening: its own error report when it sent one (it sends the
        traceback, then exits), else its exit code."""
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        try:
            while self._from_child.poll(0):
                reply = self._from_child.recv()
                if reply[0] in ("error", "oserror"):
                    return _child_error(reply)
        except (EOFError, OSError):
            pass
        return WriterProcessError(f"writer process gone (exit code {code})")

    def _receive(self) -> tuple:
        try:
            reply = self._from_child.recv()
        except (EOFError, OSError) as exc:
            raise WriterProcessError(f"writer process died (exit code {self._proc.wait(timeout=10)})") from exc
        if reply[0] == "ack":
            self._busy[reply[1]] = False
        elif reply[0] == "record":
            self._records.append(reply[1])
            self._closing -= 1
        elif reply[0] in ("error", "oserror"):
            raise _child_error(reply)
        return reply

    def _release(self, k: int) -> None:
        shm = self._slots[k]
        if shm is not None:
            shm.close()
            shm.unlink()
            self._slots[k] = None

    def _free_all(self) -> None:
        for k in range(SLOTS):
            self._release(k)
        self._to_child.close()
        self._from_child.close()


def _child_error(reply: tuple) -> Exception:
    """The exception a child's error report stands for."""
    if reply[0] == "oserror":
        return OutputWriteError(*reply[1:])
    return WriterProcessError(f"writer process failed:\n{reply[1]}")


class BackgroundShardWriter:
    """``ShardWriter``'s interface, with the writing done by a ``WriterProcess``."""

    def __init__(self, job: ShardJob, resolved: ResolvedScenario, process: WriterProcess) -> None:
        self.annotators = shard_annotators(resolved, instantiate_writers(job.writer_configs))
        self.process = process
        process.open(job)

    def write(self, frame: int, payload: dict[str, Any], state: dict[str, Any] | None) -> None:
        self.process.write(frame, payload, state)

    def close(self) -> None:
        """Hand the shard's end to the writer process; its record comes from ``collect``."""
        self.process.finish_shard()

    def abort(self) -> None:
        self.process.abort()


# ---------------------------------------------------------------------- child side


def _die_with_parent(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    try:  # capture is the critical path: the writer should take the cycles capture leaves idle
        os.nice(WRITER_NICE)
    except OSError:
        pass


def _attach(name: str) -> shared_memory.SharedMemory:
    # Only the creating process may unlink a slot; Python 3.11 registers attached segments
    # with the resource tracker too, which would unlink them when this child exits.
    from multiprocessing import resource_tracker

    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        return shared_memory.SharedMemory(name=name)
    finally:
        resource_tracker.register = register  # type: ignore[assignment]


def _serve(conn_in: Connection, conn: Connection, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    retain_freed_memory()  # each frame's copies reuse the last frame's pages
    attached: dict[str, shared_memory.SharedMemory] = {}
    shard: ShardWriter | None = None
    while True:
        try:
            message = conn_in.recv()
        except (EOFError, OSError):
            return  # the parent is gone: leave the unfinished shard's temporary files
        kind = message[0]
        try:
            if kind == "open":
                shard = ShardWriter(message[1])
            elif kind == "write":
                _, k, name, meta, sizes = message
                if name not in attached:
                    attached[name] = _attach(name)
                frame, payload, state = _unpickle(attached[name], meta, sizes)
                conn.send(("ack", k))  # the slot is free again: write while the parent refills it
                assert shard is not None, "write before open"
                shard.write(frame, payload, state)
            elif kind == "close":
                assert shard is not None
                record, shard = shard.close(), None
                conn.send(("record", record))
            elif kind == "exit":
                return
        except OutputWriteError as exc:  # the machine's fault (disk full): no traceback to show
            # h5py reports the failed file once more for every handle it frees ("Exception
            # ignored in ObjectID.__dealloc__"), on the stderr this process shares with the
            # user's terminal: the parent prints the one line, so those go to debug, and the
            # process leaves without finalising what libhdf5 can no longer close.
            sys.unraisablehook = _log_unraisable
            if shard is not None:
                shard.abort()
            conn.send(("oserror", exc.errno, exc.strerror, exc.filename))
            sys.stderr.flush()
            os._exit(0)
        except BaseException:
            conn.send(("error", traceback.format_exc()))
            return


def _log_unraisable(unraisable: Any) -> None:
    _log.debug("after a failed write: %s in %r", unraisable.exc_value, unraisable.object)


def _unpickle(shm: shared_memory.SharedMemory, meta: bytes, sizes: list[int]) -> tuple[int, Any, Any]:
    """The frame, its payload and state, with every array copied out of the slot (writers may
    keep references to arrays, e.g. for end-of-shard merges, and the parent reuses the slot)."""
    buffers, offset = [], 0
    for n in sizes:
        buffers.append(bytearray(shm.buf[offset : offset + n]))
        offset += n
    return pickle.loads(meta, buffers=buffers)  # noqa: S301 - our parent's payload over a private pipe


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False), int(sys.argv[3]))
