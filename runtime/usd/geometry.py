"""Triangles of USD geometry: ``UsdGeom.Mesh`` and the implicit primitives, in any frame.

Used to measure USD references at resolve time and, by the embedded backend, to turn a
composed stage into ray-casting geometry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...scenarios.loader import ScenarioDocument
from ...scenarios.model import CapsuleSpec as _CapsuleSpec
from ...scenarios.model import ConeSpec, CubeSpec, CylinderSpec, PlaneSpec, SphereSpec, UsdRefSpec
from ...scenarios.resolved import Bounds, ShapeGeometry
from .tessellate import TriMesh, tessellate_shape

__all__ = ["gprim_mesh", "iter_gprims", "mesh_from_usd", "open_usd_file", "reference_geometry", "shape_spec_of"]

IMPLICIT = {"Cube", "Sphere", "Cylinder", "Cone", "Capsule", "Plane"}


def shape_spec_of(prim: Any) -> tuple[str, object]:
    """Our shape spec for an implicit UsdGeom gprim (its authored or schema-default attributes)."""
    t = prim.GetTypeName()
    get = lambda name: prim.GetAttribute(name).Get()  # noqa: E731
    if t == "Cube":
        return "cube", CubeSpec.model_construct(size_m=float(get("size")))
    if t == "Sphere":
        return "sphere", SphereSpec.model_construct(radius_m=float(get("radius")))
    if t == "Cylinder":
        return "cylinder", CylinderSpec.model_construct(
            radius_m=float(get("radius")), height_m=float(get("height")), axis=str(get("axis"))
        )
    if t == "Cone":
        return "cone", ConeSpec.model_construct(
            radius_m=float(get("radius")), height_m=float(get("height")), axis=str(get("axis"))
        )
    if t == "Capsule":
        return "capsule", _CapsuleSpec.model_construct(
            radius_m=float(get("radius")), height_m=float(get("height")), axis=str(get("axis"))
        )
    return "plane", PlaneSpec.model_construct(
        width_m=float(get("width")), length_m=float(get("length")), axis=str(get("axis"))
    )


def mesh_from_usd(prim: Any) -> TriMesh | None:
    """Fan-triangulated points of a ``UsdGeom.Mesh`` (with ``primvars:st`` when per-vertex)."""
    from pxr import UsdGeom

    mesh = UsdGeom.Mesh(prim)
    points = mesh.GetPointsAttr().Get()
    counts = mesh.GetFaceVertexCountsAttr().Get()
    indices = mesh.GetFaceVertexIndicesAttr().Get()
    if not points or not counts or not indices:
        return None
    pts = np.asarray(points, dtype=np.float64)
    counts_a = np.asarray(counts, dtype=np.int64)
    idx = np.asarray(indices, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts_a)[:-1]])
    tris = [
        np.stack([idx[s] * np.ones(c - 2, int), idx[s + 1 : s + c - 1], idx[s + 2 : s + c]], axis=1)
        for s, c in zip(starts, counts_a)
        if c >= 3
    ]
    if not tris:
        return None
    faces = np.concatenate(tris).astype(np.int32)
    if mesh.GetOrientationAttr().Get() == UsdGeom.Tokens.leftHanded:
        faces = faces[:, [0, 2, 1]]
    uvs = np.zeros((len(pts), 2))
    st = UsdGeom.PrimvarsAPI(prim).GetPrimvar("st")
    if st and st.HasValue() and st.GetInterpolation() in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying):
        values = np.asarray(st.ComputeFlattened(), dtype=np.float64)
        if values.shape == (len(pts), 2):
            uvs = values
    return TriMesh(pts, faces, uvs, np.zeros_like(pts))


def gprim_mesh(prim: Any, segments: int, rings: int) -> TriMesh | None:
    """Triangles of a gprim in its own local frame."""
    if prim.GetTypeName() == "Mesh":
        return mesh_from_usd(prim)
    if prim.GetTypeName() in IMPLICIT:
        kind, spec = shape_spec_of(prim)
        return tessellate_shape(kind, spec, segments, rings)
    return None


def iter_gprims(root: Any) -> Iterator[Any]:
    """Meshes and implicit gprims at and below ``root`` (instance proxies included)."""
    from pxr import Usd

    for prim in Usd.PrimRange(root, Usd.TraverseInstanceProxies()):
        if prim.GetTypeName() == "Mesh" or prim.GetTypeName() in IMPLICIT:
            yield prim


def _usd_message(text: str, limit: int = 240) -> str:
    """USD's error text on one line, without the C++ function and source file it names."""
    flat = " ".join(text.split())
    flat = re.sub(r"Error in '[^']*' at line \d+ in file \S+ : ", "", flat)
    return (flat[: limit - 3] + "...") if len(flat) > limit else (flat or "unreadable")


