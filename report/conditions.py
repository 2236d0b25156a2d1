"""Deployment coverage: ``conditions.yaml`` declares the conditions a team expects to deploy in
as axes (bins over lineage values and label statistics, or classes); every cell of their
product gets the number of frames that show it, against a target.

A frame counts in a cell when its lineage values fall in the cell's frame-level bins and one
of its labelled instances falls in every instance-level bin (class, occlusion, …) at once.
Bins are half-open ``[a, b)``, the last one closed.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ..scenarios.issues import validate_document
from ..scenarios.model import Scenario
from ..scenarios.yaml_source import SourceMap, load_yaml_bytes
from ..sensors.errors import BadInputError, Issue
from ..sensors.spec_base import Name, Number, PosInt, Spec, invalid
from .labels import INSTANCE_STATS, Instances

__all__ = ["Axis", "Conditions", "condition_cells", "load_conditions"]

LABEL_AXES = ("class", *INSTANCE_STATS)
_LINEAGE = re.compile(r"^(?P<randomizer>[^.\[\]]+)\.(?P<key>[A-Za-z0-9_]+)(\[(?P<index>\d+)\])?$")


class Axis(Spec):
    """One axis of the condition grid: a lineage value or a label statistic, binned."""

    lineage: str | None = None
    """A randomizer's drawn key, ``RANDOMIZER.KEY`` or ``RANDOMIZER.KEY[i]`` for a vector's
    component, in the key's own unit (e.g. ``camera_orbit.elevation_deg``)."""
    target: str | None = None
    """Prim path of the target whose draw counts, for randomizers with several targets
    (default: the first in path order)."""
    label: Literal["class", "box_area_px", "occlusion", "visibility", "truncation", "distance_m"] | None = None
    """A per-instance label statistic (units in the name; occlusion, visibility and truncation 0..1)."""
    bins: Annotated[tuple[Number, ...], Field(min_length=2)] | None = None
    """Ascending bin edges for a numeric axis: [a, b) bins, the last one closed."""
    categories: Annotated[tuple[Name, ...], Field(min_length=1)] | None = None
    """Classes of a ``label: class`` axis (default: every class the run has)."""

    @model_validator(mode="after")
    def _shape(self) -> Axis:
        if (self.lineage is None) == (self.label is None):
            raise invalid(
                "an axis needs exactly one of lineage and label",
                expected="lineage or label",
                got="both" if self.lineage else "neither",
            )
        if self.lineage is not None and not _LINEAGE.match(self.lineage):
            raise invalid(
                "lineage names a randomizer's key",
                expected="RANDOMIZER.KEY or RANDOMIZER.KEY[i]",
                got=self.lineage,
                key="lineage",
            )
        if self.label == "class":
            if self.bins is not None:
                raise invalid("a class axis has categories, not bins", expected="categories", got="bins", key="bins")
        else:
            if self.categories is not None:
                raise invalid("only a class axis has categories", expected="bins", got="categories", key="categories")
            if self.bins is None:
                raise invalid("a numeric axis needs bins", expected="ascending bin edges, at least 2", got="none")
            if any(b <= a for a, b in zip(self.bins, self.bins[1:])):
                raise invalid(
                    "bin edges must ascend", expected="strictly ascending numbers", got=list(self.bins), key="bins"
                )
        if self.target is not None and self.lineage is None:
            raise invalid("target applies to lineage axes", expected="a lineage axis", got="label", key="target")
        return self


class Conditions(Spec):
    """The deployment conditions a dataset should cover (``scenesmith report --conditions``)."""

    version: Literal[1] = 1
    """Format version."""
    name: str | None = None
    """What these conditions describe."""
    target_frames: PosInt = 10
    """Frames each cell should have."""
    axes: Annotated[dict[Name, Axis], Field(min_length=1, max_length=8)]
    """The axes, in the order cells are listed; their product is the grid."""


