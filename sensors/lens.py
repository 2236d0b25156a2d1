"""Lens models: projection of camera-space points to pixels and its inverse, the ray of a pixel.

The names are Isaac Sim's ``cameraModel`` values (``camera_params``; IsaacSim 6.0.1
``isaacsim.replicator.writers/python/scripts/utils.py`` ``project_point_to_screen``):

- ``pinholeOpenCV``: OpenCV's rational model with tangential and thin-prism terms (k1..k6, p1, p2,
  s1..s4; ``cv2.projectPoints``);
- ``fisheyeOpenCV``: OpenCV's fisheye (Kannala–Brandt) model, θd = θ(1 + k1θ² + k2θ⁴ + k3θ⁶ + k4θ⁸)
  (``cv2.fisheye.projectPoints``);
- ``fisheyePolynomial``: NVIDIA's f-theta model, the *inverse* mapping from the radius r in
  nominal-sensor pixels to the angle off the optical axis, θ = k0 + k1·r + k2·r² + k3·r³ + k4·r⁴
  (the same utils.py, ``project_fisheye_polynomial``);
- ``fisheyeKannalaBrandtK3``: the Kannala–Brandt polynomial with the focal length folded into its
  coefficients, r = k0·θ + k1·θ³ + k2·θ⁵ + k3·θ⁷ in nominal-sensor pixels (the parameter set of
  Isaac Sim's ``OmniLensDistortionKannalaBrandtK3API``: nominal size, optical centre, max FOV and
  k0..k3, no focal length; Isaac Sim's Python does not state the formula, see the README).

Pixel coordinates given to and returned by a lens follow OpenCV: the centre of pixel (0, 0) is
(0, 0). The camera model elsewhere in scenesmith puts pixel centres at +0.5 (``camera.py``); the
conversion is :data:`PIXEL_CENTRE`. Camera space is USD's (looking down −Z, +Y up); the OpenCV
models see it as (x, −y, −z).

Each lens knows where it stops being one-to-one: past the radius where the distorted radius
stops growing with the undistorted one (a strong barrel term folds the image back on itself), or
past the field of view, no ray reaches the sensor. Such points do not project (``nan``) and such
pixels have no ray, so labels never name a pixel for a point that the image shows elsewhere.
All maths is numpy, so the writers (which run inside Isaac Sim too) use the same code as the ray caster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

__all__ = [
    "LENS_MODELS",
    "PIXEL_CENTRE",
    "RADIAL_NAMES",
    "TANGENTIAL_NAMES",
    "THIN_PRISM_NAMES",
    "Lens",
    "LensModel",
    "camera_params_fields",
    "lens_of_camera_params",
]

LensModel = Literal["pinholeOpenCV", "fisheyeOpenCV", "fisheyePolynomial", "fisheyeKannalaBrandtK3"]
LENS_MODELS: tuple[str, ...] = get_args(LensModel)
"""Distorting lens models (``pinhole``, the ideal camera, is no lens: ``PinholeCamera`` alone)."""
RADIAL_NAMES: dict[str, tuple[str, ...]] = {
    "pinholeOpenCV": ("k1", "k2", "k3", "k4", "k5", "k6"),
    "fisheyeOpenCV": ("k1", "k2", "k3", "k4"),
    "fisheyePolynomial": ("k0", "k1", "k2", "k3", "k4"),
    "fisheyeKannalaBrandtK3": ("k0", "k1", "k2", "k3"),
}
"""Names of ``Lens.k``'s entries per model, as Isaac Sim names the attributes
(``omni:lensdistortion:<model>:<name>``; isaacsim.sensors.camera ``*_ATTRIBUTE_MAP``)."""
TANGENTIAL_NAMES = ("p1", "p2")
THIN_PRISM_NAMES = ("s1", "s2", "s3", "s4")
PIXEL_CENTRE = 0.5
"""scenesmith's continuous pixel coordinate of pixel 0's centre; a lens's (OpenCV's) is 0."""

_NEWTON_STEPS = 40
_TOLERANCE = 1e-12
"""Newton iterations stop when the residual (normalised image units, or radians) is below this."""
_FOLD_SAMPLES = 20001


@dataclass(frozen=True)
class Lens:
    """One camera's lens. ``fx, fy, cx, cy`` (pixels of the render resolution, OpenCV's pixel
    convention) drive the OpenCV models; ``nominal_px``, ``optical_center_px`` (pixels of the
    calibrated sensor) and ``max_fov_deg`` drive the two polynomial fisheyes, whose pixels scale
    to the render resolution per axis, as Isaac Sim scales them. ``k`` holds the radial
    coefficients in Isaac Sim's order for the model; ``p`` and ``s`` the tangential and thin-prism
    terms of ``pinholeOpenCV``."""

    model: LensModel
    width: int
    height: int
    fx: float = 0.0
    fy: float = 0.0
    cx: float = 0.0
    cy: float = 0.0
    k: tuple[float, ...] = ()
    p: tuple[float, float] = (0.0, 0.0)
    s: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    nominal_px: tuple[float, float] = (0.0, 0.0)
    optical_center_px: tuple[float, float] = (0.0, 0.0)
    max_fov_deg: float = 360.0
    _limit: float = field(default=math.nan, init=False, repr=False, compare=False)
    _radius_limit: float = field(default=math.nan, init=False, repr=False, compare=False)
    """``fisheyePolynomial``: the nominal radius where θ(r) stops increasing."""
    """Largest undistorted radius (``pinholeOpenCV``: on the tan plane; fisheyes: the angle θ)
    up to which the lens is one-to-one."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_limit", self._one_to_one_limit())

    def document(self) -> dict[str, object]:
        """The lens as JSON: its model and every parameter under Isaac Sim's attribute name."""
        doc: dict[str, object] = {"model": self.model}
        if self.model in ("pinholeOpenCV", "fisheyeOpenCV"):
            doc |= {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy}
        else:
            doc |= {
                "nominalWidth": self.nominal_px[0],
                "nominalHeight": self.nominal_px[1],
                "opticalCenter": list(self.optical_center_px),
                "maxFov": self.max_fov_deg,
            }
        doc |= dict(zip(RADIAL_NAMES[self.model], self.k))
        if self.model == "pinholeOpenCV":
            doc |= dict(zip(TANGENTIAL_NAMES + THIN_PRISM_NAMES, (*self.p, *self.s)))
        return doc

    # ------------------------------------------------------------------ forward maps

    def _radial_opencv(self, r2: np.ndarray) -> np.ndarray:
        k = (*self.k, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)[:6]
        num = 1.0 + r2 * (k[0] + r2 * (k[1] + r2 * k[2]))
        den = 1.0 + r2 * (k[3] + r2 * (k[4] + r2 * k[5]))
        return num / den

    def _distort_opencv(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised undistorted (x, y) → distorted (x'', y'') of ``pinholeOpenCV``."""
        r2 = x * x + y * y
        radial = self._radial_opencv(r2)
        p1, p2 = self.p
        s1, s2, s3, s4 = self.s
        xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) + s1 * r2 + s2 * r2 * r2
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y + s3 * r2 + s4 * r2 * r2
        return xd, yd

    def _theta_d(self, theta: np.ndarray) -> np.ndarray:
        """``fisheyeOpenCV``: θd(θ)."""
        k = (*self.k, 0.0, 0.0, 0.0, 0.0)[:4]
        t2 = theta * theta
        return theta * (1.0 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3]))))

    def _ftheta(self, r: np.ndarray) -> np.ndarray:
        """``fisheyePolynomial``: θ(r), r in nominal pixels."""
        k = (*self.k, 0.0, 0.0, 0.0, 0.0, 0.0)[:5]
        return k[0] + r * (k[1] + r * (k[2] + r * (k[3] + r * k[4])))

    def _kb_radius(self, theta: np.ndarray) -> np.ndarray:
        """``fisheyeKannalaBrandtK3``: r(θ) in nominal pixels."""
        k = (*self.k, 0.0, 0.0, 0.0, 0.0)[:4]
        t2 = theta * theta
        return theta * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3])))

    def _one_to_one_limit(self) -> float:
        """Where the model's radial map stops increasing (scanned; the first non-increase), capped
        by the field of view."""
        if self.model == "pinholeOpenCV":
            rr = np.linspace(0.0, 20.0, _FOLD_SAMPLES)  # tan-plane radius: 20 is 87° off-axis
            mapped = rr * self._radial_opencv(rr * rr)
        elif self.model == "fisheyeOpenCV":
            rr = np.linspace(0.0, math.pi, _FOLD_SAMPLES)
            mapped = self._theta_d(rr)
        elif self.model == "fisheyeKannalaBrandtK3":
            rr = np.linspace(0.0, min(math.pi, math.radians(self.max_fov_deg) / 2), _FOLD_SAMPLES)
            mapped = self._kb_radius(rr)
        else:  # f-theta maps radius to angle: its limit is an angle, from θ(r) increasing
            r_max = float(np.hypot(*self.nominal_px)) * 4.0
            radius = np.linspace(0.0, r_max, _FOLD_SAMPLES)
            theta = self._ftheta(radius)
            stop = _first_non_increase(theta)
            object.__setattr__(self, "_radius_limit", float(radius[stop]))
            return float(min(theta[stop], math.pi, math.radians(self.max_fov_deg) / 2))
        return float(rr[_first_non_increase(mapped)])

    # ------------------------------------------------------------------ public maps

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """Pixel coordinates (…, 2; OpenCV's convention) of camera-space points (…, 3); ``nan``
        for points no pixel sees (behind a pinhole lens, beyond the fold or the field of view)."""
        pts = np.asarray(points_camera, dtype=np.float64)
        x, y, z = pts[..., 0], -pts[..., 1], -pts[..., 2]  # OpenCV's camera frame
        rho = np.hypot(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.model == "pinholeOpenCV":
                front = z > 0
                a, b = (
                    np.where(front, x / np.where(front, z, 1.0), 0.0),
                    np.where(front, y / np.where(front, z, 1.0), 0.0),
                )
                ok = front & (np.hypot(a, b) <= self._limit)
                xd, yd = self._distort_opencv(a, b)
                u, v = self.fx * xd + self.cx, self.fy * yd + self.cy
            else:
                theta = np.arctan2(rho, z)
                ux, uy = (
                    np.where(rho > 0, x / np.where(rho > 0, rho, 1.0), 0.0),
                    np.where(rho > 0, y / np.where(rho > 0, rho, 1.0), 0.0),
                )
                if self.model == "fisheyeOpenCV":
                    ok = theta <= self._limit
                    td = self._theta_d(theta)
                    u, v = self.fx * td * ux + self.cx, self.fy * td * uy + self.cy
                else:
                    ok = theta <= self._limit
                    radius = (
                        self._kb_radius(theta) if self.model == "fisheyeKannalaBrandtK3" else self._ftheta_radius(theta)
                    )
                    u, v = self._from_nominal(radius * ux, radius * uy)
        return np.where(ok[..., None], np.stack([u, v], axis=-1), np.nan)

    def unproject(
        self, u: np.ndarray, v: np.ndarray, near: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unit camera-space (USD) directions (…, 3) of pixel coordinates (OpenCV's convention),
        and whether a ray exists there (inside the image circle, before the fold). ``near``
        (``pinholeOpenCV``): undistorted normalised (x, y) of nearby pixels (``undistorted``), a
        starting point that saves most Newton steps for sub-pixel samples; the answer is the same."""
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        if self.model == "pinholeOpenCV":
            xd, yd = (u - self.cx) / self.fx, (v - self.cy) / self.fy
            x, y, converged = self._undistort_opencv(xd, yd, near)
            ok = converged & (np.hypot(x, y) <= self._limit)
            d = np.stack([x, y, np.ones_like(x)], axis=-1)
            d /= np.linalg.norm(d, axis=-1, keepdims=True)
        else:
            if self.model == "fisheyeOpenCV":
                a, b = (u - self.cx) / self.fx, (v - self.cy) / self.fy
                td = np.hypot(a, b)
                theta, converged = _newton(self._theta_d, td, td, self._limit)
            else:
                a, b = self._to_nominal(u, v)
                td = np.hypot(a, b)
                if self.model == "fisheyeKannalaBrandtK3":
                    k0 = self.k[0] if self.k else 1.0
                    theta, converged = _newton(self._kb_radius, td, td / (k0 if k0 else 1.0), self._limit)
                else:
                    theta, converged = self._ftheta(td), np.ones(td.shape, dtype=bool)
            ok = converged & (theta <= self._limit) & (theta >= 0.0)
            safe = np.where(td > 0, td, 1.0)
            ux, uy = np.where(td > 0, a / safe, 0.0), np.where(td > 0, b / safe, 0.0)
            sin_t = np.sin(theta)
            d = np.stack([sin_t * ux, sin_t * uy, np.cos(theta)], axis=-1)
        d = d * np.array([1.0, -1.0, -1.0])  # OpenCV → USD camera frame
        return np.where(ok[..., None], d, np.array([0.0, 0.0, -1.0])), ok

    # ------------------------------------------------------------------ helpers

    def _ftheta_radius(self, theta: np.ndarray) -> np.ndarray:
        """Nominal-pixel radius of angle θ (Newton on θ(r) = θ, from the linear term's guess)."""
        k1 = self.k[1] if len(self.k) > 1 and self.k[1] else 1.0
        k0 = self.k[0] if self.k else 0.0
        radius, _ = _newton(self._ftheta, theta, (theta - k0) / k1, self._radius_limit)
        return radius

    def _to_nominal(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offsets from the optical centre in nominal pixels (x right, y down)."""
        sx, sy = self.width / self.nominal_px[0], self.height / self.nominal_px[1]
        un = (u + PIXEL_CENTRE) / sx - PIXEL_CENTRE
        vn = (v + PIXEL_CENTRE) / sy - PIXEL_CENTRE
        return un - self.optical_center_px[0], vn - self.optical_center_px[1]

    def _from_nominal(self, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sx, sy = self.width / self.nominal_px[0], self.height / self.nominal_px[1]
        un, vn = self.optical_center_px[0] + dx, self.optical_center_px[1] + dy
        return (un + PIXEL_CENTRE) * sx - PIXEL_CENTRE, (vn + PIXEL_CENTRE) * sy - PIXEL_CENTRE

    def undistorted(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``pinholeOpenCV``: undistorted normalised (x, y) of pixel coordinates (OpenCV's convention)."""
        xd = (np.asarray(u, dtype=np.float64) - self.cx) / self.fx
        yd = (np.asarray(v, dtype=np.float64) - self.cy) / self.fy
        x, y, _ = self._undistort_opencv(xd, yd)
        return x, y

    def _undistort_opencv(
        self, xd: np.ndarray, yd: np.ndarray, start: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Damped Newton's method on the 2D distortion with its exact Jacobian (a step that does
        not shrink the residual is halved, so strong barrel terms near the image corners converge
        too); points stop iterating once converged. ``start``: a starting point (else the
        distorted point itself)."""
        shape = np.shape(xd)
        xd, yd = np.ravel(xd), np.ravel(yd)  # the active set indexes flat arrays
        x, y = (xd.copy(), yd.copy()) if start is None else (np.ravel(start[0]).copy(), np.ravel(start[1]).copy())
        fx_, fy_ = self._distort_opencv(x, y)
        size = np.hypot(fx_ - xd, fy_ - yd)
        active = np.flatnonzero(size >= _TOLERANCE)
        for _ in range(_NEWTON_STEPS):
            if not len(active):
                break
            ax, ay, bx, by = x[active], y[active], xd[active], yd[active]
            fx_, fy_, j11, j12, j21, j22 = self._distort_opencv_jacobian(ax, ay)
            rx, ry = fx_ - bx, fy_ - by
            det = j11 * j22 - j12 * j21
            safe = np.where(np.abs(det) > 1e-300, det, 1.0)
            step_x, step_y = (j22 * rx - j12 * ry) / safe, (-j21 * rx + j11 * ry) / safe
            old = size[active]
            scale = np.ones_like(ax)
            for _ in range(12):  # backtracking, per point
                nx, ny = ax - scale * step_x, ay - scale * step_y
                gx, gy = self._distort_opencv(nx, ny)
                new = np.hypot(gx - bx, gy - by)
                worse = ~(new < old)
                if not worse.any():
                    break
                scale = np.where(worse, scale / 2, scale)
            better = new < old
            x[active] = np.where(better, nx, ax)
            y[active] = np.where(better, ny, ay)
            size[active] = np.where(better, new, old)
            active = active[better & (new >= _TOLERANCE)]  # stalled points stop too
        return x.reshape(shape), y.reshape(shape), (size < 1e-9).reshape(shape)

    def _distort_opencv_jacobian(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        """``_distort_opencv`` and its partial derivatives (∂xd/∂x, ∂xd/∂y, ∂yd/∂x, ∂yd/∂y)."""
        k = (*self.k, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)[:6]
        p1, p2 = self.p
        s1, s2, s3, s4 = self.s
        r2 = x * x + y * y
        num = 1.0 + r2 * (k[0] + r2 * (k[1] + r2 * k[2]))
        den = 1.0 + r2 * (k[3] + r2 * (k[4] + r2 * k[5]))
        radial = num / den
        d_num = k[0] + r2 * (2.0 * k[1] + 3.0 * k[2] * r2)
        d_den = k[3] + r2 * (2.0 * k[4] + 3.0 * k[5] * r2)
        d_radial = (d_num * den - num * d_den) / (den * den)  # d radial / d r2
        xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) + s1 * r2 + s2 * r2 * r2
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y + s3 * r2 + s4 * r2 * r2
        j11 = radial + 2.0 * x * x * d_radial + 2.0 * p1 * y + 6.0 * p2 * x + 2.0 * s1 * x + 4.0 * s2 * r2 * x
        j12 = 2.0 * x * y * d_radial + 2.0 * p1 * x + 2.0 * p2 * y + 2.0 * s1 * y + 4.0 * s2 * r2 * y
        j21 = 2.0 * x * y * d_radial + 2.0 * p1 * x + 2.0 * p2 * y + 2.0 * s3 * x + 4.0 * s4 * r2 * x
        j22 = radial + 2.0 * y * y * d_radial + 6.0 * p1 * y + 2.0 * p2 * x + 2.0 * s3 * y + 4.0 * s4 * r2 * y
        return xd, yd, j11, j12, j21, j22


def _first_non_increase(values: np.ndarray) -> int:
    """Index of the last sample before the sequence first stops increasing (the last one if it never does)."""
    stops = np.flatnonzero(np.diff(values) <= 0.0)
    return int(stops[0]) if len(stops) else len(values) - 1


def _newton(f, target: np.ndarray, start: np.ndarray, hi: float) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Solves f(x) = target elementwise for x in [0, hi], f increasing there: Newton's method
    kept inside the bracket that still holds the root (bisection when a step would leave it);
    the derivative is by central differences."""
    target = np.asarray(target, dtype=np.float64)
    lo_x, hi_x = np.zeros_like(target), np.full_like(target, hi)
    x = np.clip(np.array(start, dtype=np.float64, copy=True), 0.0, hi)
    h = 1e-7
    for _ in range(3 * _NEWTON_STEPS):
        residual = f(x) - target
        if np.all(np.abs(residual) < _TOLERANCE):
            break
        lo_x, hi_x = np.where(residual < 0, x, lo_x), np.where(residual > 0, x, hi_x)
        slope = (f(x + h) - f(x - h)) / (2 * h)
        step = x - residual / np.where(np.abs(slope) > 1e-300, slope, 1.0)
        inside = np.isfinite(step) & (step > lo_x) & (step < hi_x)
        x = np.where(inside, step, (lo_x + hi_x) / 2)
    converged = np.abs(f(x) - target) < 1e-9 * np.maximum(1.0, np.abs(target))
    return x, converged


# ---------------------------------------------------------------------- the camera_params annotator

_POLYNOMIAL_LENGTH = 6
"""``cameraFisheyePolynomial`` holds six coefficients (Isaac Sim 6.0's f-theta a..f)."""
OPENCV_FOCAL_KEYS = ("cameraOpenCVFx", "cameraOpenCVFy")
"""Isaac Sim 6.0.1's ``camera_params`` keys for an OpenCV model's focal lengths in pixels
(``isaacsim.replicator.writers/python/scripts/utils.py`` ``project_pinhole_opencv``, which also
reads the principal point from ``cameraFisheyeOpticalCentre`` "for all models")."""
__all__ += ["OPENCV_FOCAL_KEYS"]


def camera_params_fields(lens: Lens) -> dict[str, object]:
    """The ``camera_params`` entries that describe a lens, in Replicator's keys and dtypes:
    ``cameraModel`` its name; ``cameraFisheyePolynomial`` the radial coefficients in Isaac Sim's
    order for the model (``RADIAL_NAMES``), zero-padded to six; ``cameraFisheyeLensP`` /
    ``cameraFisheyeLensS`` the tangential and thin-prism terms; ``cameraFisheyeOpticalCentre``
    the principal point (OpenCV models, render pixels) or the optical centre (polynomial
    fisheyes, nominal pixels); ``cameraFisheyeNominalWidth/Height`` the calibrated size (OpenCV
    models: the render resolution their intrinsics are given at); ``cameraFisheyeMaxFOV`` in
    degrees; and, for OpenCV models, ``cameraOpenCVFx/Fy``. ``lens_of_camera_params`` inverts it."""
    polynomial = np.zeros(_POLYNOMIAL_LENGTH, dtype=np.float32)
    polynomial[: len(lens.k)] = lens.k
    opencv = lens.model in ("pinholeOpenCV", "fisheyeOpenCV")
    fields: dict[str, object] = {
        "cameraModel": lens.model,
        "cameraFisheyePolynomial": polynomial,
        "cameraFisheyeLensP": np.array(lens.p, dtype=np.float32),
        "cameraFisheyeLensS": np.array(lens.s, dtype=np.float32),
        "cameraFisheyeOpticalCentre": np.array(
            (lens.cx, lens.cy) if opencv else lens.optical_center_px, dtype=np.float32
        ),
        "cameraFisheyeNominalWidth": lens.width if opencv else lens.nominal_px[0],
        "cameraFisheyeNominalHeight": lens.height if opencv else lens.nominal_px[1],
        "cameraFisheyeMaxFOV": 0.0 if opencv else float(lens.max_fov_deg),
    }
    if opencv:
        fields |= dict(zip(OPENCV_FOCAL_KEYS, (float(lens.fx), float(lens.fy))))
    return fields


def lens_of_camera_params(params: dict[str, object]) -> Lens | None:
    """The lens a ``camera_params`` payload describes (``None`` for ``pinhole`` or a model
    scenesmith does not project, which writers then treat as the nominal pinhole). Intrinsics
    given at a nominal size other than the render resolution scale to it about pixel centres."""
    model = params.get("cameraModel", "pinhole")
    if model not in LENS_MODELS:
        return None
    width, height = (int(v) for v in np.asarray(params["renderProductResolution"]).reshape(-1)[:2])
    k = tuple(float(v) for v in np.asarray(params["cameraFisheyePolynomial"], dtype=np.float64).reshape(-1))
    k = k[: len(RADIAL_NAMES[str(model)])]
    centre = tuple(float(v) for v in np.asarray(params["cameraFisheyeOpticalCentre"]).reshape(-1)[:2])
    nominal = (float(params["cameraFisheyeNominalWidth"]), float(params["cameraFisheyeNominalHeight"]))  # type: ignore[arg-type]
    if model in ("pinholeOpenCV", "fisheyeOpenCV"):
        sx = width / nominal[0] if nominal[0] else 1.0
        sy = height / nominal[1] if nominal[1] else 1.0
        p = np.asarray(params.get("cameraFisheyeLensP", np.zeros(2)), dtype=np.float64).reshape(-1)
        s = np.asarray(params.get("cameraFisheyeLensS", np.zeros(4)), dtype=np.float64).reshape(-1)
        return Lens(
            model,  # type: ignore[arg-type]
            width,
            height,
            fx=float(params[OPENCV_FOCAL_KEYS[0]]) * sx,  # type: ignore[arg-type]
            fy=float(params[OPENCV_FOCAL_KEYS[1]]) * sy,  # type: ignore[arg-type]
            cx=(centre[0] + PIXEL_CENTRE) * sx - PIXEL_CENTRE,
            cy=(centre[1] + PIXEL_CENTRE) * sy - PIXEL_CENTRE,
            k=k,
            p=(float(p[0]), float(p[1])) if len(p) >= 2 else (0.0, 0.0),
            s=tuple(float(v) for v in s[:4]) if len(s) >= 4 else (0.0, 0.0, 0.0, 0.0),  # type: ignore[arg-type]
        )
    return Lens(
        model,  # type: ignore[arg-type]
        width,
        height,
        k=k,
        nominal_px=nominal,
        optical_center_px=(centre[0], centre[1]),
        max_fov_deg=float(params["cameraFisheyeMaxFOV"]),  # type: ignore[arg-type]
    )
