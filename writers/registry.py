"""An explicit writer registry: idempotent registration, conflicts raise."""

from __future__ import annotations

from .base import Writer

__all__ = ["WriterRegistry", "default_registry"]


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
    """The registry with scenesmith's own writers."""
    from .coco_writer import CocoWriter
    from .hdf5_writer import Hdf5Writer
    from .pointcloud_writer import PointCloudWriter
    from .pose_writer import PoseJsonWriter

    registry = WriterRegistry()
    for cls in (Hdf5Writer, CocoWriter, PoseJsonWriter, PointCloudWriter):
        registry.register(cls)
    return registry