def load_conditions(path: Path, scenario: Scenario) -> tuple[Conditions, SourceMap]:
    """Read and check ``conditions.yaml`` against the run's scenario; bad input names file:line:col."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(
            [Issue(str(path), 1, 1, "", "conditions file not found", "an existing file", str(path))]
        ) from None
    except OSError as exc:
        raise BadInputError([Issue(str(path), 1, 1, "", f"cannot read conditions file: {exc.strerror}")]) from None
    data, smap = load_yaml_bytes(raw, str(path))
    model = validate_document(Conditions, data, smap, "conditions")
    issues = []
    for name, axis in model.axes.items():
        if axis.lineage is None:
            continue
        match = _LINEAGE.match(axis.lineage)
        assert match is not None
        rnd = scenario.randomizers.get(match["randomizer"])
        loc = ("axes", name, "lineage")
        if rnd is None:
            issues.append(
                smap.issue(
                    loc,
                    f"the run's scenario has no randomizer '{match['randomizer']}'",
                    expected=", ".join(sorted(scenario.randomizers)) or "no randomizers",
                    got=match["randomizer"],
                )
            )
            continue
        declared = rnd.declared_distributions(scenario)
        if match["key"] not in declared:
            issues.append(
                smap.issue(
                    loc,
                    f"randomizer '{match['randomizer']}' records no raw draw of '{match['key']}'",
                    expected=", ".join(sorted(declared)) or "nothing drawn at random",
                    got=match["key"],
                )
            )
    if issues:
        raise BadInputError(issues)
    return model, smap


def _bin(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Bin index of each value, -1 outside (the last bin includes its upper edge)."""
    e = np.asarray(edges, dtype=np.float64)
    index = np.searchsorted(e, values, side="right") - 1
    index = np.where(values == e[-1], len(e) - 2, index)
    return np.where((values < e[0]) | (values > e[-1]) | ~np.isfinite(values), -1, index)


def _bin_labels(edges: tuple[float, ...]) -> list[str]:
    return [f"{a:g}–{b:g}" for a, b in zip(edges, edges[1:])]


def _lineage_values(axis: Axis, lineage: list[dict[str, Any]], scenario: Scenario) -> np.ndarray:
    match = _LINEAGE.match(axis.lineage or "")
    assert match is not None
    rnd = scenario.randomizers[match["randomizer"]]
    index = int(match["index"]) if match["index"] is not None else None
    out = np.full(len(lineage), np.nan)
    for k, frame in enumerate(lineage):
        entry = frame.get("draws", {}).get(match["randomizer"])
        if not entry:
            continue
        paths = sorted(entry["values"])
        for path in [axis.target] if axis.target else paths:
            raw = rnd.raw_draws(entry["values"].get(path, {}), scenario).get(match["key"])
            if raw is None:
                continue
            value = np.atleast_1d(np.asarray(raw, dtype=np.float64))
            out[k] = value[index if index is not None else 0]
            break
    return out


def condition_cells(
    conditions: Conditions,
    file: str,
    frames: np.ndarray,
    lineage: list[dict[str, Any]],
    scenario: Scenario,
    inst: Instances,
) -> dict[str, Any]:
    """The report's ``conditions`` section: every cell's frame count against the target."""
    position = {int(f): k for k, f in enumerate(frames)}
    frame_axes = [(n, a) for n, a in conditions.axes.items() if a.lineage is not None]
    inst_axes = [(n, a) for n, a in conditions.axes.items() if a.label is not None]
    labels: dict[str, list[str]] = {}
    frame_bins: dict[str, np.ndarray] = {}
    for name, axis in frame_axes:
        assert axis.bins is not None
        frame_bins[name] = _bin(_lineage_values(axis, lineage, scenario), axis.bins)
        labels[name] = _bin_labels(axis.bins)
    inst_bins: dict[str, np.ndarray] = {}
    for name, axis in inst_axes:
        if axis.label == "class":
            cats = list(axis.categories) if axis.categories else sorted(set(inst.cls.tolist()))
            lookup = {c: i for i, c in enumerate(cats)}
            inst_bins[name] = np.array([lookup.get(c, -1) for c in inst.cls.tolist()], dtype=np.int64)
            labels[name] = cats
        else:
            assert axis.bins is not None and axis.label is not None
            inst_bins[name] = _bin(inst.stats[axis.label], axis.bins)
            labels[name] = _bin_labels(axis.bins)
    names = list(conditions.axes)
    counts: dict[tuple[int, ...], set[int]] = {}
    inst_pos = np.array([position.get(int(f), -1) for f in inst.frame], dtype=np.int64)
    if inst_axes:
        for r in range(len(inst.frame)):
            k = inst_pos[r]
            if k < 0:
                continue
            cell = tuple(int(frame_bins[n][k]) if n in frame_bins else int(inst_bins[n][r]) for n in names)
            if min(cell) >= 0:
                counts.setdefault(cell, set()).add(k)
    else:
        for k in range(len(frames)):
            cell = tuple(int(frame_bins[n][k]) for n in names)
            if min(cell) >= 0:
                counts.setdefault(cell, set()).add(k)
    cells = []
    for cell in itertools.product(*(range(len(labels[n])) for n in names)):
        count = len(counts.get(cell, ()))
        cells.append(
            {
                "cell": {n: labels[n][i] for n, i in zip(names, cell)},
                "count": count,
                "target": conditions.target_frames,
                "met": count >= conditions.target_frames,
            }
        )
    return {
        "file": file,
        "name": conditions.name,
        "axes": {n: labels[n] for n in names},
        "cells": cells,
        "under_covered": [c["cell"] for c in cells if not c["met"]],
    }
