"""`pip install .` and `pip install -e .` both give a working `scenesmith` with its data files.

Each install goes into a fresh virtual environment. The dependencies come from the test
environment through a ``.pth`` file, so nothing is downloaded; the package itself is built and
installed for real by pip from a copy of the working tree.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO

IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "build", "*.egg-info", ".pytest_cache", ".ruff_cache", "out", "_kit_ext"
)


def _venv(root: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    purelib = subprocess.run(
        [str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "_outer_env.pth").write_text("\n".join(sorted(outer)) + "\n")
    return root / "bin" / "python"


def _pip_install(python: Path, *args: str) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # setuptools deprecates a `project.license` table (issue 14 item 19): the SPDX string form
    # builds without it, on setuptools >= 77 as [build-system] requires
    assert "deprecated" not in result.stderr, result.stderr


@pytest.mark.parametrize("mode", ["regular", "editable"])
def test_install_then_help_version_and_shipped_data(mode: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    python = _venv(tmp_path / "venv")
    if mode == "editable":
        _pip_install(python, "-e", str(src))
    else:
        _pip_install(python, str(src))
    scenesmith = tmp_path / "venv" / "bin" / "scenesmith"
    assert scenesmith.exists()
    result = subprocess.run([str(scenesmith), "--help"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0 and "generate" in result.stdout
    probe = (
        "import scenesmith, pathlib\n"
        "from scenesmith.scenarios.loader import shipped_profile_names, parse\n"
        "root = pathlib.Path(scenesmith.__file__).parent\n"
        "print(root)\n"
        "print(sorted(shipped_profile_names()))\n"
        "print(parse(scenesmith.config_path('scenarios', 'tabletop.yaml')).scenario.name)\n"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    root, profiles, name = result.stdout.strip().splitlines()
    if mode == "editable":
        assert Path(root) == src
    else:
        assert Path(root).parent.name == "site-packages"
        assert not (Path(root) / "tests").exists() and not (Path(root) / "bench").exists()
    assert "OS1_REV7_128ch10hz1024res" in profiles
    assert name == "tabletop"
