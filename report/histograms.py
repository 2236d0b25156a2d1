"""The report's histogram records (``HIST`` in README "Report"): numeric with bin edges, or
categorical; each may carry the counts a declared distribution expects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["categorical", "numeric"]


def numeric(
    values: np.ndarray | Sequence[float],
    *,
    label: str,
    unit: str = "",
    bins: int | Sequence[float] = 20,
    lower: float | None = None,
    upper: float | None = None,
    expected: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Counts of the finite ``values`` in ``bins`` equal bins over [lower, upper] (default: their
    range), or over the given edges."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if isinstance(bins, int):
        lo = float(data.min()) if lower is None and data.size else (lower if lower is not None else 0.0)
        hi = float(data.max()) if upper is None and data.size else (upper if upper is not None else 1.0)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
    counts, _ = np.histogram(np.clip(data, edges[0], edges[-1]), bins=edges)
    return {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "expected": None if expected is None else [float(e) for e in expected],
        "label": label,
        "unit": unit,
    }


def categorical(
    categories: Sequence[Any], counts: Sequence[int], *, label: str, expected: Sequence[float] | None = None
) -> dict[str, Any]:
    return {
        "categories": list(categories),
        "counts": [int(c) for c in counts],
        "expected": None if expected is None else [float(e) for e in expected],
        "label": label,
        "unit": "",
    }
