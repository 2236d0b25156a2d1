"""Author a scenario as a USD stage (usd-core, or Kit's pxr inside Isaac Sim).

Prim paths follow DESIGN §9: assets ``/World/<name>[_<k:03d>]``, distractor slots under
``/World/Distractors``, lights under ``/World/Lights``, materials under ``/World/Looks``,
cameras and LiDARs at ``/World/<name>``, render products ``/Render/<camera>``, physics under
``/World/Physics``. Every xformable we author carries ``translate``, ``orient`` (quatd) and
``scale`` ops in that order, so ``p_world = p_local @ S @ R @ T``.

``usd.apply.apply(stage, frame_params)`` changes a frame's values the way Replicator does: xformOps,
light inputs, material bindings and inputs, visibility; counts by pre-authoring the maximum
and hiding the extras.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ... import __version__
from ...scenarios.frame_state import authored_orientation
from ...scenarios.model import Asset, BodyPhysics, CameraSpec, LidarSpec, LightSpec, Scenario, Shape
from ...scenarios.prim_paths import (
    BASE_PATH,
    DISTRACTORS_ROOT,
    LIGHTS_ROOT,
    LOOKS_ROOT,
    PHYSICS_ROOT,
    WORLD,
    asset_paths,
    camera_path,
    distractor_slot_paths,
    lidar_path,
    light_path,
    material_path,
    render_cameras_of,
    render_product_path,
)
from ...scenarios.resolved import ResolvedScenario, ShapeGeometry
from ...sensors.errors import BadInputError, Issue
from .lens_attrs import author_lens
from .lidar_attributes import omni_lidar_attributes, sdf_type
from .light_attrs import VISIBLE_IN_PRIMARY_RAY
from .materials import PROCEDURAL_ATTR, author_material, author_physics_material, procedural_json, texture_asset_path
from .motion_attrs import author_exposure

__all__ = [
    "ASSET_PRIM_ATTR",
    "STAGE_SUFFIXES",
    "author_stage",
    "check_stage_output",
    "export_stage",
]

STAGE_SUFFIXES = (".usda", ".usd", ".usdc")
ASSET_PRIM_ATTR = "scenesmith:asset"
"""Which scenario asset (or ``distractor:<group>``) a prim was authored for."""
_COLLIDER_APPROX = {
    "auto": "convexHull",
    "convex_hull": "convexHull",
    "box": "boundingCube",
    "sphere": "boundingSphere",
    "capsule": "convexHull",
    "cylinder": "convexHull",
}


def check_stage_output(path: Path) -> Path:
    """Reject a stage output path that cannot be written, before any work is done."""
    if path.suffix.lower() not in STAGE_SUFFIXES:
        raise BadInputError(
            [
                Issue.option(
                    "--output",
                    "unsupported stage file type",
                    " or ".join(STAGE_SUFFIXES),
                    path.suffix or str(path),
                )
            ]
        )
    if not path.parent.is_dir():
        raise BadInputError(
            [
                Issue.option(
                    "--output",
                    "the folder of the output file does not exist",
                    "an existing folder",
                    str(path.parent),
                )
            ]
        )
    return path


# --------------------------------------------------------------------------- helpers


def _xform_ops(prim: Any, translate: Any, orient: Any, scale: Any = (1.0, 1.0, 1.0)) -> None:
    from pxr import Gf, UsdGeom

    xf = UsdGeom.Xformable(prim)
    xf.ClearXformOpOrder()
    xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*map(float, translate)))
    w, x, y, z = map(float, orient)
    xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(w, Gf.Vec3d(x, y, z)))
    xf.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*map(float, scale)))


def _define_shape(stage: Any, path: str, shape: Shape, geometry: ShapeGeometry, doc_files: dict[str, Path]) -> Any:
    """Define the gprim (or referencing Xform) of ``shape`` at ``path``."""
    from pxr import Gf, Sdf, UsdGeom, Vt

    kind, spec = shape.kind, shape.spec
    if kind == "cube":
        gprim = UsdGeom.Cube.Define(stage, path)
        gprim.CreateSizeAttr(spec.size_m)  # type: ignore[attr-defined]
    elif kind == "sphere":
        gprim = UsdGeom.Sphere.Define(stage, path)
        gprim.CreateRadiusAttr(spec.radius_m)  # type: ignore[attr-defined]
    elif kind in ("cylinder", "cone", "capsule"):
        cls = {"cylinder": UsdGeom.Cylinder, "cone": UsdGeom.Cone, "capsule": UsdGeom.Capsule}[kind]
        gprim = cls.Define(stage, path)
        gprim.CreateRadiusAttr(spec.radius_m)  # type: ignore[attr-defined]
        gprim.CreateHeightAttr(spec.height_m)  # type: ignore[attr-defined]
        gprim.CreateAxisAttr(spec.axis)  # type: ignore[attr-defined]
    elif kind == "plane":
        gprim = UsdGeom.Plane.Define(stage, path)
        gprim.CreateWidthAttr(spec.width_m)  # type: ignore[attr-defined]
        gprim.CreateLengthAttr(spec.length_m)  # type: ignore[attr-defined]
        gprim.CreateAxisAttr(spec.axis)  # type: ignore[attr-defined]
        gprim.CreateDoubleSidedAttr(True)
    elif kind == "mesh":
        assert geometry.mesh is not None
        mesh = geometry.mesh
        gprim = UsdGeom.Mesh.Define(stage, path)
        gprim.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(mesh.vertices.astype(np.float32)))
        gprim.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(mesh.faces), 3, dtype=np.int32)))
        gprim.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(mesh.faces.reshape(-1).astype(np.int32)))
        gprim.CreateSubdivisionSchemeAttr("none")
        gprim.CreateDoubleSidedAttr(True)
        if mesh.uvs is not None:
            st = UsdGeom.PrimvarsAPI(gprim).CreatePrimvar(
                "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
            )
            st.Set(Vt.Vec2fArray.FromNumpy(mesh.uvs.astype(np.float32)))
    else:  # usd reference
        assert shape.usd is not None
        gprim = UsdGeom.Xform.Define(stage, path)
        model = UsdGeom.Xform.Define(stage, f"{path}/model")
        refs = model.GetPrim().GetReferences()
        target = str(doc_files[shape.usd.path])
        if shape.usd.prim:
            refs.AddReference(target, Sdf.Path(shape.usd.prim))
        else:
            refs.AddReference(target)
        if geometry.unit_scale != 1.0:
            UsdGeom.Xformable(model).AddScaleOp().Set(Gf.Vec3f(*([geometry.unit_scale] * 3)))
        return gprim
    boundable = UsdGeom.Boundable(gprim)
    extent = UsdGeom.Boundable.ComputeExtentFromPlugins(boundable, 0)
    if extent is not None:
        boundable.CreateExtentAttr(extent)
    return gprim


def _labels(prim: Any, semantics: dict[str, tuple[str, ...]]) -> None:
    """UsdSemantics LabelsAPI, one instance per taxonomy, as Isaac Sim 5.1's ``add_labels`` writes."""
    from pxr import UsdSemantics

    for taxonomy in sorted(semantics):
        api = UsdSemantics.LabelsAPI.Apply(prim, taxonomy)
        api.CreateLabelsAttr(list(semantics[taxonomy]))


