"""Scenario commands: ``validate``, ``schema``, ``sample`` and ``stage``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from ..scenarios.loader import ScenarioDocument, parse

__all__ = ["load", "sample", "schema", "stage", "validate"]


def load(args: argparse.Namespace) -> ScenarioDocument:
    """Parse the scenario named on the command line, with its ``--asset-root`` folders;
    ``--allow-large`` lifts the resource budgets; ``--render-engine`` replaces the scenario's
    ``render.engine`` (the run records the scenario as run, so its digest says which)."""
    doc = parse(args.scenario, tuple(args.asset_root), allow_large=getattr(args, "allow_large", False))
    engine = getattr(args, "render_engine", None)
    if engine is not None and engine != doc.scenario.render.engine:
        render = doc.scenario.render.model_copy(update={"engine": engine})
        doc = dataclasses.replace(doc, scenario=doc.scenario.model_copy(update={"render": render}))
    return doc


def validate(args: argparse.Namespace) -> int:
    from ..runtime.backend import create_backend
    from ..runtime.usd.resolve import resolve

    doc = load(args)
    resolved = resolve(doc)  # measures meshes and USD references: unreadable assets are bad input too
    # colliders the physics engine refuses (a flat dynamic mesh), as generate finds them first;
    # inside Isaac Sim's Python the embedded backend is not installed, and PhysX checks its own
    if resolved.scenario.physics.enabled:
        try:
            engine = create_backend("embedded")
        except ImportError as exc:
            logging.getLogger(__name__).info("physics colliders not checked: %s", exc)
        else:
            engine.preflight(resolved)
    s = doc.scenario
    parts = [
        f"{len(s.assets)} assets",
        f"{len(s.distractors)} distractor groups",
        f"{len(s.lights)} lights",
        f"{len(s.cameras)} cameras",
        f"{len(s.lidars)} lidars",
        f"{len(s.randomizers)} randomizers",
    ]
    print(f"ok: {doc.file}: " + ", ".join(parts))
    return 0


def schema(args: argparse.Namespace) -> int:
    from ..scenarios.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def sample(args: argparse.Namespace) -> int:
    from ..runtime.usd.resolve import resolve
    from ..scenarios.sampler import sample as sample_frame

    resolved = resolve(load(args))
    for frame in args.frames:
        sys.stdout.write(sample_frame(resolved, args.seed, frame).to_json() + "\n")
    return 0


def stage(args: argparse.Namespace) -> int:
    from ..runtime.usd.apply import apply
    from ..runtime.usd.resolve import resolve
    from ..runtime.usd.stage import author_stage, check_stage_output, export_stage
    from ..scenarios.sampler import sample as sample_frame

    out = check_stage_output(Path(args.output))
    resolved = resolve(load(args))
    textures = out.parent / f"{out.stem}_textures"
    usd_stage = author_stage(resolved, texture_dir=textures)
    apply(usd_stage, sample_frame(resolved, args.seed, args.frame), textures, resolved)
    export_stage(usd_stage, out)
    print(f"wrote {out}")
    return 0
