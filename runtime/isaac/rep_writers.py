"""Our writers as ``rep.Writer`` classes, for Replicator users' own render products.

Each class is a thin shell around :class:`~scenesmith.writers.replicator_adapter.ReplicatorWriterAdapter`
with ``data_structure = "annotator"`` (the payload layout our writers read) and the annotators
our writer needs. Registered by the extension on startup, so in Isaac Sim::

    writer = rep.WriterRegistry.get("ScenesmithHdf5Writer")
    writer.initialize(output_dir="/data/out", categories=["mug", "box"])
    writer.attach([render_product])

Frames are numbered in the order Replicator delivers them. ``rep`` is passed in (the real
``omni.replicator.core`` inside Kit), so the classes are built only where Replicator exists.
"""

from __future__ import annotations

from typing import Any

from ...writers.registry import default_registry
from ...writers.replicator_adapter import ReplicatorWriterAdapter

__all__ = ["WRITER_CLASS_NAMES", "make_writer_classes", "register_writers", "unregister_writers"]

WRITER_CLASS_NAMES = {cls.name: cls.replicator_class_name for cls in default_registry().classes()}
"""Our writer name → the ``rep.Writer`` class name registered (WriterRegistry keys by class name),
as each writer declares it (``Writer.replicator_class_name``)."""


def make_writer_classes(rep: Any) -> list[type]:
    """One ``rep.Writer`` subclass per writer of ours."""
    from ... import __version__

    classes = []
    for ours, class_name in WRITER_CLASS_NAMES.items():
        needed = tuple(default_registry().get(ours)().requires())

        def __init__(  # noqa: N807 - the method of the class built below
            self: Any,
            output_dir: str,
            categories: tuple[str, ...] | list[str] = (),
            frames: int = 1_000_000,
            seed: int = 0,
            splits: dict[str, float] | None = None,
            annotators: list[str] | None = None,
            _ours: str = ours,
            _needed: tuple[str, ...] = needed,
            **options: Any,
        ) -> None:
            self._adapter = ReplicatorWriterAdapter(_ours, output_dir, categories, frames, seed, splits, **options)
            self.annotators = list(annotators) if annotators is not None else list(_needed)

        def write(self: Any, data: dict[str, Any]) -> None:
            self._adapter.write(data)

        def on_final_frame(self: Any) -> None:
            self._adapter.finish()

        classes.append(
            type(
                class_name,
                (rep.Writer,),
                {
                    "__init__": __init__,
                    "write": write,
                    "on_final_frame": on_final_frame,
                    "data_structure": "annotator",
                    "version": __version__,
                    "__doc__": f"scenesmith's {ours} writer fed by Replicator payloads.",
                },
            )
        )
    return classes


def register_writers(rep: Any) -> list[str]:
    """Register the classes with ``rep.WriterRegistry``; returns their names."""
    names = []
    for cls in make_writer_classes(rep):
        rep.WriterRegistry.register(cls)
        names.append(cls.__name__)
    return names


def unregister_writers(rep: Any, names: list[str]) -> None:
    for name in names:
        rep.WriterRegistry.unregister(name)
