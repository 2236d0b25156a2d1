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
``(1/S) Σ f · (Li/pdf) · max(0, n·l) · V``. Samples are deterministic: they are driven by the
frame's seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..textures import load_texture, procedural_image

__all__ = ["DomeLight", "LightSample", "read_lights"]


@dataclass
class LightSample:
    direction: np.ndarray  # (M, 3) unit, from the point towards the light
    distance: np.ndarray  # (M,) to the light (inf for distant and dome)
    li_over_pdf: np.ndarray  # (M, 3)


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


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product (much faster than ``np.cross`` on many short rows)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to each row of ``axis`` (M, 3), or to one axis (3,)."""
    if axis.ndim == 1:
        helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    else:
        helper = np.zeros_like(axis)
        use_x = np.abs(axis[:, 0]) < 0.9
        helper[use_x, 0] = 1.0
        helper[~use_x, 1] = 1.0
    t = _normalize(_cross(axis, helper))
    return t, _cross(axis, t)


def _cone(axis: np.ndarray, cos_max: np.ndarray | float, u: np.ndarray) -> np.ndarray:
    """Directions uniform in the cone of half-angle acos(cos_max) around ``axis`` ((M, 3) or (3,))."""
    cos_t = 1.0 - u[:, 0] * (1.0 - cos_max)
    sin_t = np.sqrt(np.maximum(0.0, 1.0 - cos_t * cos_t))
    phi = 2 * math.pi * u[:, 1]
    t, b = _frame(axis)
    return t * (sin_t * np.cos(phi))[:, None] + b * (sin_t * np.sin(phi))[:, None] + axis * cos_t[:, None]


class DistantLight:
    def __init__(self, prim: Any, matrix: np.ndarray) -> None:
        self.shadows = casts_shadows(prim)
        from pxr import UsdLux

        self.scale = _scale(prim)
        self.toward = _normalize(matrix[2, :3].copy())  # the light shines along −Z; light is toward +Z
        self.half_angle = math.radians(float(UsdLux.DistantLight(prim).GetAngleAttr().Get() or 0.0)) / 2

    def sample(self, points: np.ndarray, u: np.ndarray) -> LightSample:
        m = len(points)
        if self.half_angle > 0:
            direction = _cone(self.toward, math.cos(self.half_angle), u)
        else:
            direction = np.broadcast_to(self.toward, (m, 3))
        return LightSample(direction, np.full(m, np.inf), np.broadcast_to(self.scale, (m, 3)))


class SphereLight:
    def __init__(self, prim: Any, matrix: np.ndarray) -> None:
        self.shadows = casts_shadows(prim)
        from pxr import UsdLux

        light = UsdLux.SphereLight(prim)
        self.center = matrix[3, :3].copy()
        self.radius = float(light.GetRadiusAttr().Get() or 0.5) * float(np.linalg.norm(matrix[0, :3]))
        radiance = _scale(prim)
        if light.GetNormalizeAttr().Get():
            radiance = radiance / (4 * math.pi * self.radius**2)
        self.radiance = radiance

    def sample(self, points: np.ndarray, u: np.ndarray) -> LightSample:
        to_center = self.center - points
        dist = np.linalg.norm(to_center, axis=1)
        inside = dist <= self.radius
        safe = np.where(inside, self.radius * 2, dist)
        axis = to_center / safe[:, None]
        sin2 = np.clip((self.radius / safe) ** 2, 0.0, 1.0)
        cos_max = np.sqrt(1.0 - sin2)
        direction = _cone(axis, cos_max, u)
        # distance to the near side of the sphere along the sampled direction
        b = np.sum(direction * to_center, axis=1)
        c = dist * dist - self.radius**2
        t = b - np.sqrt(np.maximum(b * b - c, 0.0))
        solid_angle = 2 * math.pi * (1.0 - cos_max)
        li = np.where(inside[:, None], 0.0, self.radiance * solid_angle[:, None])
        return LightSample(direction, np.maximum(t, 0.0), li)


class AreaLight:
    """Disk and rect lights: uniform samples over the emitting face (its local −Z side)."""

    def __init__(self, prim: Any, matrix: np.ndarray, kind: str) -> None:
        self.shadows = casts_shadows(prim)
        from pxr import UsdLux

        self.kind = kind
        self.matrix = matrix
        sx, sy = float(np.linalg.norm(matrix[0, :3])), float(np.linalg.norm(matrix[1, :3]))
        if kind == "disk":
            self.radius = float(UsdLux.DiskLight(prim).GetRadiusAttr().Get() or 0.5)
            self.area = math.pi * self.radius**2 * sx * sy
        else:
            rect = UsdLux.RectLight(prim)
            self.width = float(rect.GetWidthAttr().Get() or 1.0)
            self.height = float(rect.GetHeightAttr().Get() or 1.0)
            self.area = self.width * self.height * sx * sy
        radiance = _scale(prim)
        if UsdLux.LightAPI(prim).GetNormalizeAttr().Get():
            radiance = radiance / self.area
        self.radiance = radiance
        self.normal = -_normalize(matrix[2, :3].copy())  # emits along −Z

    def sample(self, points: np.ndarray, u: np.ndarray) -> LightSample:
        if self.kind == "disk":
            r = self.radius * np.sqrt(u[:, 0])
            phi = 2 * math.pi * u[:, 1]
            local = np.stack([r * np.cos(phi), r * np.sin(phi), np.zeros_like(r), np.ones_like(r)], axis=1)
        else:
            local = np.stack(
                [(u[:, 0] - 0.5) * self.width, (u[:, 1] - 0.5) * self.height, np.zeros(len(u)), np.ones(len(u))], axis=1
            )
        targets = (local @ self.matrix)[:, :3]
        to_light = targets - points
        dist = np.linalg.norm(to_light, axis=1)
        direction = to_light / np.maximum(dist, 1e-12)[:, None]
        cos_light = np.maximum(0.0, -np.sum(direction * self.normal, axis=1))
        li = self.radiance * (self.area * cos_light / np.maximum(dist * dist, 1e-12))[:, None]
        return LightSample(direction, dist, li)


class DomeLight:
    """Radiance from every direction; cosine-weighted hemisphere samples about the normal."""

    def __init__(self, prim: Any, matrix: np.ndarray, textures: dict[str, Any]) -> None:
        self.shadows = casts_shadows(prim)
        self.scale = _scale(prim)
        self.to_local = np.linalg.inv(matrix[:3, :3] / np.linalg.norm(matrix[:3, :3], axis=1, keepdims=True))
        self.image = _dome_image(prim, textures)

    def radiance(self, directions: np.ndarray) -> np.ndarray:
        if self.image is None:
            return np.broadcast_to(self.scale, directions.shape).copy()
        d = _normalize(directions @ self.to_local)
        # Z-up lat-long: u along the azimuth from +X counter-clockwise, v from −Z (0) to +Z (1).
        u = (np.arctan2(d[:, 1], d[:, 0]) / (2 * math.pi)) % 1.0
        v = 0.5 + np.arcsin(np.clip(d[:, 2], -1, 1)) / math.pi
        h, w = self.image.shape[:2]
        x = np.minimum((u * w).astype(np.int64), w - 1)
        y = np.minimum(((1.0 - v) * h).astype(np.int64), h - 1)
        return self.image[y, x] * self.scale

    @staticmethod
    def basis(normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tangent frame per normal; computed once and reused by every dome sample."""
        return _frame(normals)

    def sample(
        self, points: np.ndarray, normals: np.ndarray, u: np.ndarray, basis: tuple[np.ndarray, np.ndarray] | None = None
    ) -> LightSample:
        r = np.sqrt(u[:, 0])
        phi = 2 * math.pi * u[:, 1]
        t, b = basis if basis is not None else _frame(normals)
        z = np.sqrt(np.maximum(0.0, 1.0 - u[:, 0]))
        direction = t * (r * np.cos(phi))[:, None] + b * (r * np.sin(phi))[:, None] + normals * z[:, None]
        cos = np.maximum(z, 1e-8)
        li = self.radiance(direction) * (math.pi / cos)[:, None]
        return LightSample(direction, np.full(len(points), np.inf), li)


def _dome_image(prim: Any, cache: dict[str, Any]) -> np.ndarray | None:
    import json

    from ...scenarios.model import TextureSpec

    attr = prim.GetAttribute("inputs:texture:file")
    asset = attr.Get() if attr else None
    name_attr = prim.GetAttribute("scenesmith:texture")
    procedural = None
    if name_attr and name_attr.Get():
        stage = prim.GetStage()
        for tex in stage.Traverse():
            if tex.GetAttribute("scenesmith:texture").Get() == name_attr.Get() and tex.GetAttribute(
                "scenesmith:procedural"
            ):
                procedural = tex.GetAttribute("scenesmith:procedural").Get()
                break
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
