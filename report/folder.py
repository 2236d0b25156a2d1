"""An output folder of ``scenesmith generate``, read for a report: the run files, the scenario
it was made from, and the HDF5 shards' lineage and labels, read as whole ragged arrays (no
image is decoded, no frame is materialised one by one)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..scenarios.issues import issues_from_validation
from ..scenarios.model import Scenario
from ..scenarios.yaml_source import load_yaml_bytes
from ..sensors.errors import BadInputError, Issue

__all__ = ["Ragged", "RunFolder", "open_run"]

RUN_FILE = "run.json"
SCENARIO_FILE = "scenario.yaml"
MANIFEST_FILE = "manifest.json"
SHARD_GLOB = "hdf5/shard_*.h5"


def _bad(file: Path | str, message: str, expected: str | None = None, got: str | None = None) -> BadInputError:
    return BadInputError([Issue(str(file), 1, 1, "", message, expected, got)])


@dataclass(frozen=True)
class Ragged:
    """One ragged dataset over all frames of the run: frame ``k`` (in ``RunFolder.frames``
    order) is ``values[offsets[k]:offsets[k + 1]]``."""

    values: np.ndarray
    offsets: np.ndarray

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def frame_of_row(self) -> np.ndarray:
        """For every row of ``values``, the position of its frame."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts())

    def row(self, k: int) -> np.ndarray:
        return self.values[self.offsets[k] : self.offsets[k + 1]]


def load_scenario(path: Path) -> Scenario:
    """The scenario model of a run's ``scenario.yaml`` (validated, references not checked:
    the assets are not part of the output folder)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _bad(path, f"cannot read the run's scenario: {exc.strerror}", "a readable scenario.yaml") from None
    data, smap = load_yaml_bytes(raw, str(path))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(issues_from_validation(exc, data, smap)) from None


@dataclass
class RunFolder:
    out: Path
    run: dict[str, Any]
    scenario: Scenario
    manifest: dict[str, Any] | None
    shards: list[Path] = field(default_factory=list)

    # ------------------------------------------------------------------ frames and lineage

    def _each_shard(self, read: Any) -> list[Any]:
        import h5py

        parts = []
        for path in self.shards:
            with h5py.File(path, "r") as f:
                parts.append(read(f))
        return parts

    @cached_property
    def _order(self) -> np.ndarray:
        """Permutation putting the shards' concatenated frames in ascending order."""
        frames = np.concatenate(self._each_shard(lambda f: f["frames"][:])) if self.shards else np.zeros(0, int)
        return np.argsort(frames, kind="stable")

    @cached_property
    def frames(self) -> np.ndarray:
        """Frame indices held by the shards, ascending."""
        frames = np.concatenate(self._each_shard(lambda f: f["frames"][:])) if self.shards else np.zeros(0, int)
        return frames[self._order].astype(np.int64)

    @cached_property
    def lineage(self) -> list[dict[str, Any]]:
        """Each frame's ``frame_params`` (``FrameParams.to_dict``), in ``frames`` order."""
        texts = [t for part in self._each_shard(lambda f: list(f["frame_params"][:])) for t in part]
        return [json.loads(texts[i]) if texts[i] else {} for i in self._order]

    # ------------------------------------------------------------------ datasets

    def has(self, name: str) -> bool:
        return bool(self.shards) and all(self._each_shard(lambda f: name in f))

    def group_names(self, name: str) -> list[str]:
        """Members of the group ``name`` in the first shard (cameras, lidars)."""
        if not self.shards:
            return []
        names = self._each_shard(lambda f: sorted(f[name]) if name in f else [])
        return names[0]

    def attrs(self, name: str) -> dict[str, Any]:
        return self._each_shard(lambda f: dict(f[name].attrs))[0]

    def array(self, name: str) -> np.ndarray:
        """A per-frame dataset (N, …) over all frames, in ``frames`` order."""
        return np.concatenate(self._each_shard(lambda f: f[name][:]))[self._order]

    def strings(self, name: str) -> list[str]:
        """A per-frame string dataset (label maps, settle status), decoded, in ``frames`` order."""
        items = [v for part in self._each_shard(lambda f: list(f[name][:])) for v in part]
        return [items[i].decode("utf-8") if isinstance(items[i], bytes) else str(items[i]) for i in self._order]

    def ragged(self, name: str) -> Ragged:
        """A ragged ``<name>/values`` + ``<name>/frame_offsets`` over all frames, in ``frames`` order."""
        parts = self._each_shard(lambda f: (f[name]["values"][:], f[name]["frame_offsets"][:]))
        values = np.concatenate([v for v, _ in parts]) if parts else np.zeros(0)
        starts, counts, base = [], [], 0
        for v, off in parts:
            starts.append(base + off[:-1])
            counts.append(np.diff(off))
            base += len(v)
        start = np.concatenate(starts)[self._order]
        count = np.concatenate(counts)[self._order]
        rows = np.concatenate([np.arange(s, s + c) for s, c in zip(start, count)]) if len(start) else np.zeros(0, int)
        offsets = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        return Ragged(values[rows.astype(np.int64)], offsets)


def open_run(out: Path) -> RunFolder:
    """Read an output folder's run files; bad input (exit 2) when it is not a finished run."""
    out = Path(out)
    if not out.is_dir():
        raise BadInputError(
            [Issue.option("OUT", "not an output folder", "a folder written by scenesmith generate", str(out))]
        )
    run_file = out / RUN_FILE
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(
            run_file, "not a scenesmith output folder (no run.json)", "a folder written by scenesmith generate"
        ) from None
    except (OSError, ValueError) as exc:
        raise _bad(run_file, f"unreadable run.json: {exc}", "the JSON scenesmith generate wrote") from None
    if not isinstance(run, dict) or "frames" not in run or "seed" not in run:
        raise _bad(run_file, "run.json lacks frames or seed", "the JSON scenesmith generate wrote")
    manifest = None
    if (out / MANIFEST_FILE).is_file():
        try:
            manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _bad(
                out / MANIFEST_FILE, f"unreadable manifest: {exc}", "the JSON scenesmith generate wrote"
            ) from None
    scenario = load_scenario(out / SCENARIO_FILE)
    shards = sorted(out.glob(SHARD_GLOB))
    if not shards:
        raise _bad(
            out / "hdf5",
            "no HDF5 shards: the report reads labels and lineage from them",
            "a run with the hdf5 writer on (the default)",
            "none",
        )
    return RunFolder(out, run, scenario, manifest, shards)
