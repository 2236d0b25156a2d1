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
