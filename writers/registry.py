"""An explicit writer registry: idempotent registration, conflicts raise.

The registry is the one list of writers: the scenario's ``output.writers`` keys, the
pipeline's writers and Isaac's ``rep.Writer`` classes all come from it. Writers outside this
package come from plugins (``scenesmith.plugins``): modules named in ``SCENESMITH_PLUGINS`` that
list theirs in a module-level ``WRITERS`` tuple.
"""

from __future__ import annotations

from importlib import import_module

from ..plugins import PLUGINS_ENV, PluginError, plugin_classes
from .base import Writer

__all__ = ["PLUGINS_ENV", "SHIPPED", "WriterRegistry", "default_registry"]


class WriterRegistry:
    def __init__(self) -> None:
        self._writers: dict[str, type[Writer]] = {}

    def register(self, cls: type[Writer]) -> type[Writer]:
        """Register ``cls`` under ``cls.name``; registering the same class again is a no-op."""
        if not (isinstance(cls, type) and issubclass(cls, Writer)):
            raise PluginError(f"{cls!r} is not a scenesmith Writer (writers.base.Writer subclass)")
        if not cls.replicator_class_name:
            raise ValueError(
                f"writer {cls.__qualname__} declares no replicator_class_name (its rep.Writer inside Isaac Sim)"
            )
        existing = self._writers.get(cls.name)
        if existing is not None and existing is not cls:
            raise ValueError(
                f"writer name {cls.name!r} is already registered by {existing.__module__}.{existing.__qualname__}"
            )
        self._writers[cls.name] = cls
        return cls

    def unregister(self, name: str) -> None:
        self._writers.pop(name, None)

    def get(self, name: str) -> type[Writer]:
        try:
            return self._writers[name]
        except KeyError:
            raise KeyError(f"no writer named {name!r}; registered: {', '.join(sorted(self._writers))}") from None

    def names(self) -> list[str]:
        return sorted(self._writers)

    def classes(self) -> list[type[Writer]]:
        """The registered classes, in registration order."""
        return list(self._writers.values())


SHIPPED = (
    "hdf5_writer:Hdf5Writer",
    "coco_writer:CocoWriter",
    "pose_writer:PoseJsonWriter",
    "pointcloud_writer:PointCloudWriter",
    "bop_writer:BopWriter",
    "yolo_writer:YoloWriter",
    "kitti_writer:KittiWriter",
    "voc_writer:VocWriter",
    "webdataset_writer:WebdatasetWriter",
)
"""Our writers (module:class), in registration order: a new writer is its module plus its entry here."""


def default_registry() -> WriterRegistry:
    """The registry with scenesmith's own writers, then the plugins' (``PLUGINS_ENV``)."""
    registry = WriterRegistry()
    for where in SHIPPED:
        module, name = where.split(":")
        registry.register(getattr(import_module(f".{module}", __package__), name))
    for cls in plugin_classes("WRITERS"):
        registry.register(cls)
    return registry