def _bind(prim: Any, material: str, purpose: str | None = None) -> None:
    from pxr import UsdShade

    mat = UsdShade.Material(prim.GetStage().GetPrimAtPath(material))
    api = UsdShade.MaterialBindingAPI.Apply(prim)
    if purpose is None:
        api.Bind(mat)
    else:
        api.Bind(mat, UsdShade.Tokens.weakerThanDescendants, purpose)


def _physics(stage: Any, prim: Any, owner: str, physics: BodyPhysics, is_mesh: bool) -> None:
    from pxr import Gf, Sdf, UsdPhysics

    if physics.body == "none":
        return
    if physics.collider != "none":
        UsdPhysics.CollisionAPI.Apply(prim)
        if is_mesh:
            UsdPhysics.MeshCollisionAPI.Apply(prim).CreateApproximationAttr(_COLLIDER_APPROX[physics.collider])
        if physics.collider != "auto":
            prim.CreateAttribute("scenesmith:physics:collider", Sdf.ValueTypeNames.Token).Set(physics.collider)
    if physics.body in ("dynamic", "kinematic"):
        body = UsdPhysics.RigidBodyAPI.Apply(prim)
        body.CreateKinematicEnabledAttr(physics.body == "kinematic")
        body.CreateVelocityAttr(Gf.Vec3f(*physics.linear_velocity_m_s))
        body.CreateAngularVelocityAttr(Gf.Vec3f(*physics.angular_velocity_deg_s))
        if physics.mass_kg is not None or physics.density_kg_m3 is not None:
            mass = UsdPhysics.MassAPI.Apply(prim)
            if physics.mass_kg is not None:
                mass.CreateMassAttr(physics.mass_kg)
            if physics.density_kg_m3 is not None:
                mass.CreateDensityAttr(physics.density_kg_m3)
        if physics.path is not None:
            prim.CreateAttribute("scenesmith:physics:path", Sdf.ValueTypeNames.String).Set(
                json.dumps([k.model_dump(mode="json") for k in physics.path])
            )
    _bind(prim, author_physics_material(stage, owner, physics).GetPath().pathString, "physics")


