"""Geometry for placing objects without overlap: footprints on surfaces, spheres in volumes.

On a surface an object's footprint is the convex hull of its rotated, scaled bounding box
projected on the ground plane; two footprints overlap when the separating-axis test finds no
gap. In a volume objects are bounded by spheres. Both tests are conservative: accepted
placements never intersect, whatever the shape inside the box.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..sensors.conventions import quat_to_rotation_matrix, transform_matrix
from .prim_paths import asset_paths

if TYPE_CHECKING:
    from .frame_state import FrameState
    from .resolved import ShapeGeometry

__all__ = [
    "SurfacePlacer",
    "VolumePlacer",
    "bounding_radius",
    "footprint",
    "obstacles",
    "surface_outline",
    "convex_hull_2d",
    "inflate_polygon",
    "point_in_convex",
    "polygon_inside",
    "polygons_overlap",
    "support_outline",
    "uniform_quat",
]


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (Andrew's monotone chain) of (N, 2) points."""
    pts = np.unique(np.round(np.asarray(points, dtype=np.float64), 12), axis=0)
    if len(pts) <= 2:
        return pts
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lower: list[np.ndarray] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[np.ndarray] = []
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def _axes(poly: np.ndarray) -> np.ndarray:
    edges = np.roll(poly, -1, axis=0) - poly
    normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals[lengths[:, 0] > 1e-15] / lengths[lengths[:, 0] > 1e-15]


def polygons_overlap(a: np.ndarray, b: np.ndarray, gap: float = 0.0) -> bool:
    """True unless a separating axis shows a gap of at least ``gap`` between convex ``a`` and ``b``."""
    for axis in np.concatenate([_axes(a), _axes(b)]):
        pa, pb = a @ axis, b @ axis
        if pa.max() + gap <= pb.min() or pb.max() + gap <= pa.min():
            return False
    return True


def point_in_convex(poly: np.ndarray, point: np.ndarray, inset: float = 0.0) -> bool:
    """``point`` inside the counter-clockwise convex ``poly``, at least ``inset`` from every edge."""
    edges = np.roll(poly, -1, axis=0) - poly
    rel = point - poly
    cross = edges[:, 0] * rel[:, 1] - edges[:, 1] * rel[:, 0]
    lengths = np.linalg.norm(edges, axis=1)
    keep = lengths > 1e-15
    return bool(np.all(cross[keep] / lengths[keep] >= inset))


def polygon_inside(inner: np.ndarray, outer: np.ndarray, inset: float = 0.0) -> bool:
    return all(point_in_convex(outer, p, inset) for p in inner)


def inflate_polygon(poly: np.ndarray, amount: float) -> np.ndarray:
    """Move every vertex away from the centroid so edges lie ``amount`` further out (approx.)."""
    if amount == 0:
        return poly
    center = poly.mean(axis=0)
    out = poly - center
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms < 1e-15] = 1.0
    return poly + out / norms * amount


def uniform_quat(rng: np.random.Generator) -> np.ndarray:
    """A rotation uniform over SO(3) (Shoemake's method), as ``(w, x, y, z)`` with w >= 0."""
    u1, u2, u3 = rng.random(3)
    a, b = np.sqrt(1 - u1), np.sqrt(u1)
    x, y = a * np.sin(2 * np.pi * u2), a * np.cos(2 * np.pi * u2)
    z, w = b * np.sin(2 * np.pi * u3), b * np.cos(2 * np.pi * u3)
    q = np.array([w, x, y, z])
    return q if q[0] >= 0 else -q


