"""Time to equal error: our path engine (with and without denoising) beside Blender Cycles (issue 16).

Usage (from the repository root, shared/ beside it; Cycles needs ``bpy`` in a venv of its own)::

    .venv/bin/python bench/bench_path.py [--width 640 --height 480] [--bpy-python /path/to/venv/bin/python]

On ``shared/fixtures/reference-scene/reference_scene.usda`` each renderer gets its own
high-spp reference (cached under ``bench/.cache/``, not committed): ours at 256 spp, Cycles at
1024. Then a ladder of sample counts, each rendered warm and timed, gives each renderer's
relative RMSE against its own reference; the time to reach ``--target`` (2%) is the fastest
rung at or under it. Speed only counts where the renderers agree: the relative RMSE between
the two references is reported, and the speed ratio is printed only when it is within 5%
(else a renderer could win by converging fast to a different answer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / ".cache"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FIXTURES, SCENE, _scenario  # noqa: E402

LADDER = (1, 2, 4, 8, 16, 32, 64)

_CYCLES = r"""
import json, os, sys, time
import bpy
scene_path, out_dir = sys.argv[1], sys.argv[2]
width, height, plan = int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.wm.usd_import(filepath=scene_path)
scene = bpy.context.scene
scene.camera = next(o for o in scene.objects if o.type == "CAMERA")
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.use_adaptive_sampling = False
scene.cycles.max_bounces = 4
scene.render.resolution_x, scene.render.resolution_y = width, height
scene.render.resolution_percentage = 100
scene.render.threads_mode = "FIXED"
scene.render.threads = len(os.sched_getaffinity(0))
scene.view_settings.view_transform = "Standard"
scene.render.image_settings.file_format = "OPEN_EXR"
scene.render.image_settings.color_depth = "32"
out = []
for spp, denoise, name in plan:
    scene.cycles.samples = spp
    scene.cycles.use_denoising = denoise
    scene.render.filepath = os.path.join(out_dir, name + ".exr")
    bpy.ops.render.render(write_still=False)  # warm: BVH, kernels
    start = time.perf_counter()
    bpy.ops.render.render(write_still=True)
    out.append({"spp": spp, "denoise": denoise, "seconds": time.perf_counter() - start, "file": scene.render.filepath})
print("RESULT " + json.dumps(out))
"""


def _rel(img: np.ndarray, ref: np.ndarray) -> float:
    return float(np.sqrt(np.mean((img - ref) ** 2)) / np.sqrt(np.mean(ref**2)))


def _ours(width: int, height: int, spp: int, denoise: bool) -> tuple[np.ndarray, float]:
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample

    scenario = _scenario(width, height)
    scenario["cameras"]["cam"]["annotators"] = ["rgb"]
    scenario["render"].update(engine="path", max_bounces=4, samples_per_pixel=spp, area_light_samples=spp,
                              dome_light_samples=spp, denoise=denoise)  # fmt: skip
    backend = EmbeddedBackend()
    backend.build(resolve(build(scenario, base_dir=FIXTURES)))
    params = sample(backend.resolved, 0, 0)
    backend.apply(params)
    backend.render_linear(params, "cam")  # warm
    start = time.perf_counter()
    image = backend.render_linear(params, "cam")
    return image, time.perf_counter() - start


def _read_exr(path: str) -> np.ndarray:
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    import cv2

    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    return image[..., 2::-1].astype(np.float64)


def _cycles(bpy_python: str, width: int, height: int, plan: list[tuple[int, bool, str]]) -> list[dict[str, Any]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [bpy_python, "-c", _CYCLES, str(SCENE), str(CACHE), str(width), str(height), json.dumps(plan)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _report(name: str, rungs: list[tuple[int, bool, float, float]], target: float) -> float | None:
    print(f"  {name}:")
    for spp, denoise, seconds, err in rungs:
        print(
            f"    {spp:4d} spp{' + denoise' if denoise else '          '}  {seconds * 1e3:9.1f} ms  rel RMSE {err:6.2%}"
        )
    reached = [s for _, _, s, e in rungs if e <= target]
    best = min(reached) if reached else None
    print(f"    time to {target:.0%}: " + (f"{best * 1e3:.1f} ms" if best is not None else "not reached on the ladder"))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--target", type=float, default=0.02)
    parser.add_argument("--bpy-python", default=os.environ.get("SCENESMITH_BPY_PYTHON"))
    args = parser.parse_args()
    w, h = args.width, args.height
    CACHE.mkdir(parents=True, exist_ok=True)
    ref_file = CACHE / f"ours_ref_{w}x{h}.npy"
    if not ref_file.exists():
        np.save(ref_file, _ours(w, h, 256, False)[0])
    ref = np.load(ref_file)
    rungs = []
    for denoise in (False, True):
        for spp in LADDER:
            image, seconds = _ours(w, h, spp, denoise)
            rungs.append((spp, denoise, seconds, _rel(image, ref)))
    print(f"reference scene {w}x{h}, path tracing, 4 bounces, {len(os.sched_getaffinity(0))} cores")
    ours = _report("scenesmith path", [r for r in rungs if not r[1]], args.target)
    ours_dn = _report("scenesmith path, denoised", [r for r in rungs if r[1]], args.target)
    if not args.bpy_python:
        print("  Blender Cycles: not measured (give --bpy-python: a venv with the 'bench' extra's bpy)")
        return 0
    cycles_ref = CACHE / f"cycles_ref_{w}x{h}.exr"
    plan = [] if cycles_ref.exists() else [(1024, False, cycles_ref.stem)]
    plan += [(spp, dn, f"cycles_{spp}_{int(dn)}") for dn in (False, True) for spp in LADDER]
    results = _cycles(args.bpy_python, w, h, plan)
    cref = _read_exr(str(cycles_ref))
    crungs = [
        (r["spp"], r["denoise"], r["seconds"], _rel(_read_exr(r["file"]), cref)) for r in results if r["spp"] != 1024
    ]
    cycles = _report("Blender Cycles", [r for r in crungs if not r[1]], args.target)
    cycles_dn = _report("Blender Cycles, OIDN", [r for r in crungs if r[1]], args.target)
    agreement = _rel(ref, cref)
    scale = float(np.sum(ref * cref) / np.sum(cref * cref))
    print(f"  references: rel RMSE {agreement:.1%} between ours and Cycles' (best exposure scale {scale:.3f}: "
          f"{_rel(ref, cref * scale):.1%})")  # fmt: skip
    if agreement > 0.05:
        print("  speed not compared: the references differ by more than 5% (different answers, not noise)")
        return 0
    for label, a, b in (("undenoised", ours, cycles), ("denoised", ours_dn, cycles_dn)):
        if a is not None and b is not None:
            print(f"  {label}: Cycles / ours time to {args.target:.0%} = {b / a:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
