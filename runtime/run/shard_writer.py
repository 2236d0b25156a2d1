"""One shard's writers: opened for the shard, fed each frame's payload, closed into the shard
record (published last, by rename).

``ShardWriter`` runs them in this process (worker pools, Isaac Sim's async loop);
``writer_process.BackgroundShardWriter`` runs the same class in a child process so writing
overlaps the next frame's capture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...scenarios.prim_paths import render_cameras
from ...scenarios.resolved import ResolvedScenario
from ...sensors.outputs import PHYSICS_STATE_KEY
from ...writers.base import ShardContext, Writer, output_write_error
from ...writers.content_hash import frame_content_hash
from ...writers.registry import default_registry
from .shards import publish_record

if TYPE_CHECKING:
    from .shards import ShardJob

__all__ = ["ShardWriter", "instantiate_writers", "shard_annotators"]


def instantiate_writers(configs: dict[str, dict[str, Any]]) -> list[Writer]:
    registry = default_registry()
    return [registry.get(name)(**options) for name, options in sorted(configs.items())]


def shard_annotators(resolved: ResolvedScenario, writers: list[Writer]) -> dict[str, tuple[str, ...]]:
    """Each camera's annotators plus what the writers need (order kept, no duplicates)."""
    needed = [a for w in writers for a in w.requires()]
    s = resolved.scenario
    return {rc.name: tuple(dict.fromkeys([*s.cameras[rc.camera].outputs(), *needed])) for rc in render_cameras(s)}


class ShardWriter:
    """The writers of one shard, in this process. Backends that capture asynchronously (Isaac
    Sim) drive it from their own loop."""

    def __init__(self, job: ShardJob, resolved: ResolvedScenario | None = None) -> None:
        self.job = job
        self.writers = instantiate_writers(job.writer_configs)
        self.annotators = shard_annotators(resolved, self.writers) if resolved is not None else {}
        context = ShardContext(job.out, job.plan.shard_id, (job.plan.start, job.plan.stop), job.run_info)
        for writer in self.writers:
            writer.open(context)
        self.hashes: dict[int, str] = {}

    def write(self, frame: int, payload: dict[str, Any], state: dict[str, Any] | None) -> None:
        if state is not None:
            payload[PHYSICS_STATE_KEY] = state
        self.hashes[frame] = frame_content_hash(payload)
        for writer in self.writers:
            try:
                writer.write(payload)
            except (OSError, RuntimeError) as exc:
                self._raise_if_environment(exc, writer)
                raise

    def close(self) -> dict[str, Any]:
        files = []
        for writer in self.writers:
            try:
                files += writer.close()
            except (OSError, RuntimeError) as exc:
                self._raise_if_environment(exc, writer)
                raise
        try:
            return publish_record(self.job.out, self.job.plan, files, self.hashes)
        except (OSError, RuntimeError) as exc:
            self._raise_if_environment(exc, None)
            raise

    def _raise_if_environment(self, exc: Exception, writer: Writer | None) -> None:
        """A full disk (or quota, permissions, I/O error) becomes one ``OutputWriteError`` naming
        the file; any other error is ours and propagates as it is."""
        known = output_write_error(exc, self.job.out / (writer.name if writer is not None else "shards"))
        if known is not None:
            raise known from None

    def abort(self) -> None:
        """Release the writers' open files; the run's sweep removes the unfinished ones."""
        for writer in self.writers:
            writer.abort()
