"""Assemble a Kit-ready extension folder from this checkout (dev tool)::

    python -m scenesmith.scripts.kit_extension -o build/kit [--copy] [--overwrite]

Writes ``OUT/scenesmith/config/extension.toml`` (the root ``extension.toml``),
``OUT/scenesmith/docs/README.md`` and ``OUT/scenesmith/scenesmith/`` — the package: symbolic
links to this checkout's package folders (edits show up in Kit at once) or, with ``--copy``, a
copy to take to another machine. Tests, benchmarks, caches and virtual environments are left
out. Then start Isaac Sim with ``--ext-folder OUT`` and enable ``scenesmith`` (README).
Exit codes: 0 done, 2 bad arguments (an output folder that exists and is not empty).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

__all__ = ["EXTENSION_NAME", "PACKAGE_ITEMS", "assemble", "main"]

EXTENSION_NAME = "scenesmith"
PACKAGE_ITEMS = (
    "__init__.py",
    "plugins.py",
    "scenarios",
    "sensors",
    "writers",
    "runtime",
    "extension",
    "scripts",
    "config",
)
"""What of the repository root forms the package in Kit (tests/, bench/ and the rest stay out)."""
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def _repo_root() -> Path:
    from .. import PACKAGE_ROOT

    return PACKAGE_ROOT


def assemble(out: Path, copy: bool = False, overwrite: bool = False) -> Path:
    """Build the folder; returns the extension root ``OUT/scenesmith``."""
    root = _repo_root()
    ext = out / EXTENSION_NAME
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} exists and is not empty (use --overwrite)")
        shutil.rmtree(out)
    package = ext / EXTENSION_NAME
    (ext / "config").mkdir(parents=True)
    (ext / "docs").mkdir()
    package.mkdir()
    shutil.copyfile(root / "extension.toml", ext / "config" / "extension.toml")
    shutil.copyfile(root / "README.md", ext / "docs" / "README.md")
    for item in PACKAGE_ITEMS:
        source, target = root / item, package / item
        if copy:
            if source.is_dir():
                shutil.copytree(source, target, ignore=_IGNORE)
            else:
                shutil.copyfile(source, target)
        else:
            target.symlink_to(source.resolve(), target_is_directory=source.is_dir())
    return ext


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kit_extension", description="Assemble a Kit-ready scenesmith folder.")
    parser.add_argument("-o", "--output", required=True, help="folder to create (added to Kit's --ext-folder)")
    parser.add_argument("--copy", action="store_true", help="copy the package instead of linking it")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    args = parser.parse_args(argv)
    try:
        ext = assemble(Path(args.output), copy=args.copy, overwrite=args.overwrite)
    except FileExistsError as err:
        print(f"--output: {err}", file=sys.stderr)
        return 2
    print(f"Kit extension folder: {ext}\nstart Isaac Sim with --ext-folder {Path(args.output).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
