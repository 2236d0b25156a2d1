"""Geometry for placing objects without overlap: footprints on surfaces, spheres in volumes.

On a surface an object's footprint is the convex hull of its rotated, scaled bounding box
projected on the ground plane; two footprints overlap when the separating-axis test finds no
gap. In a volume objects are bounded by spheres. Both tests are conservative: accepted
placements never intersect, whatever the shape inside the box.
"""

from __future__ import annotations

import numpy as np

__all__ = [
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
