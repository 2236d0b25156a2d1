"""A MuJoCo model (``MjSpec``) built from the stage's UsdPhysics APIs, as the stage stands.

Mapping (also in the README "Physics" section):

- ``RigidBodyAPI`` prims become bodies: a free joint for dynamic bodies, a mocap body for
  kinematic ones (``kinematicEnabled``), which follow ``scenesmith:physics:path`` keyframes or
  move at their authored velocity. ``CollisionAPI`` prims outside bodies are static colliders;
  ``ground_plane`` adds an infinite plane at z = 0. Invisible prims take no part (unused
  distractor slots are invisible).
- Colliders: Cube → box, Sphere → sphere (ellipsoid if scaled unevenly), Capsule/Cylinder →
  capsule/cylinder along their axis, Cone and unevenly scaled round shapes → convex hull of
  their tessellation, Mesh → convex hull (MuJoCo hulls meshes itself); a *flat* mesh or a Plane
  (like ``drop_scene.usda``'s ground) becomes a 2 cm thin box whose top face is the surface
  (MuJoCo cannot hull coplanar points); only static colliders may be flat. Scale is baked into
  sizes, so a model is built per episode.
- Mass: ``MassAPI`` mass wins over density (as UsdPhysics specifies) and is split evenly over a
  body's colliders; without either, density is 1000 kg/m³. Inertia follows from the collider
  shapes.
- Friction: the ``physics``-purpose material's static friction is MuJoCo's one sliding
  coefficient (MuJoCo has no static/dynamic split); torsional and rolling friction come from
  ``scenesmith:physics:torsionalFriction`` / ``rollingFriction`` (defaults: MuJoCo's 0.005 m and
  0.0001 m); contacts are 6-D with elliptic friction cones, so the sliding limit is exactly μ·N.
- Restitution e has no MuJoCo counterpart. MuJoCo's contact is a spring-damper; its natural
  frequency is ω = π / (8 Δt), so an impact spans about 8 steps (resolved, yet stiff: a resting
  body sinks g/ω² ≈ 0.25 mm at Δt = 2 ms), and e sets its damping ratio ζ; in MuJoCo's
  ``solref = (timeconst, dampratio)`` that is ``(1 / (ζ ω), ζ)``. The two-sided formula
  e = exp(−ζπ/√(1−ζ²)) underestimates the rebound (the contact cannot pull), so ζ comes from
  ``RESTITUTION_TABLE``, measured on MuJoCo itself by ``bench/calibrate_restitution.py`` (with
  the stiffness tied to the step the table holds at every step size). Mean rebound speed is
  e·v; a single impact varies by up to ±0.08 with where in a step it begins. Reachable: 0.03
  (the most damping MuJoCo accepts at 8 steps per impact; single impacts up to 0.1) to 0.978.
- Combining two materials: body colliders have a higher MuJoCo ``priority`` than static ones,
  so a body's own friction and restitution govern its contacts with the static scene (a ball
  with e = 0.5 bounces to e²·h off any table); where two bodies touch, MuJoCo takes the larger
  friction and averages the damping ratios. (PhysX's default averages both; the ground truth
  of a pair's restitution is a pair property neither engine takes as input.)
- No artificial damping: joint damping and armature are zero, air density and viscosity zero.

Unsupported or invalid input raises ``BadInputError`` naming the prim path.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...sensors.conventions import normalize_quat, quat_multiply, quat_to_rotation_matrix, rotation_matrix_to_quat
from ...sensors.errors import BadInputError, Issue, format_got
from ..physics_world import KinematicTrack
from ..usd.geometry import mesh_from_usd, shape_spec_of
from ..usd.tessellate import tessellate_shape

__all__ = [
    "CONTACT_STEPS",
    "DEFAULT_DENSITY_KG_M3",
    "GROUND_PLANE",
    "KinematicTrack",
    "ModelParts",
    "AUTHORED_STAGE",
    "PhysicsInputError",
    "build_model",
    "contact_solref",
    "RESTITUTION_TABLE",
    "restitution_damping",
]

_mujoco_log = logging.getLogger("scenesmith.physics")

CONTACT_STEPS = 8
"""An impact lasts about this many physics steps (sets the contact stiffness)."""
DEFAULT_DENSITY_KG_M3 = 1000.0
FLAT_THICKNESS_M = 0.02
GROUND_PLANE = "ground_plane"
"""Collider name of ``physics.ground_plane`` in ``collider_paths``."""
_IMPLICIT = ("Cube", "Sphere", "Cylinder", "Cone", "Capsule")

# rotations taking MuJoCo's z-axis onto a USD shape's axis
_AXIS_QUAT = {
    "Z": np.array([1.0, 0.0, 0.0, 0.0]),
    "X": np.array([math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0]),
    "Y": np.array([math.cos(math.pi / 4), -math.sin(math.pi / 4), 0.0, 0.0]),
}


RESTITUTION_TABLE = (
    (0.005, 0.9778),
    (0.02, 0.9328),
    (0.05, 0.8508),
    (0.1, 0.7342),
    (0.15, 0.6347),
    (0.2, 0.5508),
    (0.25, 0.4815),
    (0.3, 0.4224),
    (0.4, 0.3239),
    (0.5, 0.2527),
    (0.6, 0.1943),
    (0.7, 0.1505),
    (0.8, 0.1158),
    (0.9, 0.0826),
    (1.0, 0.0575),
    (1.1, 0.0401),
    (1.2, 0.0290),
)
"""(damping ratio, mean coefficient of restitution) of MuJoCo contacts lasting 8 steps."""


def restitution_damping(e: float) -> float:
    """Damping ratio whose MuJoCo contacts rebound, on average, with coefficient ``e``."""
    zetas, rebounds = zip(*RESTITUTION_TABLE)
    return float(np.interp(e, rebounds[::-1], zetas[::-1]))


def contact_solref(restitution: float, timestep_s: float) -> list[float]:
    """MuJoCo ``solref`` (timeconst, dampratio) of a contact with restitution ``restitution``."""
    zeta = restitution_damping(restitution)
    omega = math.pi / (CONTACT_STEPS * timestep_s)
    return [1.0 / (zeta * omega), zeta]


class PhysicsInputError(BadInputError):
    """Bad input found while building the physics model, with the offending prim's path, so a
    caller holding the scenario can name the key that authored the prim (a prim of our own
    in-memory stage has no file of its own)."""

    def __init__(self, issue: Issue, prim_path: str, message: str, expected: str, got: object) -> None:
        super().__init__([issue])
        self.prim_path = prim_path
        self.message = message
        self.expected = expected
        self.got = got

    def __reduce__(self) -> tuple[Any, ...]:
        # crosses process boundaries (pool workers) as the plain error it prints as
        return (BadInputError, (self.issues,))


def _bad(prim: Any, message: str, expected: str, got: object) -> PhysicsInputError:
    """An error naming the prim, its layer file and (for .usda files) the line defining it."""
    file, line = _prim_location(prim)
    path = str(prim.GetPath())
    issue = Issue(file, line, 1, f"{path} (physics)", message, expected, format_got(got))
    return PhysicsInputError(issue, path, message, expected, got)


AUTHORED_STAGE = "<authored stage>"
"""File shown for a prim of an in-memory stage (callers with the scenario name its key)."""


def _prim_location(prim: Any) -> tuple[str, int]:
    layer = prim.GetStage().GetRootLayer()
    for spec in prim.GetPrimStack():
        if spec.layer.realPath:
            layer = spec.layer
            break
    if not layer.realPath:
        return AUTHORED_STAGE, 1
    line = 1
    if layer.realPath.endswith(".usda"):
        text = Path(layer.realPath).read_text(encoding="utf-8", errors="replace")
        pos = 0
        for name in prim.GetPath().pathString.strip("/").split("/"):
            match = re.compile(rf'\b(?:def|over|class)\b[^\n"]*"{re.escape(name)}"').search(text, pos)
            if match is None:
                break
            pos = match.start()
        line = text.count("\n", 0, pos) + 1
    return layer.realPath, line


def _decompose(m: np.ndarray, prim: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Translation, wxyz rotation and per-axis scale of a row-vector matrix (no shear)."""
    scale = np.linalg.norm(m[:3, :3], axis=1)
    if np.any(scale <= 1e-12):
        raise _bad(prim, "collider has zero scale", "a positive scale on every axis", scale.tolist())
    return m[3, :3].copy(), rotation_matrix_to_quat(m[:3, :3] / scale[:, None]), scale


