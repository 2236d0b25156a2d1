"""JSON Schema of the scenario format, for editors (``scenesmith schema``)."""

from __future__ import annotations

from typing import Any

from .model import Scenario

__all__ = ["SCHEMA_ID", "scenario_json_schema"]

SCHEMA_ID = "https://scenesmith.dev/schema/scenario-v1.json"


NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _name_keys(node: Any) -> None:
    """Mappings keyed by names (assets, lights, …, label taxonomies) get ``propertyNames``."""
    if isinstance(node, dict):
        keyed = isinstance(node.get("additionalProperties"), dict) or NAME_PATTERN in node.get("patternProperties", {})
        if node.get("type") == "object" and "properties" not in node and keyed:
            node["propertyNames"] = {"pattern": NAME_PATTERN, "maxLength": 64}
        for value in node.values():
            _name_keys(value)
    elif isinstance(node, list):
        for value in node:
            _name_keys(value)


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(mode="validation")
    _name_keys(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
