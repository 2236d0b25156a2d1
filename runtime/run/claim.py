"""Claiming an output folder for a run: new, empty, ``--overwrite`` of an earlier run, or ``--resume``.

Every refusal happens before anything in the folder is touched (exit 2, folder byte-identical);
the claim holds the folder's lock (``run_folder.FolderLock``) until the run ends.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ...sensors.errors import BadInputError, Issue
from ...writers.base import atomic_write_bytes
from .run_folder import LOCK_NAME, FolderLock, check_inputs_outside, check_overwrite_allowed, is_run, remove_owned

__all__ = ["bad_option", "claim_folder"]

log = logging.getLogger(__name__)


def bad_option(option: str, message: str, expected: str, got: object) -> BadInputError:
    """Bad input in a command-line option (exit 2)."""
    return BadInputError([Issue.option(option, message, expected, str(got))])


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; the folders created, innermost first."""
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise bad_option("--output", "cannot create the output folder", "a folder path that can be created",
                   f"{out} ({err.strerror})") from None  # fmt: skip
    return created


def _not_empty(out: Path) -> BadInputError:
    return bad_option(
        "--output", "output folder exists and is not empty", "a new or empty folder (or --resume, --overwrite)", out
    )


def _no_run_to_resume(out: Path) -> BadInputError:
    return bad_option(
        "--resume", "the folder holds no scenesmith run to resume", "a folder with a readable run.json of ours", out
    )


def claim_folder(
    out: Path, overwrite: bool, resume: bool, run: dict[str, Any], protected: list[Path], inputs: list[Path]
) -> FolderLock:
    """Lock the output folder for this run, then start it (a new or empty folder, ``--overwrite``
    of an earlier run's files, or ``--resume`` of the same run). Every refusal happens before
    anything in the folder is touched; a folder this call created is removed again on refusal."""
    if out.exists() and not out.is_dir():
        raise bad_option("--output", "output path is a file", "a folder", out)
    non_empty_before = out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir())
    if non_empty_before and overwrite:
        check_overwrite_allowed(out, protected)
        check_inputs_outside(out, inputs, "--overwrite")
    elif non_empty_before and not resume:
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
        if non_empty and overwrite:
            check_overwrite_allowed(out, protected)  # again, now that no other run can change it
            removed = remove_owned(out)
            log.info("--overwrite removed %d files of the earlier run", len(removed))
        elif non_empty and resume:
            if not is_run(out):  # again, now that no other run can change it
                raise _no_run_to_resume(out)
            previous = json.loads((out / "run.json").read_text(encoding="utf-8"))
            for key in ("scenario_digest", "seed", "frames", "shard_size", "backend", "writers", "schema_version"):
                if previous.get(key) != run[key]:
                    raise bad_option(
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
