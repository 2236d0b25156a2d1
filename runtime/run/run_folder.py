"""A ``generate`` output folder: which files are the run's, one run at a time, and what may be deleted.

A run owns exactly the files it would write: the run-level files (``run.json``, ``stage.usda``,
…), the shard records, each writer's files (its ``output_patterns``), and temporary files of
those names (``.NAME.PID.tmp``). Nothing else in the folder is ever deleted — not by
``--resume``'s sweep of unfinished shards, not by ``--overwrite`` — so notes, scripts or
fixed-up labels a user keeps beside the data survive. ``--overwrite`` only ever empties a
folder that is a scenesmith run (it has our ``run.json``), and refuses the current directory,
``/``, ``$HOME`` and any folder that holds the scenario or an asset root.

The driver of a run holds an exclusive lock on ``.scenesmith.lock`` for the whole run, so a
second ``generate`` on the same folder is refused instead of sweeping the first one's files.
The lock is a POSIX record lock (``fcntl.lockf``): the kernel releases it when the holder
dies (a ``kill -9`` leaves nothing stale), and NFSv4 and Lustre forward it to the server, so
it holds across machines; NFSv3 needs ``lockd``; filesystems without locking (some FUSE
mounts) get a warning and no lock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import socket
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ...sensors.errors import BadInputError, Issue
from ...writers.base import final_path_of
from ...writers.splits import SPLIT_NAME
from .shards import RECORDS, ROOT_FILES, RUN_LEVEL_DIRS

__all__ = [
    "LOCK_NAME",
    "FolderLock",
    "check_inputs_outside",
    "check_overwrite_allowed",
    "is_owned",
    "is_run",
    "is_temporary",
    "owned_patterns",
    "remove_owned",
    "sweep",
]

log = logging.getLogger(__name__)

LOCK_NAME = ".scenesmith.lock"
RUN_MARKER = "run.json"


@lru_cache(maxsize=1)
def owned_patterns() -> tuple[str, ...]:
    """Path patterns (relative, ``/``-separated; per part literal text, ``*`` for any name and
    ``<n>`` for digits; ``**`` = any depth) of every file a run writes: run-level files, shard
    records, and each registered writer's outputs."""
    from ...writers.registry import default_registry

    registry = default_registry()
    patterns = [*ROOT_FILES, f"{RECORDS}/{DIGITS}.json", *(f"{d}/**" for d in RUN_LEVEL_DIRS)]
    for name in registry.names():
        patterns += registry.get(name).output_patterns
    return tuple(dict.fromkeys(patterns))


DIGITS = "<n>"
"""In an owned pattern, a run of decimal digits (a frame or shard number): ``shard_<n>.h5``
matches ``shard_000003.h5`` but not a user's ``shard_0_backup.h5``."""
SPLIT = "<split>"
"""In an owned pattern, a split's name (``writers.splits.SPLIT_NAME``: lower-case letters and
digits): ``instances_<split>.json`` matches ``instances_val.json``, not ``instances_val_fixed.json``."""


@lru_cache(maxsize=256)
def _part_regex(part: str) -> re.Pattern[str]:
    """One path part of an owned pattern: literal text, ``*`` (any name), ``<n>`` (digits),
    ``<split>`` (a split's name)."""
    pieces = re.split(r"(\*|<n>|<split>)", part)
    special = {"*": "[^/]*", DIGITS: "[0-9]+", SPLIT: SPLIT_NAME.pattern}
    body = "".join(special.get(p, re.escape(p)) for p in pieces)
    return re.compile(body)


