"""Triangles, UVs and normals of USD's implicit primitives, in the prim's local frame.

Shapes follow the ``UsdGeom`` schemas: centred on the origin, the spine along ``axis``; a cone's
apex points to +axis; a capsule's ``height`` excludes its caps; a plane's width runs along X
(along Z when its axis is X) and its length along Y (along Z when its axis is Y). Triangles
wind counter-clockwise seen from outside. Curved surfaces are tessellated with ``segments``
around the spine and ``rings`` from pole to pole; a chord of a circle of radius r deviates
from it by at most r·(1 − cos(π/segments)), the tolerance curved geometry is tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["TriMesh", "chord_error", "tessellate_shape"]


@dataclass(frozen=True, eq=False)
class TriMesh:
    vertices: np.ndarray  # (N, 3) float64
    faces: np.ndarray  # (M, 3) int32
    uvs: np.ndarray  # (N, 2) float64
    normals: np.ndarray  # (N, 3) float64, unit


def chord_error(radius: float, segments: int) -> float:
    """Largest distance between a circle and its inscribed polygon of ``segments`` sides."""
    return radius * (1.0 - math.cos(math.pi / segments))


def _permute(points: np.ndarray, axis: str) -> np.ndarray:
    """Map a Z-spined shape onto ``axis`` with a cyclic (handedness-preserving) permutation."""
    if axis == "Z":
        return points
    if axis == "X":
        return points[:, [2, 0, 1]]
    return points[:, [1, 2, 0]]


def _grid(rows: int, cols: int, offset: int = 0) -> np.ndarray:
    """Two triangles per quad of a (rows+1) × (cols+1) vertex grid, counter-clockwise."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    a = offset + r * (cols + 1) + c
    b, d = a + 1, a + cols + 1
    e = d + 1
    return np.concatenate([np.stack([a, b, e], -1).reshape(-1, 3), np.stack([a, e, d], -1).reshape(-1, 3)])


def _cube(size: float) -> TriMesh:
    h = size / 2
    verts, faces, uvs, normals = [], [], [], []
    for axis in range(3):
        for sign in (1.0, -1.0):
            n = np.zeros(3)
            n[axis] = sign
            u_axis = np.zeros(3)
            u_axis[(axis + 1) % 3] = 1.0
            v_axis = np.cross(n, u_axis)
            base = len(verts)
            for uu, vv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                verts.append(n * h + (2 * uu - 1) * h * u_axis + (2 * vv - 1) * h * v_axis)
                uvs.append((uu, vv))
                normals.append(n)
            faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return TriMesh(np.array(verts), np.array(faces, dtype=np.int32), np.array(uvs, float), np.array(normals))


def _sphere_band(
    radius: float,
    z_lo: float,
    z_hi: float,
    lat_lo: float,
    lat_hi: float,
    rows: int,
    segments: int,
    v_lo: float,
    v_hi: float,
    offset: int,
) -> tuple[np.ndarray, ...]:
    """Latitude band of a sphere of ``radius`` whose centre moves from z_lo to z_hi (capsule caps)."""
    lat = np.linspace(lat_lo, lat_hi, rows + 1)
    lon = np.linspace(0.0, 2 * np.pi, segments + 1)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    normal = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1).reshape(-1, 3)
    center_z = np.where(la.reshape(-1) >= 0, z_hi, z_lo)
    pos = normal * radius + np.stack([np.zeros_like(center_z), np.zeros_like(center_z), center_z], -1)
    uv = np.stack([(lo / (2 * np.pi)).reshape(-1), np.interp(la.reshape(-1), [lat_lo, lat_hi], [v_lo, v_hi])], -1)
    return pos, _grid(rows, segments, offset), uv, normal


def _sphere(radius: float, segments: int, rings: int) -> TriMesh:
    pos, faces, uv, normal = _sphere_band(radius, 0.0, 0.0, -np.pi / 2, np.pi / 2, rings, segments, 0.0, 1.0, 0)
    return TriMesh(pos, faces.astype(np.int32), uv, normal)


def _disk(radius: float, z: float, up: bool, segments: int, offset: int) -> tuple[np.ndarray, ...]:
    ang = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([radius * np.cos(ang), radius * np.sin(ang), np.full(segments, z)], -1)
    pos = np.vstack([[0.0, 0.0, z], ring])
    uv = np.vstack([[0.5, 0.5], np.stack([0.5 + 0.5 * np.cos(ang), 0.5 + 0.5 * np.sin(ang)], -1)])
    normal = np.tile([0.0, 0.0, 1.0 if up else -1.0], (segments + 1, 1))
    i = np.arange(segments)
    a, b = 1 + i, 1 + (i + 1) % segments
    tri = np.stack([np.zeros(segments, int), a, b] if up else [np.zeros(segments, int), b, a], -1) + offset
    return pos, tri, uv, normal


