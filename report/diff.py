"""Release notes between two output folders (or two scenarios): the scenario keys that changed,
by dotted path; the shifts in label statistics and in each parameter's draws (two-sample
tests, Holm-adjusted); and, with a ``conditions.yaml``, the cells that gained or lost coverage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..scenarios.yaml_source import load_yaml_bytes
from ..sensors.errors import BadInputError, Issue
from .conditions import condition_cells, load_conditions
from .coverage import ALPHA, collect_draws, holm
from .folder import SCENARIO_FILE, open_run
from .labels import INSTANCE_STATS, instances

__all__ = ["Diff", "diff_runs", "flatten", "scenario_changes"]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a YAML document by dotted path (``randomizers.sun.intensity.uniform.upper``);
    lists of mappings are indexed (``pool[2].cube``), lists of plain values are one leaf."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = [_plain(v) for v in value] if isinstance(value, list) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _scenario_file(path: Path) -> Path:
    return path / SCENARIO_FILE if path.is_dir() else path


def _scenario_data(path: Path) -> dict[str, Any]:
    file = _scenario_file(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise BadInputError(
            [
                Issue(
                    str(file),
                    1,
                    1,
                    "",
                    f"cannot read scenario: {exc.strerror}",
                    "an output folder or a scenario file",
                    str(path),
                )
            ]
        ) from None
    data, _ = load_yaml_bytes(raw, str(file))
    return data if isinstance(data, dict) else {}


def scenario_changes(a: Path, b: Path) -> dict[str, list[Any]]:
    """``changed`` (path, old, new), ``added`` (path, new) and ``removed`` (path, old) keys."""
    fa, fb = flatten(_scenario_data(a)), flatten(_scenario_data(b))
    return {
        "changed": [(k, fa[k], fb[k]) for k in sorted(fa.keys() & fb.keys()) if fa[k] != fb[k]],
        "added": [(k, fb[k]) for k in sorted(fb.keys() - fa.keys())],
        "removed": [(k, fa[k]) for k in sorted(fa.keys() - fb.keys())],
    }


@dataclass
class Diff:
    scenario: dict[str, list[Any]]
    classes: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    conditions: list[dict[str, Any]] | None

    @property
    def shifted_parameters(self) -> list[str]:
        return [p["parameter"] for p in self.parameters if p["shifted"]]

    def markdown(self, a: str, b: str) -> str:
        lines = [f"# Changes from `{a}` to `{b}`", "", "## Scenario keys", ""]
        s = self.scenario
        if not any(s.values()):
            lines.append("No scenario key changed.")
        for path, old, new in s["changed"]:
            lines.append(f"- changed `{path}`: `{old}` → `{new}`")
        for path, new in s["added"]:
            lines.append(f"- added `{path}`: `{new}`")
        for path, old in s["removed"]:
            lines.append(f"- removed `{path}` (was `{old}`)")
        if self.classes:
            lines += [
                "",
                "## Instances per class",
                "",
                "| class | A | B | A per frame | B per frame |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {c['class']} | {c['a']} | {c['b']} | {c['a_per_frame']:.3g} | {c['b_per_frame']:.3g} |"
                for c in self.classes
            ]
        if self.labels:
            lines += [
                "",
                "## Label statistics (two-sample Kolmogorov–Smirnov, Holm-adjusted)",
                "",
                "| statistic | mean A | mean B | D | p (adj.) | shifted |",
                "|---|---|---|---|---|---|",
            ]
            for r in self.labels:
                shifted = "**yes**" if r["shifted"] else "no"
                lines.append(
                    f"| {r['statistic']} | {r['mean_a']:.4g} | {r['mean_b']:.4g} | {r['D']:.3f} "
                    f"| {r['p_adjusted']:.3g} | {shifted} |"
                )
        if self.parameters:
            lines += [
                "",
                "## Parameter distributions (two-sample tests on the raw draws, Holm-adjusted)",
                "",
                "| parameter | test | statistic | p (adj.) | shifted |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {p['parameter']} | {p['test']} | {p['value']:.3g} | {p['p_adjusted']:.3g} | "
                f"{'**yes**' if p['shifted'] else 'no'} |"
                for p in self.parameters
            ]
        if self.conditions is not None:
            lines += ["", "## Conditions cells", ""]
            moved = [c for c in self.conditions if c["met_a"] != c["met_b"]]
            if not moved:
                lines.append("No cell gained or lost coverage.")
            for c in moved:
                what = "gained" if c["met_b"] else "lost"
                cell = ", ".join(f"{k} {v}" for k, v in c["cell"].items())
                lines.append(
                    f"- {what} coverage: {cell} ({c['count_a']} → {c['count_b']} frames, target {c['target']})"
                )
        return "\n".join(lines) + "\n"


def _two_sample(a: list[Any], b: list[Any]) -> tuple[str, float, float]:
    from scipy import stats

    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in a + b)
    if numeric:
        r = stats.ks_2samp(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        return "Kolmogorov-Smirnov", float(r.statistic), float(r.pvalue)
    keys = sorted({repr(v) for v in a + b})
    if len(keys) < 2:
        return "chi-square", 0.0, 1.0
    table = np.array([[sum(repr(v) == k for v in side) for k in keys] for side in (a, b)], dtype=np.float64)
    r = stats.chi2_contingency(table)
    return "chi-square", float(r.statistic), float(r.pvalue)


def _components(draws: Any) -> dict[str, list[Any]]:
    """A run's draws per parameter line (vector components split, as coverage names them)."""
    out: dict[str, list[Any]] = {}
    for d in draws:
        kind = next(iter(d.declared))
        first = d.values[0]
        if kind not in ("choice", "sequence") and isinstance(first, list) and len(first) > 1:
            for c in range(len(first)):
                out[f"{d.randomizer}.{d.key}[{c}]"] = [v[c] for v in d.values]
        else:
            out[f"{d.randomizer}.{d.key}"] = [
                v[0] if isinstance(v, list) and kind not in ("choice", "sequence") and len(v) == 1 else v
                for v in d.values
            ]
    return out