def _world(cache: Any, prim: Any) -> np.ndarray:
    return np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64)


@dataclass
class ModelParts:
    """The compiled model and what it was built from."""

    model: Any
    bodies: list[str]
    """Prim paths of rigid bodies, in body order (MuJoCo body id = index + 1)."""
    body_kind: list[str]
    colliders: list[str]
    """Prim path of every MuJoCo geom, by geom id."""
    kinematic: dict[str, KinematicTrack] = field(default_factory=dict)
    initial_velocity: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class _Material:
    friction: float = 0.5
    torsional: float = 0.005
    rolling: float = 0.0001
    restitution: float = 0.0


class _Builder:
    def __init__(self, mujoco: Any, timestep_s: float, gravity: list[float]) -> None:
        self.mj = mujoco
        self.spec = mujoco.MjSpec()
        opt = self.spec.option
        opt.timestep = timestep_s
        opt.gravity = gravity
        opt.density = 0.0
        opt.viscosity = 0.0
        opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
        self.colliders: list[str] = []
        self.mesh_owners: list[str] = []

    def material(self, prim: Any) -> _Material:
        from pxr import UsdPhysics, UsdShade

        bound, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
        out = _Material()
        if not bound:
            return out
        mprim = bound.GetPrim()
        api = UsdPhysics.MaterialAPI(mprim)
        static = api.GetStaticFrictionAttr().Get()
        dynamic = api.GetDynamicFrictionAttr().Get()
        out.friction = float(static if static is not None else dynamic if dynamic is not None else out.friction)
        out.restitution = float(api.GetRestitutionAttr().Get() or 0.0)
        for name, attr in (
            ("torsional", "scenesmith:physics:torsionalFriction"),
            ("rolling", "scenesmith:physics:rollingFriction"),
        ):
            value = mprim.GetAttribute(attr).Get() if mprim.HasAttribute(attr) else None
            if value is not None:
                setattr(out, name, float(value))
        if min(out.friction, out.torsional, out.rolling) < 0 or not 0 <= out.restitution <= 1:
            raise _bad(
                prim,
                f"invalid physics material {mprim.GetPath()}",
                "friction >= 0 and 0 <= restitution <= 1",
                vars(out),
            )
        return out

    def geom(self, parent: Any, prim: Any, static: bool, **kw: Any) -> None:
        mat = self.material(prim)
        parent.add_geom(
            name=f"g{len(self.colliders)}",
            friction=[mat.friction, mat.torsional, mat.rolling],
            condim=6,
            solref=contact_solref(mat.restitution, self.spec.option.timestep),
            # a body's material decides its contacts with static scenery (see module docstring)
            priority=0 if static else 1,
            **kw,
        )
        self.colliders.append(str(prim.GetPath()))

    def hull(self, vertices: np.ndarray, prim: Any) -> str:
        centered = vertices - vertices.mean(axis=0)
        if len(vertices) < 4 or np.linalg.matrix_rank(centered, tol=1e-9) < 3:
            raise _bad(prim, "collider has no volume", "a solid shape (flat meshes only as static colliders)", "flat")
        name = f"mesh{len(self.mesh_owners)}"
        self.mesh_owners.append(str(prim.GetPath()))
        self.spec.add_mesh(name=name, uservert=np.asarray(vertices, dtype=np.float64).reshape(-1).tolist())
        return name

    def collider(self, parent: Any, prim: Any, rel: np.ndarray, static: bool) -> None:
        """A geom for collider ``prim`` whose transform relative to ``parent`` is ``rel``."""
        mj = self.mj.mjtGeom
        pos, quat, scale = _decompose(rel, prim)
        kind = prim.GetTypeName()
        if kind in ("Mesh", "Plane"):
            mesh = mesh_from_usd(prim) if kind == "Mesh" else tessellate_shape("plane", shape_spec_of(prim)[1])
            if mesh is None or len(mesh.faces) == 0:
                raise _bad(prim, "collider mesh has no faces", "a mesh with faces", 0)
            verts = mesh.vertices * scale
            if self._flat(verts):
                if not static:
                    raise _bad(prim, "a flat mesh cannot collide as a rigid body", "a mesh with volume", "flat mesh")
                self._thin_box(parent, prim, verts, pos, quat)
            else:
                self.geom(
                    parent, prim, static, type=mj.mjGEOM_MESH, meshname=self.hull(verts, prim), pos=pos, quat=quat
                )
            return
        override_attr = prim.GetAttribute("scenesmith:physics:collider")
        override = override_attr.Get() if override_attr and override_attr.HasAuthoredValue() else None
        kind_name, spec = shape_spec_of(prim)
        sizes = [getattr(spec, a) for a in ("size_m", "radius_m", "height_m") if hasattr(spec, a)]
        if min(sizes) <= 0:
            raise _bad(prim, "collider has zero size", "size, radius and height > 0", sizes)
        if kind_name == "cube" and override in (None, "box"):
            self.geom(parent, prim, static, type=mj.mjGEOM_BOX, size=spec.size_m / 2 * scale, pos=pos, quat=quat)
            return
        if kind_name == "sphere" and override in (None, "sphere"):
            if np.allclose(scale, scale[0]):
                size, mtype = [spec.radius_m * scale[0], 0, 0], mj.mjGEOM_SPHERE
            else:
                size, mtype = spec.radius_m * scale, mj.mjGEOM_ELLIPSOID
            self.geom(parent, prim, static, type=mtype, size=size, pos=pos, quat=quat)
            return
        if kind_name in ("cylinder", "capsule") and override in (None, kind_name):
            axis = "XYZ".index(spec.axis)
            radial = np.delete(scale, axis)
            if np.isclose(radial[0], radial[1]):
                mtype = mj.mjGEOM_CYLINDER if kind_name == "cylinder" else mj.mjGEOM_CAPSULE
                # USD's capsule height excludes the caps, like MuJoCo's half-length
                size = [spec.radius_m * radial[0], spec.height_m / 2 * scale[axis], 0]
                geom_quat = normalize_quat(quat_multiply(quat, _AXIS_QUAT[spec.axis]))
                self.geom(parent, prim, static, type=mtype, size=size, pos=pos, quat=geom_quat)
                return
        # cones, unevenly scaled round shapes, other collider overrides: convex hull
        tri = tessellate_shape(kind_name, spec, 24, 12)
        self.geom(
            parent,
            prim,
            static,
            type=mj.mjGEOM_MESH,
            meshname=self.hull(tri.vertices * scale, prim),
            pos=pos,
            quat=quat,
        )

    @staticmethod
    def _flat(verts: np.ndarray) -> bool:
        centered = verts - verts.mean(axis=0)
        sv = np.linalg.svd(centered, compute_uv=False)
        return bool(sv[-1] <= 1e-9 * max(float(sv[0]), 1e-12))

    def _thin_box(self, parent: Any, prim: Any, verts: np.ndarray, pos: np.ndarray, quat: np.ndarray) -> None:
        """A thin box just under a flat surface, in the surface's principal axes."""
        center = verts.mean(axis=0)
        _, _, basis = np.linalg.svd(verts - center, full_matrices=False)
        if np.linalg.det(basis) < 0:
            basis[2] = -basis[2]
        rot = quat_to_rotation_matrix(quat)
        if (basis[2] @ rot)[2] < 0:  # the box goes below the side that faces up
            basis[1], basis[2] = -basis[1], -basis[2]
        coords = (verts - center) @ basis.T
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        half = np.maximum((hi - lo) / 2, 1e-6)
        half[2] = FLAT_THICKNESS_M / 2
        local = center + ((hi + lo) / 2)[:2] @ basis[:2] - basis[2] * FLAT_THICKNESS_M / 2
        self.geom(
            parent,
            prim,
            True,
            type=self.mj.mjtGeom.mjGEOM_BOX,
            size=half,
            pos=local @ rot + pos,
            quat=rotation_matrix_to_quat(basis @ rot),
        )


