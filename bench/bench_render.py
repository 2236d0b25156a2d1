"""Embedded camera pipeline vs. its ray-casting floor, on the reference scene (issue 5).

Usage (from the repository root, shared/ beside it)::

    .venv/bin/python bench/bench_render.py [--frames 7] [--width 640 --height 480]

Measures, in one process, the median warm frame time of the full camera annotator set plus
RGB (1 sample per pixel, 1 sample per area light) on ``shared/fixtures/reference-scene/
reference_scene.usda``, and beside it the *floor*: the same scene, the same thread count,
calling only Embree (Open3D ``cast_rays`` / ``test_occlusions``) on exactly the rays the
pipeline cast — primary, shadow and per-object occlusion-pass rays — including the per-frame
BVH rebuild. Reports ms per frame and the ratio (target ≤ 3×). If ``bpy`` (the optional
``bench`` extra) is installed, Blender Cycles at 16 spp renders the same scene for reference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures"
SCENE = FIXTURES / "reference-scene" / "reference_scene.usda"


class _Recorder:
    """Wraps a RaycastingScene: forwards calls and keeps the rays for the floor replay."""

    log: list[tuple[str, Any, np.ndarray, dict]] = []
    recording = False

    def __init__(self, inner: Any, kind: str) -> None:
        self.inner = inner
        self.kind = kind

    def cast_rays(self, rays: Any, **kw: Any) -> Any:
        if _Recorder.recording:
            _Recorder.log.append(
                ("cast_rays", self.inner if self.kind == "instance" else None, rays.numpy().copy(), kw)
            )
        return self.inner.cast_rays(rays, **kw)

    def test_occlusions(self, rays: Any, **kw: Any) -> Any:
        if _Recorder.recording:
            _Recorder.log.append(("test_occlusions", None, rays.numpy().copy(), kw))
        return self.inner.test_occlusions(rays, **kw)


def _scenario(width: int, height: int) -> dict[str, Any]:
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(SCENE))
    cam = UsdGeom.Camera(stage.GetPrimAtPath("/World/Camera"))
    matrix = UsdGeom.Xformable(cam).ComputeLocalToWorldTransform(0)
    q = matrix.ExtractRotationQuat()
    t = matrix.ExtractTranslation()
    return {
        "version": 1,
        "stage": {"base_usd": "reference-scene/reference_scene.usda"},
        "cameras": {
            "cam": {
                "resolution": [width, height],
                "focal_length_mm": float(cam.GetFocalLengthAttr().Get()),
                "horizontal_aperture_mm": float(cam.GetHorizontalApertureAttr().Get()),
                "vertical_aperture_mm": float(cam.GetVerticalApertureAttr().Get()),
                "clipping_range_m": [0.01, 1000.0],
                "position_m": [float(v) for v in t],
                "quat_wxyz": [q.GetReal(), *map(float, q.GetImaginary())],
                "annotators": [
                    "rgb",
                    "distance_to_camera",
                    "distance_to_image_plane",
                    "normals",
                    "instance_segmentation",
                    "instance_id_segmentation",
                    "semantic_segmentation",
                    "bounding_box_2d_tight",
                    "bounding_box_2d_loose",
                    "bounding_box_3d",
                    "occlusion",
                    "camera_params",
                    "pointcloud",
                ],
            }
        },
        # 960-triangle spheres and 128-triangle cylinders, as in the bake-off's scene
        "render": {
            "samples_per_pixel": 1,
            "area_light_samples": 1,
            "dome_light_samples": 1,
            "tessellation": {"segments": 32, "rings": 15},
        },
    }


def _floor(frame_vertices: np.ndarray, frame_faces: np.ndarray, log: list) -> float:
    import open3d as o3d
    from scenesmith.runtime.embedded import scene as scene_mod

    start = time.perf_counter()
    bvh = scene_mod.build_raycasting_scene.__wrapped__(frame_vertices, frame_faces)  # type: ignore[attr-defined]
    for name, inner, rays, kw in log:
        tensor = o3d.core.Tensor.from_numpy(np.ascontiguousarray(rays))
        target = inner if inner is not None else bvh
        getattr(target, name)(tensor, **kw)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=11)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--cycles-renders", type=int, default=3, help="warm Cycles renders when bpy is installed")
    args = parser.parse_args()
    if not SCENE.is_file():
        print(f"reference scene not found at {SCENE}", file=sys.stderr)
        return 2

    from scenesmith.runtime.embedded import scene as scene_mod
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample

    original = scene_mod.build_raycasting_scene

    def recording_build(vertices: np.ndarray, faces: np.ndarray) -> Any:
        return _Recorder(original(vertices, faces), "frame" if len(faces) > 5000 else "instance")

    recording_build.__wrapped__ = original  # type: ignore[attr-defined]
    scene_mod.build_raycasting_scene = recording_build  # type: ignore[assignment]

    resolved = resolve(build(_scenario(args.width, args.height), base_dir=REPO / "bench", asset_roots=(FIXTURES,)))
    backend = EmbeddedBackend()
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    backend.capture(params)  # cold frame: imports, caches, TBB warm-up
    pipeline, floor = [], []
    for _ in range(args.frames):
        _Recorder.log = []
        _Recorder.recording = True
        start = time.perf_counter()
        payload = backend.capture(params)
        pipeline.append(time.perf_counter() - start)
        _Recorder.recording = False
        from scenesmith.runtime.embedded.scene import FrameGeometry

        geometry = FrameGeometry(backend.index)  # same vertices as the frame just captured
        floor.append(_floor(geometry.vertices, geometry.faces, _Recorder.log))
    rays = {
        name: sum(len(r.reshape(-1, 6)) for n, _, r, _ in _Recorder.log if n == name)
        for name in ("cast_rays", "test_occlusions")
    }
    hits = int(np.isfinite(payload["annotators"]["distance_to_camera"]["cam"]["data"]).sum())
    p_ms, f_ms = statistics.median(pipeline) * 1e3, statistics.median(floor) * 1e3
    print(f"reference scene, {args.width}x{args.height}, 1 spp, 1 sample per area light, {args.frames} warm frames")
    print(f"  pixels hit: {hits}; rays per frame: cast {rays['cast_rays']}, occlusion {rays['test_occlusions']}")
    print(f"  pipeline (all annotators + RGB): {p_ms:8.1f} ms/frame (median)")
    print(f"  floor (BVH build + Embree calls): {f_ms:8.1f} ms/frame (median)")
    ratios = [p / f for p, f in zip(pipeline, floor)]  # each frame beside its own floor replay
    print(f"  ratio pipeline / floor: {statistics.median(ratios):.2f}x median of per-frame ratios (target <= 3x)")
    print(f"    per-frame ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
    try:
        import bpy
    except ImportError:
        print("  Blender Cycles: not measured (install the optional 'bench' extra for bpy)")
        return 0
    cycles_s = _cycles(args.width, args.height, spp=16, renders=args.cycles_renders)
    print(
        f"  Blender Cycles {bpy.app.version_string}, 16 spp, CPU, same scene and threads: "
        f"{cycles_s * 1e3:8.1f} ms/frame (median of {args.cycles_renders} warm renders) = "
        f"{cycles_s * 1e3 / p_ms:.1f}x our full annotator set + RGB"
    )
    return 0


def _cycles(width: int, height: int, spp: int, renders: int) -> float:
    """Median seconds of warm Cycles renders of the reference scene, imported by Blender's own
    USD importer (lights, UsdPreviewSurface materials, camera), on this process's core count."""
    import os
    import tempfile

    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.usd_import(filepath=str(SCENE))
    scene = bpy.context.scene
    scene.camera = next(o for o in scene.objects if o.type == "CAMERA")
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = spp
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.threads_mode = "FIXED"
    scene.render.threads = len(os.sched_getaffinity(0))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        scene.render.filepath = str(Path(tmp) / "cycles.png")
        for k in range(renders + 1):  # the first render builds the BVH and loads kernels
            start = time.perf_counter()
            bpy.ops.render.render(write_still=False)
            if k:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
