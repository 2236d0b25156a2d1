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
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...scenarios.distributions import Choice, Combine, LogUniform, Normal, Sequence, Uniform
from ...scenarios.frame_params import MATERIAL_INPUT_ATTRS
from ...scenarios.model import Scenario
from ...scenarios.prim_paths import material_path, shader_path, target_paths
from ...scenarios.randomizers import (
    LightRandomizer,
    LookAtRandomizer,
    MaterialInputsRandomizer,
    MaterialRandomizer,
    PoseRandomizer,
    RandomizerKind,
    Trigger,
    VisibilityRandomizer,
)
from ...scenarios.resolved import ResolvedScenario
from ...scenarios.targets import match_targets
from ...sensors.conventions import quat_to_rotation_matrix
from ...sensors.errors import BadInputError

__all__ = ["compile_randomizers", "prepare_xform_ops", "replicator_mode_problems", "rotated_prims"]

_DETERMINISTIC = "randomization_mode: deterministic"


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
        compiler = _COMPILERS.get(type(rnd))
        if compiler is None:
            refuse((*loc, "kind"), f"{rnd.kind} randomizers", rnd.kind)
            continue
        for key, what, got in compiler.refusals(rnd, s):
            refuse((*loc, *key), what, got)
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


def _names(s: Scenario, rnd: RandomizerKind) -> list[str]:
    return match_targets(s, rnd.target_sections, rnd.targets)


def _paths(s: Scenario, rnd: RandomizerKind) -> list[str]:
    return sorted(p for t in _names(s, rnd) for p in target_paths(s, t))


def rotated_prims(resolved: ResolvedScenario) -> list[str]:
    """Prims whose rotation a compiled graph writes (their ops need :func:`prepare_xform_ops`)."""
    out: set[str] = set()
    for rnd in resolved.scenario.randomizers.values():
        compiler = _COMPILERS.get(type(rnd))
        if compiler is not None and compiler.rotates(rnd):
            out.update(_paths(resolved.scenario, rnd))
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
        compiler = _COMPILERS[type(rnd)]
        paths = compiler.prim_paths(s, rnd)
        trigger: AbstractContextManager[Any] = rep.trigger.on_frame(interval=_interval(resolved, rnd.trigger))
        with trigger:
            prims = rep.get.prim_at_path(paths)
            with prims:
                compiler.compile(rep, resolved, rnd, prims, texture_files)
        done.append(f"{name}: {rnd.kind} on {len(paths)} prims every {_interval(resolved, rnd.trigger)} frames")
    return done


# ---------------------------------------------------------------- one compiler per kind
# What Replicator can express is Isaac knowledge, so it lives here, one entry per kind that
# maps onto Replicator; a kind without an entry (ours: scatter, count; any plugin's) is refused
# by name in replicator mode, never silently dropped.

Refusal = tuple[tuple[str, ...], str, object]
"""(key under the randomizer, what cannot be expressed, the value given)."""


@dataclass(frozen=True)
class _Compiler:
    compile: Callable[[Any, ResolvedScenario, Any, Any, dict[str, str]], None]
    """Build the kind's nodes under the current trigger and prims."""
    refusals: Callable[[Any, Scenario], list[Refusal]] = lambda rnd, s: []
    """What of this randomizer the graph cannot express."""
    rotates: Callable[[Any], bool] = lambda rnd: False
    """Whether the graph writes the targets' rotation (they need :func:`prepare_xform_ops`)."""
    prim_paths: Callable[[Scenario, Any], list[str]] = _paths
    """The prims the nodes act on."""


def _pose_refusals(rnd: PoseRandomizer, s: Scenario) -> list[Refusal]:
    if rnd.rotation is not None and rnd.rotation.about_axis is not None:
        return [(("rotation", "about_axis"), "rotations about an axis", "about_axis")]
    return []


def _compile_pose(rep: Any, resolved: ResolvedScenario, rnd: PoseRandomizer, prims: Any, textures: dict) -> None:
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


def _look_at_refusals(rnd: LookAtRandomizer, s: Scenario) -> list[Refusal]:
    out: list[Refusal] = []
    if not _is_constant(rnd.target_m):
        out.append((("target_m",), "a random look-at target", "a distribution"))
    if tuple(rnd.look_at_up_axis) != (0.0, 0.0, 1.0):
        out.append((("look_at_up_axis",), "an up axis other than +Z", list(rnd.look_at_up_axis)))
    return out


def _compile_look_at(rep: Any, resolved: ResolvedScenario, rnd: LookAtRandomizer, prims: Any, textures: dict) -> None:
    rep.modify.pose_orbit(
        barycentre=_plain(rnd.target_m),
        distance=_dist(rep, rnd.distance_m),
        azimuth=_dist(rep, rnd.azimuth_deg),
        elevation=_dist(rep, rnd.elevation_deg),
        look_at_barycentre=True,
        input_prims=prims,
    )


def _light_refusals(rnd: LightRandomizer, s: Scenario) -> list[Refusal]:
    missing = [t for t in rnd.textures or () if s.textures[t].file is None]
    return [(("textures",), "procedural textures", missing)] if missing else []


def _compile_light(rep: Any, resolved: ResolvedScenario, rnd: LightRandomizer, prims: Any, textures: dict) -> None:
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
        rep.modify.attribute("inputs:texture:file", rep.distribution.choice([textures[t] for t in rnd.textures]))


def _material_refusals(rnd: MaterialRandomizer, s: Scenario) -> list[Refusal]:
    return [(("weights",), "weighted material choices", list(rnd.weights))] if rnd.weights is not None else []


def _compile_material(
    rep: Any, resolved: ResolvedScenario, rnd: MaterialRandomizer, prims: Any, textures: dict
) -> None:
    rep.randomizer.materials([material_path(m) for m in rnd.choices(resolved.scenario)])


def _compile_material_inputs(
    rep: Any, resolved: ResolvedScenario, rnd: MaterialInputsRandomizer, prims: Any, textures: dict
) -> None:
    for field, attr in MATERIAL_INPUT_ATTRS.items():  # the randomizer's fields are named as the keys
        value = getattr(rnd, field)
        if value is not None:
            rep.modify.attribute(attr, _dist(rep, value))


def _compile_visibility(
    rep: Any, resolved: ResolvedScenario, rnd: VisibilityRandomizer, prims: Any, textures: dict
) -> None:
    p = float(rnd.probability)
    rep.modify.visibility(rep.distribution.choice([True, False], weights=[p, 1.0 - p]))


_COMPILERS: dict[type[RandomizerKind], _Compiler] = {
    PoseRandomizer: _Compiler(_compile_pose, _pose_refusals, rotates=lambda rnd: rnd.rotation is not None),
    LookAtRandomizer: _Compiler(_compile_look_at, _look_at_refusals, rotates=lambda rnd: True),
    LightRandomizer: _Compiler(_compile_light, _light_refusals),
    MaterialRandomizer: _Compiler(_compile_material, _material_refusals),
    # the inputs live on each material's shader prim, not on the material
    MaterialInputsRandomizer: _Compiler(
        _compile_material_inputs, prim_paths=lambda s, rnd: [shader_path(m) for m in _names(s, rnd)]
    ),
    VisibilityRandomizer: _Compiler(_compile_visibility),
}