def _scene_gravity(stage: Any) -> list[float]:
    from pxr import Usd, UsdPhysics

    for prim in Usd.PrimRange(stage.GetPseudoRoot()):
        if prim.IsA(UsdPhysics.Scene):
            scene = UsdPhysics.Scene(prim)
            direction = np.asarray(scene.GetGravityDirectionAttr().Get() or (0, 0, -1), dtype=np.float64)
            magnitude = scene.GetGravityMagnitudeAttr().Get()
            # UsdPhysics: a negative or non-finite magnitude means "earth gravity in stage units"
            if magnitude is None or not math.isfinite(magnitude) or magnitude < 0:
                magnitude = 9.81
            norm = float(np.linalg.norm(direction))
            if norm == 0:
                direction, norm = np.array([0.0, 0.0, -1.0]), 1.0
            return list(direction / norm * magnitude)
    return [0.0, 0.0, -9.81]


def _has_body_ancestor(prim: Any) -> bool:
    from pxr import UsdPhysics

    parent = prim.GetParent()
    while parent and not parent.IsPseudoRoot():
        if parent.HasAPI(UsdPhysics.RigidBodyAPI):
            return True
        parent = parent.GetParent()
    return False


def _body_colliders(prim: Any) -> list[Any]:
    """Collider prims of body ``prim``: itself and descendants not inside a nested body."""
    from pxr import Usd, UsdPhysics

    out = []
    it = iter(Usd.PrimRange(prim))
    for sub in it:
        if sub != prim and sub.HasAPI(UsdPhysics.RigidBodyAPI):
            it.PruneChildren()
            continue
        if sub.HasAPI(UsdPhysics.CollisionAPI) and sub.GetTypeName() in (*_IMPLICIT, "Mesh", "Plane"):
            out.append(sub)
    return out


