"""Rows sorted on disk, for the final merges whose size grows with the dataset (the image lists of
KITTI, VOC and pose; the manifest's maps): SQLite's B-tree keeps the driver's memory flat where a
Python list of a million names would not (issue 19).

The table lives in a temporary file of an output file's name (``tmp_path_for(final)`` + ``.db``),
so a run that dies mid-merge leaves nothing its next ``--resume`` does not sweep. It is opened
without file locks (SQLite's ``unix-none`` VFS): one process, the driver holding the folder's
lock, is its only user, and SQLite's locks are unreliable on the network storage an output folder
may be on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from .base import tmp_path_for

__all__ = ["SortedOnDisk", "names_in", "scratch_db", "scratch_db_path"]

Key = int | str
"""A sort key: integers order numerically, text by code point (SQLite compares UTF-8 bytes,
which is the same order)."""


def names_in(folder: Path) -> Iterator[str]:
    """The names in ``folder`` (none when it is missing), read in the file system's order and never
    listed whole (``Path.iterdir`` lists the folder first)."""
    if not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            yield entry.name


def scratch_db_path(final: Path) -> Path:
    """The scratch table's file for a merge that writes ``final``: a temporary of its name."""
    tmp = tmp_path_for(final)
    return tmp.with_name(tmp.name + ".db")


def scratch_db(path: Path) -> sqlite3.Connection:
    """A new, empty, unlocked, unjournaled SQLite file at ``path`` (a scratch table: rebuilt from
    the run's files whenever it is lost, so it needs neither a journal nor fsync)."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(f"{path.absolute().as_uri()}?vfs=unix-none", uri=True)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    return db


class SortedOnDisk:
    """Values in groups, each group read back ordered by ``(key1, key2)`` (ties in insertion
    order): ``add`` while scanning, then ``groups`` and ``values``; ``close`` removes the file."""

    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        self.path = scratch_db_path(final)
        self.db = scratch_db(self.path)
        # the primary key is the order: rows are kept sorted as they arrive, nothing sorts at the
        # end; k1 and k2 have no declared type, so SQLite stores each key as given (a declared
        # NUMERIC-like type would turn the text "000123" into the number 123)
        self.db.execute(
            "CREATE TABLE rows (grp TEXT, k1, k2, seq INTEGER, value TEXT NOT NULL, "
            "PRIMARY KEY (grp, k1, k2, seq)) WITHOUT ROWID"
        )
        self._seq = 0

    def add(self, rows: Iterable[tuple[str, Key, Key, str]]) -> None:
        """``(group, key1, key2, value)`` rows."""
        with self.db:
            for group, k1, k2, value in rows:
                self.db.execute("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", (group, k1, k2, self._seq, value))
                self._seq += 1

    def groups(self) -> list[str]:
        return [g for (g,) in self.db.execute("SELECT DISTINCT grp FROM rows ORDER BY grp")]

    def values(self, group: str) -> Iterator[str]:
        for (value,) in self.db.execute("SELECT value FROM rows WHERE grp = ? ORDER BY k1, k2, seq", (group,)):
            yield value

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> SortedOnDisk:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
