"""The README's side-by-side pictures: frame 0 of each example, direct vs path engine.

    .venv/bin/python bench/engine_gallery.py   # writes docs/engines_<example>.png

Each image is the example's own camera, rendered once with ``render.engine: direct`` (the
example's other render settings, denoise off) and once as the example ships (path traced),
with the render time of each in the caption line printed to stdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from frame_zero import frame_zero, with_render
from PIL import Image
from scenesmith import config_path
from scenesmith.runtime.embedded.tonemap import tone_map
from scenesmith.scenarios.loader import ScenarioDocument, parse
from scenesmith.scenarios.prim_paths import render_cameras

OUT = Path(__file__).resolve().parent.parent / "docs"


def _render(doc: ScenarioDocument, **render: object) -> tuple[np.ndarray, float]:
    doc = with_render(doc, **render)
    backend, params, resolved = frame_zero(doc)
    camera = render_cameras(resolved.scenario)[0].name
    backend.render_linear(params, camera)  # compile and warm caches outside the timing
    start = time.perf_counter()
    linear = backend.render_linear(params, camera)
    seconds = time.perf_counter() - start
    spec = doc.scenario.render.tone_map
    return tone_map(linear, spec.kind, spec.exposure_ev), seconds


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name in ("tabletop", "bin_picking"):
        doc = parse(config_path("scenarios", f"{name}.yaml"))
        direct, t_direct = _render(doc, engine="direct", denoise=False)
        path, t_path = _render(doc)
        both = np.concatenate([direct, np.full((direct.shape[0], 8, 3), 255, np.uint8), path], axis=1)
        half = Image.fromarray(both).resize((both.shape[1] // 2, both.shape[0] // 2), Image.Resampling.LANCZOS)
        half.save(OUT / f"engines_{name}.png", optimize=True)
        print(f"{name}: direct {t_direct:.2f} s | path (as shipped) {t_path:.2f} s", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
