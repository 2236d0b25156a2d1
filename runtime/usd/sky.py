"""Preetham, Shirley and Smits' analytic daylight sky ("A Practical Analytic Model for
Daylight", SIGGRAPH 1999) as a lat-long image of linear radiance.

Per direction the model gives luminance Y (kcd/m²) and CIE chromaticity (x, y) through Perez'
distribution ``F(θ, γ) = (1 + A·e^(B / cos θ))·(1 + C·e^(D·γ) + E·cos² γ)`` (θ the view zenith
angle, γ the angle to the sun), scaled to the zenith values the paper fits to turbidity T and
sun zenith θs. Y, x, y become XYZ, then linear sRGB (Rec. 709 primaries, D65). The sun itself
is not in the image: pair the dome with a distant light from the same direction for sunlight
and sharp shadows. Below the horizon the image is a grey ground reflecting ``ground_albedo``
of the sky's mean radiance. Layout as every dome texture here: row 0 is +Z, u from +X
counter-clockwise.
"""

from __future__ import annotations

import math

import numpy as np

from ...scenarios.model import SkyTexture

__all__ = ["sky_image", "sky_radiance"]

_PEREZ = {  # (slope, offset) in turbidity of A..E for Y, x, y (paper's appendix)
    "Y": ((0.1787, -1.4630), (-0.3554, 0.4275), (-0.0227, 5.3251), (0.1206, -2.5771), (-0.0670, 0.3703)),
    "x": ((-0.0193, -0.2592), (-0.0665, 0.0008), (-0.0004, 0.2125), (-0.0641, -0.8989), (-0.0033, 0.0452)),
    "y": ((-0.0167, -0.2608), (-0.0950, 0.0092), (-0.0079, 0.2102), (-0.0441, -1.6537), (-0.0109, 0.0529)),
}
_ZENITH_X = np.array([[0.00166, -0.00375, 0.00209, 0.0], [-0.02903, 0.06377, -0.03202, 0.00394],
                      [0.11693, -0.21196, 0.06052, 0.25886]])  # fmt: skip
_ZENITH_Y = np.array([[0.00275, -0.00610, 0.00317, 0.0], [-0.04214, 0.08970, -0.04153, 0.00516],
                      [0.15346, -0.26756, 0.06670, 0.26688]])  # fmt: skip
_XYZ_TO_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])


def _perez(theta: np.ndarray, gamma: np.ndarray, coeffs: tuple, t: float) -> np.ndarray:
    a, b, c, d, e = (slope * t + offset for slope, offset in coeffs)
    return (1 + a * np.exp(b / np.maximum(np.cos(theta), 1e-3))) * (1 + c * np.exp(d * gamma) + e * np.cos(gamma) ** 2)


def sky_radiance(spec: SkyTexture, directions: np.ndarray) -> np.ndarray:
    """(N, 3) linear sRGB radiance of the sky for unit ``directions`` (Z up) above the horizon."""
    t = spec.turbidity
    theta_s = math.radians(90.0 - spec.sun_elevation_deg)
    az = math.radians(spec.sun_azimuth_deg)
    sun = np.array([math.sin(theta_s) * math.cos(az), math.sin(theta_s) * math.sin(az), math.cos(theta_s)])
    d = np.asarray(directions, dtype=np.float64)
    theta = np.arccos(np.clip(d[:, 2], 0.0, 1.0))
    gamma = np.arccos(np.clip(d @ sun, -1.0, 1.0))
    chi = (4.0 / 9.0 - t / 120.0) * (math.pi - 2.0 * theta_s)
    zenith_y = (4.0453 * t - 4.9710) * math.tan(chi) - 0.2155 * t + 2.4192
    powers_t, powers_s = np.array([t * t, t, 1.0]), np.array([theta_s**3, theta_s**2, theta_s, 1.0])
    zenith = {"Y": zenith_y, "x": powers_t @ _ZENITH_X @ powers_s, "y": powers_t @ _ZENITH_Y @ powers_s}
    values = {}
    for key, coeffs in _PEREZ.items():
        values[key] = (
            zenith[key] * _perez(theta, gamma, coeffs, t) / _perez(np.zeros(1), np.array([theta_s]), coeffs, t)
        )
    big_y, x, y = np.maximum(values["Y"], 0.0), values["x"], np.maximum(values["y"], 1e-6)
    xyz = np.stack([x / y * big_y, big_y, (1.0 - x - y) / y * big_y], axis=1)
    return np.maximum(xyz @ _XYZ_TO_SRGB.T, 0.0)


def sky_image(spec: SkyTexture) -> np.ndarray:
    """(H, W, 3) lat-long image (H = W / 2) of :func:`sky_radiance`, ground below the horizon."""
    w = spec.width_px
    h = max(w // 2, 1)
    elevation = (0.5 - (np.arange(h) + 0.5) / h) * math.pi
    phi = (np.arange(w) + 0.5) / w * 2 * math.pi
    e, p = np.meshgrid(elevation, phi, indexing="ij")
    d = np.stack([np.cos(e) * np.cos(p), np.cos(e) * np.sin(p), np.sin(e)], axis=-1).reshape(-1, 3)
    image = sky_radiance(spec, d).reshape(h, w, 3)
    above = elevation > 0
    weights = np.cos(elevation[above])[:, None, None]  # mean over solid angle
    mean = (image[above] * weights).sum(axis=(0, 1)) / (weights.sum() * w)
    image[~above] = spec.ground_albedo * mean
    return image
