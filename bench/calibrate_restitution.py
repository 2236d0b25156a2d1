"""Measure MuJoCo's coefficient of restitution against the contact damping ratio.

MuJoCo's contact is a spring-damper that cannot pull, so the rebound is livelier than the
two-sided formula e = exp(−ζπ/√(1−ζ²)) says, and it depends on where in a step the contact
begins. With the contact stiffness tied to the step (an impact spans ``CONTACT_STEPS`` steps),
the behaviour is the same at any step size, so one table serves every scenario. This script
drops a sphere from many heights (spreading the contact onset over a step) for a grid of
damping ratios and prints the mean rebound-to-impact speed ratio per ζ: the table
``RESTITUTION_TABLE`` in ``runtime/embedded/physics_model.py``.

    .venv/bin/python bench/calibrate_restitution.py
"""

from __future__ import annotations

import math

import numpy as np
from scenesmith.runtime.embedded.physics_model import CONTACT_STEPS

TIMESTEP_S = 0.002
HEIGHTS_M = np.linspace(0.3, 0.7, 41)
ZETAS = (0.005, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2)


def rebound_ratio(zeta: float, drop_m: float, timestep_s: float = TIMESTEP_S) -> float:
    """−v_out / v_in of a 5 cm sphere dropped ``drop_m`` onto a plane."""
    import mujoco

    omega = math.pi / (CONTACT_STEPS * timestep_s)
    spec = mujoco.MjSpec()
    spec.option.timestep = timestep_s
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    body = spec.worldbody.add_body(pos=[0, 0, drop_m + 0.05])
    body.add_freejoint()
    solref = [1.0 / (zeta * omega), zeta]
    body.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.05, 0, 0], solref=solref, condim=6, priority=1)
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    model = spec.compile()
    data = mujoco.MjData(model)
    v_in = None
    for _ in range(int(2.0 / timestep_s)):
        v = float(data.qvel[2])
        mujoco.mj_step(model, data)
        if data.ncon and v_in is None:
            v_in = v
        if v_in is not None and not data.ncon:
            return -float(data.qvel[2]) / v_in
    return 0.0


def main() -> None:
    rows = []
    for zeta in ZETAS:
        ratios = np.array([max(0.0, rebound_ratio(zeta, h)) for h in HEIGHTS_M])
        rows.append((zeta, float(ratios.mean()), float(ratios.min()), float(ratios.max())))
        print(f"zeta {zeta:5.3f}: mean e {ratios.mean():.4f}  (min {ratios.min():.4f}, max {ratios.max():.4f})")
    print("RESTITUTION_TABLE = (")
    for zeta, mean, _, _ in rows:
        print(f"    ({zeta}, {mean:.4f}),")
    print(")")


if __name__ == "__main__":
    main()
