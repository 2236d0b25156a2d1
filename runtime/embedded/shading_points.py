"""Camera-ray hits turned into shading points (numba, parallel over hits).

Both normals are flipped to face the viewer (geometric first, then the shading normal to its
side), so single-sided thin geometry is lit from whichever side the camera sees. F0 follows
UsdPreviewSurface: ``specularColor`` in the specular workflow (and then no metallic tint),
else ``mix(0.04, albedo, metallic)``; it is computed after textures have set the albedo.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

__all__ = ["ShadingPoints", "fresnel_f0", "shading_points"]


class ShadingPoints(NamedTuple):
    points: np.ndarray  # (M, 3) world hit points
    normals: np.ndarray  # (M, 3) shading normals, facing the viewer
    geo_normals: np.ndarray  # (M, 3) geometric normals, facing the viewer
    view: np.ndarray  # (M, 3) unit, towards the eye
    t: np.ndarray  # (M,) hit distance along the ray
    albedo: np.ndarray  # (M, 3) of the gprim's material (textures applied by the caller)
    roughness: np.ndarray  # (M,)
    metallic: np.ndarray  # (M,)
    specular: np.ndarray  # (M, 3) specularColor, negative in the metallic workflow
    emissive: np.ndarray  # (M, 3)
    gprim: np.ndarray  # (M,) each point's gprim
    entering: np.ndarray  # (M,) the ray arrives on the face's outer side (against its winding normal)


@nb.njit(parallel=True, cache=True)
def _shading_points(
    sel, origins, directions, t, face_normals, shading_normals, gprim, albedo, rough, metal, spec, emis
):  # type: ignore[no-untyped-def]
    m = sel.shape[0]
    points, normals, geo, view = np.empty((m, 3)), np.empty((m, 3)), np.empty((m, 3)), np.empty((m, 3))
    t_out, a_out, r_out = np.empty(m), np.empty((m, 3)), np.empty(m)
    m_out, s_out, e_out = np.empty(m), np.empty((m, 3)), np.empty((m, 3))
    g_out, entering = np.empty(m, dtype=gprim.dtype), np.empty(m, dtype=np.bool_)
    for j in nb.prange(m):
        i, g = sel[j], gprim[sel[j]]
        g_out[j], t_out[j], r_out[j], m_out[j] = g, t[i], rough[g], metal[g]
        g_dot_v = 0.0
        for c in range(3):
            points[j, c] = origins[i, c] + directions[i, c] * t[i]
            view[j, c] = -directions[i, c]
            g_dot_v += face_normals[i, c] * view[j, c]
            a_out[j, c], s_out[j, c], e_out[j, c] = albedo[g, c], spec[g, c], emis[g, c]
        entering[j] = g_dot_v > 0.0  # the winding normal faces back along the ray
        g_sign = -1.0 if g_dot_v < 0.0 else 1.0
        n_dot_g = 0.0
        for c in range(3):
            geo[j, c] = face_normals[i, c] * g_sign
            n_dot_g += shading_normals[i, c] * geo[j, c]
        n_sign = -1.0 if n_dot_g < 0.0 else 1.0
        for c in range(3):
            normals[j, c] = shading_normals[i, c] * n_sign
    return points, normals, geo, view, t_out, a_out, r_out, m_out, s_out, e_out, g_out, entering


def shading_points(
    sel: np.ndarray,
    origins: np.ndarray,
    directions: np.ndarray,
    hits: dict[str, np.ndarray],
    shading_normals: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> ShadingPoints:
    """Shading points of rays ``sel``; ``tables`` are per-gprim (albedo, roughness, metallic,
    specular, emissive) rows."""
    return ShadingPoints(
        *_shading_points(
            sel, origins, directions, hits["t"], hits["face_normal"], shading_normals, hits["gprim"], *tables
        )
    )


@nb.njit(parallel=True, cache=True)
def fresnel_f0(albedo: np.ndarray, metallic: np.ndarray, specular: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F0 (M, 3) and the metallic weight the BRDF uses (0 in the specular workflow)."""
    m = albedo.shape[0]
    f0, metal = np.empty((m, 3)), np.empty(m)
    for j in nb.prange(m):
        if specular[j, 0] >= 0.0:
            metal[j] = 0.0
            for c in range(3):
                f0[j, c] = specular[j, c]
        else:
            metal[j] = metallic[j]
            for c in range(3):
                f0[j, c] = 0.04 * (1.0 - metallic[j]) + albedo[j, c] * metallic[j]
    return f0, metal
