"""``capture`` (a frame's raw payload) and ``preview`` (a picture of it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..scenarios.prim_paths import render_cameras
from .cmd_scenario import load

__all__ = ["capture", "preview"]


def capture(args: argparse.Namespace) -> int:
    from ..runtime.run.output_folder import check_new_folder, discard, publish_folder, staging_folder
    from ..runtime.single_frame import capture_frame
    from ..writers.raw_payload import write_payload

    out = check_new_folder(Path(args.output))
    doc = load(args)
    staging = staging_folder(out)
    try:
        payload = capture_frame(doc, args.seed, args.frame, args.backend, texture_dir=staging / "textures")
        write_payload(payload, staging)
        publish_folder(staging, out)
    except BaseException:
        discard(staging)
        raise
    print(f"wrote {out}")
    return 0


def preview(args: argparse.Namespace) -> int:
    from ..runtime.preview import PREVIEW_ANNOTATORS, PREVIEW_FORMATS, compose_preview
    from ..runtime.run.output_folder import check_new_file
    from ..runtime.single_frame import capture_frame

    out = check_new_file(Path(args.output), tuple(PREVIEW_FORMATS))
    doc = load(args)
    wanted = {rc.name: PREVIEW_ANNOTATORS for rc in render_cameras(doc.scenario)}
    payload = capture_frame(doc, args.seed, args.frame, args.backend, annotators=wanted)
    image = compose_preview(payload)
    tmp = out.with_name(f".{out.name}.tmp")
    fmt = PREVIEW_FORMATS[out.suffix.lower()]
    image.save(tmp, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    tmp.replace(out)
    print(f"wrote {out}")
    return 0
