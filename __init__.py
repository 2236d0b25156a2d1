"""scenesmith: scenario-driven synthetic data for robotics perception.

One scenario file describes assets, lights, materials, cameras, LiDARs, distractors and
Replicator-style randomizers; scenesmith turns it into labelled multi-sensor datasets on
Isaac Sim (RTX, PhysX, Replicator) or on the embedded CPU backend (USD, Embree, MuJoCo).

The import root is this repository's root folder (see ``pyproject.toml``); the packages are
``scenesmith.scenarios``, ``scenesmith.sensors``, ``scenesmith.writers``, ``scenesmith.runtime``,
``scenesmith.extension`` and ``scenesmith.scripts``. Importing this package imports nothing heavy.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE_ROOT", "SCHEMA_VERSION", "__version__", "config_path"]

__version__ = "0.1.0"

SCHEMA_VERSION = 1
"""Version of the scenario file format and of the output layout written into manifests."""

PACKAGE_ROOT = Path(__file__).resolve().parent
"""Folder of the installed package. Shipped data is located from here, never through
``importlib.resources``, which resolves mapped packages wrongly in editable installs."""


def config_path(*parts: str) -> Path:
    """Path of a shipped data file under ``config/`` (example scenarios, LiDAR profiles)."""
    return PACKAGE_ROOT.joinpath("config", *parts)
