"""Re-check the citations of ``extension/api_citations.toml`` against a fetched snapshot (dev tool)::

    python -m scenesmith.scripts.check_isaac_citations --isaacsim-git /path/to/IsaacSim/.git

For every entry citing ``isaac-sim/IsaacSim``, reads the file at the cited commit with
``git show COMMIT:PATH`` and checks the quoted line is in it (whitespace-trimmed). Entries
citing repositories with no local snapshot are listed as unchecked. Exit 0 when every
checkable quote is found, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomllib

__all__ = ["CITATIONS", "check", "main"]

CITATIONS = Path(__file__).resolve().parent.parent / "extension" / "api_citations.toml"


def _file_at(git_dir: Path, commit: str, path: str) -> str | None:
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def check(citations: dict[str, Any], snapshots: dict[str, Path]) -> tuple[list[str], list[str], list[str]]:
    """(verified, failed, unchecked) descriptions, one per entry."""
    verified, failed, unchecked = [], [], []
    cache: dict[tuple[str, str], str | None] = {}
    for entry in [*citations.get("api", []), *citations.get("member", []), *citations.get("usd_schema", [])]:
        source = citations["sources"][entry["source"]]
        where = f"{entry['name']}: {source['repo']}@{source['commit'][:8]}:{source['prefix']}{entry['path']}"
        git_dir = snapshots.get(source["repo"])
        if git_dir is None:
            unchecked.append(where)
            continue
        key = (source["commit"], source["prefix"] + entry["path"])
        if key not in cache:
            cache[key] = _file_at(git_dir, *key)
        text = cache[key]
        lines = {line.strip() for line in (text or "").splitlines()}
        (verified if text is not None and entry["line"].strip() in lines else failed).append(where)
    return verified, failed, unchecked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--isaacsim-git", required=True, help="git dir of an isaac-sim/IsaacSim snapshot with tags")
    args = parser.parse_args(argv)
    git_dir = Path(args.isaacsim_git)
    if not git_dir.exists():
        print(f"--isaacsim-git: no such git dir (got {git_dir})", file=sys.stderr)
        return 2
    citations = tomllib.loads(CITATIONS.read_text(encoding="utf-8"))
    verified, failed, unchecked = check(citations, {"isaac-sim/IsaacSim": git_dir})
    for line in failed:
        print(f"NOT FOUND  {line}")
    print(f"{len(verified)} quotes found, {len(failed)} not found, {len(unchecked)} unchecked (no snapshot):")
    for line in unchecked:
        print(f"  unchecked  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
