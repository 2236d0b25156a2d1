"""A call-recording stand-in for ``omni.replicator.core`` (Kit-free tests of the code that
builds Replicator graphs and registers writers). It renders nothing and answers every
attribute, so tests must check the recorded names against ``extension/api_citations.toml``."""

from __future__ import annotations

from typing import Any

REP = "omni.replicator.core"


class Item:
    """What a recorded call returns: usable as ``with item:`` (Replicator's ReplicatorItem is)."""

    def __init__(self, recorder: RecordingRep, name: str, index: int) -> None:
        self.recorder, self.name, self.index = recorder, name, index

    def __enter__(self) -> Item:
        self.recorder.context.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.context.pop()


class _Node:
    def __init__(self, recorder: RecordingRep, name: str) -> None:
        self._recorder, self._name = recorder, name

    def __getattr__(self, attr: str) -> _Node:
        return _Node(self._recorder, f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Item:
        rec = self._recorder
        rec.calls.append((self._name, args, kwargs, tuple(i.index for i in rec.context)))
        return Item(rec, self._name, len(rec.calls) - 1)


class _Registry:
    def __init__(self, recorder: RecordingRep) -> None:
        self.recorder = recorder
        self.writers: dict[str, type] = {}

    def register(self, writer: type) -> None:
        self.recorder.calls.append((f"{REP}.WriterRegistry.register", (writer,), {}, ()))
        self.writers[writer.__name__] = writer

    def unregister(self, name: str) -> None:
        self.recorder.calls.append((f"{REP}.WriterRegistry.unregister", (name,), {}, ()))
        del self.writers[name]


class RecordingRep:
    class Writer:
        """Stands for ``rep.Writer`` (an ABC with ``write`` and ``on_final_frame``)."""

        data_structure = "legacy"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict, tuple[int, ...]]] = []
        self.context: list[Item] = []
        self.WriterRegistry = _Registry(self)

    def __getattr__(self, attr: str) -> _Node:
        return _Node(self, f"{REP}.{attr}")

    def names(self) -> set[str]:
        return {c[0] for c in self.calls}
