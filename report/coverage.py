"""Randomizer coverage: the raw draws of every sampled parameter against its declared
distribution, with a goodness-of-fit test, a multiple-testing correction and the share of the
declared range the draws reach.

Draws come from the lineage (``draws``), one per trigger key and target (once per trigger key
for kinds whose one draw serves every target), so values held by ``interval`` count once;
each kind says which of its keys it records raw (``RandomizerKind.declared_distributions`` and
``raw_draws``). Continuous marginals get a Kolmogorov–Smirnov test, choices and sequences a
chi-square test; p-values are Holm-adjusted over all lines and a misfit is a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenarios.model import Scenario
from .histograms import categorical, numeric

__all__ = ["ALPHA", "Draws", "collect_draws", "coverage_lines", "holm", "range_covered", "test_line"]

ALPHA = 0.05
"""Family-wise error rate of the Holm-adjusted goodness-of-fit tests."""
BINS = 20


@dataclass
class Draws:
    """The raw draws of one randomizer key: one value per (trigger key, target)."""

    randomizer: str
    key: str
    declared: dict[str, Any]
    trigger_keys: list[int]
    values: list[Any]


def collect_draws(scenario: Scenario, lineage: list[dict[str, Any]]) -> list[Draws]:
    """Every declared key's draws, deduplicated by trigger key (and target unless shared)."""
    out: list[Draws] = []
    for name, rnd in scenario.randomizers.items():
        declared = rnd.declared_distributions(scenario)
        if not declared:
            continue
        seen: set[tuple[int, str]] = set()
        found: dict[str, Draws] = {key: Draws(name, key, dist, [], []) for key, dist in declared.items()}
        for frame in lineage:
            entry = frame.get("draws", {}).get(name)
            if entry is None:
                continue
            tkey = int(entry["trigger_key"])
            for path, values in sorted(entry["values"].items()):
                unit = (tkey, "" if type(rnd).shared_draw else path)
                raw = rnd.raw_draws(values, scenario)
                if unit in seen or not raw:
                    continue
                seen.add(unit)
                for key, value in raw.items():
                    found[key].trigger_keys.append(tkey)
                    found[key].values.append(value)
        out += [d for d in found.values() if d.values]
    return out


# --------------------------------------------------------------------------- one marginal


def _name(dist: dict[str, Any]) -> str:
    return next(iter(dist))


def _components(dist: dict[str, Any]) -> list[dict[str, Any]]:
    """Per component, the 1-D declared marginal (``combine`` is split into its parts)."""
    kind = _name(dist)
    p = dist[kind]
    if kind == "combine":
        return [c for part in p for c in _components(part) if isinstance(part, dict)]
    if kind in ("uniform", "log_uniform"):
        lo, hi = np.atleast_1d(p["lower"]), np.atleast_1d(p["upper"])
        return [{kind: {"lower": float(a), "upper": float(b)}} for a, b in zip(lo, hi)]
    if kind == "normal":
        mean = np.atleast_1d(p["mean"])
        std = np.broadcast_to(np.atleast_1d(p["std"]), mean.shape)
        return [{kind: {"mean": float(m), "std": float(s)}} for m, s in zip(mean, std)]
    return [dist]


def range_covered(values: np.ndarray, dist: dict[str, Any]) -> float | None:
    """Share of the declared range the draws span: (max − min) / (upper − lower), in log space
    for log_uniform; for a choice, the share of items with weight drawn at least once; ``None``
    for unbounded (normal) declarations."""
    kind = _name(dist)
    p = dist[kind]
    if kind in ("uniform", "log_uniform"):
        lo, hi = float(p["lower"]), float(p["upper"])
        v = np.asarray(values, dtype=np.float64)
        if kind == "log_uniform":
            lo, hi, v = math.log(lo), math.log(hi), np.log(v)
        if hi <= lo or not v.size:
            return None
        return float(np.clip((v.max() - v.min()) / (hi - lo), 0.0, 1.0))
    return None


def _items_index(values: list[Any], items: list[Any]) -> np.ndarray:
    """Index of each drawn value among the declared items (-1: none matches)."""
    out = np.full(len(values), -1, dtype=np.int64)
    numeric_items = all(isinstance(i, (int, float, list)) and not isinstance(i, bool) for i in items)
    for n, value in enumerate(values):
        for j, item in enumerate(items):
            if numeric_items and not isinstance(value, (str, bool)):
                if np.allclose(np.atleast_1d(value), np.atleast_1d(item), rtol=1e-9, atol=1e-9):
                    out[n] = j
                    break
            elif value == item:
                out[n] = j
                break
    return out


