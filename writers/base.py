"""The writer contract: writers consume only payloads (DESIGN §1).

A writer declares the annotators it needs, is opened once per shard, receives every frame's
payload through ``write`` and returns the files it produced when closed. Files are written
under temporary names and renamed into place when complete, so a crash never leaves a file
that looks complete but is not. ``on_final_frame`` runs once after every shard is published
(merging per-shard fragments). The same classes run inside Isaac Sim behind ``rep.Writer``
adapters (``runtime/isaac``), fed by Replicator's own payloads.
"""

from __future__ import annotations

import errno
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..sensors.spec_base import Spec
from .object_models import ObjectModel
from .splits import DEFAULT_SPLITS, split_of

__all__ = [
    "NoOptions",
    "OutputWriteError",
    "RunInfo",
    "ShardContext",
    "Writer",
    "atomic_write_bytes",
    "atomic_write_chunks",
    "final_path_of",
    "output_write_error",
    "tmp_path_for",
]

TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\.(?P<final>.+)\.\d+\.tmp(?:\.[A-Za-z0-9]+)?$")

ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}
)
"""Write failures caused by the machine, not by scenesmith: disk full, quota, file too large,
I/O error, read-only filesystem, permissions."""


class OutputWriteError(OSError):
    """An output file could not be written for a reason outside scenesmith (``ENVIRONMENT_ERRNOS``):
    ``filename`` is the file's final name (not its temporary one). The run is resumable once the
    cause is fixed."""

    def __reduce__(self) -> tuple:  # crosses process boundaries (worker pools) intact
        return (type(self), (self.errno, self.strerror, self.filename))


def final_path_of(path: Path) -> Path:
    """The file a temporary name (``tmp_path_for``) stands for; other paths unchanged."""
    m = _TMP_NAME.match(path.name)
    return path.with_name(m["final"]) if m else path


def output_write_error(exc: BaseException, fallback: Path | None = None) -> OutputWriteError | None:
    """``exc`` as an ``OutputWriteError`` when the machine caused it, else None. HDF5 reports
    its OS errors in text (``errno = 28``, ``filename = '…'``), as OSError or, from a failed
    flush, RuntimeError, so those are read from it."""
    if isinstance(exc, OutputWriteError):
        return exc
    if isinstance(exc, OSError):
        code, name = exc.errno, exc.filename
    elif isinstance(exc, RuntimeError):  # h5py raises these for failed flushes
        code, name = None, None
    else:
        return None
    text = str(exc)
    if code is None:
        found = re.search(r"errno = (\d+)", text)
        code = int(found[1]) if found else None
    if name is None:
        found = re.search(r"filename = '([^']*)'", text)
        name = found[1] if found else None
    if code not in ENVIRONMENT_ERRNOS:
        return None
    where = Path(name) if name else fallback
    return OutputWriteError(code, os.strerror(code), None if where is None else str(final_path_of(Path(where))))


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
    splits: tuple[tuple[str, float], ...] = DEFAULT_SPLITS
    """``output.splits`` in declared order: (name, fraction)."""
    episode_frames: int = 1
    """Frames per physics episode (1: every frame is its own scene)."""
    objects: tuple[ObjectModel, ...] = ()
    """The labelled assets' models, filled only when a writer ``needs_object_models``."""

    def split_of(self, frame: int) -> str:
        """The split of ``frame`` (``writers.splits.split_of`` with this run's seed)."""
        return split_of(self.seed, frame, self.splits)


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
    """Write ``data`` under a temporary name, then rename it to ``path``. On failure the
    temporary file is removed and machine-caused errors name ``path`` (``OutputWriteError``)."""
    atomic_write_chunks(path, (data,), fsync)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes], fsync: bool = False) -> None:
    """``atomic_write_bytes`` of the concatenated ``chunks``, never held together in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        known = output_write_error(exc, path)
        if known is None:
            raise
        raise OutputWriteError(known.errno, known.strerror, str(path)) from None
    except BaseException:  # the chunks' source failed (or the run was interrupted)
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


class NoOptions(Spec):
    """A writer without options."""


class Writer(ABC):
    """Base class of scenesmith writers. A writer is one class in one module: its name, its
    options (the keys under ``output.writers.<name>``), whether it runs by default, what it
    reads, what it writes and its Isaac Replicator name are declared here, and the scenario
    model, the pipeline and the Isaac adapters derive from the registry
    (``writers.registry``)."""

    name: ClassVar[str] = "abstract"
    options_spec: ClassVar[type[Spec]] = NoOptions
    """The writer's options: the scenario's ``output.writers.<name>`` mapping, validated with
    file:line errors like the rest of the scenario; the writer receives them as keywords."""
    enabled_by_default: ClassVar[bool] = False
    """Whether the writer runs when ``output.writers`` does not mention it."""
    summary: ClassVar[str] = ""
    """What the writer writes, in a few words (the scenario schema's description of its key)."""
    required_annotators: ClassVar[tuple[str, ...]] = ()
    """Camera annotators the writer reads; the pipeline makes sure cameras produce them."""
    replicator_class_name: ClassVar[str] = ""
    """The ``rep.Writer`` class this writer is registered as inside Isaac Sim
    (``runtime.isaac.rep_writers``; Replicator's WriterRegistry keys writers by class name)."""
    needs_object_models: ClassVar[bool] = False
    """Whether the run must hand this writer the labelled assets' models (``RunInfo.objects``)."""
    output_patterns: ClassVar[tuple[str, ...]] = ()
    """Every file the writer may create, as paths relative to the output folder; per part literal
    text, ``*`` (any name) and ``<n>`` (digits), ``**`` any depth (``runtime.run.run_folder``). A
    run deletes only files of these names (``--resume``'s sweep, ``--overwrite``), so anything
    else a user keeps in the folder survives."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.context: ShardContext | None = None
        self.files: list[Path] = []

    def requires(self) -> tuple[str, ...]:
        """Camera annotators this writer, as configured, reads."""
        return self.required_annotators

    @classmethod
    def run_problem(cls, stop_frame: int, cameras: int) -> tuple[str, str, str] | None:
        """Why this writer cannot write a run of frames below ``stop_frame`` with ``cameras``
        cameras — (message, expected, got) — or None. Checked before the output folder exists."""
        return None

    @classmethod
    def scenario_problems(cls, scenario: Any) -> list[tuple[tuple[str | int, ...], str, str, Any]]:
        """What of a validated scenario (``scenarios.model.Scenario``) this writer, when
        enabled, cannot write: (key path, message, expected, got) each, refused with the
        key's file:line and exit 2 by ``scenesmith validate`` and before ``generate`` writes."""
        return []

    def open(self, context: ShardContext) -> None:
        self.context = context
        self.files = []

    @abstractmethod
    def write(self, payload: dict[str, Any]) -> None:
        """Consume one frame's payload (Replicator ``annotator`` data structure)."""

    def close(self) -> list[Path]:
        """Finish the shard; return the files written (relative to the output folder)."""
        return list(self.files)

    def abort(self) -> None:
        """The shard failed or was interrupted: release open files (the run's sweep deletes
        them). Must not raise."""
        self.files = []

    def on_final_frame(self, out_dir: Path, run: RunInfo, shard_ids: list[int]) -> list[Path]:
        """After all shards are published: merge fragments; return the files written."""
        return []

    def _rel(self, path: Path) -> Path:
        assert self.context is not None
        return path.relative_to(self.context.out_dir)