def route_mujoco_warnings(mujoco: Any) -> None:
    """Send MuJoCo's warnings ("the simulation is unstable", …) to logging. Without a user
    handler MuJoCo appends them to ``MUJOCO_LOG.TXT`` in the current folder — a file outside
    the run's output folder that no run should write."""
    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(lambda message: _mujoco_log.warning("MuJoCo: %s", message))


def build_model(
    stage: Any,
    timestep_s: float,
    gravity_m_s2: tuple[float, float, float] | None = None,
    ground_plane: bool = False,
) -> ModelParts:
    """Compile the stage's visible UsdPhysics content into a MuJoCo model."""
    import mujoco
    from pxr import Usd, UsdGeom, UsdPhysics

    route_mujoco_warnings(mujoco)

    gravity = list(gravity_m_s2) if gravity_m_s2 is not None else _scene_gravity(stage)
    b = _Builder(mujoco, timestep_s, [float(g) for g in gravity])
    cache = UsdGeom.XformCache()
    parts = ModelParts(None, [], [], b.colliders)
    it = iter(Usd.PrimRange(stage.GetPseudoRoot()))
    static, bodies = [], []
    for prim in it:
        imageable = UsdGeom.Imageable(prim)
        if not prim.IsActive() or (imageable and imageable.GetVisibilityAttr().Get() == UsdGeom.Tokens.invisible):
            it.PruneChildren()
            continue
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            bodies.append(prim)
            it.PruneChildren()
        elif prim.HasAPI(UsdPhysics.CollisionAPI) and not _has_body_ancestor(prim):
            if prim.GetTypeName() not in (*_IMPLICIT, "Mesh", "Plane"):
                raise _bad(
                    prim,
                    "collider is not a gprim",
                    "Cube, Sphere, Cylinder, Cone, Capsule, Plane or Mesh",
                    prim.GetTypeName(),
                )
            static.append(prim)
    for prim in static:
        b.collider(b.spec.worldbody, prim, _world(cache, prim), static=True)
    for prim in bodies:
        _add_body(b, parts, prim, cache)
    if ground_plane:
        b.spec.worldbody.add_geom(
            name=GROUND_PLANE, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1], friction=[0.6, 0.005, 0.0001], condim=6
        )
        b.colliders.append(GROUND_PLANE)
    try:
        parts.model = b.spec.compile()
    except ValueError as err:  # MuJoCo names the geom ("g<i>"); map it back to the prim
        mesh, geom = re.search(r"\bmesh(\d+)\b", str(err)), re.search(r"\bg(\d+)\b", str(err))
        culprit = stage.GetPseudoRoot()
        if mesh:
            culprit = stage.GetPrimAtPath(b.mesh_owners[int(mesh.group(1))])
        elif geom:
            culprit = stage.GetPrimAtPath(b.colliders[int(geom.group(1))])
        raise _bad(culprit, "MuJoCo cannot compile this collider", "a valid collider", str(err)) from None
    return parts