# --------------------------------------------------------------------------- sections


def _author_assets(stage: Any, resolved: ResolvedScenario, defaults: dict[str, str]) -> None:
    from pxr import Sdf

    s = resolved.scenario
    physics_on = s.physics.enabled
    for name in sorted(s.assets):
        asset: Asset = s.assets[name]
        geometry = resolved.assets[name]
        orient = authored_orientation(asset)
        for path in asset_paths(name, asset.count):
            prim = _define_shape(stage, path, asset, geometry, resolved.document.files).GetPrim()
            prim.CreateAttribute(ASSET_PRIM_ATTR, Sdf.ValueTypeNames.String).Set(name)
            _xform_ops(prim, asset.position_m, orient, asset.scale)
            if not asset.visible:
                prim.GetAttribute("visibility").Set("invisible")
            if asset.semantics:
                _labels(prim, asset.semantics)
            material = asset.material or defaults.get(name)
            if material:
                _bind(prim, material_path(material))
            if physics_on:
                _physics(stage, prim, prim.GetName(), asset.physics, asset.kind == "mesh")


def _author_distractors(stage: Any, resolved: ResolvedScenario) -> None:
    from pxr import Sdf, UsdGeom

    s = resolved.scenario
    if not s.distractors:
        return
    UsdGeom.Xform.Define(stage, DISTRACTORS_ROOT)
    for name in sorted(s.distractors):
        spec = s.distractors[name]
        semantics = spec.semantics or ({"class": ("distractor",)} if spec.labelled else None)
        for entry, slots in enumerate(distractor_slot_paths(name, len(spec.pool), spec.count.max)):
            shape = spec.pool[entry]
            for path in slots:
                prim = _define_shape(
                    stage, path, shape, resolved.distractor_pools[name][entry], resolved.document.files
                ).GetPrim()
                prim.CreateAttribute(ASSET_PRIM_ATTR, Sdf.ValueTypeNames.String).Set(f"distractor:{name}")
                _xform_ops(prim, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0))
                prim.GetAttribute("visibility").Set("invisible")
                if semantics:
                    _labels(prim, semantics)
                if spec.materials:
                    _bind(prim, material_path(spec.materials[0]))
                if s.physics.enabled:
                    _physics(stage, prim, prim.GetName(), spec.physics, shape.kind == "mesh")


