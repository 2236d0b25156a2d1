"""UsdLux lights as sampling strategies for direct lighting.

Units (documented in the README "Lighting" section, and the same for every light type):
the light's *scale* is ``intensity × 2^exposure × color`` (× the blackbody colour of
``colorTemperature`` when ``enableColorTemperature`` is on, exactly
``pxr.UsdLux.BlackbodyTemperatureAsRgb``).

- distant: the scale is the irradiance on a surface facing the light (it shines along its
  local −Z); ``angle`` (degrees, full apex angle) spreads it over a cone (soft shadows).
- sphere, disk, rect: the scale is the radiance of the emitting surface; with ``normalize``
  it is divided by the surface area (4πr², πr², w·h), so power no longer depends on size.
  Disk and rect lights emit from their −Z face only (UsdLux).
- dome: the scale (times its lat-long texture, if any) is the radiance arriving from every
  direction; it is also what camera rays that hit nothing see.

Sampling returns, per shading point and sample, an incident direction ``l``, the distance to
the light (for shadow rays) and ``Li / pdf`` in solid-angle measure, so the estimator is
``(1/S) Σ f · (Li/pdf) · max(0, n·l) · V``, and the pdf itself (the path engine weighs light
sampling against BRDF sampling with it). Samples are deterministic: they are driven by the
frame's seeded generator.

Sphere, disk, rect and soft distant lights can also be *hit* (``hit``): a ray that meets one
sees its radiance, with the pdf light sampling would have drawn that direction with. The path
engine adds what its BRDF-sampled rays see this way (multiple importance sampling; a mirror
shows the lamp), and camera rays see a light whose ``visibleInPrimaryRay`` is on (RTX's own
attribute on UsdLux lights, off unless authored, as in RTX). Lights stay transparent: they
cast no shadows of their own, so a ray carries on through one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ..usd.light_attrs import visible_in_primary_ray
from ..usd.materials import PROCEDURAL_ATTR
from ..usd.textures import load_texture, procedural_image

__all__ = ["DomeLight", "LightHit", "LightSample", "read_lights"]


@dataclass
class LightSample:
    """Per point, or one row shared by every point (a sun: direction, ∞, its irradiance)."""

    direction: np.ndarray  # (M, 3) or (1, 3) unit, from the point towards the light
    distance: np.ndarray  # (M,) or (1,) to the light (inf for distant and dome)
    li_over_pdf: np.ndarray  # (M, 3) or (1, 3)
    lit: np.ndarray | None = None
    """(M,) points facing the sample with both normals and receiving radiance, when the
    sampling kernel already knows (saves the renderer a pass over every point)."""
    pdf: np.ndarray | None = None
    """(M,) solid-angle pdf of each direction, when the sampling kernel already knows (MIS)."""


@dataclass
class LightHit:
    """Where rays meet a light: ``t`` in units of each ray's direction (inf for a light at
    infinity), whether they meet it at all, the radiance they see there, and the solid-angle
    pdf with which the light's ``sample`` draws that direction from the ray's origin."""

    t: np.ndarray  # (M,)
    mask: np.ndarray  # (M,) bool
    radiance: np.ndarray  # (M, 3) or (1, 3)
    pdf: np.ndarray  # (M,)


def _scale(prim: Any) -> np.ndarray:
    from pxr import UsdLux

    light = UsdLux.LightAPI(prim)
    intensity = float(light.GetIntensityAttr().Get() or 0.0)
    exposure = float(light.GetExposureAttr().Get() or 0.0)
    color = np.asarray(light.GetColorAttr().Get() or (1.0, 1.0, 1.0), dtype=np.float64)
    scale = intensity * 2.0**exposure * color
    if light.GetEnableColorTemperatureAttr().Get():
        temp = float(light.GetColorTemperatureAttr().Get() or 6500.0)
        scale = scale * np.asarray(UsdLux.BlackbodyTemperatureAsRgb(temp), dtype=np.float64)
    return scale


def casts_shadows(prim: Any) -> bool:
    """UsdLux ``ShadowAPI``'s ``inputs:shadow:enable`` (on unless authored off)."""
    attr = prim.GetAttribute("inputs:shadow:enable")
    return not (attr and attr.Get() is False)