def open_usd_file(doc: ScenarioDocument, raw: str, loc: tuple) -> Any:
    """Open the USD file a scenario key names, composed, or raise bad input at that key.

    Composition errors (a reference or sublayer cycle, an unresolvable arc) are bad input: the
    stage composes without the offending arcs, and a base USD that silently lost part of itself
    is not the scene the user described. USD's diagnostics are trapped so the error below is
    the first line the user reads, not USD's warnings.
    """
    from pxr import Tf, Usd

    path = doc.asset_file(raw)
    with Tf.DiagnosticTrap() as trap:
        try:
            stage = Usd.Stage.Open(str(path))
            errors = list(stage.GetCompositionErrors())
        except Exception as exc:  # pxr raises Tf errors of its own types
            trap.Clear()
            raise doc.error(
                loc, f"cannot open USD file: {_usd_message(str(exc))}", expected="a readable USD file", got=raw
            ) from None
        trap.Clear()
    if errors:
        kind = type(errors[0]).__name__.removeprefix("Error")
        cycle = "Cycle" in kind
        raise doc.error(
            loc,
            f"USD composition {'cycle' if cycle else 'error'} in {path.name}: {_usd_message(str(errors[0]))}",
            expected="a USD file that composes without errors (no reference or sublayer cycles)",
            got=raw,
        )
    return stage


def reference_geometry(doc: ScenarioDocument, spec: UsdRefSpec, loc: tuple) -> ShapeGeometry:
    """Bounds and support surface of a referenced USD file's prim, in our stage's units."""
    from pxr import UsdGeom

    from .resolve import support_surface

    stage = open_usd_file(doc, spec.path, (*loc, "path"))
    prim = stage.GetPrimAtPath(spec.prim) if spec.prim else stage.GetDefaultPrim()
    if not prim or not prim.IsValid():
        raise doc.error(
            (*loc, "prim" if spec.prim else "path"),
            "prim not found in the USD file" if spec.prim else "the USD file has no defaultPrim",
            expected="an existing prim path" if spec.prim else "a defaultPrim or a prim: key",
            got=spec.prim or spec.path,
        )
    unit = UsdGeom.GetStageMetersPerUnit(stage) / doc.scenario.stage.meters_per_unit
    cache = UsdGeom.XformCache()
    root_inv = np.linalg.inv(np.asarray(cache.GetLocalToWorldTransform(prim)))
    verts, faces = [], []
    offset = 0
    for gprim in iter_gprims(prim):
        tri = gprim_mesh(gprim, 32, 16)
        if tri is None:
            continue
        to_root = np.asarray(cache.GetLocalToWorldTransform(gprim)) @ root_inv
        homo = np.hstack([tri.vertices, np.ones((len(tri.vertices), 1))]) @ to_root
        verts.append(homo[:, :3] * unit)
        faces.append(tri.faces + offset)
        offset += len(tri.vertices)
    if not verts:
        raise doc.error(
            (*loc, "path"),
            "the referenced prim holds no geometry",
            expected="meshes or gprims",
            got=spec.prim or spec.path,
        )
    all_v, all_f = np.vstack(verts), np.vstack(faces)
    bounds = Bounds(tuple(map(float, all_v.min(axis=0))), tuple(map(float, all_v.max(axis=0))))  # type: ignore[arg-type]
    return ShapeGeometry("usd", bounds, support_surface(all_v, all_f), None, unit_scale=float(unit))
