"""Per-frame apply: set one frame's sampled values (``FrameParams``) on an authored stage.

The stage is authored once (``usd.stage.author_stage``); each frame only sets the attributes
its parameters name: pose ops, visibility, material bindings, light and shader inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...scenarios.frame_params import LIGHT_INPUT_ATTRS, MATERIAL_INPUT_ATTRS, POSE_KEYS, FrameParams, PrimKey
from ...scenarios.prim_paths import material_path, shader_path
from ...scenarios.resolved import ResolvedScenario
from .materials import PROCEDURAL_ATTR, procedural_json, texture_asset_path
from .motion_attrs import set_velocity

__all__ = ["apply"]


def apply(
    stage: Any,
    params: FrameParams,
    texture_dir: Path | None = None,
    resolved: ResolvedScenario | None = None,
    physics_owned: frozenset[str] = frozenset(),
) -> None:
    """Set a frame's sampled values on ``stage`` (all prims must have been authored).

    Prims in ``physics_owned`` keep their pose, scale and visibility: inside an episode physics
    moves them, not the sampler."""
    from pxr import Gf, Sdf

    with Sdf.ChangeBlock():
        for path, sampled in params.prims.items():
            prim = stage.GetPrimAtPath(path)
            if not prim.IsValid():
                raise KeyError(f"frame parameters name {path}, which the stage does not have")
            values = {k: v for k, v in sampled.items() if k not in POSE_KEYS} if path in physics_owned else sampled
            if PrimKey.TRANSLATE in values:
                prim.GetAttribute("xformOp:translate").Set(Gf.Vec3d(*map(float, values[PrimKey.TRANSLATE])))
            if PrimKey.ORIENT in values:
                w, x, y, z = map(float, values[PrimKey.ORIENT])
                prim.GetAttribute("xformOp:orient").Set(Gf.Quatd(w, Gf.Vec3d(x, y, z)))
            if PrimKey.SCALE in values:
                prim.GetAttribute("xformOp:scale").Set(Gf.Vec3d(*map(float, values[PrimKey.SCALE])))
            if PrimKey.VISIBLE in values:
                prim.GetAttribute("visibility").Set("inherited" if values[PrimKey.VISIBLE] else "invisible")
            if PrimKey.MATERIAL in values:
                prim.GetRelationship("material:binding").SetTargets([Sdf.Path(material_path(values[PrimKey.MATERIAL]))])
            for key, (attr, cast) in LIGHT_INPUT_ATTRS.items():
                if key in values:
                    prim.GetAttribute(attr).Set(cast(values[key]))
            if PrimKey.COLOR in values:
                prim.GetAttribute("inputs:color").Set(Gf.Vec3f(*map(float, values[PrimKey.COLOR])))
            if PrimKey.TEXTURE in values and resolved is not None:
                asset = texture_asset_path(
                    resolved.scenario, values[PrimKey.TEXTURE], resolved.document.files, texture_dir
                )
                prim.GetAttribute("inputs:texture:file").Set(Sdf.AssetPath(asset))
                prim.GetAttribute("scenesmith:texture").Set(values[PrimKey.TEXTURE])
                procedural = procedural_json(resolved.scenario.textures[values[PrimKey.TEXTURE]])
                if procedural or prim.HasAttribute(PROCEDURAL_ATTR):
                    prim.CreateAttribute(PROCEDURAL_ATTR, Sdf.ValueTypeNames.String).Set(procedural)
            if PrimKey.LINEAR_VELOCITY in values or PrimKey.ANGULAR_VELOCITY in values:
                set_velocity(prim, values.get(PrimKey.LINEAR_VELOCITY), values.get(PrimKey.ANGULAR_VELOCITY))
            if PrimKey.SKY in values and resolved is not None:
                _apply_sky(prim, values[PrimKey.SKY], resolved, texture_dir)
        for name, values in params.materials.items():
            shader = stage.GetPrimAtPath(shader_path(name))
            for key, attr in MATERIAL_INPUT_ATTRS.items():
                if key in values:
                    value = values[key]
                    shader.GetAttribute(attr).Set(
                        Gf.Vec3f(*map(float, value)) if isinstance(value, (list, tuple, np.ndarray)) else float(value)
                    )


def _apply_sky(prim: Any, drawn: dict[str, float], resolved: ResolvedScenario, texture_dir: Path | None) -> None:
    """The dome's procedural sky with this frame's sun: its description on the dome (what the
    embedded renderer reads) and, given a texture folder, its image as an .hdr file (what RTX
    reads), named by its parameters so each distinct sky is written once."""
    import hashlib

    from pxr import Sdf

    name = prim.GetAttribute("scenesmith:texture").Get()
    base = resolved.scenario.textures[name]
    assert base.sky is not None
    spec = base.model_copy(update={"sky": base.sky.model_copy(update=drawn)})
    description = procedural_json(spec)
    prim.CreateAttribute(PROCEDURAL_ATTR, Sdf.ValueTypeNames.String).Set(description)
    if texture_dir is not None:
        from .textures import procedural_image, write_hdr

        out = texture_dir / f"{name}_{hashlib.sha256(description.encode()).hexdigest()[:12]}.hdr"
        if not out.exists():
            write_hdr(procedural_image(spec), out)
        prim.GetAttribute("inputs:texture:file").Set(Sdf.AssetPath(str(out)))
