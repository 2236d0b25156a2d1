"""Tangent-space normal maps: the per-hit tangent frame from a triangle's positions and UVs.

The tangent T and bitangent B are the directions in which the texture's u and v grow on the
triangle (the standard per-triangle solve of dP = T·du + B·dv), made orthonormal against the
shading normal N (Gram–Schmidt), with B's handedness kept so mirrored UVs stay right. A map
value n_ts = (x, y, z) in [-1, 1] then gives the shading normal x·T + y·B + z·N. Triangles
whose UVs are degenerate (no texture layout) keep N.
"""

from __future__ import annotations

import numpy as np

__all__ = ["perturbed_normals"]

_MIN_FACING = 1e-3
"""A bent normal must face the viewer by at least this cosine; below it, it is pulled back
toward the view direction (a map cannot turn a visible surface away from the camera)."""


def perturbed_normals(
    normals: np.ndarray, view: np.ndarray, corners: np.ndarray, corner_uvs: np.ndarray, tangent_normals: np.ndarray
) -> np.ndarray:
    """Shading normals (M, 3) bent by a normal map.

    ``normals``: (M, 3) unit shading normals facing the viewer; ``view``: (M, 3) unit vectors
    toward the viewer; ``corners``: (M, 3, 3) the hit triangles' world positions;
    ``corner_uvs``: (M, 3, 2) their UVs; ``tangent_normals``: (M, 3) map values in [-1, 1]."""
    dp1, dp2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    duv1, duv2 = corner_uvs[:, 1] - corner_uvs[:, 0], corner_uvs[:, 2] - corner_uvs[:, 0]
    det = duv1[:, 0] * duv2[:, 1] - duv2[:, 0] * duv1[:, 1]
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)[:, None]
    tangent = (dp1 * duv2[:, 1:2] - dp2 * duv1[:, 1:2]) * inv
    bitangent = (dp2 * duv1[:, 0:1] - dp1 * duv2[:, 0:1]) * inv
    n = normals
    tangent = tangent - np.einsum("ij,ij->i", tangent, n)[:, None] * n
    length = np.linalg.norm(tangent, axis=1)
    ok &= length > 1e-12
    tangent = tangent / np.where(ok, length, 1.0)[:, None]
    handed = np.where(np.einsum("ij,ij->i", np.cross(n, tangent), bitangent) < 0.0, -1.0, 1.0)
    bitangent = handed[:, None] * np.cross(n, tangent)
    ts = tangent_normals
    bent = ts[:, 0:1] * tangent + ts[:, 1:2] * bitangent + ts[:, 2:3] * n
    length = np.linalg.norm(bent, axis=1)
    ok &= length > 1e-12
    bent = bent / np.where(ok, length, 1.0)[:, None]
    facing = np.einsum("ij,ij->i", bent, view)
    low = ok & (facing < _MIN_FACING)
    if low.any():  # pull back into the visible hemisphere, keeping the bend's azimuth
        bent[low] += (_MIN_FACING - facing[low])[:, None] * view[low]
        bent[low] /= np.linalg.norm(bent[low], axis=1)[:, None]
    return np.where(ok[:, None], bent, n)
