"""Generation and preview inside Kit, as coroutines (the panel awaits them; headless runs hand
them to ``SimulationApp.run_coroutine``).

The run is the embedded pipeline's run — same folder preparation and resume checks, shard
records, writers and manifest (``runtime/run/pipeline.py``) — with frames captured through
:meth:`IsaacBackend.capture_async`. Shards run one after another in Kit's process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...scenarios.loader import ScenarioDocument
from ..frame_step import step_frame, with_physics_state
from ..run.pipeline import GenerateOptions, GenerateResult, abandon_run, finish_run, prepare_run
from ..run.shard_writer import ShardWriter
from .backend import IsaacBackend

__all__ = ["GenerationCancelledError", "generate_async", "preview_async"]


class GenerationCancelledError(Exception):
    """Raised when the user cancels; published shards stay, ``--resume`` finishes the run."""


async def generate_async(
    doc: ScenarioDocument,
    opts: GenerateOptions,
    backend: IsaacBackend,
    on_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> GenerateResult:
    """Generate ``opts``' frames with ``backend`` (``opts.backend`` should be ``"isaac"``)."""
    setup = prepare_run(doc, opts, backend.capabilities())
    done = setup.total - setup.remaining
    try:
        await backend.build_async(setup.resolved)
        if backend.replicator_mode:
            backend.seed_graph(opts.seed)
        for job in setup.jobs:
            shard = ShardWriter(job, setup.resolved)
            for frame in job.plan.frames:
                if cancelled():
                    raise GenerationCancelledError(f"cancelled at frame {frame}")
                step = step_frame(backend, setup.resolved, opts.seed, frame)
                shard.write(frame, await backend.capture_async(step.params, shard.annotators), step.state)
                done += 1
                if on_progress is not None:
                    on_progress(done, setup.total)
            shard.close()  # publishes the shard's record
            setup.published.add(job.plan.shard_id)
    except BaseException:
        abandon_run(setup)
        raise
    finally:
        backend.close()
    return finish_run(setup)


async def preview_async(doc: ScenarioDocument, seed: int, frame: int, backend: IsaacBackend) -> dict[str, Any]:
    """Build the scenario on Kit's stage and show ``frame`` in the viewport (settled, rendered);
    returns its payload, so the panel can report what the labels hold."""
    from ..usd.resolve import resolve

    resolved = resolve(doc)
    if backend.resolved is None or backend.resolved.scenario_digest != resolved.scenario_digest:
        backend.close()
        await backend.build_async(resolved)
    if backend.replicator_mode:
        backend.seed_graph(seed)
    step = step_frame(backend, resolved, seed, frame)
    return with_physics_state(await backend.capture_async(step.params), step.state)