def _author_light(stage: Any, resolved: ResolvedScenario, name: str, spec: LightSpec, texture_dir: Path | None) -> None:
    from pxr import Gf, Sdf, UsdLux

    path = light_path(name)
    cls = {
        "distant": UsdLux.DistantLight,
        "sphere": UsdLux.SphereLight,
        "disk": UsdLux.DiskLight,
        "rect": UsdLux.RectLight,
        "dome": UsdLux.DomeLight,
    }[spec.type]
    light = cls.Define(stage, path)
    light.CreateIntensityAttr(spec.intensity)
    light.CreateExposureAttr(spec.exposure)
    light.CreateColorAttr(Gf.Vec3f(*spec.color))
    light.CreateNormalizeAttr(spec.normalize)
    light.CreateEnableColorTemperatureAttr(spec.color_temperature_k is not None)
    light.CreateColorTemperatureAttr(spec.color_temperature_k or 6500.0)
    if spec.type == "distant":
        light.CreateAngleAttr(spec.angle_deg)
    elif spec.type in ("sphere", "disk"):
        light.CreateRadiusAttr(spec.radius_m)
        if spec.type == "sphere":
            light.CreateTreatAsPointAttr(False)
    elif spec.type == "rect":
        light.CreateWidthAttr(spec.width_m)
        light.CreateHeightAttr(spec.height_m)
    elif spec.texture is not None:
        asset = texture_asset_path(resolved.scenario, spec.texture, resolved.document.files, texture_dir)
        light.CreateTextureFileAttr(Sdf.AssetPath(asset))
        light.CreateTextureFormatAttr("latlong")
        light.GetPrim().CreateAttribute("scenesmith:texture", Sdf.ValueTypeNames.String).Set(spec.texture)
        procedural = procedural_json(resolved.scenario.textures[spec.texture])
        if procedural:  # on the dome itself: its renderer needs neither the PNG nor a material using it
            light.GetPrim().CreateAttribute(PROCEDURAL_ATTR, Sdf.ValueTypeNames.String).Set(procedural)
    UsdLux.ShadowAPI.Apply(light.GetPrim()).CreateShadowEnableAttr(spec.shadows)
    if spec.type != "dome":  # always authored, so both backends agree whatever RTX's own default is
        seen = light.GetPrim().CreateAttribute(VISIBLE_IN_PRIMARY_RAY, Sdf.ValueTypeNames.Bool)
        seen.Set(spec.visible_in_primary_ray)
    _xform_ops(light.GetPrim(), spec.position_m, authored_orientation(spec))


def _author_camera(stage: Any, name: str, spec: CameraSpec) -> None:
    """The camera's prim and render product; a stereo rig is an Xform at the camera's path
    carrying the pose, with its two cameras as children (Isaac Sim's ``stereoRole`` on each)."""
    from pxr import Sdf, UsdGeom

    if spec.stereo is not None:
        _xform_ops(
            UsdGeom.Xform.Define(stage, camera_path(name)).GetPrim(), spec.position_m, authored_orientation(spec)
        )
    for rc in render_cameras_of(name, spec):
        cam = _camera_prim(stage, rc.prim_path, spec)
        if rc.role is None:
            _xform_ops(cam.GetPrim(), spec.position_m, authored_orientation(spec))
        else:
            _xform_ops(cam.GetPrim(), (rc.offset_m, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0))
            cam.GetPrim().CreateAttribute("stereoRole", Sdf.ValueTypeNames.Token).Set(rc.role)
        _render_product(stage, rc.name, cam.GetPath(), spec.resolution)


def _camera_prim(stage: Any, path: str, spec: CameraSpec) -> Any:
    from pxr import Gf, UsdGeom

    cam = UsdGeom.Camera.Define(stage, path)
    cam.CreateProjectionAttr(UsdGeom.Tokens.perspective)
    cam.CreateFocalLengthAttr(spec.focal_length_mm)
    cam.CreateHorizontalApertureAttr(spec.horizontal_aperture_mm)
    cam.CreateVerticalApertureAttr(spec.vertical_aperture_mm)
    cam.CreateHorizontalApertureOffsetAttr(spec.aperture_offset_mm[0])
    cam.CreateVerticalApertureOffsetAttr(spec.aperture_offset_mm[1])
    cam.CreateClippingRangeAttr(Gf.Vec2f(*spec.clipping_range_m))
    cam.CreateFocusDistanceAttr(spec.focus_distance_m)
    cam.CreateFStopAttr(spec.f_stop)
    lens = spec.lens_model()
    if lens is not None:
        author_lens(cam.GetPrim(), lens)
    if spec.shutter is not None and spec.shutter.exposure_s > 0:
        author_exposure(cam, spec.shutter.exposure_s)
    return cam


def _render_product(stage: Any, name: str, camera: Any, resolution: tuple[int, int]) -> None:
    from pxr import Gf, UsdRender

    product = UsdRender.Product.Define(stage, render_product_path(name))
    product.CreateCameraRel().SetTargets([camera])
    product.CreateResolutionAttr(Gf.Vec2i(*resolution))