def support_outline(height: float, polygon: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """World outline (CCW convex polygon) and height of a support top given in a prim's local
    frame, for the prim's local-to-world row-vector ``matrix``."""
    local = np.array([[x, y, height, 1.0] for x, y in polygon])
    world = local @ matrix
    return convex_hull_2d(world[:, :2]), float(world[:, 2].mean())


def surface_outline(frame: FrameState, loc: tuple, surface: str) -> tuple[np.ndarray, float]:
    """World outline (CCW polygon) and height of the top of asset ``surface`` this frame; a
    surface without a flat top, or tilted, is bad input at ``loc``."""
    geometry = frame.r.assets[surface]
    if geometry.support is None:
        raise frame.r.document.error(
            loc,
            f"asset '{surface}' has no upward-facing top to place objects on",
            expected="a box, cylinder, plane or mesh with a flat top",
            got=geometry.kind,
        )
    path = asset_paths(surface, frame.s.assets[surface].count)[0]
    translate, orient, scale = frame.pose(path, frame.s.assets[surface])
    matrix = transform_matrix(translate, orient, scale)
    if abs(matrix[2, 2] / np.linalg.norm(matrix[2, :3]) - 1.0) > 1e-6:
        raise frame.r.document.error(
            loc,
            f"surface '{surface}' is tilted; objects can only rest on a level top",
            expected="a surface rotated only about the vertical",
            got=orient.tolist(),
        )
    return support_outline(geometry.support.height, np.asarray(geometry.support.polygon), matrix)


def obstacles(frame: FrameState, surface: str) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """World (xy min, xy max, top z) of every visible asset other than ``surface`` this frame."""
    out = []
    for name in sorted(frame.s.assets):
        if name == surface:
            continue
        asset = frame.s.assets[name]
        for path in asset_paths(name, asset.count):
            if not frame.visible(path, asset.visible):
                continue
            translate, orient, scale = frame.pose(path, asset)
            corners = frame.r.assets[name].bounds.corners() * scale @ quat_to_rotation_matrix(orient) + translate
            out.append((corners[:, :2].min(axis=0), corners[:, :2].max(axis=0), float(corners[:, 2].max())))
    return out


def footprint(geometry: ShapeGeometry, scale: np.ndarray, orient: np.ndarray) -> tuple[np.ndarray, float]:
    """Ground-plane footprint (relative to the prim origin) and lowest point of the rotated box."""
    corners = geometry.bounds.corners() * scale @ quat_to_rotation_matrix(orient)
    return convex_hull_2d(corners[:, :2]), float(corners[:, 2].min())


def bounding_radius(geometry: ShapeGeometry, scale: np.ndarray) -> float:
    return float(np.linalg.norm(geometry.bounds.corners() * scale, axis=1).max())


class SurfacePlacer:
    """Rejection sampling of non-overlapping resting poses on one convex top surface."""

    def __init__(self, outline: np.ndarray, height: float, margin: float, no_overlap: bool) -> None:
        self.outline = outline
        self.height = height
        self.margin = margin
        self.no_overlap = no_overlap
        self.lo, self.hi = outline.min(axis=0), outline.max(axis=0)
        self.placed: list[np.ndarray] = []

    def try_place(self, rng: np.random.Generator, footprint: np.ndarray) -> np.ndarray | None:
        center = rng.uniform(self.lo, self.hi)
        shape = footprint + center
        if not polygon_inside(shape, self.outline, self.margin):
            return None
        if self.no_overlap and any(polygons_overlap(shape, other, self.margin) for other in self.placed):
            return None
        self.placed.append(shape)
        return center


class VolumePlacer:
    """Rejection sampling of non-overlapping bounding spheres inside a box."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, margin: float, no_overlap: bool) -> None:
        self.lo, self.hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        self.margin = margin
        self.no_overlap = no_overlap
        self.placed: list[tuple[np.ndarray, float]] = []

    def try_place(self, rng: np.random.Generator, radius: float) -> np.ndarray | None:
        lo, hi = self.lo + radius, self.hi - radius
        mid = (self.lo + self.hi) / 2
        lo, hi = np.where(lo <= hi, lo, mid), np.where(lo <= hi, hi, mid)
        point = rng.uniform(lo, hi)
        if self.no_overlap and any(np.linalg.norm(point - p) < radius + r + self.margin for p, r in self.placed):
            return None
        self.placed.append((point, radius))
        return point
