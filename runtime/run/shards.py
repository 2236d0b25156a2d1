"""Shards: plans and published records (``run_folder.sweep`` removes what unfinished ones left).

A shard (DESIGN §9) writes its files, then publishes ``shards/<id:06d>.json`` — its frames, its
files with sha256 and size, and its frames' content hashes — last, by an fsynced rename. A
shard without a valid record does not exist: on ``--resume`` its files and every temporary
file are deleted and it is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...scenarios.loader import ScenarioDocument
    from ...writers.base import RunInfo

__all__ = [
    "RECORDS",
    "ROOT_FILES",
    "RUN_LEVEL_DIRS",
    "STAGE_ASSETS_DIR",
    "ShardJob",
    "ShardPlan",
    "file_entry",
    "load_record",
    "plan_shards",
    "publish_record",
    "sha256_file",
    "valid_shards",
]

RECORDS = "shards"
ROOT_FILES = ("run.json", "scenario.yaml", "resolved.json", "stage.usda", "manifest.json")
"""Run-level files at the top of an output folder (not owned by any shard)."""
STAGE_ASSETS_DIR = "stage_assets"
"""Copies of the files stage.usda names (``runtime.stage_assets``)."""
RUN_LEVEL_DIRS = ("stage_textures", STAGE_ASSETS_DIR)
"""Run-level folders (written with the run files, owned by no shard): procedural textures, and
copies of the files stage.usda names (``stage_assets.ASSETS_DIR``)."""


@dataclass(frozen=True)
class ShardPlan:
    shard_id: int
    start: int
    stop: int

    @property
    def frames(self) -> range:
        return range(self.start, self.stop)


def plan_shards(start: int, stop: int, shard_size: int) -> list[ShardPlan]:
    """Shard k holds frames [start + k·size, min(stop, start + (k+1)·size)); ids are global
    (frame // size), so a run's shard files do not depend on where its frame range begins."""
    out = []
    first = start // shard_size
    for k in range(first, (stop - 1) // shard_size + 1):
        a, b = max(start, k * shard_size), min(stop, (k + 1) * shard_size)
        if a < b:
            out.append(ShardPlan(k, a, b))
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def record_path(out: Path, shard_id: int) -> Path:
    return out / RECORDS / f"{shard_id:06d}.json"


def publish_record(out: Path, plan: ShardPlan, files: list[Path], frame_hashes: dict[int, str]) -> dict[str, Any]:
    """Hash the shard's files and publish its record atomically (fsync, rename, fsync dir)."""
    record = {
        "shard": plan.shard_id,
        "frames": [plan.start, plan.stop],
        "files": {p.as_posix(): file_entry(out / p) for p in sorted(files)},
        "frame_hashes": {str(k): v for k, v in sorted(frame_hashes.items())},
    }
    path = record_path(out, plan.shard_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, sort_keys=True, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return record


def _valid(out: Path, record: dict[str, Any], plan: ShardPlan) -> bool:
    if record.get("shard") != plan.shard_id or record.get("frames") != [plan.start, plan.stop]:
        return False
    for rel, entry in record.get("files", {}).items():
        path = out / rel
        if not path.is_file() or path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            return False
    return len(record.get("frame_hashes", {})) == plan.stop - plan.start


def load_record(out: Path, shard_id: int) -> dict[str, Any]:
    """Shard ``shard_id``'s published record (``valid_shards`` checked it)."""
    return json.loads(record_path(out, shard_id).read_text(encoding="utf-8"))


def valid_shards(out: Path, plans: list[ShardPlan]) -> set[int]:
    """Ids of the published shards whose files all match; invalid records are deleted. One
    record in memory at a time: a run keeps ids, never records (its memory does not grow with
    the dataset), and reads a record again where it needs one (``load_record``)."""
    valid = set()
    for plan in plans:
        path = record_path(out, plan.shard_id)
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        if _valid(out, record, plan):
            valid.add(plan.shard_id)
        else:
            path.unlink(missing_ok=True)
    return valid


@dataclass(frozen=True)
class ShardJob:
    """Everything a process needs to make one shard (picklable: it crosses to workers)."""

    document: ScenarioDocument
    seed: int
    plan: ShardPlan
    out: Path
    backend: str
    writer_configs: dict[str, dict[str, Any]]
    run_info: RunInfo
