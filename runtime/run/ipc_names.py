"""Names of the shared memory and semaphores a run creates, so a later run can reclaim them.

A run's writer process hands frames over in shared-memory segments, and a worker pool's queues
use POSIX named semaphores. Their creators unlink them on every normal exit, but a ``kill -9``
of the whole process group kills the unlinkers too, leaving tens of MB in ``/dev/shm``. So
every name carries a key derived from the output folder's real path, and a run that holds the
folder's lock (no other run can be using it) removes whatever carries that key before it starts.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

__all__ = ["SHM_ROOT", "reclaim", "run_key", "semaphore_prefix", "shm_name"]

log = logging.getLogger(__name__)

SHM_ROOT = Path("/dev/shm")
"""Where Linux keeps POSIX shared memory (``NAME``) and named semaphores (``sem.NAME``)."""

_PREFIX = "scenesmith-"


def run_key(out: Path) -> str:
    """12 hex digits naming the output folder (its real path) in IPC names."""
    return hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:12]


def shm_name(key: str, slot: int, generation: int) -> str:
    """A writer-process slot: unique per process (pid), slot and reallocation."""
    return f"{_PREFIX}{key}-{os.getpid()}-{slot}-{generation}"


def semaphore_prefix(key: str) -> str:
    """multiprocessing's ``semprefix`` for a run's worker pool (names become ``PREFIX-random``)."""
    return f"/{_PREFIX}{key}-mp"


def reclaim(key: str) -> list[str]:
    """Unlink every segment and semaphore of the run ``key``; their names. Call only while
    holding the folder's lock."""
    if not SHM_ROOT.is_dir():
        return []
    removed = []
    for path in sorted(SHM_ROOT.iterdir()):
        name = path.name.removeprefix("sem.")
        if name.startswith(f"{_PREFIX}{key}-"):
            try:
                path.unlink()
                removed.append(path.name)
            except OSError as err:  # another user's, or gone meanwhile
                log.debug("could not reclaim %s: %s", path, err)
    if removed:
        log.info("reclaimed %d shared-memory objects a killed run left: %s", len(removed), ", ".join(removed))
    return removed