def _author_lidar(stage: Any, resolved: ResolvedScenario, name: str, spec: LidarSpec) -> None:
    from pxr import Sdf

    prim = stage.DefinePrim(lidar_path(name), "OmniLidar")
    if spec.profile is not None:
        file = resolved.document.files.get(spec.profile)
        if file is None:
            from ... import config_path

            file = config_path("lidar_profiles", f"{spec.profile}.json")
        prim.CreateAttribute("scenesmith:lidar:profile", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(str(file)))
    else:
        assert spec.simple is not None
        prim.CreateAttribute("scenesmith:lidar:simple", Sdf.ValueTypeNames.String).Set(
            json.dumps(spec.simple.model_dump(mode="json"), sort_keys=True)
        )
    profile = resolved.lidar_profiles.get(name)
    if profile is not None:
        for attr, value in sorted(omni_lidar_attributes(profile.raw["profile"]).items()):
            prim.CreateAttribute(attr, sdf_type(value)).Set(value)
    _xform_ops(prim, spec.position_m, authored_orientation(spec))


def _default_materials(s: Scenario) -> dict[str, str]:
    """Assets a material randomizer targets get a binding to edit even without a material."""
    out: dict[str, str] = {}
    for rnd in s.randomizers.values():
        for target, material in rnd.default_materials(s).items():
            out.setdefault(target, material)
    return out


def author_stage(resolved: ResolvedScenario, texture_dir: Path | None = None) -> Any:
    """The scenario as an in-memory ``Usd.Stage`` with every prim at its authored state.

    Procedural textures are written as PNG files into ``texture_dir`` (referenced relative to
    the folder that holds it); without it they are described only by ``scenesmith:procedural``.
    """
    from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

    s = resolved.scenario
    stage = Usd.Stage.CreateInMemory("scenesmith.usda")
    UsdGeom.SetStageMetersPerUnit(stage, s.stage.meters_per_unit)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z if s.stage.up_axis == "Z" else UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, WORLD)
    stage.SetDefaultPrim(world.GetPrim())
    stage.GetRootLayer().customLayerData = {
        "scenesmith:version": __version__,
        "scenesmith:scenario_digest": resolved.scenario_digest,
        "scenesmith:randomization_digest": resolved.randomization_digest,
    }
    if s.stage.base_usd is not None:
        base = UsdGeom.Xform.Define(stage, BASE_PATH)
        base.GetPrim().GetReferences().AddReference(str(resolved.document.files[s.stage.base_usd]))
    if s.materials:
        UsdGeom.Scope.Define(stage, LOOKS_ROOT)
        for name in sorted(s.materials):
            author_material(stage, s, name, s.materials[name], resolved.document.files, texture_dir)
    if s.physics.enabled:
        UsdGeom.Scope.Define(stage, PHYSICS_ROOT)
        scene = UsdPhysics.Scene.Define(stage, f"{PHYSICS_ROOT}/Scene")
        gravity = np.asarray(s.physics.gravity_m_s2)
        magnitude = float(np.linalg.norm(gravity))
        scene.CreateGravityMagnitudeAttr(magnitude)
        scene.CreateGravityDirectionAttr(Gf.Vec3f(*(gravity / magnitude if magnitude > 0 else (0.0, 0.0, -1.0))))
        scene.GetPrim().CreateAttribute("scenesmith:physics:timestep_s", Sdf.ValueTypeNames.Double).Set(
            s.physics.timestep_s
        )
    _author_assets(stage, resolved, _default_materials(s))
    _author_distractors(stage, resolved)
    if s.lights:
        UsdGeom.Xform.Define(stage, LIGHTS_ROOT)
        for name in sorted(s.lights):
            _author_light(stage, resolved, name, s.lights[name], texture_dir)
    for name in sorted(s.cameras):
        _author_camera(stage, name, s.cameras[name])
    for name in sorted(s.lidars):
        _author_lidar(stage, resolved, name, s.lidars[name])
    return stage


def export_stage(stage: Any, path: Path) -> None:
    stage.GetRootLayer().Export(str(path))