def test_line(values: list[Any], trigger_keys: list[int], dist: dict[str, Any]) -> dict[str, Any] | None:
    """Statistic, p-value, range covered and histogram of one marginal (``None``: nothing to test)."""
    from scipy import stats

    kind = _name(dist)
    p = dist[kind]
    if kind in ("choice", "sequence"):
        items = p["items"]
        index = _items_index(values, items)
        n = len(values)
        if kind == "choice":
            w = np.ones(len(items)) if p.get("weights") is None else np.asarray(p["weights"], dtype=np.float64)
            expected = n * w / w.sum()
        else:
            expected = np.bincount(np.asarray(trigger_keys) % len(items), minlength=len(items)).astype(np.float64)
        counts = np.bincount(index[index >= 0], minlength=len(items)).astype(np.float64)
        outside = int((index < 0).sum())
        possible = expected > 0
        if outside or (counts[~possible] > 0).any():
            value, pval = math.inf, 0.0  # a value the declaration cannot draw
        elif possible.sum() < 2:
            value, pval = 0.0, 1.0
        else:
            value, pval = (float(x) for x in stats.chisquare(counts[possible], expected[possible]))
        reached = float((counts[possible] > 0).sum() / max(1, possible.sum()))
        labels = [str(i) for i in items]
        return {
            "statistic": "chi-square",
            "value": value,
            "p": pval,
            "range_covered": reached,
            "hist": categorical(labels, counts.astype(int).tolist(), label="draws", expected=expected.tolist()),
        }
    v = np.asarray(values, dtype=np.float64)
    if kind == "uniform":
        lo, hi = p["lower"], p["upper"]
        if hi <= lo:
            return None
        cdf = stats.uniform(lo, hi - lo).cdf
        edges = np.linspace(lo, hi, BINS + 1)
        expected = np.full(BINS, len(v) / BINS)
    elif kind == "log_uniform":
        lo, hi = math.log(p["lower"]), math.log(p["upper"])
        if hi <= lo:
            return None
        cdf = stats.loguniform(p["lower"], p["upper"]).cdf
        edges = np.exp(np.linspace(lo, hi, BINS + 1))
        expected = np.full(BINS, len(v) / BINS)
    elif kind == "normal":
        if p["std"] <= 0:
            return None
        dist_n = stats.norm(p["mean"], p["std"])
        cdf = dist_n.cdf
        edges = np.linspace(p["mean"] - 4 * p["std"], p["mean"] + 4 * p["std"], BINS + 1)
        expected = len(v) * np.diff(dist_n.cdf(edges))
    else:
        return None
    result = stats.kstest(v, cdf)
    return {
        "statistic": "Kolmogorov-Smirnov D",
        "value": float(result.statistic),
        "p": float(result.pvalue),
        "range_covered": range_covered(v, dist),
        "hist": numeric(v, label="draws", bins=list(edges), expected=expected.tolist()),
    }


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (monotone, capped at 1)."""
    m = len(pvalues)
    order = np.argsort(pvalues, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted.tolist()


def coverage_lines(draws: list[Draws]) -> list[dict[str, Any]]:
    """The report's ``coverage`` lines, Holm-adjusted, misfits as ``warn``."""
    lines: list[dict[str, Any]] = []
    for d in draws:
        kind = _name(d.declared)
        parts = _components(d.declared)
        joint = kind in ("choice", "sequence") or len(parts) == 1
        if joint:
            candidates = [(f"{d.randomizer}.{d.key}", d.declared, d.values)]
        else:
            matrix = np.asarray([np.atleast_1d(v) for v in d.values], dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[1] != len(parts):
                continue
            candidates = [(f"{d.randomizer}.{d.key}[{c}]", part, matrix[:, c].tolist()) for c, part in enumerate(parts)]
        for parameter, dist, values in candidates:
            if not joint or _name(dist) not in ("choice", "sequence"):
                # a scalar key may be recorded as a vector (a uniform scale becomes 3 equal values)
                values = [v[0] if isinstance(v, list) and len(v) and _name(dist) != "choice" else v for v in values]
            line = test_line(values, d.trigger_keys, dist)
            if line is None:
                continue
            line["hist"]["label"] = f"{parameter} draws"
            lines.append(
                {"parameter": parameter, "randomizer": d.randomizer, "distribution": dist, "n": len(values), **line}
            )
    adjusted = holm([line["p"] for line in lines])
    for line, p_adj in zip(lines, adjusted):
        line["p_adjusted"] = p_adj
        line["verdict"] = "warn" if p_adj < ALPHA else "pass"
    keys = (
        "parameter",
        "randomizer",
        "distribution",
        "n",
        "statistic",
        "value",
        "p",
        "p_adjusted",
        "verdict",
        "range_covered",
        "hist",
    )
    return [{k: line[k] for k in keys} for line in lines]
