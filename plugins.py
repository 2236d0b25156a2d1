"""Plugins: modules named in ``SCENESMITH_PLUGINS`` that add writers or randomizer kinds.

The variable holds comma-separated module names importable on ``sys.path``. A plugin module
lists its classes in module-level tuples: ``WRITERS`` (``writers.base.Writer`` subclasses) and
``RANDOMIZERS`` (``scenarios.randomizers.base.RandomizerKind`` subclasses). The variable is read
in every process (spawned workers and the writer process inherit it), so a plugin runs wherever
ours do. This module imports nothing of scenesmith, so every package may use it.
"""

from __future__ import annotations

import importlib
import os

__all__ = ["PLUGINS_ENV", "plugin_classes"]

PLUGINS_ENV = "SCENESMITH_PLUGINS"


def plugin_classes(attribute: str) -> list[type]:
    """The classes every plugin module lists in ``attribute`` (``WRITERS`` or ``RANDOMIZERS``), in
    the variable's order; a module that lists neither is an error naming it."""
    out: list[type] = []
    for module_name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        module = importlib.import_module(module_name)
        listed = getattr(module, attribute, None)
        if listed is None:
            if not any(hasattr(module, a) for a in ("WRITERS", "RANDOMIZERS")):
                raise ValueError(f"{PLUGINS_ENV} module {module_name!r} lists no classes in WRITERS or RANDOMIZERS")
            continue
        if not isinstance(listed, (tuple, list)) or not listed:
            raise ValueError(f"{PLUGINS_ENV} module {module_name!r}: {attribute} must be a non-empty tuple of classes")
        out.extend(listed)
    return out
