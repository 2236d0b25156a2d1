"""Kit only: the Omniverse extension (writer registration, menu entry, the panel) and its
Kit tests (``extension/tests/``, run by ``omni.kit.test``).

Kit imports this package (``[[python.module]] name = "scenesmith.extension"``) and looks for
``omni.ext.IExt`` subclasses in it. Outside Kit ``omni`` is absent, so importing it defines
nothing, registers nothing and raises nothing.
"""

from __future__ import annotations

import importlib.util

__all__: list[str] = []


def _kit_present() -> bool:
    if importlib.util.find_spec("omni") is None:
        return False
    try:
        return importlib.util.find_spec("omni.ext") is not None
    except ModuleNotFoundError:
        return False


if _kit_present():
    from .extension import make_extension_class

    ScenesmithExtension = make_extension_class()
    __all__ = ["ScenesmithExtension"]