def _match(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and _part_regex(pattern[0]).fullmatch(parts[0]) is not None and _match(parts[1:], pattern[1:])


def is_temporary(rel: PurePosixPath) -> bool:
    """Whether ``rel`` is a temporary file of a name a run owns."""
    final = PurePosixPath(final_path_of(Path(rel)).as_posix())  # ``.NAME.PID.tmp`` → NAME
    return final != rel and is_owned(final, temporary=False)


def is_owned(rel: PurePosixPath, temporary: bool = True, patterns: Iterable[str] | None = None) -> bool:
    """Whether a run writes the file at ``rel`` (relative to the output folder), or, with
    ``temporary``, a temporary file of such a name."""
    parts = rel.parts
    if any(part in ("", ".", "..") for part in parts):
        return False
    if any(_match(parts, tuple(p.split("/"))) for p in (patterns or owned_patterns())):
        return True
    return temporary and is_temporary(rel)


def _files(out: Path) -> Iterator[PurePosixPath]:
    """Every file and symlink under ``out``, relative, without following symlinked folders."""
    for root, dirs, names in os.walk(out, followlinks=False):
        base = Path(root)
        for name in [*names, *(d for d in dirs if (base / d).is_symlink())]:
            yield PurePosixPath((base / name).relative_to(out).as_posix())


def _remove_emptied_folders(out: Path, removed: Iterable[PurePosixPath]) -> None:
    """Remove the folders that deleting ``removed`` left empty (deepest first, never ``out``);
    an empty folder of the user's, which held none of those files, stays."""
    parents = {parent for rel in removed for parent in PurePosixPath(rel).parents if parent != PurePosixPath(".")}
    for rel in sorted(parents, key=lambda p: -len(p.parts)):
        folder = out / rel
        if not folder.is_symlink() and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def sweep(out: Path, published: Iterable[int]) -> list[PurePosixPath]:
    """Delete what unfinished shards left: temporary files of our names and every file of our
    names that no published shard's record owns (run-level files stay); return what was deleted."""
    from .shards import load_record, record_path

    keep: set[PurePosixPath] = set()
    for k in published:  # one record at a time: only the names are kept
        keep.update(PurePosixPath(rel) for rel in load_record(out, k)["files"])
        keep.add(PurePosixPath(record_path(out, k).relative_to(out).as_posix()))
    run_level = [*ROOT_FILES, *(f"{d}/**" for d in RUN_LEVEL_DIRS), LOCK_NAME]
    patterns = owned_patterns()
    removed = []
    for rel in sorted(_files(out)):
        if (out / rel).is_dir() or rel in keep:
            continue
        if is_temporary(rel) or (
            is_owned(rel, temporary=False, patterns=patterns) and not is_owned(rel, False, run_level)
        ):
            (out / rel).unlink()
            removed.append(rel)
    _remove_emptied_folders(out, removed)
    return removed


def remove_owned(out: Path) -> list[PurePosixPath]:
    """``--overwrite``: delete every file the run in ``out`` owns (not the lock); keep the rest."""
    patterns = owned_patterns()
    removed = []
    for rel in sorted(_files(out)):
        if rel.as_posix() == LOCK_NAME or (out / rel).is_dir():
            continue
        if is_owned(rel, patterns=patterns):
            (out / rel).unlink()
            removed.append(rel)
    _remove_emptied_folders(out, removed)
    return removed


def _bad(option: str, message: str, expected: str, got: object) -> BadInputError:
    return BadInputError([Issue.option(option, message, expected, str(got))])


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_overwrite_allowed(out: Path, protected: Iterable[Path]) -> None:
    """Refuse ``--overwrite`` of anything but a scenesmith run folder: ``/``, ``$HOME``, the
    current directory, a folder holding the scenario or an asset root (``protected``), or a
    folder without our ``run.json``."""
    real = out.resolve()
    home = Path(os.path.expanduser("~")).resolve()
    reasons = [
        (real == Path(real.anchor), "refusing to overwrite the filesystem root"),
        (real == home, "refusing to overwrite the home folder"),
        (_is_within(Path.cwd().resolve(), real), "refusing to overwrite the current directory or a parent of it"),
    ]
    reasons += [
        (_is_within(p.resolve(), real), f"refusing to overwrite a folder that holds the scenario or its assets ({p})")
        for p in protected
    ]
    for refused, message in reasons:
        if refused:
            raise _bad("--overwrite", message, "an output folder of an earlier scenesmith run", out)
    if not is_run(real):
        raise _bad(
            "--overwrite",
            "the folder is not a scenesmith run (no run.json of ours); nothing was deleted",
            "an output folder of an earlier scenesmith run, or a new or empty folder",
            out,
        )


def check_inputs_outside(out: Path, inputs: Iterable[Path], option: str) -> None:
    """Refuse to ``--overwrite`` or ``--resume`` into a folder holding one of the scenario's own
    input files (a ``base_usd: out/stage.usda``): the run would delete or rewrite it."""
    real = out.resolve()
    for path in inputs:
        if _is_within(path.resolve(), real):
            raise _bad(
                option,
                f"the output folder holds an input of the scenario ({path}); the run would replace it",
                "an output folder outside every file the scenario reads",
                out,
            )


def is_run(folder: Path) -> bool:
    """Whether ``folder`` holds a scenesmith run: a readable ``run.json`` of ours (not a symlink)."""
    marker = folder / RUN_MARKER
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        run = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(run, dict) and {"schema_version", "tool_version", "scenario_digest", "seed"} <= run.keys()


class FolderLock:
    """An exclusive lock on an output folder for the life of a run (see the module docstring)."""

    def __init__(self, out: Path) -> None:
        self.path = out / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EACCES, errno.EAGAIN):
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise _bad(
                    "--output",
                    "another scenesmith run is using this folder",
                    "a folder no other run is writing (wait for it, or stop it)",
                    f"{self.path.parent} (held by {holder})",
                ) from None
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                os.close(fd)
                raise
            log.warning("%s: this filesystem does not lock files; make sure no other run uses the folder", self.path)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{socket.gethostname()} pid {os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            # Emptied, so a finished run's folder is the same bytes every time; closing drops the
            # record lock. The file stays: deleting it would let a run that opened it just before
            # lock a file no later run sees (and NFS would leave a .nfs* file behind).
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None
