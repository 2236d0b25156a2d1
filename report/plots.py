"""Charts for the report, drawn with matplotlib (Agg, no pyplot state) as SVG ``data:`` URIs.

Every chart takes the report document's histogram form (``HIST``: ``edges``/``counts`` or
``categories``/``counts``, optional ``expected``), so the numbers in ``--json`` and the
pictures in the HTML are the same numbers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["histogram_chart", "overlaid_histograms_chart", "svg_data_uri"]

_FIGSIZE_IN = (3.6, 2.3)
_BAR = "#4c78a8"
_EXPECTED = "#e45756"
_SECOND = "#f58518"


def _figure(size_in: tuple[float, float] = _FIGSIZE_IN) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=96)
    # Fixed margins: matplotlib's constrained layout costs 3x the drawing itself per chart.
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.24, top=0.88)
    return fig


def svg_data_uri(fig: Any) -> str:
    """The figure as a self-contained SVG (text as text, drawn in the browser's sans-serif;
    no date and fixed ids, so the same numbers give the same bytes)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "scenesmith-report", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax: Any, title: str, xlabel: str) -> None:
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(xlabel, fontsize=7)
    ax.set_ylabel("count", fontsize=7)
    ax.tick_params(labelsize=6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _geometric(edges: np.ndarray) -> bool:
    """Bins of equal ratio (log-spaced), not of equal width."""
    if len(edges) < 3 or edges[0] <= 0:
        return False
    ratios = edges[1:] / edges[:-1]
    widths = np.diff(edges)
    return bool(np.allclose(ratios, ratios[0], rtol=1e-6) and not np.allclose(widths, widths[0], rtol=1e-6))


def histogram_chart(hist: dict[str, Any], title: str) -> str:
    """Bars of ``counts`` over ``edges`` (or over ``categories``), with ``expected`` — the
    count the declared distribution predicts per bin — as a red outline where given."""
    fig = _figure()
    ax = fig.add_subplot()
    counts = np.asarray(hist.get("counts", []), dtype=float)
    expected = hist.get("expected")
    unit = hist.get("unit") or ""
    xlabel = f"{hist.get('label', '')}{f' ({unit})' if unit else ''}"
    if "categories" in hist:
        names = [str(c) for c in hist["categories"]]
        x = np.arange(len(names))
        ax.bar(x, counts, color=_BAR, width=0.8, label="drawn")
        if expected is not None:
            ax.bar(x, np.asarray(expected, float), fill=False, edgecolor=_EXPECTED, width=0.8, label="declared")
        ax.set_xticks(x, names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    else:
        edges = np.asarray(hist.get("edges", [0.0, 1.0]), dtype=float)
        if len(counts):
            ax.stairs(counts, edges, fill=True, color=_BAR, label="drawn")
        if expected is not None:
            ax.stairs(np.asarray(expected, float), edges, color=_EXPECTED, linewidth=1.2, label="declared")
        if _geometric(edges):  # log-uniform draws get log-spaced bins: show them evenly
            ax.set_xscale("log")
    if expected is not None:
        ax.legend(fontsize=6, frameon=False)
    _style(ax, title, xlabel)
    return svg_data_uri(fig)


def overlaid_histograms_chart(
    series: Sequence[tuple[str, Sequence[float]]], title: str, xlabel: str, bins: int = 24
) -> str:
    """Density histograms of several samples on shared bins (synthetic beside real images)."""
    fig = _figure()
    ax = fig.add_subplot()
    values = [np.asarray(v, float)[np.isfinite(np.asarray(v, float))] for _, v in series]
    pooled = np.concatenate([v for v in values if len(v)]) if any(len(v) for v in values) else np.zeros(1)
    lo, hi = float(pooled.min()), float(pooled.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    for (name, _), v, colour in zip(series, values, (_BAR, _SECOND, _EXPECTED), strict=False):
        if len(v):
            counts, _ = np.histogram(v, edges)
            density = counts / max(len(v), 1)
            ax.stairs(density, edges, color=colour, linewidth=1.4, label=f"{name} (n={len(v)})")
    ax.legend(fontsize=6, frameon=False)
    _style(ax, title, xlabel)
    ax.set_ylabel("share", fontsize=7)
    return svg_data_uri(fig)
