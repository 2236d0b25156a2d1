"""Headless generation in Isaac Sim (runs inside Isaac Sim's Python only)::

    ./python.sh /path/to/scenesmith_kit/scenesmith/scripts/isaac_generate.py SCENARIO -o OUT \\
        --frames N --seed S [--shard-size K] [--resume | --overwrite] [--asset-root DIR] \\
        [--rt-subframes R] [--renderer RaytracedLighting|PathTracing|RealTimePathTracing]

Options, output folder and exit codes are the CLI's (0 ok, 1 internal failure, 2 bad input,
130 interrupted — the published shards stay and ``--resume`` finishes the run). The scenario
is validated before Kit starts, so bad input fails in a second; ``SimulationApp`` is created
before anything imports ``omni`` (Isaac Sim requires it) and closed on every path.

Never run on our machines (no Isaac Sim here); see the README's Isaac Sim section.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["build_parser", "main"]

log = logging.getLogger("scenesmith.isaac_generate")


def _import_package() -> ModuleType:
    """``scenesmith`` from this file's location when it is not installed: the Kit folder
    (``<ext>/scenesmith/scripts/``) or a repository checkout (whose root is the package)."""
    try:
        import scenesmith

        return scenesmith
    except ImportError:
        root = Path(__file__).resolve().parent.parent
        spec = importlib.util.spec_from_file_location(
            "scenesmith", root / "__init__.py", submodule_search_locations=[str(root)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["scenesmith"] = module
        spec.loader.exec_module(module)
        return module


def build_parser() -> argparse.ArgumentParser:
    _import_package()
    from scenesmith.runtime.isaac.backend import RENDERERS
    from scenesmith.scripts.cli import parse_frames, parse_seed, positive_int

    p = argparse.ArgumentParser(prog="isaac_generate.py", description="scenesmith generate, inside Isaac Sim")
    p.add_argument("scenario", help="scenario file (.yaml)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--frames", type=parse_frames, default=None, help="N or A:B (default: the scenario's)")
    p.add_argument("--seed", type=parse_seed, default=0, help="random seed (default 0)")
    p.add_argument("--shard-size", type=positive_int(10**8), default=None, help="frames per shard")
    p.add_argument("--asset-root", action="append", default=[], help="extra folder asset paths may point into")
    p.add_argument("--allow-large", action="store_true", help="run scenarios over the resource budgets (README)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="keep finished shards, redo the rest")
    group.add_argument("--overwrite", action="store_true", help="delete an existing output folder first")
    p.add_argument("--rt-subframes", type=positive_int(256), default=None, help="override isaac.rt_subframes")
    p.add_argument("--renderer", choices=RENDERERS, default=None, help="override isaac.renderer")
    p.add_argument("--no-headless", action="store_true", help="show Isaac Sim's window")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from scenesmith.scenarios.loader import parse
    from scenesmith.scripts.cmd_dataset import options_from_args
    from scenesmith.sensors.errors import BadInputError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from scenesmith.runtime.isaac.backend import scenario_renderer  # Kit-free at import (test_layout)

    try:
        doc = parse(args.scenario, asset_roots=tuple(args.asset_root), allow_large=args.allow_large)
        renderer = args.renderer or scenario_renderer(doc)  # render.engine: path → PathTracing
    except BadInputError as err:
        print(err, file=sys.stderr)
        return 2
    opts = options_from_args(args, "isaac", 1, False)
    from isaacsim import SimulationApp  # first omni-related import, before anything else of Kit

    app: Any = SimulationApp({"headless": not args.no_headless, "renderer": renderer})
    try:
        from scenesmith.runtime.isaac.backend import IsaacBackend
        from scenesmith.runtime.isaac.session import generate_async

        backend = IsaacBackend(
            rt_subframes=args.rt_subframes,
            renderer=args.renderer,
            work_dir=opts.out.parent / f".{opts.out.name}.kit",
        )
        result = app.run_coroutine(generate_async(doc, opts, backend))
        print(f"wrote {result.frames} frames to {opts.out} ({result.shards_done} shards generated, "
              f"{result.shards_kept} kept)")  # fmt: skip
        return 0
    except BadInputError as err:
        print(err, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: finished shards are kept in {opts.out}; rerun with --resume", file=sys.stderr)
        return 130
    except Exception:
        log.exception("generation failed; finished shards are kept, rerun with --resume")
        return 1
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
