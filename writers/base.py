"""The writer contract: writers consume only payloads (DESIGN §1).

A writer declares the annotators it needs, is opened once per shard, receives every frame's
payload through ``write`` and returns the files it produced when closed. Files are written
under temporary names and renamed into place when complete, so a crash never leaves a file
that looks complete but is not. ``on_final_frame`` runs once after every shard is published
(merging per-shard fragments). The same classes run inside Isaac Sim behind ``rep.Writer``
adapters (``runtime/isaac``), fed by Replicator's own payloads.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["RunInfo", "ShardContext", "Writer", "atomic_write_bytes", "tmp_path_for"]

TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class RunInfo:
    """What every writer may record about the run (no timestamps: outputs must be reproducible)."""

    tool_version: str
    schema_version: int
    scenario_digest: str
    randomization_digest: str
    seed: int
    categories: tuple[str, ...]
    """Class labels in sorted order: COCO category id = 1 + index (DESIGN §9)."""
    cameras: tuple[str, ...]
    """Camera (= render product) names in sorted order: image_id = frame × cameras + index."""
    lidars: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ShardContext:
    out_dir: Path
    shard_id: int
    frames: tuple[int, int]
    """Frames ``start`` .. ``stop - 1`` of this shard."""
    run: RunInfo


def tmp_path_for(path: Path) -> Path:
    """Hidden temporary sibling of ``path`` (same folder, so the final rename is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    with open(tmp, "wb") as handle:
        handle.write(data)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


class Writer(ABC):
    """Base class of scenesmith writers."""

    name: ClassVar[str] = "abstract"
    required_annotators: ClassVar[tuple[str, ...]] = ()
    """Camera annotators the writer reads; the pipeline makes sure cameras produce them."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.context: ShardContext | None = None
        self.files: list[Path] = []

    def requires(self) -> tuple[str, ...]:
        """Camera annotators this writer, as configured, reads."""
        return self.required_annotators

    def open(self, context: ShardContext) -> None:
        self.context = context
        self.files = []

    @abstractmethod
    def write(self, payload: dict[str, Any]) -> None:
        """Consume one frame's payload (Replicator ``annotator`` data structure)."""

    def close(self) -> list[Path]:
        """Finish the shard; return the files written (relative to the output folder)."""
        return list(self.files)

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        """After all shards are published: merge fragments; return the files written."""
        return []

    def _rel(self, path: Path) -> Path:
        assert self.context is not None
        return path.relative_to(self.context.out_dir)
