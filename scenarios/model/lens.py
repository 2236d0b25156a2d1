"""A camera's lens model: Isaac Sim's projection names and their coefficients (issue 17).

One spec for every model, its ``model`` naming which keys apply (``MODEL_KEYS``, the one place
that says so): a key of another model is refused by name. Coefficients follow Isaac Sim's
attribute names (``omni:lensdistortion:<model>:<key>``); omitted intrinsics default to the
camera's pinhole ones (focal length over aperture, principal point from the aperture offset), so
``{model: fisheyePolynomial}`` alone is an equidistant fisheye with the camera's focal length.
"""

from __future__ import annotations

from pydantic import model_validator

from ...sensors.lens import PIXEL_CENTRE, RADIAL_NAMES, TANGENTIAL_NAMES, THIN_PRISM_NAMES, Lens, LensModel
from ...sensors.spec_base import Number, PosFloat, Spec, Vec2, invalid

__all__ = ["MODEL_KEYS", "LensSpec"]

_OPENCV_INTRINSICS = ("fx_px", "fy_px", "cx_px", "cy_px")
_POLYNOMIAL_SENSOR = ("nominal_size_px", "optical_center_px", "max_fov_deg")
MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "pinholeOpenCV": (*_OPENCV_INTRINSICS, *RADIAL_NAMES["pinholeOpenCV"], *TANGENTIAL_NAMES, *THIN_PRISM_NAMES),
    "fisheyeOpenCV": (*_OPENCV_INTRINSICS, *RADIAL_NAMES["fisheyeOpenCV"]),
    "fisheyePolynomial": (*_POLYNOMIAL_SENSOR, *RADIAL_NAMES["fisheyePolynomial"]),
    "fisheyeKannalaBrandtK3": (*_POLYNOMIAL_SENSOR, *RADIAL_NAMES["fisheyeKannalaBrandtK3"]),
}
"""The keys each model takes, besides ``model`` (coefficients named as Isaac Sim names them)."""


class LensSpec(Spec):
    """Lens distortion of a camera; rays are cast through it, so every label is exact for the
    distorted image. Pixel coordinates follow OpenCV (pixel (0, 0)'s centre is (0, 0))."""

    model: LensModel
    """``pinholeOpenCV`` (k1..k6, p1, p2, s1..s4), ``fisheyeOpenCV`` (k1..k4), ``fisheyePolynomial``
    (f-theta: θ = k0 + k1·r + … + k4·r⁴, r in nominal pixels) or ``fisheyeKannalaBrandtK3``
    (r = k0·θ + k1·θ³ + k2·θ⁵ + k3·θ⁷)."""
    fx_px: PosFloat | None = None
    """OpenCV models: focal length along x in pixels (default: focal length / horizontal aperture × width)."""
    fy_px: PosFloat | None = None
    """OpenCV models: focal length along y in pixels (default: fx_px)."""
    cx_px: Number | None = None
    """OpenCV models: principal point x in pixels (default: the camera's, from the aperture offset)."""
    cy_px: Number | None = None
    """OpenCV models: principal point y in pixels, rows down (default: the camera's)."""
    k0: Number | None = None
    """Polynomial fisheyes: constant term (f-theta, radians; default 0) or linear term (Kannala–Brandt,
    pixels per radian; default the camera's focal length in pixels)."""
    k1: Number | None = None
    """First radial coefficient (f-theta: radians per pixel, default 1 / focal length in pixels; others 0)."""
    k2: Number | None = None
    """Radial coefficient (default 0)."""
    k3: Number | None = None
    """Radial coefficient (default 0)."""
    k4: Number | None = None
    """Radial coefficient (default 0)."""
    k5: Number | None = None
    """``pinholeOpenCV`` radial coefficient (denominator; default 0)."""
    k6: Number | None = None
    """``pinholeOpenCV`` radial coefficient (denominator; default 0)."""
    p1: Number | None = None
    """``pinholeOpenCV`` tangential coefficient (default 0)."""
    p2: Number | None = None
    """``pinholeOpenCV`` tangential coefficient (default 0)."""
    s1: Number | None = None
    """``pinholeOpenCV`` thin-prism coefficient (default 0)."""
    s2: Number | None = None
    """``pinholeOpenCV`` thin-prism coefficient (default 0)."""
    s3: Number | None = None
    """``pinholeOpenCV`` thin-prism coefficient (default 0)."""
    s4: Number | None = None
    """``pinholeOpenCV`` thin-prism coefficient (default 0)."""
    nominal_size_px: tuple[PosFloat, PosFloat] | None = None
    """Polynomial fisheyes: width and height of the calibrated sensor in pixels (default: the resolution)."""
    optical_center_px: Vec2 | None = None
    """Polynomial fisheyes: optical centre in nominal pixels (default: the nominal image's centre)."""
    max_fov_deg: PosFloat | None = None
    """Polynomial fisheyes: full field of view in degrees; rays beyond half of it see nothing (default 200)."""

    @model_validator(mode="after")
    def _keys_of_the_model(self) -> LensSpec:
        allowed = set(MODEL_KEYS[self.model])
        for key in sorted(self.model_fields_set - {"model"}):
            if key not in allowed:
                raise invalid(
                    f"'{key}' is not a parameter of lens model {self.model}",
                    expected="one of " + ", ".join(MODEL_KEYS[self.model]),
                    got=key,
                    key=key,
                )
        if self.max_fov_deg is not None and self.max_fov_deg > 360.0:
            raise invalid(
                "max_fov_deg is a full angle", expected="at most 360", got=self.max_fov_deg, key="max_fov_deg"
            )
        return self

    def lens(self, width: int, height: int, fx_px: float, cx_px: float, cy_px: float) -> Lens:
        """The lens, with defaults from the camera: its pinhole ``fx_px`` and principal point
        (OpenCV's pixel convention) at the render resolution."""
        radial = [getattr(self, key) for key in RADIAL_NAMES[self.model]]
        if self.model in ("pinholeOpenCV", "fisheyeOpenCV"):
            fx = self.fx_px if self.fx_px is not None else fx_px
            return Lens(
                self.model,
                width,
                height,
                fx=fx,
                fy=self.fy_px if self.fy_px is not None else fx,
                cx=self.cx_px if self.cx_px is not None else cx_px,
                cy=self.cy_px if self.cy_px is not None else cy_px,
                k=tuple(v or 0.0 for v in radial),
                p=(self.p1 or 0.0, self.p2 or 0.0),
                s=(self.s1 or 0.0, self.s2 or 0.0, self.s3 or 0.0, self.s4 or 0.0),
            )
        nominal = self.nominal_size_px or (float(width), float(height))
        centre = self.optical_center_px or (nominal[0] / 2 - PIXEL_CENTRE, nominal[1] / 2 - PIXEL_CENTRE)
        focal_nominal = fx_px * nominal[0] / width  # the camera's focal length in nominal pixels
        if self.model == "fisheyePolynomial":
            defaults = (0.0, 1.0 / focal_nominal, 0.0, 0.0, 0.0)  # equidistant: θ = r / f
        else:
            defaults = (focal_nominal, 0.0, 0.0, 0.0)  # equidistant: r = f·θ
        k = tuple(d if v is None else v for v, d in zip(radial, defaults))
        return Lens(
            self.model,
            width,
            height,
            k=k,
            nominal_px=(float(nominal[0]), float(nominal[1])),
            optical_center_px=(float(centre[0]), float(centre[1])),
            max_fov_deg=float(self.max_fov_deg if self.max_fov_deg is not None else 200.0),
        )
