"""The README's before/after strip of the camera models (issue 17, item 6).

    .venv/bin/python bench/sensor_strip.py   # writes docs/sensors_tabletop.png

Frame 0 of the tabletop example: its camera as an ideal pinhole with the renderer's tone map
(before), the same frame through the example's lens, sensor noise, ISP and JPEG (after, as the
example ships), and the depth sensor's image beside the exact depth (holes in black).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from frame_zero import frame_zero
from PIL import Image, ImageDraw
from scenesmith import config_path
from scenesmith.scenarios.loader import parse
from scenesmith.scenarios.prim_paths import render_cameras

OUT = Path(__file__).resolve().parent.parent / "docs"
MODELS = ("lens", "sensor", "depth_sensor")


def _capture(doc: Any, camera: str, keep_models: bool) -> dict[str, Any]:
    s = doc.scenario
    spec = s.cameras[camera]
    update: dict[str, Any] = {"annotators": ("rgb", "distance_to_image_plane")}
    if not keep_models:
        update |= dict.fromkeys(MODELS)
    cameras = {**s.cameras, camera: spec.model_copy(update=update)}
    doc = dataclasses.replace(doc, scenario=s.model_copy(update={"cameras": cameras}))
    backend, params, _ = frame_zero(doc)
    return backend.capture(params)["annotators"]


def _depth_image(depth: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Near bright, far dark; no depth (NaN, ±inf) black."""
    valid = np.isfinite(depth)
    grey = np.where(valid, 1.0 - np.clip((depth - lo) / (hi - lo), 0.0, 1.0), 0.0)
    return np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, 8 + 6 * len(text), 14), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return np.asarray(picture)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    doc = parse(config_path("scenarios", "tabletop.yaml"), asset_roots=(config_path("scenarios"),))
    rc = render_cameras(doc.scenario)[0]
    ideal = _capture(doc, rc.camera, keep_models=False)
    real = _capture(doc, rc.camera, keep_models=True)
    exact = ideal["distance_to_image_plane"][rc.name]["data"]
    finite = exact[np.isfinite(exact)]
    lo, hi = float(np.percentile(finite, 1)), float(np.percentile(finite, 99))
    panels = [
        _label(ideal["rgb"][rc.name]["data"][..., :3], "ideal pinhole, tone mapped (before)"),
        _label(real["rgb"][rc.name]["data"][..., :3], "lens + sensor noise + ISP + JPEG (after)"),
        _label(_depth_image(exact, lo, hi), "exact depth"),
    ]
    if "depth_sensor" in real:
        panels.append(_label(_depth_image(real["depth_sensor"][rc.name]["data"], lo, hi), "depth sensor"))
    gap = np.full((panels[0].shape[0], 6, 3), 255, np.uint8)
    rows = [np.concatenate([panels[0], gap, panels[1]], axis=1)]
    if len(panels) == 4:
        rows.append(np.concatenate([panels[2], gap, panels[3]], axis=1))
    strip = np.concatenate([r for row in rows for r in (row, np.full((6, row.shape[1], 3), 255, np.uint8))][:-1])
    half = Image.fromarray(strip).resize((strip.shape[1] // 2, strip.shape[0] // 2), Image.Resampling.LANCZOS)
    half.save(OUT / "sensors_tabletop.png", optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
