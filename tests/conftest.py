"""Shared helpers for the Kit-free test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "config" / "scenarios"
CORPUS = REPO / "tests" / "corpus" / "bad"
FIXTURES = REPO.parent / "shared" / "fixtures"


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``scenesmith ARGS`` in a fresh interpreter, as a user would."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONHASHSEED", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "scenesmith.scripts.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        raise RuntimeError(f"shared fixtures not found at {FIXTURES}; clone with shared/ beside the repo")
    return FIXTURES


PEAK_RSS_PROLOGUE = """
import sys
from pathlib import Path

with open("/proc/self/clear_refs", "w") as _handle:
    _handle.write("5")  # reset the high-water mark to the current RSS (Linux >= 4.0)
_start_kb = int(open("/proc/self/statm").read().split()[1]) * 4  # resident pages, 4 KiB each
"""

PEAK_RSS_EPILOGUE = """
_peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(_peak_kb - _start_kb, result)
"""


def peak_rss_growth(setup: str, body: str, *args: str) -> tuple[float, str]:
    """Run ``setup`` (imports), then ``body`` in a fresh interpreter (``sys.argv[1:]`` = ``args``;
    ``body`` sets ``result``, a string); the growth of its peak RSS over ``body`` alone, in MB,
    and ``result``."""
    script = setup + PEAK_RSS_PROLOGUE + body + PEAK_RSS_EPILOGUE
    completed = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    grown_kb, _, result = completed.stdout.strip().partition(" ")
    return int(grown_kb) / 1024, result
