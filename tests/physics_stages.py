"""Small UsdPhysics stages for physics tests, authored the way any USD tool would."""

from __future__ import annotations

from typing import Any

import numpy as np


def new_stage() -> Any:
    from pxr import Usd, UsdGeom, UsdPhysics

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdGeom.Xform.Define(stage, "/World")
    UsdPhysics.Scene.Define(stage, "/World/physicsScene")
    return stage


def material(
    stage: Any, name: str, friction: float = 0.5, restitution: float = 0.0, rolling: float | None = None
) -> str:
    from pxr import Sdf, UsdPhysics, UsdShade

    path = f"/World/Looks/{name}"
    mat = UsdShade.Material.Define(stage, path)
    api = UsdPhysics.MaterialAPI.Apply(mat.GetPrim())
    api.CreateStaticFrictionAttr(friction)
    api.CreateDynamicFrictionAttr(friction)
    api.CreateRestitutionAttr(restitution)
    if rolling is not None:
        mat.GetPrim().CreateAttribute("scenesmith:physics:rollingFriction", Sdf.ValueTypeNames.Float).Set(rolling)
    return path


def shape(
    stage: Any,
    path: str,
    kind: str = "Cube",
    position: tuple[float, float, float] = (0.0, 0.0, 0.0),
    orient: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0),
    body: str | None = None,
    mass_kg: float | None = None,
    density: float | None = None,
    collider: bool = True,
    physics_material: str | None = None,
    velocity: tuple[float, float, float] | None = None,
    **attrs: Any,
) -> Any:
    """A gprim with translate/orient/scale ops and the requested physics APIs."""
    from pxr import Gf, UsdGeom, UsdPhysics, UsdShade

    prim = stage.DefinePrim(path, kind)
    for name, value in attrs.items():
        prim.GetAttribute(name).Set(value)
    xf = UsdGeom.Xformable(prim)
    xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*position))
    xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(orient[0], Gf.Vec3d(*orient[1:])))
    xf.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*scale))
    if collider:
        UsdPhysics.CollisionAPI.Apply(prim)
    if body is not None:
        rb = UsdPhysics.RigidBodyAPI.Apply(prim)
        rb.CreateKinematicEnabledAttr(body == "kinematic")
        if velocity is not None:
            rb.CreateVelocityAttr(Gf.Vec3f(*velocity))
    if mass_kg is not None or density is not None:
        api = UsdPhysics.MassAPI.Apply(prim)
        if mass_kg is not None:
            api.CreateMassAttr(mass_kg)
        if density is not None:
            api.CreateDensityAttr(density)
    if physics_material is not None:
        UsdShade.MaterialBindingAPI.Apply(prim).Bind(
            UsdShade.Material(stage.GetPrimAtPath(physics_material)), UsdShade.Tokens.weakerThanDescendants, "physics"
        )
    return prim


def axis_angle_quat(axis: tuple[float, float, float], angle_deg: float) -> tuple[float, float, float, float]:
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    half = np.radians(angle_deg) / 2
    return (float(np.cos(half)), *(float(v) for v in a * np.sin(half)))
