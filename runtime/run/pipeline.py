"""``generate``: sample, apply, simulate, capture and write every frame, in shards.

The output folder holds ``run.json`` (the run's parameters, written first), ``scenario.yaml``
(the validated scenario), ``resolved.json`` (digests and asset measurements), ``stage.usda``
(the authored stage; ``stage_textures/`` and ``stage_assets/`` hold the files it names, so the
folder can move), ``shards/``, ``hdf5/``, ``coco/``, ``pose/`` and finally
``manifest.json``. Shards run in this process (``workers=1``) or in worker processes (``local_executor``), one
shard at a time each; every frame depends only on (scenario, seed, frame), so the merged output
is identical for any worker count and shard size. Interrupted runs keep their published
shards; ``resume`` redoes the rest and ends with output identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import SCHEMA_VERSION, __version__, config_path
from ...scenarios.loader import ScenarioDocument
from ...scenarios.prim_paths import render_cameras
from ...scenarios.resolved import ResolvedScenario
from ...scenarios.yaml_dump import dump_yaml
from ...writers.base import RunInfo, atomic_write_bytes
from ...writers.content_hash import FRAME_HASH
from ...writers.registry import default_registry
from ..backend import Capabilities, check_supported, create_backend
from ..usd.resolve import resolve
from .claim import bad_option, claim_folder
from .ipc_names import reclaim, run_key
from .local_executor import run_in_process, run_workers
from .manifest import build_manifest, environment
from .ray_executor import RayOptions, RayStatus
from .run_folder import (
    FolderLock,
    sweep,
)
from .shard_writer import instantiate_writers
from .shards import ShardJob, ShardPlan, plan_shards, valid_shards

__all__ = [
    "GenerateOptions",
    "GenerateResult",
    "RunSetup",
    "abandon_run",
    "finish_run",
    "generate",
    "prepare_run",
    "run_categories",
]

log = logging.getLogger(__name__)

DEFAULT_FRAMES = 10


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    start: int | None = None
    stop: int | None = None
    seed: int = 0
    shard_size: int | None = None
    workers: int = 1
    resume: bool = False
    overwrite: bool = False
    backend: str = "embedded"
    progress: bool = True
    writer_process: bool = True
    """With one worker, write in a child process while the next frame is captured."""
    executor: str = "local"
    """``local`` (this machine's processes) or ``ray``; like ``workers``, never recorded in the
    run's files, so either executor may resume a run the other started."""
    ray: RayOptions = field(default_factory=RayOptions)
    """Where ``executor="ray"`` runs (``ray_executor``)."""


@dataclass
class GenerateResult:
    frames: int
    shards_done: int
    shards_kept: int
    manifest: Path


def run_categories(resolved: ResolvedScenario) -> tuple[str, ...]:
    """Sorted class labels of everything that can be labelled (COCO categories, DESIGN §9)."""
    s = resolved.scenario
    labels = set()
    for asset in s.assets.values():
        if asset.semantics and "class" in asset.semantics:
            labels.add(", ".join(asset.semantics["class"]))
    for dist in s.distractors.values():
        if dist.labelled:
            labels.add(
                ", ".join(dist.semantics["class"]) if dist.semantics and "class" in dist.semantics else "distractor"
            )
    return tuple(sorted(labels))


def _writers(resolved: ResolvedScenario) -> dict[str, dict[str, Any]]:
    spec = resolved.scenario.output.writers
    # the scenario's writer keys are the registry's names (test_layout checks they agree)
    return {
        name: getattr(spec, name).model_dump(mode="json")
        for name in type(spec).model_fields
        if getattr(spec, name) is not None
    }


# --------------------------------------------------------------------------- the run


def _run_parameters(
    resolved: ResolvedScenario,
    opts: GenerateOptions,
    start: int,
    stop: int,
    shard_size: int,
    writers: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "environment": environment(),
        "frame_hash": FRAME_HASH,
        "scenario_digest": resolved.scenario_digest,
        "randomization_digest": resolved.randomization_digest,
        "seed": opts.seed,
        "frames": {"start": start, "stop": stop},
        "shard_size": shard_size,
        "backend": opts.backend,
        "writers": writers,
    }


def _write_run_files(out: Path, resolved: ResolvedScenario) -> tuple[list[Path], Any]:
    """scenario.yaml, resolved.json and stage.usda (+ its textures and copies of the files it
    names), deterministic; and the authored in-memory stage (left as authored: the written
    layer is a localized copy), which a one-process run's engine reuses."""
    from ..usd.stage import author_stage
    from ..usd.stage_assets import localize_layer

    atomic_write_bytes(out / "scenario.yaml", dump_yaml(resolved.scenario).encode())
    measured = {
        "scenario_digest": resolved.scenario_digest,
        "randomization_digest": resolved.randomization_digest,
        "asset_digests": resolved.asset_digests,
        "assets": {
            name: {
                "kind": g.kind,
                "bounds_m": [list(g.bounds.min), list(g.bounds.max)],
                "support_height_m": None if g.support is None else g.support.height,
            }
            for name, g in sorted(resolved.assets.items())
        },
    }
    atomic_write_bytes(out / "resolved.json", (json.dumps(measured, indent=1, sort_keys=True) + "\n").encode())
    stage = author_stage(resolved, texture_dir=out / "stage_textures")
    # the scenario's files are copied into the folder and named relative to stage.usda, so the
    # folder keeps working when moved to another place or machine
    doc = resolved.document
    roots = (doc.base_dir, *doc.asset_roots, config_path())  # config: shipped LiDAR profiles
    layer, copies = localize_layer(stage.GetRootLayer(), out, roots)
    atomic_write_bytes(out / "stage.usda", layer.ExportToString().encode())
    files = [Path("scenario.yaml"), Path("resolved.json"), Path("stage.usda"), *copies]
    textures = out / "stage_textures"
    if textures.is_dir():
        files += sorted(p.relative_to(out) for p in textures.iterdir())
    return files, stage


def _progress(enabled: bool, total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    class _Rate(TextColumn):
        def __init__(self) -> None:
            super().__init__("")

        def render(self, task: Any) -> Any:
            from rich.text import Text

            speed = task.speed
            return Text(f"{speed:.2f} frames/s" if speed else "-- frames/s")

    progress = Progress(
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not enabled,
        transient=False,
    )
    return progress


@dataclass
class RunSetup:
    """A prepared run: folder checked and claimed, run files written, shards planned."""

    opts: GenerateOptions
    resolved: ResolvedScenario
    run: dict[str, Any]
    run_files: list[Path]
    info: RunInfo
    writer_configs: dict[str, dict[str, Any]]
    plans: list[ShardPlan]
    published: set[int]
    """Ids of the shards with a valid record on disk (kept from before, or written by this run);
    their records stay on disk, so the run's memory does not grow with the dataset."""
    jobs: list[ShardJob]
    lock: FolderLock
    """Held from the claim until ``finish_run`` or ``abandon_run``."""
    stage: Any = None
    """The stage authored for stage.usda; a one-process run builds its engine on it."""

    @property
    def total(self) -> int:
        return sum(len(p.frames) for p in self.plans)

    @property
    def remaining(self) -> int:
        return sum(len(j.plan.frames) for j in self.jobs)


def prepare_run(doc: ScenarioDocument, opts: GenerateOptions, caps: Capabilities | None = None) -> RunSetup:
    """Validate options against the scenario and backend, claim the folder (or check the run to
    resume), write run.json, scenario.yaml, resolved.json and stage.usda, plan the shards."""
    s = doc.scenario
    start = 0 if opts.start is None else opts.start
    stop = (s.output.frames or DEFAULT_FRAMES) if opts.stop is None else opts.stop
    shard_size = opts.shard_size or s.output.shard_size
    resolved = resolve(doc)
    if caps is None:
        engine = create_backend(opts.backend)
        check_supported(resolved, engine.capabilities(), opts.backend)
        engine.preflight(resolved)
    else:  # a running backend (Isaac Sim's session) gave its capabilities
        check_supported(resolved, caps, opts.backend)
    episode = s.physics.episode.frames if s.physics.enabled else 1
    if episode > 1 and (shard_size % episode or start % episode):
        raise bad_option(
            "--shard-size",
            "shards must hold whole episodes",
            f"a multiple of physics.episode.frames ({episode}) and a start frame on an episode boundary",
            f"shard size {shard_size}, start {start}",
        )
    writer_configs = _writers(resolved)
    registry = default_registry()
    for name in writer_configs:
        problem = registry.get(name).run_problem(stop, len(render_cameras(s)))
        if problem is not None and opts.stop is None:  # the frame count is the scenario's own
            raise doc.error(("output", "frames"), problem[0], expected=problem[1], got=problem[2])
        if problem is not None:
            raise bad_option("--frames", *problem)
    run = _run_parameters(resolved, opts, start, stop, shard_size, writer_configs)
    inputs = [Path(doc.file), *doc.files.values()]  # LiDAR profile files are among doc.files
    lock = claim_folder(opts.out, opts.overwrite, opts.resume, run, [doc.base_dir, *doc.asset_roots], inputs)
    out = opts.out
    try:
        reclaim(run_key(out))  # shared memory and semaphores a killed run on this folder left
        plans = plan_shards(start, stop, shard_size)
        published = valid_shards(out, plans)
        removed = sweep(out, published)
        if removed:
            log.info("removed %d files of unfinished shards", len(removed))
        written, stage = _write_run_files(out, resolved)
        run_files = [Path("run.json"), *written]
        objects: tuple = ()
        if any(registry.get(name).needs_object_models for name in writer_configs):
            from ..usd.object_models import object_models

            objects = object_models(resolved, stage)
    except BaseException:
        lock.release()
        raise
    info = RunInfo(
        __version__,
        SCHEMA_VERSION,
        resolved.scenario_digest,
        resolved.randomization_digest,
        opts.seed,
        run_categories(resolved),
        tuple(rc.name for rc in render_cameras(s)),
        tuple(sorted(s.lidars)),
        splits=tuple(s.output.splits.items()),
        episode_frames=episode,
        objects=objects,
    )
    jobs = [
        ShardJob(doc, opts.seed, plan, out, opts.backend, writer_configs, info)
        for plan in plans
        if plan.shard_id not in published
    ]
    # only a one-process embedded run builds its engine on it; otherwise do not hold it all run
    reuse = caps is None and opts.executor == "local" and (opts.workers == 1 or len(jobs) <= 1)
    return RunSetup(
        opts, resolved, run, run_files, info, writer_configs, plans, published, jobs, lock, stage if reuse else None
    )


def abandon_run(setup: RunSetup) -> None:
    """After an interruption: keep what was published, remove the unfinished shards' files so
    nothing half-written looks complete (``--resume`` redoes them); release the folder."""
    try:
        sweep(setup.opts.out, valid_shards(setup.opts.out, setup.plans))
    finally:
        setup.lock.release()


def finish_run(setup: RunSetup) -> GenerateResult:
    """Writers' final merges, then manifest.json; release the folder."""
    try:
        run_files = list(setup.run_files)
        for writer in instantiate_writers(setup.writer_configs):
            run_files += writer.on_final_frame(setup.opts.out, setup.info, sorted(setup.published))
        manifest = build_manifest(setup.opts.out, setup.run, sorted(setup.published), run_files)
    finally:
        setup.lock.release()
    return GenerateResult(setup.total, len(setup.jobs), len(setup.plans) - len(setup.jobs), manifest)


def _show(progress: Any, task: Any, kept: int, status: RayStatus) -> None:
    text = f"{status.alive} workers alive" + (f", {status.retries} retried" if status.retries else "")
    progress.update(task, completed=kept + status.frames, status=text)


def _run_on_ray(setup: RunSetup, report: Any) -> set[int]:
    from .ray_executor import run_ray

    opts = setup.opts
    published = run_ray(setup.jobs, opts.workers, report, opts.out, opts.ray)
    # a worker killed mid-shard left its temporary files (named after its pid) behind; the
    # retry wrote the shard again under its own
    removed = sweep(opts.out, setup.published | published)
    if removed:
        log.info("removed %d files a killed worker left", len(removed))
    return published


def generate(doc: ScenarioDocument, opts: GenerateOptions) -> GenerateResult:
    if opts.executor == "ray":  # join the cluster first: a bad address writes nothing
        from .ray_executor import connected

        with connected(opts.ray):
            return _generate(doc, opts)
    return _generate(doc, opts)


def _generate(doc: ScenarioDocument, opts: GenerateOptions) -> GenerateResult:
    setup = prepare_run(doc, opts)
    jobs = setup.jobs
    progress = _progress(opts.progress, setup.total)
    try:
        with progress:
            kept = setup.total - setup.remaining
            task = progress.add_task("frames", total=setup.total, completed=kept, status="")
            advance = lambda n: progress.advance(task, n)  # noqa: E731
            if opts.executor == "ray" and jobs:
                published = _run_on_ray(setup, lambda s: _show(progress, task, kept, s))
            elif opts.workers == 1 or len(jobs) <= 1:
                published = run_in_process(jobs, advance, opts.out, opts.writer_process, setup.resolved, setup.stage)
            else:
                published = run_workers(jobs, opts.workers, advance, opts.out)
            setup.published.update(published)
    except BaseException:
        abandon_run(setup)
        raise
    return finish_run(setup)
