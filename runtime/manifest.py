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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .shards import ROOT_FILES, file_entry, record_path, sha256_file

__all__ = ["MANIFEST", "VerifyReport", "build_manifest", "environment", "verify_folder"]

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


def build_manifest(
    out: Path, run: dict[str, Any], records: dict[int, dict[str, Any]], run_files: list[Path]
) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for rel in sorted(run_files):
        files[rel.as_posix()] = file_entry(out / rel)
    frame_hashes: dict[str, str] = {}
    shards = []
    for shard_id in sorted(records):
        record = records[shard_id]
        files.update(record["files"])
        rec_rel = record_path(out, shard_id).relative_to(out).as_posix()
        files[rec_rel] = file_entry(out / rec_rel)
        frame_hashes.update(record["frame_hashes"])
        shards.append({"id": shard_id, "frames": record["frames"], "record": rec_rel})
    manifest = {
        **run,
        "shards": shards,
        "frame_hashes": dict(sorted(frame_hashes.items(), key=lambda kv: int(kv[0]))),
        "files": dict(sorted(files.items())),
    }
    path = out / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return manifest


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.truncated or self.altered)

    def lines(self) -> list[str]:
        out = []
        for kind in ("missing", "extra", "truncated", "altered"):
            out += [f"{kind}: {p}" for p in getattr(self, kind)]
        return out


def verify_folder(out: Path) -> VerifyReport:
    """Re-hash every file against the manifest; name each missing, extra, truncated or altered one."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    report = VerifyReport()
    listed = manifest["files"]
    for rel, entry in sorted(listed.items()):
        path = out / rel
        report.checked += 1
        if not path.is_file():
            report.missing.append(rel)
        elif path.stat().st_size < entry["bytes"]:
            report.truncated.append(rel)
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            report.altered.append(rel)
    for path in sorted(out.rglob("*")):
        if path.is_file():
            rel = path.relative_to(out).as_posix()
            if rel not in listed and rel != MANIFEST:
                report.extra.append(rel)
    return report


__all__ += ["ROOT_FILES"]
