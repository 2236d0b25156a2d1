"""The report as one self-contained HTML file: no network, no CDN, every image embedded.

Everything shown comes from the report document (``document.build_report``) — the same
numbers ``--json`` writes — plus the sample frames' pictures read from the run's HDF5 shards.
Each picture opens enlarged on click (a few lines of inline script; Escape or a click closes it).
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .frame_views import FrameView, read_frame_views
from .plots import histogram_chart, overlaid_histograms_chart

__all__ = ["render_html", "write_html"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

_CSS = """
:root { font-family: system-ui, sans-serif; color: #1d1d1f; background: #fafafa; }
body { margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 4rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.2rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; font-weight: 600; color: #fff; }
.verdict-pass { background: #2e7d32; } .verdict-warn { background: #ef8f00; } .verdict-fail { background: #c62828; }
tr.unmet td { background: #fff1f0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: .8rem; }
.frame-card { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: .4rem; padding: .4rem; }
.frame-card img.main { width: 100%; display: block; cursor: zoom-in; }
.frame-card .strip { display: flex; flex-wrap: wrap; gap: 3px; margin-top: 3px; }
.frame-card .strip img { height: 58px; cursor: zoom-in; border: 1px solid #eee; }
.frame-card figcaption { font-size: .8rem; color: #555; margin-top: .2rem; }
.charts { display: flex; flex-wrap: wrap; gap: .5rem; }
.charts img { width: 345px; background: #fff; border: 1px solid #eee; cursor: zoom-in; }
code, pre { font-size: .8rem; } pre { white-space: pre-wrap; margin: 0; }
#lightbox { position: fixed; inset: 0; background: rgba(0,0,0,.85); display: flex; flex-direction: column;
  align-items: center; justify-content: center; z-index: 10; cursor: zoom-out; }
#lightbox[hidden] { display: none; }
#lightbox img { max-width: 94vw; max-height: 86vh; background: #fff; image-rendering: auto; }
#lightbox p { color: #eee; font-size: .9rem; }
"""

_SCRIPT = """
(function () {
  const box = document.getElementById('lightbox');
  const big = document.getElementById('lightbox-img');
  const caption = document.getElementById('lightbox-caption');
  document.querySelectorAll('img.zoomable').forEach(function (img) {
    img.addEventListener('click', function () {
      big.src = img.src;
      big.alt = img.alt;
      caption.textContent = img.dataset.caption || img.alt;
      box.hidden = false;
    });
  });
  function close() { box.hidden = true; big.removeAttribute('src'); }
  box.addEventListener('click', close);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _e(value)


def _verdict(value: str) -> str:
    value = str(value or "pass")
    return f'<span class="verdict verdict-{_e(value)}">{_e(value.upper())}</span>'


def _img(uri: str, alt: str, caption: str = "", cls: str = "") -> str:
    classes = f"zoomable {cls}".strip()
    return f'<img class="{classes}" src="{uri}" alt="{_e(alt)}" data-caption="{_e(caption or alt)}">'


def _table(header: Iterable[str], rows: Iterable[Iterable[str]], row_classes: Iterable[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    classes = list(row_classes) if row_classes is not None else None
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _td(value: Any, numeric: bool = False) -> str:
    return f'<td class="num">{_num(value)}</td>' if numeric else f"<td>{_e(value)}</td>"


def _header(doc: dict[str, Any]) -> str:
    run = doc.get("run") or {}
    start, stop = run.get("frames") or [0, 0]
    # the document's range is half-open (start, stop), as the CLI's A:B; the page names the last frame
    span = f"{start}–{stop - 1}" if stop > start + 1 else str(start) if stop > start else "none"
    facts = [
        ("scenario", run.get("scenario", "")),
        ("seed", run.get("seed", "")),
        ("frames", f"{run.get('n_frames', 0):,} ({span})"),
        ("cameras", ", ".join(run.get("cameras", [])) or "–"),
        ("LiDARs", ", ".join(run.get("lidars", [])) or "–"),
        ("writers", ", ".join(run.get("writers", [])) or "–"),
        ("scenesmith", run.get("tool_version", "")),
    ]
    rows = [[f"<th>{_e(k)}</th>", _td(v)] for k, v in facts]
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return (
        f"<header><h1>scenesmith report {_verdict(doc.get('verdict', 'pass'))}</h1>"
        f"<p><code>{_e(run.get('out', ''))}</code></p><table>{body}</table></header>"
    )


def _checks(doc: dict[str, Any]) -> str:
    checks = doc.get("checks") or []
    if not checks:
        return "<p>No checks ran.</p>"
    rows = []
    for check in checks:
        frames = check.get("frames") or []
        shown = ", ".join(str(f) for f in frames[:20]) + (f" … ({len(frames)} in all)" if len(frames) > 20 else "")
        rows.append(
            [
                _td(check.get("name", "")),
                f"<td>{_verdict(check.get('verdict', 'pass'))}</td>",
                _td(check.get("detail", "")),
                _td(shown),
            ]
        )
    return _table(("check", "verdict", "detail", "frames"), rows)


def _frame_card(view: FrameView) -> str:
    main = next((v for v in view.views if v.kind == "rgb"), view.views[0] if view.views else None)
    if main is None:
        return ""
    title = f"frame {view.frame} · {view.split}"
    parts = [
        _img(
            main.data_uri,
            f"{title} · {main.sensor} {main.kind}",
            f"{title} · {main.sensor} {main.kind} · {main.caption}",
            "main",
        )
    ]
    strip = [
        _img(
            v.data_uri,
            f"{title} · {v.sensor} {v.kind}",
            f"{title} · {v.sensor} {v.kind}{' · ' + v.caption if v.caption else ''}",
        )
        for v in view.views
        if v is not main
    ]
    parts.append(f'<div class="strip">{"".join(strip)}</div>')
    parts.append(f"<figcaption>{_e(title)} · {_e(main.caption)}</figcaption>")
    return f'<figure class="frame-card" data-frame="{view.frame}">{"".join(parts)}</figure>'


def _samples(views: list[FrameView]) -> str:
    if not views:
        return "<p>No frame of the sample could be read.</p>"
    return '<div class="grid" id="sample-grid">' + "".join(_frame_card(v) for v in views) + "</div>"


def _charts(histograms: dict[str, Any]) -> str:
    images = []
    for name, hist in histograms.items():
        if not hist or not hist.get("counts"):
            continue
        title = hist.get("label") or name
        images.append(_img(histogram_chart(hist, str(title)), f"{name} histogram"))
    return f'<div class="charts">{"".join(images)}</div>' if images else ""


def _labels(doc: dict[str, Any]) -> str:
    labels = doc.get("labels") or {}
    classes = labels.get("classes") or {}
    parts = []
    if classes:
        rows = [[_td(c), _td(v.get("instances"), True), _td(v.get("frames"), True)] for c, v in sorted(classes.items())]
        parts.append(_table(("class", "instances", "frames with it"), rows))
    parts.append(_charts(labels.get("histograms") or {}))
    return "".join(parts) or "<p>No labels.</p>"


def _physics(doc: dict[str, Any]) -> str:
    physics = doc.get("physics")
    if not physics:
        return "<p>This run has no physics.</p>"
    rows, charts = [], {}
    for key, value in physics.items():
        if isinstance(value, dict) and "counts" in value:
            charts[key] = value
        elif isinstance(value, dict):
            rows.append([_td(key), f"<td><pre>{_e(json.dumps(value, indent=1, sort_keys=True))}</pre></td>"])
        else:
            rows.append([_td(key), _td(value, isinstance(value, int | float))])
    return _table(("quantity", "value"), rows) + _charts(charts)


def _coverage(doc: dict[str, Any]) -> str:
    coverage = doc.get("coverage") or []
    if not coverage:
        return "<p>No randomized parameter.</p>"
    rows, verdicts, charts = [], [], []
    for entry in coverage:
        declared = json.dumps(entry.get("distribution", {}), sort_keys=True)
        covered = entry.get("range_covered")
        rows.append(
            [
                _td(entry.get("parameter", "")),
                _td(entry.get("randomizer", "")),
                f"<td><code>{_e(declared)}</code></td>",
                _td(entry.get("n"), True),
                _td(entry.get("statistic", "")),
                _td(entry.get("value"), True),
                _td(entry.get("p"), True),
                _td(entry.get("p_adjusted"), True),
                _td(None if covered is None else f"{100.0 * covered:.1f}%", False),
                f"<td>{_verdict(entry.get('verdict', 'pass'))}</td>",
            ]
        )
        verdicts.append("unmet" if entry.get("verdict") not in (None, "pass") else "")
        hist = entry.get("hist")
        if hist and hist.get("counts"):
            title = f"{entry.get('parameter', '')}"
            charts.append(_img(histogram_chart(hist, title), f"coverage of {title}"))
    header = (
        "parameter",
        "randomizer",
        "declared",
        "draws",
        "test",
        "statistic",
        "p",
        "p (adjusted)",
        "range covered",
        "verdict",
    )
    return _table(header, rows, verdicts) + f'<div class="charts">{"".join(charts)}</div>'


def _conditions(doc: dict[str, Any]) -> str:
    conditions = doc.get("conditions")
    if not conditions:
        return "<p>No <code>--conditions</code> file given.</p>"
    cells = conditions.get("cells") or []
    axes = sorted({axis for cell in cells for axis in (cell.get("cell") or {})})
    rows, classes = [], []
    for cell in cells:
        key = cell.get("cell") or {}
        rows.append(
            [_td(key.get(a, "")) for a in axes]
            + [_td(cell.get("count"), True), _td(cell.get("target"), True), _td("yes" if cell.get("met") else "no")]
        )
        classes.append("" if cell.get("met") else "unmet")
    under = conditions.get("under_covered") or []
    met = len(cells) - len(under)
    summary = f"<p><code>{_e(conditions.get('file', ''))}</code>: {met} of {len(cells)} cells reach their target"
    summary += f"; {len(under)} under-covered (highlighted).</p>" if under else ".</p>"
    return summary + _table([*axes, "frames", "target", "met"], rows, classes)


def _real(doc: dict[str, Any]) -> str:
    real = doc.get("real")
    if not real:
        return "<p>No <code>--real</code> folder given.</p>"
    rows, charts = [], []
    for metric in real.get("metrics", []):
        ours, theirs = metric.get("synthetic", {}), metric.get("real", {})
        rows.append(
            [
                _td(metric.get("label", metric.get("name", ""))),
                _td(ours.get("median"), True),
                _td(theirs.get("median"), True),
                _td(metric.get("note", "")),
            ]
        )
        series = [("synthetic", ours.get("values", [])), ("real", theirs.get("values", []))]
        unit = metric.get("unit") or ""
        xlabel = f"{metric.get('label', '')}{f' ({unit})' if unit else ''}"
        charts.append(
            _img(
                overlaid_histograms_chart(series, metric.get("name", ""), xlabel),
                f"{metric.get('name')} synthetic vs real",
            )
        )
    counts = f"{real.get('n_synthetic', 0)} synthetic images beside {real.get('n_real', 0)}"
    intro = f"<p>{counts} from <code>{_e(real.get('dir', ''))}</code>.</p>"
    return (
        intro
        + _table(("statistic", "synthetic (median)", "real (median)", "note"), rows)
        + f'<div class="charts">{"".join(charts)}</div>'
    )


_SECTIONS: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
    ("checks", "Checks", _checks),
    ("labels", "Label statistics", _labels),
    ("physics", "Physics", _physics),
    ("coverage", "Randomizer coverage", _coverage),
    ("conditions", "Deployment coverage", _conditions),
    ("real", "Real images", _real),
)
"""Sections after the sample grid, in page order: id, title, renderer (the one list)."""


def render_html(doc: dict[str, Any], out: Path, progress: Progress | None = None) -> str:
    """The whole page for the report document ``doc`` of output folder ``out``."""
    step = progress or (lambda _name, _fraction: None)
    step("sample frames", 0.0)
    views = read_frame_views(out, [int(f) for f in doc.get("sample_frames") or []])
    nav = ['<a href="#samples">Samples</a>'] + [f'<a href="#{sid}">{_e(title)}</a>' for sid, title, _ in _SECTIONS]
    body = [_header(doc), f"<nav>{''.join(nav)}</nav>"]
    body.append(f'<section id="samples"><h2>Sample frames ({len(views)})</h2>{_samples(views)}</section>')
    for i, (sid, title, render) in enumerate(_SECTIONS):
        step(title, (i + 1) / (len(_SECTIONS) + 1))
        body.append(f'<section id="{sid}"><h2>{_e(title)}</h2>{render(doc)}</section>')
    step("done", 1.0)
    title = f"scenesmith report · {Path(str((doc.get('run') or {}).get('out', out))).name}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + '<div id="lightbox" hidden><img id="lightbox-img" alt=""><p id="lightbox-caption"></p></div>'
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_html(doc: dict[str, Any], out: Path, dest: Path, progress: Progress | None = None) -> Path:
    """Render and write atomically (a temporary file renamed over ``dest``), so a failed
    report never leaves half a page where an old one was."""
    text = render_html(doc, out, progress)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(dest)
    return dest