def diff_runs(a: Path, b: Path, conditions: Path | None = None) -> Diff:
    """The differences between two output folders (or, for scenario files, their keys only)."""
    changes = scenario_changes(a, b)
    if not (a.is_dir() and b.is_dir()):
        return Diff(changes, [], [], [], None)
    ra, rb = open_run(a), open_run(b)
    ia, ib = instances(ra), instances(rb)
    classes = []
    for cls in sorted(set(ia.cls.tolist()) | set(ib.cls.tolist())):
        na, nb = int((ia.cls == cls).sum()), int((ib.cls == cls).sum())
        classes.append(
            {
                "class": cls,
                "a": na,
                "b": nb,
                "a_per_frame": na / max(1, len(ra.frames)),
                "b_per_frame": nb / max(1, len(rb.frames)),
            }
        )
    labels = []
    for name in INSTANCE_STATS:
        va, vb = ia.stats[name], ib.stats[name]
        va, vb = va[np.isfinite(va)], vb[np.isfinite(vb)]
        if len(va) and len(vb):
            test, value, p = _two_sample(va.tolist(), vb.tolist())
            labels.append(
                {"statistic": name, "mean_a": float(va.mean()), "mean_b": float(vb.mean()), "D": value, "p": p}
            )
    for row, p_adj in zip(labels, holm([r["p"] for r in labels])):
        row["p_adjusted"], row["shifted"] = p_adj, p_adj < ALPHA
    pa, pb = _components(collect_draws(ra.scenario, ra.lineage)), _components(collect_draws(rb.scenario, rb.lineage))
    parameters = []
    for name in sorted(pa.keys() & pb.keys()):
        test, value, p = _two_sample(pa[name], pb[name])
        parameters.append(
            {"parameter": name, "test": test, "value": value, "p": p, "n_a": len(pa[name]), "n_b": len(pb[name])}
        )
    for row, p_adj in zip(parameters, holm([r["p"] for r in parameters])):
        row["p_adjusted"], row["shifted"] = p_adj, p_adj < ALPHA
    for name in sorted(pa.keys() ^ pb.keys()):
        parameters.append(
            {
                "parameter": name,
                "test": "only in " + ("A" if name in pa else "B"),
                "value": float("nan"),
                "p": 0.0,
                "p_adjusted": 0.0,
                "shifted": True,
                "n_a": len(pa.get(name, [])),
                "n_b": len(pb.get(name, [])),
            }
        )
    cells = None
    if conditions is not None:
        ca = condition_cells(
            load_conditions(conditions, ra.scenario)[0], str(conditions), ra.frames, ra.lineage, ra.scenario, ia
        )
        cb = condition_cells(
            load_conditions(conditions, rb.scenario)[0], str(conditions), rb.frames, rb.lineage, rb.scenario, ib
        )
        cells = [
            {
                "cell": x["cell"],
                "count_a": x["count"],
                "count_b": y["count"],
                "target": x["target"],
                "met_a": x["met"],
                "met_b": y["met"],
            }
            for x, y in zip(ca["cells"], cb["cells"])
        ]
    return Diff(changes, classes, labels, parameters, cells)
