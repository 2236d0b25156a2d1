"""An explicit writer registry: idempotent registration, conflicts raise.

The registry is the one list of writers: the scenario's ``output.writers`` keys, the
pipeline's writers and Isaac's ``rep.Writer`` classes all come from it. Writers outside this
package are plugins: modules named in ``SCENESMITH_PLUGINS`` (comma-separated, importable on
``sys.path``) each list theirs in a module-level ``WRITERS`` tuple. The variable is read in
every process (spawned workers and the writer process inherit it), so a plugin writer runs
wherever ours do.
"""

from __future__ import annotations

import importlib
import os

from .base import Writer

__all__ = ["PLUGINS_ENV", "WriterRegistry", "default_registry"]

PLUGINS_ENV = "SCENESMITH_PLUGINS"


class WriterRegistry:
    def __init__(self) -> None:
        self._writers: dict[str, type[Writer]] = {}

    def register(self, cls: type[Writer]) -> type[Writer]:
        """Register ``cls`` under ``cls.name``; registering the same class again is a no-op."""
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


def default_registry() -> WriterRegistry:
    """The registry with scenesmith's own writers, then the plugins' (``PLUGINS_ENV``)."""
    from .coco_writer import CocoWriter
    from .hdf5_writer import Hdf5Writer
    from .pointcloud_writer import PointCloudWriter
    from .pose_writer import PoseJsonWriter

    registry = WriterRegistry()
    for cls in (Hdf5Writer, CocoWriter, PoseJsonWriter, PointCloudWriter):
        registry.register(cls)
    for module_name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        module = importlib.import_module(module_name)
        writers = getattr(module, "WRITERS", None)
        if not isinstance(writers, (tuple, list)) or not writers:
            raise ValueError(f"{PLUGINS_ENV} module {module_name!r} lists no writer classes in a WRITERS tuple")
        for cls in writers:
            registry.register(cls)
    return registry
