"""Physics settling with full logging vs. raw MuJoCo stepping, on drop_scene.usda (issue 8).

Usage (repository root, shared/ beside it)::

    .venv/bin/python bench/bench_physics.py [--repeats 5]

The 30 bodies of ``fixtures/reference-scene/drop_scene.usda``, 2 s of simulated settling at the
default 2 ms step, logging every body's pose and velocities and every contact at every step
(``log_every_n_steps: 1``, the most expensive setting): wall time and ratio to real time,
beside ``mj_step`` on the same compiled model from the same initial state with nothing logged,
in the same process. Model building (USD → MjSpec → compile) is timed separately. Target:
≤ 0.2 s (≥ 10× real time) on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENE = REPO.parent / "shared" / "fixtures" / "reference-scene" / "drop_scene.usda"
SIMULATED_S = 2.0
TIMESTEP_S = 0.002


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not SCENE.is_file():
        print(f"drop scene not found at {SCENE}", file=sys.stderr)
        return 2
    import mujoco
    from pxr import Usd
    from scenesmith.runtime.embedded.physics import PhysicsLog, PhysicsWorld
    from scenesmith.runtime.embedded.physics_model import build_model

    steps = int(round(SIMULATED_S / TIMESTEP_S))
    build, ours, raw = [], [], []
    rows = contacts = 0
    for _ in range(args.repeats):
        stage = Usd.Stage.Open(str(SCENE))
        start = time.perf_counter()
        parts = build_model(stage, TIMESTEP_S)
        build.append(time.perf_counter() - start)
        # ours: the settle loop (speed checks every step) with a full log, stopped at 2 s
        world = PhysicsWorld(stage, TIMESTEP_S, parts=parts)
        log = PhysicsLog(every=1)
        start = time.perf_counter()
        world.log_now(log)
        world.settle(1e-9, 1e-9, SIMULATED_S, SIMULATED_S, log)  # thresholds nothing meets: runs 2 s
        arrays = log.take(world.body_frame_mask)
        ours.append(time.perf_counter() - start)
        rows, contacts = len(arrays["step_index"]), len(arrays["contact_step_index"])
        # raw: the same compiled model and initial state, mj_step only
        data = mujoco.MjData(parts.model)
        mujoco.mj_forward(parts.model, data)
        start = time.perf_counter()
        for _ in range(steps):
            mujoco.mj_step(parts.model, data)
        raw.append(time.perf_counter() - start)
    b, o, r = (statistics.median(x) for x in (build, ours, raw))
    print(f"drop_scene.usda: {len(world.bodies)} bodies, {steps} steps of {TIMESTEP_S * 1e3:g} ms")
    print(f"  model build (USD -> MjSpec -> compile): {b * 1e3:7.1f} ms")
    print(f"  settle 2 s, logging every step:         {o * 1e3:7.1f} ms  ({SIMULATED_S / o:5.1f}x real time)")
    print(f"    logged {rows} steps x {len(world.bodies)} bodies, {contacts} contacts")
    print(f"  raw mj_step, same model, no logging:    {r * 1e3:7.1f} ms  ({SIMULATED_S / r:5.1f}x real time)")
    print(f"  overhead of settling + logging: {o / r:.2f}x raw; target <= 200 ms: {'met' if o <= 0.2 else 'NOT met'}")
    return 0 if math.isfinite(o) else 1


if __name__ == "__main__":
    sys.exit(main())
