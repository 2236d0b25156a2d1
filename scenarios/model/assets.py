"""Geometry (primitives, mesh files, USD references) and the assets placed in the scene."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...sensors.spec_base import Name, PosFloat, Position, Spec, Vec3, invalid, scale3
from .common import MAX_INSTANCES, AssetPath, Axis, Semantics, _Posed
from .physics import BodyPhysics

__all__ = [
    "Asset",
    "CapsuleSpec",
    "ConeSpec",
    "CubeSpec",
    "ContinuousSymmetry",
    "CylinderSpec",
    "DiscreteSymmetry",
    "MeshSpec",
    "PRIMITIVES",
    "PlaneSpec",
    "SHAPE_KEYS",
    "Shape",
    "SphereSpec",
    "SymmetriesSpec",
    "UsdRefSpec",
]


class CubeSpec(Spec):
    size_m: PosFloat = 1.0
    """Edge length in metres (Replicator's rep.create.cube default, 1 m)."""


class SphereSpec(Spec):
    radius_m: PosFloat = 0.5
    """Radius in metres."""


class CylinderSpec(Spec):
    radius_m: PosFloat = 0.5
    """Radius in metres."""
    height_m: PosFloat = 1.0
    """Height along axis in metres."""
    axis: Axis = "Z"
    """Axis of the cylinder in its local frame."""


class ConeSpec(Spec):
    radius_m: PosFloat = 0.5
    """Base radius in metres."""
    height_m: PosFloat = 1.0
    """Height along axis in metres."""
    axis: Axis = "Z"
    """Axis of the cone in its local frame (apex towards +axis)."""


class CapsuleSpec(Spec):
    """USD capsule: ``height_m`` is the cylinder part; the caps add ``2 × radius_m``."""

    radius_m: PosFloat = 0.25
    """Radius of the cylinder and of its end caps, in metres."""
    height_m: PosFloat = 0.5
    """Length of the cylindrical part along axis, caps excluded, in metres."""
    axis: Axis = "Z"
    """Axis of the capsule in its local frame."""


class PlaneSpec(Spec):
    width_m: PosFloat = 1.0
    """Extent along the first in-plane axis, in metres."""
    length_m: PosFloat = 1.0
    """Extent along the second in-plane axis, in metres."""
    axis: Axis = "Z"
    """Normal of the plane in its local frame."""


class MeshSpec(Spec):
    """A triangle mesh file (OBJ, PLY, STL, glTF/GLB), authored into the stage as ``UsdGeom.Mesh``."""

    path: AssetPath
    """Mesh file (OBJ, STL, PLY, glTF/GLB), relative to the scenario's folder or an --asset-root."""
    units_m: PosFloat = 1.0
    """Length of one file unit in metres (0.001 for an STL in millimetres)."""
    up_axis: Literal["Y", "Z"] | None = None
    """Up axis of the file; default Y for glTF (its specification), Z for the others."""


class UsdRefSpec(Spec):
    """A USD file referenced into the stage."""

    path: AssetPath
    """USD file to reference, relative to the scenario's folder or an --asset-root."""
    prim: str | None = None
    """Prim of the file to reference (default: its default prim)."""


def _axis(value: Vec3) -> Vec3:
    if sum(float(v) * float(v) for v in value) < 1e-18:
        raise invalid("a symmetry axis needs a direction", expected="a non-zero vector", got=list(value))
    return value


class DiscreteSymmetry(Spec):
    """A rotation that maps the object onto itself (BOP's ``symmetries_discrete`` entry, written
    there as the 4x4 matrix of this rotation, translation in mm)."""

    axis: Vec3
    """Rotation axis in the asset's frame (normalised when used)."""
    angle_deg: Annotated[float, Field(strict=True, gt=0, lt=360)]
    """Rotation angle about ``axis`` (right-handed), in degrees."""
    offset_m: Position = (0.0, 0.0, 0.0)
    """A point on the axis, in metres in the asset's frame (its scale applied)."""

    @model_validator(mode="after")
    def _direction(self) -> DiscreteSymmetry:
        _axis(self.axis)
        return self


class ContinuousSymmetry(Spec):
    """Rotations by any angle about an axis map the object onto itself (BOP's
    ``symmetries_continuous`` entry: ``axis`` and ``offset`` in mm)."""

    axis: Vec3
    """Symmetry axis in the asset's frame (normalised when written)."""
    offset_m: Position = (0.0, 0.0, 0.0)
    """A point on the axis, in metres in the asset's frame (its scale applied)."""

    @model_validator(mode="after")
    def _direction(self) -> ContinuousSymmetry:
        _axis(self.axis)
        return self


class SymmetriesSpec(Spec):
    """Symmetries an object declares (pose-estimation datasets such as BOP list them with the
    object's model); both lists may be given, as in BOP."""

    discrete: tuple[DiscreteSymmetry, ...] = ()
    """Rotations mapping the object onto itself (the identity excluded)."""
    continuous: tuple[ContinuousSymmetry, ...] = ()
    """Axes about which every rotation maps the object onto itself."""


SHAPE_KEYS = ("cube", "sphere", "cylinder", "cone", "capsule", "plane", "mesh", "usd")
PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "capsule", "plane")


class Shape(Spec):
    """Exactly one geometry: a primitive, a mesh file or a USD reference."""

    cube: CubeSpec | None = None
    """A box primitive."""
    sphere: SphereSpec | None = None
    """A sphere primitive."""
    cylinder: CylinderSpec | None = None
    """A cylinder primitive."""
    cone: ConeSpec | None = None
    """A cone primitive."""
    capsule: CapsuleSpec | None = None
    """A capsule primitive."""
    plane: PlaneSpec | None = None
    """A finite plane primitive."""
    mesh: MeshSpec | None = None
    """A triangle mesh read from a file."""
    usd: UsdRefSpec | None = None
    """A prim referenced from a USD file."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Shape:
        given = [k for k in SHAPE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise invalid(
                "give exactly one geometry",
                expected="one of " + ", ".join(SHAPE_KEYS),
                got=given or "none",
                key=given[1] if len(given) > 1 else None,
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SHAPE_KEYS if getattr(self, k) is not None)

    @property
    def spec(self) -> Spec:
        return getattr(self, self.kind)


class Asset(_Posed, Shape):
    """Something placed in the scene: a primitive, a mesh or a USD reference."""

    scale: scale3 = (1.0, 1.0, 1.0)
    """Scale per axis (a single number scales uniformly)."""
    count: Annotated[int, Field(strict=True, ge=1, le=MAX_INSTANCES)] = 1
    """Copies authored (``/World/<name>_000`` …); a ``count`` randomizer shows a subset."""
    semantics: Semantics | None = None
    """Semantic labels per taxonomy, e.g. {class: mug}; unlabelled assets appear as UNLABELLED."""
    material: Name | None = None
    """Name of a material under materials to bind."""
    visible: bool = True
    """Whether the asset is visible (a visibility randomizer can change it per frame)."""
    physics: BodyPhysics = BodyPhysics()
    """The asset's physics body."""
    symmetries: SymmetriesSpec | None = None
    """Symmetries of the object's shape, for the BOP writer's models_info.json (they label the
    object and change no draw)."""
