"""The Kit extension: registers our writers with Replicator and a menu entry for the panel.

``make_extension_class`` builds the ``omni.ext.IExt`` subclass only when called (inside Kit),
so this module imports anywhere; ``scenesmith.extension`` calls it when Kit is present.
On startup the extension registers ``ScenesmithHdf5Writer``, ``ScenesmithCocoWriter``,
``ScenesmithPoseWriter`` and ``ScenesmithPointCloudWriter`` with ``rep.WriterRegistry`` and adds
``Tools/scenesmith``; on shutdown it removes both and destroys the window, leaving nothing
subscribed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MENU_PATH", "MENU_ITEM", "make_extension_class"]

MENU_PATH = "Tools"
MENU_ITEM = "scenesmith"


def make_extension_class() -> type:
    import omni.ext

    class ScenesmithExtension(omni.ext.IExt):
        """Lifetime of scenesmith inside Kit."""

        def on_startup(self, ext_id: str) -> None:
            import omni.replicator.core as rep
            from omni.kit.menu.utils import MenuItemDescription, add_menu_items

            from ..runtime.isaac.rep_writers import register_writers

            self._ext_id = ext_id
            self._panel: Any = None
            self.writer_names = register_writers(rep)
            self._menu_items = [MenuItemDescription(name=MENU_ITEM, onclick_fn=lambda *_: self.show_panel())]
            add_menu_items(self._menu_items, MENU_PATH)

        def show_panel(self) -> Any:
            from .panel import ScenesmithPanel

            if self._panel is None:
                self._panel = ScenesmithPanel()
                self._panel.build()
            self._panel.window.visible = True
            return self._panel

        def on_shutdown(self) -> None:
            import omni.replicator.core as rep
            from omni.kit.menu.utils import remove_menu_items

            from ..runtime.isaac.rep_writers import unregister_writers

            remove_menu_items(self._menu_items, MENU_PATH)
            unregister_writers(rep, self.writer_names)
            self.writer_names = []
            if self._panel is not None:
                self._panel.destroy()
                self._panel = None

    return ScenesmithExtension
