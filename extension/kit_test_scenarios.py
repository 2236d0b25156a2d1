"""Scenarios the Kit tests (``extension/tests/``) run, built without Kit so that pytest can check
Isaac mode accepts each of them (``tests/test_isaac_kitfree.py``) before any Kit run."""

from __future__ import annotations

from .. import config_path
from ..scenarios.loader import ScenarioDocument, build, parse
from ..scenarios.model import LIDAR_MODEL_KEYS
from ..scenarios.yaml_dump import to_data

__all__ = ["tabletop_for_isaac"]


def tabletop_for_isaac() -> ScenarioDocument:
    """The tabletop example without its LiDAR realism models: Isaac Sim's RTX LiDAR computes
    intensity, detection and echoes itself, so Isaac mode refuses those keys by name."""
    doc = parse(config_path("scenarios", "tabletop.yaml"))
    data = to_data(doc.scenario)
    for lidar in data.get("lidars", {}).values():
        for key in LIDAR_MODEL_KEYS:
            lidar.pop(key, None)
    return build(data, base_dir=doc.base_dir)