def _side(
    r_bottom: float, r_top: float, z_lo: float, z_hi: float, segments: int, offset: int
) -> tuple[np.ndarray, ...]:
    ang = np.linspace(0.0, 2 * np.pi, segments + 1)
    z = np.array([z_lo, z_hi])
    zz, aa = np.meshgrid(z, ang, indexing="ij")
    rr = np.where(zz == z_hi, r_top, r_bottom)
    pos = np.stack([rr * np.cos(aa), rr * np.sin(aa), zz], -1).reshape(-1, 3)
    slope = (r_bottom - r_top) / (z_hi - z_lo)
    normal = np.stack([np.cos(aa), np.sin(aa), np.full_like(aa, slope)], -1).reshape(-1, 3)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    uv = np.stack([(aa / (2 * np.pi)).reshape(-1), ((zz - z_lo) / (z_hi - z_lo)).reshape(-1)], -1)
    return pos, _grid(1, segments, offset), uv, normal


def _assemble(parts: list[tuple[np.ndarray, ...]]) -> TriMesh:
    pos = np.vstack([p[0] for p in parts])
    faces = np.vstack([p[1] for p in parts]).astype(np.int32)
    uv = np.vstack([p[2] for p in parts])
    normal = np.vstack([p[3] for p in parts])
    return TriMesh(pos, faces, uv, normal)


def _cylinder(radius: float, height: float, segments: int) -> TriMesh:
    h = height / 2
    side = _side(radius, radius, -h, h, segments, 0)
    n = len(side[0])
    top = _disk(radius, h, True, segments, n)
    bottom = _disk(radius, -h, False, segments, n + len(top[0]))
    return _assemble([side, top, bottom])


def _cone(radius: float, height: float, segments: int) -> TriMesh:
    h = height / 2
    side = _side(radius, 0.0, -h, h, segments, 0)
    bottom = _disk(radius, -h, False, segments, len(side[0]))
    return _assemble([side, bottom])


def _capsule(radius: float, height: float, segments: int, rings: int) -> TriMesh:
    h = height / 2
    half = max(2, rings // 2)
    lower = _sphere_band(radius, -h, -h, -np.pi / 2, 0.0, half, segments, 0.0, 0.25, 0)
    side = _side(radius, radius, -h, h, segments, len(lower[0]))
    upper = _sphere_band(radius, h, h, 0.0, np.pi / 2, half, segments, 0.75, 1.0, len(lower[0]) + len(side[0]))
    return _assemble([lower, side, upper])


def _plane(width: float, length: float, axis: str) -> TriMesh:
    w, ln = width / 2, length / 2
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    if axis == "Z":  # width along X, length along Y
        pos = np.array([[-w, -ln, 0], [w, -ln, 0], [w, ln, 0], [-w, ln, 0]], float)
        normal = [0.0, 0.0, 1.0]
    elif axis == "X":  # length along Y, width along Z
        pos = np.array([[0, -ln, -w], [0, ln, -w], [0, ln, w], [0, -ln, w]], float)
        normal = [1.0, 0.0, 0.0]
    else:  # axis Y: width along X, length along Z
        pos = np.array([[-w, 0, ln], [w, 0, ln], [w, 0, -ln], [-w, 0, -ln]], float)
        normal = [0.0, 1.0, 0.0]
    faces = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32)
    return TriMesh(pos, faces, uv, np.tile(normal, (4, 1)))


def tessellate_shape(kind: str, spec: object, segments: int = 48, rings: int = 24) -> TriMesh:
    """Triangles of a primitive ``kind`` with its spec (``CubeSpec``, ``SphereSpec``, …)."""
    if kind == "cube":
        return _cube(spec.size_m)  # type: ignore[attr-defined]
    if kind == "sphere":
        return _sphere(spec.radius_m, segments, rings)  # type: ignore[attr-defined]
    if kind == "plane":
        return _plane(spec.width_m, spec.length_m, spec.axis)  # type: ignore[attr-defined]
    if kind == "cylinder":
        mesh = _cylinder(spec.radius_m, spec.height_m, segments)  # type: ignore[attr-defined]
    elif kind == "cone":
        mesh = _cone(spec.radius_m, spec.height_m, segments)  # type: ignore[attr-defined]
    elif kind == "capsule":
        mesh = _capsule(spec.radius_m, spec.height_m, segments, rings)  # type: ignore[attr-defined]
    else:
        raise ValueError(f"not a primitive: {kind}")
    axis = spec.axis  # type: ignore[attr-defined]
    return TriMesh(_permute(mesh.vertices, axis), mesh.faces, mesh.uvs, _permute(mesh.normals, axis))
