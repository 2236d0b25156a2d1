"""The ``scenesmith`` command line: one shared parser, consistent flags, DESIGN §9 exit codes.

Exit codes: 0 ok, 1 internal failure, 2 bad input (scenario, assets, profiles, arguments;
nothing is written), 3 ``verify`` found a mismatch, 4 ``report --strict`` found a failing
check, 5 an output file could not be written for a reason outside scenesmith (no space left,
quota, permissions, I/O error; ``--resume`` finishes the run once that is fixed). Commands
import their heavy dependencies lazily so ``validate`` and ``--help`` stay fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from .. import __version__

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_MISMATCH",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_REPORT_FAILED",
    "FrameRange",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_MISMATCH = 3
EXIT_REPORT_FAILED = 4
"""``report --strict``: a check of the dataset failed (DESIGN §9)."""
EXIT_OUTPUT = 5
"""The machine refused an output file (disk full, quota, permissions, I/O error)."""

MAX_FRAMES = 100_000_000

log = logging.getLogger("scenesmith")


@dataclass(frozen=True)
class FrameRange:
    """Frames ``start`` .. ``stop - 1`` (``--frames N`` or ``--frames A:B``, DESIGN §9)."""

    start: int
    stop: int

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


def parse_frames(text: str) -> FrameRange:
    """argparse type for ``--frames``: ``N`` or ``A:B`` with 0 <= A < B <= 10^8."""
    expected = f"N (frames 0..N-1) or A:B (frames A..B-1) with 0 <= A < B <= {MAX_FRAMES}"
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            rng = FrameRange(int(a), int(b))
        else:
            rng = FrameRange(0, int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not 0 <= rng.start < rng.stop <= MAX_FRAMES:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return rng


def parse_frame(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a frame index >= 0, got {text!r}") from None
    if not 0 <= value < MAX_FRAMES:
        raise argparse.ArgumentTypeError(f"expected a frame index in [0, {MAX_FRAMES}), got {text!r}")
    return value


def parse_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed in [0, 2^63), got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected an integer seed in [0, 2^63), got {text!r}")
    return value


def cpus_per_worker(text: str) -> float:
    """argparse type for ``--ray-num-cpus-per-worker``: a number in (0, 1024], as Ray takes it."""
    expected = "a number of CPUs > 0 and <= 1024 (fractions share a CPU: 0.5)"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not 0 < value <= 1024:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(limit: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer in [1, {limit}], got {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"expected an integer in [1, {limit}], got {text!r}")
        return value

    return parse


# --------------------------------------------------------------------------- parser


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument(
        "--asset-root",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder asset paths may resolve into (repeatable)",
    )
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="run scenarios over the resource budgets (frame memory, rays, physics steps, texture size; README)",
    )


def _seed_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=parse_seed, default=0, help="random seed, recorded in outputs (default 0)")


def _backend_arg(p: argparse.ArgumentParser) -> None:
    from ..runtime.backend import BACKENDS  # the one list of backends (loaded lazily by name)

    p.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default="embedded",
        help="where to run: the embedded CPU backend (default) or Isaac Sim",
    )


def _render_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--render-engine",
        choices=("direct", "path"),
        default=None,
        help="RGB light transport, replacing the scenario's render.engine (direct: direct light; path: path tracing)",
    )


COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("cmd_scenario", "validate"),
    "schema": ("cmd_scenario", "schema"),
    "sample": ("cmd_scenario", "sample"),
    "stage": ("cmd_scenario", "stage"),
    "capture": ("cmd_capture", "capture"),
    "preview": ("cmd_capture", "preview"),
    "generate": ("cmd_dataset", "generate"),
    "verify": ("cmd_dataset", "verify"),
    "inspect": ("cmd_dataset", "inspect"),
    "lidar-profiles": ("cmd_lidar", "lidar_profiles"),
    "report": ("cmd_report", "report"),
    "diff": ("cmd_report", "diff"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scenesmith",
        description="Scenario-driven synthetic data for robotics perception.",
        epilog="Exit codes: 0 ok, 1 internal failure, 2 bad input, 3 verify mismatch, "
        "4 report --strict found a failing check, "
        "5 an output file could not be written (disk full, permissions; resumable).",
    )
    parser.add_argument("--version", action="version", version=f"scenesmith {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("SCENESMITH_LOG_LEVEL", "WARNING"),
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="logging level (default WARNING)",
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks of internal failures")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check a scenario and its assets; print a summary")
    _scenario_args(p)

    p = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")

    p = sub.add_parser("sample", help="print the sampled parameters of frames, one JSON line each")
    _scenario_args(p)
    _seed_arg(p)
    p.add_argument("--frames", type=parse_frames, default=FrameRange(0, 1), help="N or A:B (default 1)")

    p = sub.add_parser("stage", help="write the USD stage of one frame")
    _scenario_args(p)
    _seed_arg(p)
    p.add_argument("--frame", type=parse_frame, default=0, help="frame index (default 0)")
    p.add_argument("-o", "--output", required=True, help="output .usda/.usd/.usdc file")

    p = sub.add_parser("capture", help="capture one frame and write its raw payload (.npy + JSON)")
    _scenario_args(p)
    _seed_arg(p)
    _backend_arg(p)
    _render_arg(p)
    p.add_argument("--frame", type=parse_frame, default=0, help="frame index (default 0)")
    p.add_argument("-o", "--output", required=True, help="output folder (created; must not exist or be empty)")

    p = sub.add_parser("preview", help="render one frame with boxes, labels, depth and segmentation panels")
    _scenario_args(p)
    _seed_arg(p)
    _backend_arg(p)
    _render_arg(p)
    p.add_argument("--frame", type=parse_frame, default=0, help="frame index (default 0)")
    p.add_argument("-o", "--output", required=True, help="output image file: .png, .jpg or .jpeg")

    p = sub.add_parser("generate", help="generate a dataset (HDF5, COCO, pose JSON) with a manifest")
    _scenario_args(p)
    _seed_arg(p)
    _backend_arg(p)
    _render_arg(p)
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument(
        "--frames", type=parse_frames, default=None, help="N or A:B (default: the scenario's output.frames, else 10)"
    )
    p.add_argument(
        "--shard-size",
        type=positive_int(100_000),
        default=None,
        help="frames per shard (default: the scenario's output.shard_size)",
    )
    p.add_argument(
        "--workers",
        type=positive_int(256),
        default=1,
        help="worker processes (Ray actors with --executor ray; default 1)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: processes on this machine (default); ray: actors on a Ray cluster (README, Running on Ray)",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="with --executor ray: the cluster to join, e.g. 10.0.0.1:6379 or auto (default: start a local instance)",
    )
    p.add_argument(
        "--ray-num-cpus-per-worker",
        type=cpus_per_worker,
        default=None,
        metavar="N",
        help="with --executor ray: CPUs each worker reserves (default 1)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="keep finished shards of an earlier run, redo the rest")
    group.add_argument("--overwrite", action="store_true", help="delete an existing output folder first")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--in-process-writers",
        action="store_true",
        help="write in the capturing process instead of a writer process beside it (slower; same files)",
    )

    p = sub.add_parser("verify", help="re-hash an output folder against its manifest (exit 3 on mismatch)")
    p.add_argument("output", help="output folder of generate")

    p = sub.add_parser("inspect", help="summarise an output folder: frames, classes, sizes")
    p.add_argument("output", help="output folder of generate")

    sub.add_parser("lidar-profiles", help="list the shipped LiDAR profiles")

    p = sub.add_parser("report", help="QA report of an output folder: HTML page, --json numbers, checks, coverage")
    p.add_argument("output", help="output folder of generate")
    p.add_argument("-o", "--html", default=None, metavar="FILE", help="HTML file to write (default report.html)")
    p.add_argument("--conditions", type=Path, default=None, metavar="FILE", help="conditions.yaml: deployment coverage")
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="write the report's numbers as JSON (to FILE, or standard output); no HTML unless -o is given",
    )
    p.add_argument(
        "--frames", type=parse_frames, default=None, help="the sample grid's frames, N or A:B (default: 12 spread out)"
    )
    p.add_argument("--real", default=None, metavar="DIR", help="folder of your own photos to compare the RGB with")
    p.add_argument("--strict", action="store_true", help="exit 4 when a check fails")
    p.add_argument(
        "--no-verify", action="store_true", help="skip the verify check (re-hashing every file is most of the time)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("diff", help="release notes between two output folders (or scenarios), as Markdown")
    p.add_argument("a", help="the earlier output folder or scenario file")
    p.add_argument("b", help="the later output folder or scenario file")
    p.add_argument(
        "-o", "--output", default=None, metavar="FILE", help="write the notes here (default: standard output)"
    )
    p.add_argument(
        "--conditions", type=Path, default=None, metavar="FILE", help="conditions.yaml: cells gained or lost"
    )
    return parser


# --------------------------------------------------------------------------- main


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _refuse_isaac_here() -> None:
    """The isaac backend needs a running Kit app (``SimulationApp``), which this CLI never starts."""
    from ..sensors.errors import BadInputError, Issue

    raise BadInputError(
        [
            Issue.option(
                "--backend",
                "the isaac backend runs inside Isaac Sim only",
                "--backend embedded here, or ./python.sh <kit folder>/scenesmith/scripts/isaac_generate.py "
                "(README, Isaac Sim)",
                "isaac",
            )
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    from ..plugins import PluginError
    from ..sensors.errors import BadInputError
    from ..writers.base import OutputWriteError

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.log_level)
    module_name, func_name = COMMANDS[args.command]
    try:
        handler = getattr(import_module(f"{__package__}.{module_name}"), func_name)  # may load plugins
        if getattr(args, "backend", None) == "isaac":
            _refuse_isaac_here()
        return int(handler(args) or EXIT_OK)
    except (BadInputError, PluginError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OutputWriteError as exc:  # the machine's fault, not ours: one line, no traceback
        text = f"cannot write {exc.filename or 'an output file'}: {exc.strerror}"
        hint = getattr(exc, "resume_hint", None)
        print(text + (f"\n{hint}" if hint else ""), file=sys.stderr)
        # The run's files are swept and its folder released by now; what is left is libhdf5
        # holding a file it could not write, which crashed the interpreter's final garbage
        # collection (a segfault after the message). Leave without finalising.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_OUTPUT)
    except Exception as exc:  # every other failure is ours: say so, and how to go on
        if args.debug:
            raise
        where = getattr(exc, "frame_index", None)
        hint = getattr(exc, "resume_hint", None)
        text = f"internal failure: {type(exc).__name__}: {exc}"
        if where is not None:
            text += f" (at frame {where})"
        if hint:
            text += f"\n{hint}"
        print(text + "\nrun with --debug for a traceback", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
