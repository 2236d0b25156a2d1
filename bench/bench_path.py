"""Time to equal error: our path engine (OIDN off, high or fast) beside Blender Cycles and Mitsuba 3 (issue 16).

Usage (from the repository root, shared/ beside it; each peer in a venv of its own: ``bpy`` for
Cycles, ``mitsuba`` + ``pyoidn`` and Debian's ``libllvm19`` for Mitsuba)::

    .venv/bin/python bench/bench_path.py [--width 640 --height 480] \
        [--bpy-python .venv-bench/bin/python] [--mitsuba-python .venv-bench/bin/python]

The peers render the scene we render, not their import of the USD file: ``cycles_scene.py``
exports the embedded backend's frame of ``shared/fixtures/reference-scene/reference_scene.usda``
(world-space triangles with our shading normals, our BRDF's parameters, lights converted to
Blender's units by closed forms, the camera intrinsics); ``cycles_build.py`` rebuilds it with
bpy, with every Cycles setting that would change the converged picture matched or off, and
``mitsuba_build.py`` with Mitsuba 3's ``llvm_ad_rgb`` path integrator (our BRDF as a Python
BSDF, its emitters' sampling weights tuned, its best sampler).

Each renderer gets its own high-spp reference (cached under ``bench/.cache/``, not committed):
ours and each peer's at ``--ref-spp`` (1024). Then a ladder of sample counts, ours and Cycles'
rungs interleaved (so that load drifting on a shared machine hits both) and repeated
``--repeats`` times, each rung rendered warm and timed, gives each renderer's relative RMSE
against its own reference and its median time; the time to reach each of ``--targets`` is the
fastest rung at or under it. Each renderer is warmed once (kernels, the denoiser's first call),
then every render is a whole frame as a user pays it: ours builds the BVH, casts and shades;
Cycles syncs the scene, builds its BVH and runs a render session; Mitsuba traces its (cached)
kernel over its built scene, plus its albedo and normal guides when denoising. Speed only counts
where the renderers agree: the relative RMSE between ours and each peer's reference is printed,
and the speed ratio only when it is within 5% (else a renderer could win by converging fast to
a different answer). All use the same thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / ".cache"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import FIXTURES, _scenario  # noqa: E402
from cycles_scene import export_frame  # noqa: E402

LADDER = (1, 2, 4, 8, 16, 32, 64, 128, 256)
BOUNCES = 4
# the denoiser off, or Open Image Denoise at its two CPU qualities; both renderers run each
DENOISE_MODES = ("off", "high", "fast")


def _rel(img: np.ndarray, ref: np.ndarray) -> float:
    return float(np.sqrt(np.mean((img - ref) ** 2)) / np.sqrt(np.mean(ref**2)))


class Ours:
    """Our backend, built once; each render takes its own ``render`` settings."""

    def __init__(self, width: int, height: int) -> None:
        from scenesmith.runtime.embedded.backend import EmbeddedBackend
        from scenesmith.runtime.usd.resolve import resolve
        from scenesmith.scenarios.loader import build
        from scenesmith.scenarios.sampler import sample

        scenario = _scenario(width, height)
        scenario["cameras"]["cam"]["annotators"] = ["rgb"]
        scenario["render"].update(engine="path", max_bounces=BOUNCES)
        self.backend = EmbeddedBackend()
        self.backend.build(resolve(build(scenario, base_dir=FIXTURES)))
        self.params = sample(self.backend.resolved, 0, 0)
        self.backend.apply(self.params)
        self.warmed: set[str] = set()

    def export(self, out: Path) -> dict[str, Any]:
        return export_frame(self.backend, "cam", out)

    def render(self, spp: int, denoise: str) -> tuple[np.ndarray, float]:
        """Linear image and the seconds of one warm render (BVH build, camera rays, paths, denoiser)."""
        from scenesmith.runtime.embedded.annotators import cast_camera
        from scenesmith.runtime.embedded.camera_rays import read_camera
        from scenesmith.runtime.embedded.render import Renderer
        from scenesmith.runtime.embedded.scene import FrameGeometry
        from scenesmith.scenarios.prim_paths import render_cameras, render_product_path

        b = self.backend
        spec = b.resolved.scenario.render.model_copy(
            update={"samples_per_pixel": spp, "area_light_samples": spp, "dome_light_samples": spp,
                    "denoise": denoise != "off", "denoise_quality": "high" if denoise == "off" else denoise}
        )  # fmt: skip
        rc = render_cameras(b.resolved.scenario)[0]

        def once() -> np.ndarray:
            frame = FrameGeometry(b.index)
            model, cam_to_world = read_camera(b.stage, rc.prim_path, render_product_path(rc.name))
            renderer = Renderer(frame, b.materials, spec, b.resolved.randomization_digest, self.params.seed, 0)
            return renderer.render_linear(rc.name, cast_camera(frame, model, cam_to_world))

        if denoise not in self.warmed:  # numba's first calls, OIDN's first device
            once()
            self.warmed.add(denoise)
        start = time.perf_counter()
        image = once()
        return image, time.perf_counter() - start


class Peer:
    """Another renderer's process (``cycles_build.py`` or ``mitsuba_build.py`` in its own
    venv's ``python``) that built the exported scene and renders on request."""

    def __init__(self, label: str, key: str, python: str, script: str, scene: Path, threads: int) -> None:
        self.label, self.key = label, key
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve().parent / script), str(scene), str(CACHE), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._wait("READY")
        self.warm = True

    def _wait(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw)  # Mitsuba's coloured log lines leave a reset code
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
            if line.startswith("TUNED "):  # a setting the peer chose for itself
                print(f"  {self.label}: {line[6:].strip()}")
        raise RuntimeError(f"{self.label} exited (rc {self.proc.wait()}) before {prefix}")

    def render(self, spp: int, denoise: str, name: str) -> tuple[np.ndarray, float, int]:
        """Linear image, seconds and the samples per pixel it took (a peer's sampler may round
        the count up: Mitsuba's ``multijitter`` renders 32 as 35)."""
        name = f"{self.key}_{name}"
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([spp, denoise, name, self.warm]) + "\n")
        self.proc.stdin.flush()
        self.warm = False  # the kernels and scene stay loaded; later renders are warm
        result = json.loads(self._wait("RESULT "))
        return np.load(CACHE / f"{name}.npy"), float(result["seconds"]), int(result["spp"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


Rungs = dict[tuple[int, str], tuple[list[float], float]]
Times = dict[float, float | None]


def _report(name: str, rungs: Rungs, denoise: str, targets: list[float]) -> Times:
    """Print the ladder; the median time of the fastest rung at or under each target error."""
    print(f"  {name}:")
    best: dict[float, float | None] = dict.fromkeys(targets)
    for (spp, dn), (times, err) in sorted(rungs.items()):
        if dn != denoise:
            continue
        med = statistics.median(times)
        spread = f"{min(times) * 1e3:.0f}-{max(times) * 1e3:.0f}"
        print(f"    {spp:4d} spp  median {med * 1e3:9.1f} ms  ({spread})  rel RMSE {err:6.2%}")
        for target in targets:
            if err <= target and (best[target] is None or med < best[target]):  # type: ignore[operator]
                best[target] = med
    for target, t in best.items():
        print(f"    time to {target:.0%}: " + (f"{t * 1e3:.1f} ms" if t is not None else "not reached on the ladder"))
    return best


def _ratio(target: float, ours_by_mode: list[Times], theirs_by_mode: list[Times]) -> str:
    """The peer's fastest mode over ours, at one target."""
    ours = [t[target] for t in ours_by_mode if t[target] is not None]
    theirs = [t[target] for t in theirs_by_mode if t[target] is not None]
    return f"{min(theirs) / min(ours):.2f}x" if ours and theirs else "n/a"  # type: ignore[type-var]


PEERS = (
    # label, cache key, script, option: each peer runs when its option names a python
    ("Blender Cycles", "cycles", "cycles_build.py", "bpy_python"),
    ("Mitsuba 3", "mitsuba", "mitsuba_build.py", "mitsuba_python"),
)


def _compare(peer: Peer, ref: np.ndarray, pref: np.ndarray, ref_spp: int, t_ours: list[Times], t_peer: list[Times],
             targets: list[float]) -> None:  # fmt: skip
    agreement = _rel(ref, pref)
    scale = float(np.sum(ref * pref) / np.sum(pref * pref))
    print(f"  references ({ref_spp} spp each): rel RMSE {agreement:.2%} between ours and {peer.label}'s; "
          f"mean ours / {peer.label} {ref.mean() / pref.mean():.4f} (per channel "
          f"{', '.join(f'{a:.4f}' for a in ref.reshape(-1, 3).mean(0) / pref.reshape(-1, 3).mean(0))}); "
          f"best scale {scale:.4f} leaves {_rel(ref, pref * scale):.2%}")  # fmt: skip
    if agreement > 0.05:
        print(f"  {peer.label}: speed not compared, the references differ by more than 5% (another answer, not noise)")
        return
    for mode, a, b in zip(DENOISE_MODES, t_ours, t_peer):
        for target in targets:
            if a[target] is not None and b[target] is not None:
                print(f"  denoise {mode}: {peer.label} / ours time to {target:.0%} = {b[target] / a[target]:.2f}x")  # type: ignore[operator]
            else:
                print(f"  denoise {mode}: a renderer did not reach {target:.0%} on the ladder")
    print(f"  best of ours (any mode) vs best of {peer.label} (any mode): "
          + ", ".join(f"{t:.0%}: {_ratio(t, t_ours, t_peer)}" for t in targets))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--targets", type=float, nargs="+", default=[0.1, 0.05, 0.03, 0.02])
    parser.add_argument("--ref-spp", type=int, default=1024)
    parser.add_argument("--max-spp", type=int, default=256, help="top of the ladder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bpy-python", default=os.environ.get("SCENESMITH_BPY_PYTHON"))
    parser.add_argument("--mitsuba-python", default=os.environ.get("SCENESMITH_MITSUBA_PYTHON"))
    args = parser.parse_args()
    w, h = args.width, args.height
    threads = len(os.sched_getaffinity(0))
    ladder = [n for n in LADDER if n <= args.max_spp]
    CACHE.mkdir(parents=True, exist_ok=True)
    ours = Ours(w, h)
    scene = CACHE / f"cycles_scene_{w}x{h}"
    ours.export(scene)
    peers = [
        Peer(label, key, getattr(args, option), script, scene, threads)
        for label, key, script, option in PEERS
        if getattr(args, option)
    ]
    ref_file = CACHE / f"ours_ref_{w}x{h}_{args.ref_spp}.npy"
    if not ref_file.exists():
        np.save(ref_file, ours.render(args.ref_spp, "off")[0])
    ref = np.load(ref_file)
    prefs = {}
    for peer in peers:
        pref_file = CACHE / f"{peer.key}_ref_{w}x{h}_{args.ref_spp}.npy"
        if not pref_file.exists():
            np.save(pref_file, peer.render(args.ref_spp, "off", "ref_render")[0])
        prefs[peer.key] = np.load(pref_file)
    load = [os.getloadavg()[0]]
    mine: Rungs = {}
    theirs: dict[str, Rungs] = {peer.key: {} for peer in peers}
    for _ in range(args.repeats):
        for denoise in DENOISE_MODES:
            for spp in ladder:
                image, seconds = ours.render(spp, denoise)
                mine.setdefault((spp, denoise), ([], _rel(image, ref)))[0].append(seconds)
                for peer in peers:
                    image, seconds, taken = peer.render(spp, denoise, f"{spp}_{denoise}")
                    rungs = theirs[peer.key]
                    rungs.setdefault((taken, denoise), ([], _rel(image, prefs[peer.key])))[0].append(seconds)
        load.append(os.getloadavg()[0])
    print(f"reference scene {w}x{h}, path tracing, {BOUNCES} scattering events, {threads} threads each, "
          f"medians of {args.repeats}; 1-min load average {min(load):.2f}-{max(load):.2f}")  # fmt: skip
    t_ours = [_report(f"scenesmith path, denoise {mode}", mine, mode, args.targets) for mode in DENOISE_MODES]
    if not peers:
        print("  peers: not measured (give --bpy-python and/or --mitsuba-python: venvs with bpy, or mitsuba + pyoidn)")
        return 0
    for peer in peers:
        peer.close()
        t_peer = [_report(f"{peer.label}, denoise {m}", theirs[peer.key], m, args.targets) for m in DENOISE_MODES]
        _compare(peer, ref, prefs[peer.key], args.ref_spp, t_ours, t_peer, args.targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