def _add_body(b: _Builder, parts: ModelParts, prim: Any, cache: Any) -> None:
    from pxr import UsdPhysics

    path = str(prim.GetPath())
    world = _world(cache, prim)
    pos, quat, _ = _decompose(world, prim)
    colliders = _body_colliders(prim)
    if not colliders:
        raise _bad(prim, "rigid body without a collider", "CollisionAPI on the body or a descendant", "none")
    body = b.spec.worldbody.add_body(name=path, pos=pos, quat=quat)
    frame = np.eye(4)
    frame[:3, :3] = quat_to_rotation_matrix(quat)
    frame[3, :3] = pos
    frame_inv = np.linalg.inv(frame)
    first = len(b.colliders)
    for sub in colliders:
        b.collider(body, sub, _world(cache, sub) @ frame_inv, static=False)
    mass = density = None
    if prim.HasAPI(UsdPhysics.MassAPI):
        api = UsdPhysics.MassAPI(prim)
        mass, density = api.GetMassAttr().Get(), api.GetDensityAttr().Get()
    if (mass is not None and mass < 0) or (density is not None and density < 0):
        raise _bad(prim, "negative mass or density", "mass >= 0 and density >= 0", {"mass": mass, "density": density})
    count = len(b.colliders) - first
    for geom in body.geoms:
        if mass:  # UsdPhysics: an authored mass wins over density; 0 means "not set"
            geom.mass = float(mass) / count
        else:
            geom.density = float(density) if density else DEFAULT_DENSITY_KG_M3
    track = KinematicTrack.from_prim(prim, pos, quat)
    parts.bodies.append(path)
    if UsdPhysics.RigidBodyAPI(prim).GetKinematicEnabledAttr().Get():
        body.mocap = True
        parts.kinematic[path] = track
        parts.body_kind.append("kinematic")
    else:
        body.add_freejoint()
        parts.initial_velocity[path] = (track.velocity_m_s, track.angular_velocity_rad_s)
        parts.body_kind.append("dynamic")
