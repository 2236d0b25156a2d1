"""Dataset QA commands: ``report`` (HTML page and JSON numbers of an output folder) and
``diff`` (release notes between two output folders)."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

__all__ = ["diff", "report", "verify_lines"]


def verify_lines(out: Path) -> list[str]:
    """``scenesmith verify``'s problems for ``out`` (the report's ``verify`` check)."""
    from ..runtime.run.manifest import load_manifest, verify_folder
    from ..sensors.errors import BadInputError

    try:
        manifest = load_manifest(out)
    except BadInputError as exc:
        return [str(exc)]
    return verify_folder(out, manifest).lines()


def _optional(module: str, name: str) -> Any:
    """A function of a report module that may not be part of this installation yet."""
    try:
        return getattr(import_module(f"scenesmith.report.{module}"), name)
    except ModuleNotFoundError as exc:
        if exc.name != f"scenesmith.report.{module}":
            raise
        return None


def _build(args: argparse.Namespace) -> dict[str, Any]:
    from ..report.document import build_report

    progress_on = sys.stderr.isatty() and not args.no_progress
    verifier = None if args.no_verify else verify_lines
    if not progress_on:
        return build_report(
            Path(args.output),
            conditions=args.conditions,
            frames=None if args.frames is None else list(args.frames),
            verifier=verifier,
        )
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("report", total=1.0)

        def tell(step: str, done: float) -> None:
            bar.update(task, completed=done, description=step)

        return build_report(
            Path(args.output),
            conditions=args.conditions,
            frames=None if args.frames is None else list(args.frames),
            progress=tell,
            verifier=verifier,
        )


def _need_scipy() -> None:
    """The tests need scipy (the ``report`` extra, which ``bootstrap.sh`` installs)."""
    from importlib.util import find_spec

    if find_spec("scipy") is None:
        from ..sensors.errors import BadInputError, Issue

        raise BadInputError(
            [Issue.option("report", "needs scipy", "pip install 'scenesmith[report]' (bootstrap.sh installs it)")]
        )


def report(args: argparse.Namespace) -> int:
    from .cli import EXIT_INTERNAL, EXIT_REPORT_FAILED

    _need_scipy()
    doc = _build(args)
    if args.real is not None:
        compare_real = _optional("real_images", "compare_real")
        if compare_real is None:
            print("report: --real needs scenesmith.report.real_images, not in this installation", file=sys.stderr)
            return EXIT_INTERNAL
        first, stop = doc["run"]["frames"]
        # Every frame of the run is a candidate (compare_real spaces its sample evenly), not
        # only the grid's few.
        doc["real"] = compare_real(Path(args.output), Path(args.real), list(range(first, stop)))
    if args.json is not None:
        text = json.dumps(doc, indent=1, allow_nan=False)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    if args.html is not None or args.json is None:
        write_html = _optional("html", "write_html")
        if write_html is None:
            print("report: the HTML page needs scenesmith.report.html, not in this installation; use --json",
                  file=sys.stderr)  # fmt: skip
            return EXIT_INTERNAL
        html = Path(args.html or "report.html")
        write_html(doc, Path(args.output), html)
        if args.json != "-":
            print(f"wrote {html}")
    failed = [c["name"] for c in doc["checks"] if c["verdict"] == "fail"]
    if failed:
        print(f"report: failing checks: {', '.join(failed)}", file=sys.stderr)
    return EXIT_REPORT_FAILED if failed and args.strict else 0


def diff(args: argparse.Namespace) -> int:
    from ..report.diff import diff_runs
    from ..sensors.errors import BadInputError, Issue

    _need_scipy()
    for name in (args.a, args.b):
        if not Path(name).exists():
            raise BadInputError([Issue.option(name, "not found", "an output folder or a scenario file", name)])
    result = diff_runs(Path(args.a), Path(args.b), args.conditions)
    text = result.markdown(args.a, args.b)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
