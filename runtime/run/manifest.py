"""``manifest.json``: assembled from the shard records at the end of a run; ``verify`` re-checks it.

The manifest lists every file of the output folder (except itself) with sha256 and size, every
frame's content hash, the shards, and what produced them: schema and tool versions, numpy's
version (bit-identity is promised per environment), scenario and randomization digests, seed,
frames, shard size, backend and writers. It holds no timestamps, so a resumed run's manifest
equals an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np

from ...writers.disk_sort import scratch_db, scratch_db_path
from .shards import ROOT_FILES, file_entry, load_record, record_path, sha256_file

__all__ = ["MANIFEST", "VerifyReport", "build_manifest", "environment", "load_manifest", "verify_folder"]

MANIFEST = "manifest.json"


def environment() -> dict[str, str]:
    import h5py

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        # bulk HDF5 chunks are deflated by ISA-L when installed: its version shapes the bytes
        "isal": _version_of("isal"),
    }


def _version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def build_manifest(out: Path, run: dict[str, Any], published: Iterable[int], run_files: list[Path]) -> Path:
    """Write ``manifest.json`` from the run's parameters, its run-level files and the published
    shards' records, read back one at a time; return its path.

    The document is ``json.dump(manifest, indent=1, sort_keys=True)`` of the whole manifest,
    byte for byte, but never held in memory: its two big maps (every file, every frame's hash)
    go through an on-disk SQLite table that sorts them, so the driver's peak memory does not
    grow with the dataset (a million frames are ~10^6 hashes and ~10^5 files). The table is a
    temporary file of the manifest's name (``.manifest.json.PID.tmp.db``), which ``sweep``
    removes if the run dies while writing it."""
    path = out / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    db_path = scratch_db_path(path)
    db = scratch_db(db_path)
    try:
        # TEXT keys compare as bytes (memcmp); for UTF-8 that is Python's code-point order,
        # which is what sort_keys uses
        for table in _SORTED_MAPS:
            db.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE shards (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
        _fill(db, out, published, run_files)
        with open(tmp, "w", encoding="utf-8") as handle:
            _write_document(handle, db, run)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        db.close()
        db_path.unlink(missing_ok=True)
    os.replace(tmp, path)
    return path


_SORTED_MAPS = ("files", "frame_hashes")
"""The manifest's keys whose maps grow with the dataset, sorted on disk by ``build_manifest``."""


def _fill(db: sqlite3.Connection, out: Path, published: Iterable[int], run_files: list[Path]) -> None:
    """Every file's entry, every frame's hash and every shard's row, one record at a time."""
    put_file = "INSERT OR REPLACE INTO files VALUES (?, ?)"
    with db:
        db.executemany(put_file, ((rel.as_posix(), _json(file_entry(out / rel))) for rel in run_files))
        for shard_id in published:
            record = load_record(out, shard_id)
            rec_rel = record_path(out, shard_id).relative_to(out).as_posix()
            db.executemany(put_file, ((rel, _json(entry)) for rel, entry in record["files"].items()))
            db.execute(put_file, (rec_rel, _json(file_entry(out / rec_rel))))
            db.executemany(
                "INSERT OR REPLACE INTO frame_hashes VALUES (?, ?)",
                ((frame, _json(digest)) for frame, digest in record["frame_hashes"].items()),
            )
            shard = {"id": shard_id, "frames": record["frames"], "record": rec_rel}
            db.execute("INSERT OR REPLACE INTO shards VALUES (?, ?)", (shard_id, _json(shard)))


def _json(value: Any, depth: int = 0) -> str:
    """``value`` as ``json.dump(..., indent=1, sort_keys=True)`` writes it ``depth`` levels deep."""
    return json.dumps(value, indent=1, sort_keys=True).replace("\n", "\n" + " " * depth)


def _write_document(handle: Any, db: sqlite3.Connection, run: dict[str, Any]) -> None:
    """The manifest object at indent 1, keys sorted; the big maps and the shards streamed."""
    streamed = {
        **{table: f"SELECT key, value FROM {table} ORDER BY key" for table in _SORTED_MAPS},
        "shards": "SELECT NULL, value FROM shards ORDER BY id",
    }
    handle.write("{")
    for n, key in enumerate(sorted({*run, *streamed})):
        handle.write(("," if n else "") + "\n " + json.dumps(key) + ": ")
        if key not in streamed:
            handle.write(_json(run[key], 1))
            continue
        opening, closing = ("[", "]") if key == "shards" else ("{", "}")
        handle.write(opening)
        count = 0
        for item, value in db.execute(streamed[key]):
            handle.write(("," if count else "") + "\n  ")
            if item is not None:
                handle.write(json.dumps(item) + ": ")
            handle.write(value.replace("\n", "\n  "))
            count += 1
        handle.write(("\n " if count else "") + closing)
    handle.write("\n}\n")


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    """Manifest entries naming a path outside the folder (absolute, ``..``): never opened."""
    symlinks: list[str] = field(default_factory=list)
    """Symbolic links in the folder (a run writes none; verify never follows one)."""
    inconsistent: list[str] = field(default_factory=list)
    """Disagreements between the manifest, run.json, the shard records and the data itself."""

    KINDS: ClassVar[tuple[str, ...]] = (
        "unsafe",
        "symlinks",
        "missing",
        "extra",
        "truncated",
        "altered",
        "inconsistent",
    )

    @property
    def ok(self) -> bool:
        return not any(getattr(self, kind) for kind in self.KINDS)

    def lines(self) -> list[str]:
        out = []
        for kind in self.KINDS:
            label = "symlink" if kind == "symlinks" else kind
            out += [f"{label}: {p}" for p in getattr(self, kind)]
        return out


def _safe_relative(rel: object) -> bool:
    """A manifest path that stays inside the folder: relative, ``/``-separated, no ``..``."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        return False
    pure = PurePosixPath(rel)
    return not pure.is_absolute() and all(part not in ("", ".", "..") for part in rel.split("/"))


def _symlinked(out: Path, rel: str) -> bool:
    """Whether ``rel`` or any folder on the way to it is a symbolic link."""
    path = out
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            return True
    return False


def _walk(out: Path) -> tuple[list[str], list[str]]:
    """Files and symlinks under ``out`` (relative), never following a link."""
    files, links = [], []
    for root, dirs, names in os.walk(out, followlinks=False):
        base = Path(root)
        for name in sorted(names + dirs):
            path = base / name
            rel = path.relative_to(out).as_posix()
            if path.is_symlink():
                links.append(f"{rel} -> {os.readlink(path)}")
            elif path.is_file():
                files.append(rel)
    return sorted(files), sorted(links)


def load_manifest(out: Path) -> dict[str, Any]:
    """``out/manifest.json``, parsed and checked for the shape ``verify`` relies on; a missing,
    unreadable or malformed manifest is bad input (exit 2) naming the file, position and key."""
    from ...sensors.errors import BadInputError, Issue

    path = out / MANIFEST

    def bad(message: str, key: str = "(document)", line: int = 1, col: int = 1, got: object = None) -> BadInputError:
        expected = "a manifest.json written by scenesmith generate"
        return BadInputError([Issue(str(path), line, col, key, message, expected, None if got is None else str(got))])

    if path.is_symlink() or not path.is_file():
        raise bad("no manifest: not a finished scenesmith run", got=out)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise bad(f"not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise bad(f"not valid JSON: {err.msg}", line=err.lineno, col=err.colno) from None
    if not isinstance(manifest, dict):
        raise bad("the manifest is not a JSON object", got=type(manifest).__name__)
    shapes = {"files": dict, "shards": list, "frame_hashes": dict, "frames": dict}
    for key, kind in shapes.items():
        if not isinstance(manifest.get(key), kind):
            raise bad(f"missing or not a {kind.__name__}", key=key, got=type(manifest.get(key)).__name__)
    for rel, entry in manifest["files"].items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("bytes"), int)
            and entry["bytes"] >= 0
        ):
            raise bad("expected {sha256: hex, bytes: int >= 0}", key=f"files.{rel}", got=entry)
    for k, shard in enumerate(manifest["shards"]):
        if not (
            isinstance(shard, dict)
            and isinstance(shard.get("id"), int)
            and isinstance(shard.get("record"), str)
            and isinstance(shard.get("frames"), list)
            and len(shard["frames"]) == 2
            and all(isinstance(v, int) for v in shard["frames"])
        ):
            raise bad("expected {id: int, frames: [start, stop], record: path}", key=f"shards[{k}]", got=shard)
    if not all(isinstance(v, int) for v in (manifest["frames"].get("start"), manifest["frames"].get("stop"))):
        raise bad("expected {start: int, stop: int}", key="frames", got=manifest["frames"])
    return manifest


def verify_folder(out: Path, manifest: dict[str, Any] | None = None) -> VerifyReport:
    """Check a finished run folder against its manifest (``check_manifest_shape`` first):

    - every listed file exists with its size and sha256, nothing else is there (but the
      manifest and the folder lock), and nothing is a symlink; listed paths that leave the
      folder are reported and never opened;
    - ``run.json`` says what the manifest says; each shard record lists the same files,
      hashes and frame hashes as the manifest, and the records cover the run's frames;
    - every frame's content hash, recomputed from the HDF5 shards, equals the recorded one.

    Without a signature this proves consistency, not origin: someone who rewrites data,
    records and manifest together can make a folder that passes (README, "verify")."""
    from .run_folder import LOCK_NAME

    if manifest is None:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    report = VerifyReport()
    listed: dict[str, Any] = manifest["files"]
    readable: set[str] = set()
    for rel, entry in sorted(listed.items()):
        report.checked += 1
        if not _safe_relative(rel):
            report.unsafe.append(rel)
            continue
        if _symlinked(out, rel):
            continue  # reported with every other link below
        path = out / rel
        if not path.is_file():
            report.missing.append(rel)
        elif path.stat().st_size < entry["bytes"]:
            report.truncated.append(rel)
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            report.altered.append(rel)
        else:
            readable.add(rel)
    files, links = _walk(out)
    report.symlinks += links
    report.extra += [rel for rel in files if rel not in listed and rel not in (MANIFEST, LOCK_NAME)]
    _cross_check(out, manifest, readable, report)
    return report


def _cross_check(out: Path, manifest: dict[str, Any], readable: set[str], report: VerifyReport) -> None:
    """run.json, shard records and recomputed frame hashes against the manifest."""
    listed, hashes = manifest["files"], manifest["frame_hashes"]
    if "run.json" in readable:
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        for key in sorted(run):
            if manifest.get(key) != run[key]:
                report.inconsistent.append(f"run.json: {key} differs from the manifest")
    frames = manifest.get("frames", {})
    covered: list[int] = []
    for shard in manifest["shards"]:
        rec = shard["record"]
        if rec not in readable:
            report.inconsistent.append(f"{rec}: shard {shard['id']}'s record cannot be checked (see above)")
            continue
        record = json.loads((out / rec).read_text(encoding="utf-8"))
        if record.get("shard") != shard["id"] or record.get("frames") != shard["frames"]:
            report.inconsistent.append(f"{rec}: shard id or frames differ from the manifest")
        for rel, entry in sorted(record.get("files", {}).items()):
            if listed.get(rel) != entry:
                report.inconsistent.append(f"{rel}: sha256 or size differs between {rec} and the manifest")
        start, stop = shard["frames"]
        covered += range(start, stop)
        for frame, digest in sorted(record.get("frame_hashes", {}).items()):
            if hashes.get(frame) != digest:
                report.inconsistent.append(f"frame {frame}: content hash differs between {rec} and the manifest")
        for rel in sorted(record.get("files", {})):
            if rel.endswith(".h5") and rel in readable:
                _check_frame_hashes(out / rel, record.get("frame_hashes", {}), rel, report)
    if frames and sorted(covered) != list(range(frames["start"], frames["stop"])):
        report.inconsistent.append("shards: the records do not cover the run's frames exactly once")
    if sorted(int(k) for k in hashes) != sorted(covered):
        report.inconsistent.append("frame_hashes: not one per frame of the shards")


def _check_frame_hashes(path: Path, recorded: dict[str, str], rel: str, report: VerifyReport) -> None:
    """Recompute each frame's content hash from the shard's HDF5 data (every annotator is there)."""
    from ...writers.content_hash import frame_content_hash
    from ...writers.hdf5_reader import read_frames

    try:
        for frame in read_frames(path):
            if frame_content_hash(frame) != recorded.get(str(frame["frame"])):
                report.inconsistent.append(f"{rel}: frame {frame['frame']}'s data does not match its content hash")
    except (OSError, KeyError, ValueError) as err:
        report.inconsistent.append(f"{rel}: unreadable as a scenesmith HDF5 shard ({err})")


__all__ += ["ROOT_FILES"]
