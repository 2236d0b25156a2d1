"""The physics-state schema: our backend-neutral record of the physics behind a frame.

Replicator has no annotator for physics, so this schema is ours (DESIGN §1). The embedded
backend fills it from MuJoCo; the Isaac backend fills it from PhysX. It reaches writers as the
payload's ``physics_state`` key, a flat dict, so the HDF5 writer stores it like an annotator
(under ``physics/``): scalars as (N,) datasets, arrays and string lists as ragged
``values`` + ``frame_offsets``.

Every simulation step belongs to exactly one captured frame: frame 0 of an episode carries the
initial state (step 0) and every settle step; frame k carries the steps after frame k − 1's
capture up to and including its own. Rows of ``step_*`` arrays are step-major: row
``s * B + b`` is body ``b`` (``body_paths[b]``) at logged step ``s``.

This is a leaf module: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PHYSICS_FIELDS", "SETTLE_STATUS", "PhysicsField", "check_physics_state", "step_rows"]

SETTLE_STATUS = ("settled", "cap_reached", "not_requested")
"""``settled``: every body met the thresholds for the hold time; ``cap_reached``: the time cap
came first (see ``residual_*``); ``not_requested``: frames after an episode's first, or
``physics.settle: null``."""


@dataclass(frozen=True)
class PhysicsField:
    kind: str
    """``scalar``, ``array`` or ``strings``."""
    dtype: str
    tail: tuple[int, ...]
    units: str
    doc: str


_B, _S, _C = "per body", "per logged step and body", "per contact"

PHYSICS_FIELDS: dict[str, PhysicsField] = {
    # frame
    "frame_index": PhysicsField("scalar", "int64", (), "", "captured frame this record belongs to"),
    "episode_index": PhysicsField("scalar", "int64", (), "", "episode of the frame"),
    "frame_in_episode": PhysicsField("scalar", "int64", (), "", "position of the frame in its episode"),
    "time_s": PhysicsField("scalar", "float64", (), "s", "simulation time at capture since the episode started"),
    "capture_time_s": PhysicsField("scalar", "float64", (), "s", "capture time since the settled start (k x interval)"),
    "timestep_s": PhysicsField("scalar", "float64", (), "s", "physics step"),
    "log_every_n_steps": PhysicsField("scalar", "int64", (), "", "logging stride"),
    "settle_status": PhysicsField("scalar", "str", (), "", "one of SETTLE_STATUS"),
    "settle_time_s": PhysicsField("scalar", "float64", (), "s", "simulated settling time in this frame (0 if none)"),
    # bodies at capture
    "body_paths": PhysicsField("strings", "str", (), "", "USD prim path of every rigid body (index b)"),
    "body_kind": PhysicsField("strings", "str", (), "", "dynamic or kinematic"),
    "position_m": PhysicsField("array", "float64", (3,), "m", f"{_B}: world position of the prim origin"),
    "quat_wxyz": PhysicsField("array", "float64", (4,), "", f"{_B}: world orientation"),
    "linear_velocity_m_s": PhysicsField("array", "float64", (3,), "m/s", f"{_B}: world velocity of the prim origin"),
    "angular_velocity_rad_s": PhysicsField("array", "float64", (3,), "rad/s", f"{_B}: world angular velocity"),
    "residual_linear_speed_m_s": PhysicsField("array", "float64", (), "m/s", f"{_B}: |linear velocity| at capture"),
    "residual_angular_speed_rad_s": PhysicsField(
        "array", "float64", (), "rad/s", f"{_B}: |angular velocity| at capture"
    ),
    "support_paths": PhysicsField("strings", "str", (), "", f"{_B}: prim the body was placed on ('' if none)"),
    "fell_off_support": PhysicsField("array", "bool", (), "", f"{_B}: ended off or below its support's top"),
    "left_scene": PhysicsField("array", "bool", (), "", f"{_B}: ended more than 1 m outside the scene's bounds"),
    "in_labels": PhysicsField("array", "bool", (), "", f"{_B}: visible in this frame's images and labels"),
    # steps
    "step_index": PhysicsField("array", "int64", (), "", "logged steps, counted from the episode's start"),
    "step_time_s": PhysicsField("array", "float64", (), "s", "simulation time of each logged step"),
    "step_position_m": PhysicsField("array", "float64", (3,), "m", _S),
    "step_quat_wxyz": PhysicsField("array", "float64", (4,), "", _S),
    "step_linear_velocity_m_s": PhysicsField("array", "float64", (3,), "m/s", _S),
    "step_angular_velocity_rad_s": PhysicsField("array", "float64", (3,), "rad/s", _S),
    # contacts at logged steps
    "collider_paths": PhysicsField("strings", "str", (), "", "prim path of every collider (index g)"),
    "contact_step_index": PhysicsField("array", "int64", (), "", f"{_C}: logged step of the contact"),
    "contact_body": PhysicsField("array", "int32", (2,), "", f"{_C}: body indices, -1 for static geometry"),
    "contact_collider": PhysicsField("array", "int32", (2,), "", f"{_C}: collider indices"),
    "contact_position_m": PhysicsField("array", "float64", (3,), "m", f"{_C}: world position"),
    "contact_normal": PhysicsField("array", "float64", (3,), "", f"{_C}: unit normal from collider 0 to collider 1"),
    "contact_normal_force_n": PhysicsField("array", "float64", (), "N", f"{_C}: normal force"),
    "contact_penetration_m": PhysicsField("array", "float64", (), "m", f"{_C}: penetration depth (>= 0)"),
}


def step_rows(state: dict[str, Any], key: str) -> np.ndarray:
    """A ``step_*`` array as (steps, bodies, …)."""
    values = np.asarray(state[key])
    bodies = len(state["body_paths"])
    return values.reshape(len(state["step_index"]), bodies, *values.shape[1:])


def check_physics_state(state: dict[str, Any]) -> list[str]:
    """Schema problems of ``state`` (an empty list when it conforms)."""
    problems = [f"missing {k}" for k in PHYSICS_FIELDS if k not in state]
    problems += [f"unknown {k}" for k in state if k not in PHYSICS_FIELDS]
    rows = {"body": len(state.get("body_paths", [])), "step": len(state.get("step_index", []))}
    for key, spec in PHYSICS_FIELDS.items():
        if key not in state:
            continue
        value = state[key]
        if spec.kind == "strings":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{key}: expected a list of str")
        elif spec.kind == "scalar":
            if isinstance(value, np.ndarray):
                problems.append(f"{key}: expected a scalar, got an array")
        else:
            arr = np.asarray(value)
            if arr.dtype != np.dtype(spec.dtype) or arr.shape[1:] != spec.tail:
                problems.append(f"{key}: expected {spec.dtype} (n, {spec.tail}), got {arr.dtype} {arr.shape}")
            expected = rows["body"] if spec.doc.startswith(_B) else None
            if spec.doc.startswith(_S):
                expected = rows["body"] * rows["step"]
            if expected is not None and len(arr) != expected:
                problems.append(f"{key}: expected {expected} rows, got {len(arr)}")
    if state.get("settle_status") not in SETTLE_STATUS:
        problems.append(f"settle_status: expected one of {SETTLE_STATUS}, got {state.get('settle_status')!r}")
    return problems
