"""Plugins: modules named in ``SCENESMITH_PLUGINS`` that add writers or randomizer kinds.

The variable holds comma-separated module names importable on ``sys.path``. A plugin module
lists its classes in module-level tuples: ``WRITERS`` (``writers.base.Writer`` subclasses) and
``RANDOMIZERS`` (``scenarios.randomizers.base.RandomizerKind`` subclasses). The variable is read
in every process (spawned workers and the writer process inherit it), so a plugin runs wherever
ours do. This module imports nothing of scenesmith, so every package may use it.

Plugins are read while scenesmith's scenario model is built (the scenario's union of kinds
includes them), so a plugin module imports at its top level only the base classes it derives
from (``scenarios.randomizers.base``, ``scenarios.distributions``, ``scenarios.frame_params``,
``writers.base``), and a script imports ``scenesmith.scenarios`` before importing a plugin.
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["PLUGINS_ENV", "PluginError", "plugin_classes"]

PLUGINS_ENV = "SCENESMITH_PLUGINS"


class PluginError(ImportError):
    """A plugin named in ``SCENESMITH_PLUGINS`` cannot be used (the CLI exits 2 with this message)."""


def plugin_classes(attribute: str) -> list[type]:
    """The classes every plugin module lists in ``attribute`` (``WRITERS`` or ``RANDOMIZERS``), in
    the variable's order; a module that lists neither is an error naming it."""
    out: list[type] = []
    for module_name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        loading = sys.modules.get(module_name)
        if loading is not None and getattr(getattr(loading, "__spec__", None), "_initializing", False):
            # the plugin itself is being imported and its first scenesmith import got here
            raise PluginError(
                f"{PLUGINS_ENV} module {module_name!r} was imported before scenesmith: scenesmith reads every "
                f"plugin while its scenario model loads, so import scenesmith.scenarios (or run the scenesmith "
                f"CLI) first; at its top level a plugin may import scenesmith's base classes "
                f"(scenarios.randomizers.base, scenarios.distributions, scenarios.frame_params, writers.base)"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise PluginError(f"{PLUGINS_ENV} names {module_name!r}, which cannot be imported: {err}") from err
        listed = getattr(module, attribute, None)
        if listed is None:
            if not any(hasattr(module, a) for a in ("WRITERS", "RANDOMIZERS")):
                raise PluginError(f"{PLUGINS_ENV} module {module_name!r} lists no classes in WRITERS or RANDOMIZERS")
            continue
        if not isinstance(listed, (tuple, list)) or not listed:
            raise PluginError(f"{PLUGINS_ENV} module {module_name!r}: {attribute} must be a non-empty tuple of classes")
        out.extend(listed)
    return out
