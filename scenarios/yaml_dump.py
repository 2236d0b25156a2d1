"""Write a scenario back to YAML (the GUI panel's "save", and round-trip tests)."""

from __future__ import annotations

import io

from .model import Scenario

__all__ = ["dump_yaml", "to_data"]


def to_data(scenario: Scenario) -> dict:
    """Plain data of ``scenario`` with defaults left out, so files stay short."""
    return scenario.model_dump(mode="json", exclude_defaults=True) | {"version": scenario.version}


def dump_yaml(scenario: Scenario) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.sort_base_mapping_type_on_output = False
    stream = io.StringIO()
    yaml.dump(to_data(scenario), stream)
    return stream.getvalue()