def _normalize(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return v / n


@nb.njit(cache=True)
def _basis(ax: float, ay: float, az: float) -> tuple[float, float, float, float, float, float]:
    """Two unit vectors (t, b) orthogonal to the unit axis, t = normalize(axis × helper)."""
    hx, hy = (1.0, 0.0) if abs(ax) < 0.9 else (0.0, 1.0)
    tx, ty, tz = -az * hy, az * hx, ax * hy - ay * hx  # axis × (hx, hy, 0)
    length = math.sqrt(tx * tx + ty * ty + tz * tz)
    if length > 0.0:
        tx, ty, tz = tx / length, ty / length, tz / length
    return tx, ty, tz, ay * tz - az * ty, az * tx - ax * tz, ax * ty - ay * tx


@nb.njit(cache=True)
def _cone_dir(ax: float, ay: float, az: float, cos_max: float, u0: float, u1: float) -> tuple[float, float, float]:
    """A direction uniform in the cone of half-angle acos(cos_max) around the unit axis."""
    cos_t = 1.0 - u0 * (1.0 - cos_max)
    sin_t = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    phi = 2.0 * math.pi * u1
    tx, ty, tz, bx, by, bz = _basis(ax, ay, az)
    a, b = sin_t * math.cos(phi), sin_t * math.sin(phi)
    return tx * a + bx * b + ax * cos_t, ty * a + by * b + ay * cos_t, tz * a + bz * b + az * cos_t


@nb.njit(cache=True)
def _facing(normals: np.ndarray, geo_normals: np.ndarray, i: int, dx: float, dy: float, dz: float) -> bool:
    """Both the shading and the geometric normal of point ``i`` face direction d."""
    cos = normals[i, 0] * dx + normals[i, 1] * dy + normals[i, 2] * dz
    cos_geo = geo_normals[i, 0] * dx + geo_normals[i, 1] * dy + geo_normals[i, 2] * dz
    return cos > 0.0 and cos_geo > 0.0


@nb.njit(parallel=True, cache=True)
def _cone_samples(
    axis: np.ndarray, cos_max: float, u: np.ndarray, normals: np.ndarray, geo_normals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    out, lit = np.empty((u.shape[0], 3)), np.empty(u.shape[0], dtype=np.bool_)
    for i in nb.prange(u.shape[0]):
        d = _cone_dir(axis[0], axis[1], axis[2], cos_max, u[i, 0], u[i, 1])
        out[i, 0], out[i, 1], out[i, 2] = d
        lit[i] = _facing(normals, geo_normals, i, d[0], d[1], d[2])
    return out, lit


@nb.njit(parallel=True, cache=True)
def _cone_hits(
    directions: np.ndarray, axis: np.ndarray, cos_max: float, solid_angle: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays within the cone of half-angle acos(cos_max) about the unit axis: t = inf (a light at
    infinity), mask, and the pdf of ``_cone_samples`` (1 / the cone's solid angle)."""
    m = directions.shape[0]
    t, mask, pdf = np.full(m, np.inf), np.zeros(m, dtype=np.bool_), np.zeros(m)
    if solid_angle <= 0.0:
        return t, mask, pdf
    for i in nb.prange(m):
        dx, dy, dz = directions[i, 0], directions[i, 1], directions[i, 2]
        length = math.sqrt(dx * dx + dy * dy + dz * dz)
        if length > 0.0 and dx * axis[0] + dy * axis[1] + dz * axis[2] >= cos_max * length:
            mask[i], pdf[i] = True, 1.0 / solid_angle
    return t, mask, pdf


@nb.njit(parallel=True, cache=True)
def _sphere_samples(
    points: np.ndarray,
    normals: np.ndarray,
    geo_normals: np.ndarray,
    center: np.ndarray,
    radius: float,
    radiance: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Uniform samples of the cone the sphere subtends: direction, distance to its near side,
    Li/pdf, lit, pdf (1 / the cone's solid angle; 0 inside the sphere)."""
    m = points.shape[0]
    directions, distance, li = np.empty((m, 3)), np.empty(m), np.empty((m, 3))
    lit, pdf = np.empty(m, dtype=np.bool_), np.empty(m)
    positive = max(radiance[0], radiance[1], radiance[2]) > 0.0
    for i in nb.prange(m):
        cx, cy, cz = center[0] - points[i, 0], center[1] - points[i, 1], center[2] - points[i, 2]
        dist = math.sqrt(cx * cx + cy * cy + cz * cz)
        inside = dist <= radius
        safe = radius * 2.0 if inside else dist
        sin2 = min(max((radius / safe) ** 2, 0.0), 1.0)
        cos_max = math.sqrt(1.0 - sin2)
        d = _cone_dir(cx / safe, cy / safe, cz / safe, cos_max, u[i, 0], u[i, 1])
        b = d[0] * cx + d[1] * cy + d[2] * cz
        c = dist * dist - radius * radius
        distance[i] = max(b - math.sqrt(max(b * b - c, 0.0)), 0.0)
        solid_angle = 2.0 * math.pi * (1.0 - cos_max)
        for k in range(3):
            directions[i, k] = d[k]
            li[i, k] = 0.0 if inside else radiance[k] * solid_angle
        pdf[i] = 0.0 if inside or solid_angle <= 0.0 else 1.0 / solid_angle
        lit[i] = positive and not inside and _facing(normals, geo_normals, i, d[0], d[1], d[2])
    return directions, distance, li, lit, pdf


@nb.njit(parallel=True, cache=True)
def _sphere_hits(
    origins: np.ndarray, directions: np.ndarray, center: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays meeting the sphere from outside: t of the near side, mask, and the pdf of
    ``_sphere_samples`` from each origin (1 / the subtended cone's solid angle)."""
    m = origins.shape[0]
    t, mask, pdf = np.full(m, np.inf), np.zeros(m, dtype=np.bool_), np.zeros(m)
    r2 = radius * radius
    for i in nb.prange(m):
        cx, cy, cz = center[0] - origins[i, 0], center[1] - origins[i, 1], center[2] - origins[i, 2]
        dx, dy, dz = directions[i, 0], directions[i, 1], directions[i, 2]
        dist2 = cx * cx + cy * cy + cz * cz
        a = dx * dx + dy * dy + dz * dz
        b = dx * cx + dy * cy + dz * cz
        if dist2 <= r2 or a <= 0.0 or b <= 0.0:  # inside (sampling sees nothing there) or facing away
            continue
        disc = b * b - a * (dist2 - r2)
        if disc < 0.0:
            continue
        root = (b - math.sqrt(disc)) / a
        if root <= 0.0:
            continue
        cos_max = math.sqrt(1.0 - min(max(r2 / dist2, 0.0), 1.0))
        solid_angle = 2.0 * math.pi * (1.0 - cos_max)
        if solid_angle <= 0.0:
            continue
        t[i], mask[i], pdf[i] = root, True, 1.0 / solid_angle
    return t, mask, pdf


@nb.njit(parallel=True, cache=True)
def _area_samples(
    points: np.ndarray,
    normals: np.ndarray,
    geo_normals: np.ndarray,
    matrix: np.ndarray,
    normal: np.ndarray,
    radiance: np.ndarray,
    area: float,
    disk_radius: float,
    rect_size: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Uniform samples over a disk (``disk_radius`` > 0) or rect's local XY face: direction,
    distance, Li/pdf = L·A·cosθ_light / d² (zero behind the emitting face), lit and the
    solid-angle pdf d² / (A·cosθ_light) (0 behind the face)."""
    m = points.shape[0]
    directions, distance, li = np.empty((m, 3)), np.empty(m), np.empty((m, 3))
    lit, pdf = np.empty(m, dtype=np.bool_), np.empty(m)
    positive = max(radiance[0], radiance[1], radiance[2]) > 0.0
    for i in nb.prange(m):
        if disk_radius > 0.0:
            r = disk_radius * math.sqrt(u[i, 0])
            phi = 2.0 * math.pi * u[i, 1]
            x, y = r * math.cos(phi), r * math.sin(phi)
        else:
            x, y = (u[i, 0] - 0.5) * rect_size[0], (u[i, 1] - 0.5) * rect_size[1]
        lx = x * matrix[0, 0] + y * matrix[1, 0] + matrix[3, 0] - points[i, 0]
        ly = x * matrix[0, 1] + y * matrix[1, 1] + matrix[3, 1] - points[i, 1]
        lz = x * matrix[0, 2] + y * matrix[1, 2] + matrix[3, 2] - points[i, 2]
        dist = math.sqrt(lx * lx + ly * ly + lz * lz)
        inv = 1.0 / max(dist, 1e-12)
        cos_light = max(0.0, -(lx * normal[0] + ly * normal[1] + lz * normal[2]) * inv)
        g = area * cos_light / max(dist * dist, 1e-12)
        distance[i] = dist
        directions[i, 0], directions[i, 1], directions[i, 2] = lx * inv, ly * inv, lz * inv
        for k in range(3):
            li[i, k] = radiance[k] * g
        pdf[i] = 1.0 / g if g > 0.0 else 0.0
        lit[i] = positive and g > 0.0 and _facing(normals, geo_normals, i, lx * inv, ly * inv, lz * inv)
    return directions, distance, li, lit, pdf


@nb.njit(parallel=True, cache=True)
def _area_hits(
    origins: np.ndarray,
    directions: np.ndarray,
    matrix: np.ndarray,
    normal: np.ndarray,
    area: float,
    disk_radius: float,
    rect_size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays meeting the emitting (−Z) face of a disk (``disk_radius`` > 0) or rect: t, mask,
    and the pdf of ``_area_samples`` for that point, d² / (A·cosθ_light). The hit point is
    mapped back to the light's local XY through the Gram matrix of its X and Y axes, the
    inverse of the map the sampler uses (so a scaled or sheared light is hit where it emits)."""
    m = origins.shape[0]
    t, mask, pdf = np.full(m, np.inf), np.zeros(m, dtype=np.bool_), np.zeros(m)
    axx, axy, axz = matrix[0, 0], matrix[0, 1], matrix[0, 2]
    ayx, ayy, ayz = matrix[1, 0], matrix[1, 1], matrix[1, 2]
    g00, g11 = axx * axx + axy * axy + axz * axz, ayx * ayx + ayy * ayy + ayz * ayz
    g01 = axx * ayx + axy * ayy + axz * ayz
    det = g00 * g11 - g01 * g01
    if det <= 0.0 or area <= 0.0:
        return t, mask, pdf
    nx, ny, nz = normal[0], normal[1], normal[2]
    for i in nb.prange(m):
        dx, dy, dz = directions[i, 0], directions[i, 1], directions[i, 2]
        denom = dx * nx + dy * ny + dz * nz
        if denom >= 0.0:  # parallel to the face, or arriving from behind it (it emits along normal)
            continue
        root = ((matrix[3, 0] - origins[i, 0]) * nx + (matrix[3, 1] - origins[i, 1]) * ny
                + (matrix[3, 2] - origins[i, 2]) * nz) / denom  # fmt: skip
        if root <= 0.0:
            continue
        px = origins[i, 0] + root * dx - matrix[3, 0]
        py = origins[i, 1] + root * dy - matrix[3, 1]
        pz = origins[i, 2] + root * dz - matrix[3, 2]
        ra, rb = px * axx + py * axy + pz * axz, px * ayx + py * ayy + pz * ayz
        x, y = (g11 * ra - g01 * rb) / det, (g00 * rb - g01 * ra) / det
        if disk_radius > 0.0:
            if x * x + y * y > disk_radius * disk_radius:
                continue
        elif abs(x) > 0.5 * rect_size[0] or abs(y) > 0.5 * rect_size[1]:
            continue
        length = math.sqrt(dx * dx + dy * dy + dz * dz)
        dist = root * length
        cos_light = -denom / length
        t[i], mask[i], pdf[i] = root, True, dist * dist / (area * cos_light)
    return t, mask, pdf


@nb.njit(parallel=True, cache=True)
def _cosine_samples(
    normals: np.ndarray, geo_normals: np.ndarray, u: np.ndarray, radiance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cosine-weighted hemisphere directions about each normal under a uniform ``radiance``:
    direction, Li/pdf (``radiance · π / cosθ``), lit and the solid-angle pdf (cosθ / π), in one
    pass (the renderer's MIS needs the pdf; numpy passes for each cost more than the sampling)."""
    m = normals.shape[0]
    directions, li, lit, pdf = np.empty((m, 3)), np.empty((m, 3)), np.empty(m, dtype=np.bool_), np.empty(m)
    positive = max(radiance[0], radiance[1], radiance[2]) > 0.0
    for i in nb.prange(m):
        nx, ny, nz = normals[i, 0], normals[i, 1], normals[i, 2]  # scalars: a row view per point costs more
        r = math.sqrt(u[i, 0])
        phi = 2.0 * math.pi * u[i, 1]
        z = math.sqrt(max(0.0, 1.0 - u[i, 0]))
        tx, ty, tz, bx, by, bz = _basis(nx, ny, nz)
        a, b = r * math.cos(phi), r * math.sin(phi)
        dx, dy, dz = tx * a + bx * b + nx * z, ty * a + by * b + ny * z, tz * a + bz * b + nz * z
        directions[i, 0], directions[i, 1], directions[i, 2] = dx, dy, dz
        inv_pdf = math.pi / max(z, 1e-8)
        for c in range(3):
            li[i, c] = radiance[c] * inv_pdf
        pdf[i] = z / math.pi
        lit[i] = positive and z > 0.0 and _facing(normals, geo_normals, i, dx, dy, dz)
    return directions, li, lit, pdf


class DistantLight:
    def __init__(self, prim: Any, matrix: np.ndarray) -> None:
        self.shadows = casts_shadows(prim)
        self.visible_in_primary_ray = visible_in_primary_ray(prim)
        from pxr import UsdLux

        self.scale = _scale(prim)
        self.toward = _normalize(matrix[2, :3].copy())  # the light shines along −Z; light is toward +Z
        self.half_angle = math.radians(float(UsdLux.DistantLight(prim).GetAngleAttr().Get() or 0.0)) / 2
        self.cos_max = math.cos(self.half_angle)
        self.solid_angle = 2.0 * math.pi * (1.0 - self.cos_max)

    @property
    def hittable(self) -> bool:
        """A sun with an angle is a disc of the sky a ray can see; a zero-angle one is a delta."""
        return self.solid_angle > 0.0 and self.scale.max() > 0

    def sample(self, points: np.ndarray, normals: np.ndarray, geo_normals: np.ndarray, u: np.ndarray) -> LightSample:
        if self.hittable:
            direction, lit = _cone_samples(self.toward, self.cos_max, u, normals, geo_normals)
            pdf = np.full(len(direction), 1.0 / self.solid_angle)
            return LightSample(direction, np.array([np.inf]), self.scale[None, :], lit, pdf)
        return LightSample(self.toward[None, :], np.array([np.inf]), self.scale[None, :])

    def hit(self, origins: np.ndarray, directions: np.ndarray) -> LightHit:
        """Rays inside the sun's cone see radiance E / Ω (the irradiance spread evenly over the
        cone, exactly what sampling assumes), at infinity: only rays that leave the scene."""
        t, mask, pdf = _cone_hits(directions, self.toward, self.cos_max, self.solid_angle)
        return LightHit(t, mask, (self.scale / max(self.solid_angle, 1e-300))[None, :], pdf)


class SphereLight:
    hittable = True

    def __init__(self, prim: Any, matrix: np.ndarray) -> None:
        self.shadows = casts_shadows(prim)
        self.visible_in_primary_ray = visible_in_primary_ray(prim)
        from pxr import UsdLux

        light = UsdLux.SphereLight(prim)
        self.center = matrix[3, :3].copy()
        self.radius = float(light.GetRadiusAttr().Get() or 0.5) * float(np.linalg.norm(matrix[0, :3]))
        radiance = _scale(prim)
        if light.GetNormalizeAttr().Get():
            radiance = radiance / (4 * math.pi * self.radius**2)
        self.radiance = radiance

    def sample(self, points: np.ndarray, normals: np.ndarray, geo_normals: np.ndarray, u: np.ndarray) -> LightSample:
        return LightSample(*_sphere_samples(points, normals, geo_normals, self.center, self.radius, self.radiance, u))

    def hit(self, origins: np.ndarray, directions: np.ndarray) -> LightHit:
        t, mask, pdf = _sphere_hits(origins, directions, self.center, self.radius)
        return LightHit(t, mask, self.radiance[None, :], pdf)


class AreaLight:
    """Disk and rect lights: uniform samples over the emitting face (its local −Z side)."""

    hittable = True

    def __init__(self, prim: Any, matrix: np.ndarray, kind: str) -> None:
        self.shadows = casts_shadows(prim)
        self.visible_in_primary_ray = visible_in_primary_ray(prim)
        from pxr import UsdLux

        self.kind = kind
        self.matrix = matrix
        # the face is spanned by the world images of local X and Y: its normal is their cross
        # product and a local area element scales by its length (also under a shearing parent,
        # where the image of Z is not normal to the face)
        face = np.cross(matrix[0, :3], matrix[1, :3])
        stretch = float(np.linalg.norm(face))
        self.radius = 0.0  # > 0 selects disk sampling
        self.size = np.zeros(2)
        if kind == "disk":
            self.radius = float(UsdLux.DiskLight(prim).GetRadiusAttr().Get() or 0.5)
            self.area = math.pi * self.radius**2 * stretch
        else:
            rect = UsdLux.RectLight(prim)
            self.size = np.array([float(rect.GetWidthAttr().Get() or 1.0), float(rect.GetHeightAttr().Get() or 1.0)])
            self.area = float(self.size[0] * self.size[1]) * stretch
        radiance = _scale(prim)
        if UsdLux.LightAPI(prim).GetNormalizeAttr().Get():
            radiance = radiance / self.area
        self.radiance = radiance
        self.normal = -_normalize(face)  # emits along −Z, the side X × Y points away from

    def sample(self, points: np.ndarray, normals: np.ndarray, geo_normals: np.ndarray, u: np.ndarray) -> LightSample:
        return LightSample(
            *_area_samples(
                points,
                normals,
                geo_normals,
                self.matrix,
                self.normal,
                self.radiance,
                self.area,
                self.radius,
                self.size,
                u,
            )
        )

    def hit(self, origins: np.ndarray, directions: np.ndarray) -> LightHit:
        t, mask, pdf = _area_hits(origins, directions, self.matrix, self.normal, self.area, self.radius, self.size)
        return LightHit(t, mask, self.radiance[None, :], pdf)


class DomeLight:
    """Radiance from every direction. A uniform dome is sampled cosine-weighted about the
    normal (zero variance on diffuse surfaces); a textured one by its luminance times the
    lat-long cell's solid angle (a 2-D table of pixel CDFs), so a small bright sun in an HDR
    image is found by a few samples instead of hidden in a cosine lobe."""

    def __init__(self, prim: Any, matrix: np.ndarray, textures: dict[str, Any]) -> None:
        self.shadows = casts_shadows(prim)
        self.scale = _scale(prim)
        rotation = matrix[:3, :3] / np.linalg.norm(matrix[:3, :3], axis=1, keepdims=True)
        self.to_local = np.linalg.inv(rotation)
        self.to_world = rotation
        self.image = _dome_image(prim, textures)
        if self.image is not None:
            self._table()

    def _table(self) -> None:
        assert self.image is not None
        h, w = self.image.shape[:2]
        elevation = (0.5 - (np.arange(h) + 0.5) / h) * math.pi  # row 0 is +Z (v = 1)
        lum = self.image @ np.array([0.2126, 0.7152, 0.0722]) * np.cos(elevation)[:, None]
        lum = np.maximum(lum, 0.0)
        total = float(lum.sum())
        if total <= 0.0:  # a black image: nothing to find, nothing to sample
            self.image_pdf = None
            return
        self.image_pdf = lum / total  # probability of each pixel
        self.cdf = np.cumsum(self.image_pdf.reshape(-1))
        self.cdf /= self.cdf[-1]

    def radiance(self, directions: np.ndarray) -> np.ndarray:
        if self.image is None:
            return np.broadcast_to(self.scale, directions.shape).copy()
        x, y = self._pixel(directions)
        return self.image[y, x] * self.scale

    def _pixel(self, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = _normalize(directions @ self.to_local)
        # Z-up lat-long: u along the azimuth from +X counter-clockwise, v from −Z (0) to +Z (1).
        u = (np.arctan2(d[:, 1], d[:, 0]) / (2 * math.pi)) % 1.0
        v = 0.5 + np.arcsin(np.clip(d[:, 2], -1, 1)) / math.pi
        h, w = self.image.shape[:2]  # type: ignore[union-attr]
        x = np.minimum((u * w).astype(np.int64), w - 1)
        y = np.minimum(((1.0 - v) * h).astype(np.int64), h - 1)
        return x, y

    @property
    def importance_sampled(self) -> bool:
        return self.image is not None and getattr(self, "image_pdf", None) is not None

    def pdf(self, normals: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Solid-angle pdf with which :meth:`sample` draws ``directions`` at points of ``normals``."""
        if not self.importance_sampled:
            return np.maximum(np.einsum("ij,ij->i", normals, directions), 0.0) / math.pi
        x, y = self._pixel(directions)
        h, w = self.image.shape[:2]  # type: ignore[union-attr]
        cos_e = np.sqrt(np.maximum(0.0, 1.0 - np.clip((_normalize(directions @ self.to_local))[:, 2], -1, 1) ** 2))
        return self.image_pdf[y, x] * (w * h) / (2.0 * math.pi * math.pi * np.maximum(cos_e, 1e-12))

    def sample(self, points: np.ndarray, normals: np.ndarray, geo_normals: np.ndarray, u: np.ndarray) -> LightSample:
        if not self.importance_sampled:
            if self.image is None:  # uniform: one kernel
                direction, li, lit, pdf = _cosine_samples(normals, geo_normals, u, self.scale)
                return LightSample(direction, np.array([np.inf]), li, lit, pdf)
            # an image with no luminance to sample by: cosine-weighted, Li/pdf = image · π / cosθ
            direction, inv_pdf = _cosine_samples(normals, geo_normals, u, np.ones(3))[:2]
            return LightSample(direction, np.array([np.inf]), self.radiance(direction) * inv_pdf)
        h, w = self.image.shape[:2]  # type: ignore[union-attr]
        u = u.astype(np.float64)
        k = np.minimum(np.searchsorted(self.cdf, u[:, 0], side="right"), h * w - 1)
        lo = np.where(k > 0, self.cdf[np.maximum(k - 1, 0)], 0.0)
        # where u0 fell inside the pixel's share is uniform too: it places the sample across the
        # pixel, u1 down it (continuous over the pixel's (u, v) cell)
        across = np.clip((u[:, 0] - lo) / np.maximum(self.cdf[k] - lo, 1e-300), 0.0, 1.0 - 1e-12)
        y, x = np.divmod(k, w)
        uu = (x + across) / w
        vv = 1.0 - (y + u[:, 1]) / h
        phi, elevation = 2 * math.pi * uu, (vv - 0.5) * math.pi
        local = np.stack([np.cos(elevation) * np.cos(phi), np.cos(elevation) * np.sin(phi), np.sin(elevation)], axis=1)
        direction = _normalize(local @ self.to_world)
        pdf = self.image_pdf[y, x] * (w * h) / (2.0 * math.pi * math.pi * np.maximum(np.cos(elevation), 1e-12))
        li = self.image[y, x] * self.scale / np.maximum(pdf, 1e-300)[:, None]
        lit = np.einsum("ij,ij->i", normals, direction) > 0
        lit &= np.einsum("ij,ij->i", geo_normals, direction) > 0
        lit &= pdf > 0
        return LightSample(direction, np.array([np.inf]), li, lit)


def _dome_image(prim: Any, cache: dict[str, Any]) -> np.ndarray | None:
    import json

    from ...scenarios.model import TextureSpec

    attr = prim.GetAttribute("inputs:texture:file")
    asset = attr.Get() if attr else None
    # a procedural texture is described on the dome itself (never read from its PNG, whose
    # relative path means nothing to an in-memory stage)
    own = prim.GetAttribute(PROCEDURAL_ATTR)
    procedural = own.Get() if own and own.Get() else None
    path = getattr(asset, "resolvedPath", "") or getattr(asset, "path", "") if asset else ""
    key = procedural or path
    if not key:
        return None
    if key not in cache:
        if procedural:
            cache[key] = procedural_image(TextureSpec.model_validate(json.loads(procedural)))
        else:
            from pathlib import Path

            cache[key] = load_texture(TextureSpec(file=path), Path(path)) if Path(path).is_file() else None
    return cache[key]


def read_lights(stage: Any, textures: dict[str, Any]) -> tuple[list[Any], DomeLight | None]:
    """Visible lights of the stage: (distant/sphere/disk/rect lights, the dome light or None)."""
    from pxr import Usd, UsdGeom

    cache = UsdGeom.XformCache()
    lights: list[Any] = []
    dome: DomeLight | None = None
    for prim in Usd.PrimRange(stage.GetPseudoRoot()):
        kind = prim.GetTypeName()
        if kind not in ("DistantLight", "SphereLight", "DiskLight", "RectLight", "DomeLight"):
            continue
        if UsdGeom.Imageable(prim).ComputeVisibility() == UsdGeom.Tokens.invisible:
            continue
        matrix = np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64)
        if kind == "DistantLight":
            lights.append(DistantLight(prim, matrix))
        elif kind == "SphereLight":
            lights.append(SphereLight(prim, matrix))
        elif kind in ("DiskLight", "RectLight"):
            lights.append(AreaLight(prim, matrix, "disk" if kind == "DiskLight" else "rect"))
        elif dome is None:
            dome = DomeLight(prim, matrix, textures)
    return lights, dome
