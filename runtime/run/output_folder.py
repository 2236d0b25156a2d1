"""Output folders that never look complete when they are not.

Commands write into a hidden temporary sibling and rename it into place at the end, so a
crash or bad input leaves no half-written output under the requested name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ...sensors.errors import BadInputError, Issue

__all__ = ["check_new_folder", "check_new_file", "publish_folder", "staging_folder"]


def check_new_folder(path: Path, option: str = "--output") -> Path:
    """``path`` must not exist, or be an empty folder; its parent must exist."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BadInputError(
            [Issue.option(option, "output folder exists and is not empty", "a new or empty folder", str(path))]
        )
    if not path.parent.is_dir():
        raise BadInputError(
            [Issue.option(option, "parent folder does not exist", "an existing parent folder", str(path.parent))]
        )
    return path


def check_new_file(path: Path, suffixes: tuple[str, ...], option: str = "--output") -> Path:
    if path.suffix.lower() not in suffixes:
        raise BadInputError(
            [
                Issue.option(
                    option,
                    "unsupported output file type",
                    " or ".join(suffixes),
                    path.suffix or str(path),
                )
            ]
        )
    if not path.parent.is_dir():
        raise BadInputError(
            [Issue.option(option, "parent folder does not exist", "an existing parent folder", str(path.parent))]
        )
    return path


def staging_folder(final: Path) -> Path:
    """A fresh temporary folder beside ``final`` (same filesystem, so the rename is atomic)."""
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))


def publish_folder(staging: Path, final: Path) -> None:
    if final.exists():
        final.rmdir()  # checked empty before the work started
    os.replace(staging, final)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


__all__ += ["discard"]
