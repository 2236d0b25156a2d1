"""The ``replicator`` randomization mode: the scenario's randomizers as a native Replicator graph.

In ``deterministic`` mode (the default) our sampler draws every frame's values and the backend
sets them through USD, exactly as on the embedded backend. In ``replicator`` mode the same
randomizers are compiled once into OmniGraph nodes — ``rep.distribution.*`` samplers under
``rep.trigger.on_frame`` — seeded with ``rep.set_global_seed``; Replicator then draws on every
capture. The draws are Replicator's own (not bit-identical to ours, not recorded as lineage).

What compiles (omni.replicator.core 1.12.27, cited in ``extension/api_citations.toml``):

- distributions: uniform, normal, log_uniform, choice (weighted), sequence, combine → the
  ``rep.distribution`` function of the same name; constants pass through;
- triggers: ``on_frame(interval=k)``; per-episode → ``on_frame(interval=episode frames)``;
- ``pose`` → ``rep.modify.pose`` (position, Euler rotation, scale); ``uniform_so3`` →
  ``rep.randomizer.rotation()``;
- ``look_at`` with a fixed target and Z up → ``rep.modify.pose_orbit``;
- ``light`` → ``rep.modify.attribute`` on ``inputs:intensity``, ``inputs:exposure``,
  ``inputs:color``, ``inputs:colorTemperature`` (enabling it) and ``inputs:texture:file``;
- ``material`` (unweighted) → ``rep.randomizer.materials``; ``material_inputs`` →
  ``rep.modify.attribute`` on the materials' UsdPreviewSurface inputs;
- ``visibility`` → ``rep.modify.visibility`` with a weighted choice of True/False.

Refused, naming the key (exit 2): ``scatter`` and ``count`` randomizers, distractors, rotation
about an axis, weighted material pools, look-at with a random target or another up axis,
physics (Replicator would randomize after our settling), and textures without files.
Replicator's rotations write ``xformOp:rotateXYZ``; :func:`prepare_xform_ops` re-expresses the
targeted prims' orientation that way first.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from ...scenarios.distributions import Choice, Combine, LogUniform, Normal, Sequence, Uniform
from ...scenarios.prim_paths import material_path, target_paths
from ...scenarios.randomizers import (
    CountRandomizer,
    LightRandomizer,
    LookAtRandomizer,
    MaterialInputsRandomizer,
    MaterialRandomizer,
    PoseRandomizer,
    ScatterRandomizer,
    Trigger,
    VisibilityRandomizer,
)
from ...scenarios.references import expand_targets
from ...scenarios.resolved import ResolvedScenario
from ...sensors.conventions import quat_to_rotation_matrix
from ...sensors.errors import BadInputError
from ..stage_materials import SHADER_NAME

__all__ = ["compile_randomizers", "prepare_xform_ops", "replicator_mode_problems", "rotated_prims"]

_DETERMINISTIC = "randomization_mode: deterministic"
_MATERIAL_INPUTS = {
    "diffuse_color": "inputs:diffuseColor",
    "roughness": "inputs:roughness",
    "metallic": "inputs:metallic",
    "emissive_color": "inputs:emissiveColor",
}


def _is_constant(dist: Any) -> bool:
    return not isinstance(dist, (Uniform, Normal, LogUniform, Choice, Sequence, Combine))


def replicator_mode_problems(resolved: ResolvedScenario) -> BadInputError | None:
    """Everything in the scenario the ``replicator`` mode cannot express (None if all compiles)."""
    s = resolved.scenario
    doc = resolved.document
    errors: list[BadInputError] = []

    def refuse(loc: tuple, what: str, got: object) -> None:
        errors.append(
            doc.error(loc, f"randomization_mode replicator cannot express {what}", expected=_DETERMINISTIC, got=got)
        )

    if s.physics.enabled:
        refuse(("physics", "enabled"), "physics (Replicator would randomize after settling)", True)
    for name in sorted(s.distractors):
        refuse(("distractors", name), "distractors", name)
    for name in sorted(s.randomizers):
        rnd = s.randomizers[name]
        loc = ("randomizers", name)
        if isinstance(rnd, (ScatterRandomizer, CountRandomizer)):
            refuse((*loc, "kind"), f"{rnd.kind} randomizers", rnd.kind)
        elif isinstance(rnd, PoseRandomizer) and rnd.rotation is not None and rnd.rotation.about_axis is not None:
            refuse((*loc, "rotation", "about_axis"), "rotations about an axis", "about_axis")
        elif isinstance(rnd, MaterialRandomizer) and rnd.weights is not None:
            refuse((*loc, "weights"), "weighted material choices", list(rnd.weights))
        elif isinstance(rnd, LookAtRandomizer):
            if not _is_constant(rnd.target_m):
                refuse((*loc, "target_m"), "a random look-at target", "a distribution")
            if tuple(rnd.look_at_up_axis) != (0.0, 0.0, 1.0):
                refuse((*loc, "look_at_up_axis"), "an up axis other than +Z", list(rnd.look_at_up_axis))
        elif isinstance(rnd, LightRandomizer) and rnd.textures:
            missing = [t for t in rnd.textures if s.textures[t].file is None]
            if missing:
                refuse((*loc, "textures"), "procedural textures", missing)
    if errors:
        return BadInputError([issue for e in errors for issue in e.issues])
    return None


def _dist(rep: Any, dist: Any) -> Any:
    """A Replicator sampler for one of our distributions (constants pass through)."""
    if isinstance(dist, Uniform):
        return rep.distribution.uniform(_plain(dist.uniform.lower), _plain(dist.uniform.upper))
    if isinstance(dist, Normal):
        return rep.distribution.normal(_plain(dist.normal.mean), _plain(dist.normal.std))
    if isinstance(dist, LogUniform):
        return rep.distribution.log_uniform(_plain(dist.log_uniform.lower), _plain(dist.log_uniform.upper))
    if isinstance(dist, Choice):
        weights = None if dist.choice.weights is None else [float(w) for w in dist.choice.weights]
        return rep.distribution.choice([_plain(i) for i in dist.choice.items], weights=weights)
    if isinstance(dist, Sequence):
        return rep.distribution.sequence([_plain(i) for i in dist.sequence.items])
    if isinstance(dist, Combine):
        return rep.distribution.combine([_dist(rep, part) for part in dist.combine])
    return _plain(dist)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(float(v) for v in value)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _interval(resolved: ResolvedScenario, trigger: Trigger) -> int:
    if trigger.kind == "on_frame":
        return int(trigger.interval)
    physics = resolved.scenario.physics
    return int(physics.episode.frames) if physics.enabled else 1


def _paths(resolved: ResolvedScenario, kind: str, patterns: tuple[str, ...]) -> list[str]:
    s = resolved.scenario
    return sorted(p for t in expand_targets(s, kind, patterns) for p in target_paths(s, t))


def rotated_prims(resolved: ResolvedScenario) -> list[str]:
    """Prims whose rotation a compiled graph writes (their ops need :func:`prepare_xform_ops`)."""
    out: set[str] = set()
    for rnd in resolved.scenario.randomizers.values():
        if (isinstance(rnd, PoseRandomizer) and rnd.rotation is not None) or isinstance(rnd, LookAtRandomizer):
            out.update(_paths(resolved, rnd.kind, rnd.targets))
    return sorted(out)


def prepare_xform_ops(stage: Any, paths: list[str]) -> None:
    """Re-express the orientation of ``paths`` as ``xformOp:rotateXYZ`` (what Replicator writes),
    keeping translate and scale: op order translate, rotateXYZ, scale."""
    from pxr import Gf, UsdGeom

    for path in paths:
        prim = stage.GetPrimAtPath(path)
        xf = UsdGeom.Xformable(prim)
        orient = prim.GetAttribute("xformOp:orient").Get() if prim.HasAttribute("xformOp:orient") else None
        if orient is None:
            continue
        q = np.array([orient.GetReal(), *orient.GetImaginary()], dtype=np.float64)
        euler = _euler_xyz_deg(q)
        translate = prim.GetAttribute("xformOp:translate").Get()
        scale = prim.GetAttribute("xformOp:scale").Get() if prim.HasAttribute("xformOp:scale") else None
        xf.ClearXformOpOrder()
        xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(translate)
        xf.AddRotateXYZOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*euler))
        if scale is not None:
            xf.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(scale)


def _euler_xyz_deg(q: np.ndarray) -> tuple[float, float, float]:
    """USD ``rotateXYZ`` angles (X applied first, then Y, then Z) of a wxyz quaternion."""
    r = quat_to_rotation_matrix(q)  # row-vector; its transpose is Rz·Ry·Rx in column form
    y = math.asin(max(-1.0, min(1.0, -r[0, 2])))
    if abs(math.cos(y)) > 1e-9:
        x = math.atan2(r[1, 2], r[2, 2])
        z = math.atan2(r[0, 1], r[0, 0])
    else:  # gimbal lock: z = 0 and x takes the whole remaining turn
        x = math.atan2(-r[2, 1], r[1, 1])
        z = 0.0
    return math.degrees(x), math.degrees(y), math.degrees(z)


def compile_randomizers(rep: Any, resolved: ResolvedScenario, texture_files: dict[str, str]) -> list[str]:
    """Build the graph; returns one line per randomizer compiled. ``texture_files`` maps a
    texture name to the asset path the stage uses for it."""
    problems = replicator_mode_problems(resolved)
    if problems is not None:
        raise problems
    s = resolved.scenario
    done: list[str] = []
    for name in sorted(s.randomizers):
        rnd = s.randomizers[name]
        paths = _paths(resolved, rnd.kind, rnd.targets)
        if isinstance(rnd, MaterialInputsRandomizer):
            paths = [f"{material_path(m)}/{SHADER_NAME}" for m in expand_targets(s, rnd.kind, rnd.targets)]
        trigger: AbstractContextManager[Any] = rep.trigger.on_frame(interval=_interval(resolved, rnd.trigger))
        with trigger:
            prims = rep.get.prim_at_path(paths)
            with prims:
                _compile_one(rep, resolved, rnd, prims, texture_files)
        done.append(f"{name}: {rnd.kind} on {len(paths)} prims every {_interval(resolved, rnd.trigger)} frames")
    return done


def _compile_one(rep: Any, resolved: ResolvedScenario, rnd: Any, prims: Any, texture_files: dict[str, str]) -> None:
    if isinstance(rnd, PoseRandomizer):
        kwargs: dict[str, Any] = {}
        if rnd.position_m is not None:
            kwargs["position"] = _dist(rep, rnd.position_m)
        if rnd.scale is not None:
            kwargs["scale"] = _dist(rep, rnd.scale)
        if rnd.rotation is not None and rnd.rotation.euler_deg is not None:
            kwargs["rotation"] = _dist(rep, rnd.rotation.euler_deg)
        if kwargs:
            rep.modify.pose(**kwargs)
        if rnd.rotation is not None and rnd.rotation.uniform_so3:
            rep.randomizer.rotation()
    elif isinstance(rnd, LookAtRandomizer):
        rep.modify.pose_orbit(
            barycentre=_plain(rnd.target_m),
            distance=_dist(rep, rnd.distance_m),
            azimuth=_dist(rep, rnd.azimuth_deg),
            elevation=_dist(rep, rnd.elevation_deg),
            look_at_barycentre=True,
            input_prims=prims,
        )
    elif isinstance(rnd, LightRandomizer):
        for field, attr in (
            ("intensity", "inputs:intensity"),
            ("exposure", "inputs:exposure"),
            ("color", "inputs:color"),
        ):
            value = getattr(rnd, field)
            if value is not None:
                rep.modify.attribute(attr, _dist(rep, value))
        if rnd.color_temperature_k is not None:
            rep.modify.attribute("inputs:enableColorTemperature", True)
            rep.modify.attribute("inputs:colorTemperature", _dist(rep, rnd.color_temperature_k))
        if rnd.textures:
            rep.modify.attribute(
                "inputs:texture:file", rep.distribution.choice([texture_files[t] for t in rnd.textures])
            )
    elif isinstance(rnd, MaterialRandomizer):
        names = rnd.materials or resolved.scenario.material_pools[rnd.pool or ""]
        rep.randomizer.materials([material_path(m) for m in names])
    elif isinstance(rnd, MaterialInputsRandomizer):
        for field, attr in _MATERIAL_INPUTS.items():
            value = getattr(rnd, field)
            if value is not None:
                rep.modify.attribute(attr, _dist(rep, value))
    elif isinstance(rnd, VisibilityRandomizer):
        p = float(rnd.probability)
        rep.modify.visibility(rep.distribution.choice([True, False], weights=[p, 1.0 - p]))
