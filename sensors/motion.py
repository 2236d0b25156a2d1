"""Rigid motion about a frame's capture instant: where a moving prim or camera is at time t.

Time is measured from the frame's capture instant, which is the middle of the exposure (a
global shutter's, or a rolling shutter's middle row's), so t = 0 is the pose the stage shows
and every label of a global shutter is taken there. A motion is constant linear and angular
velocity in the world frame about a pivot (the prim's origin at t = 0), the model physics
engines report at an instant and a kinematic path follows within one segment (linear
position, slerp rotation):

    p(t) = pivot + v·t + R(ω·t)·(p(0) − pivot)

with R(ω·t) the rotation by |ω|·t about ω (Rodrigues). Vectors (directions, normals) turn by
R(ω·t) only. Every map works on (N, 3) arrays with one time per row, so each ray or hit can
have its own time (a rolling shutter's rows, a LiDAR's firings). Numpy only (a leaf of
``sensors``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RigidMotion"]


@dataclass(frozen=True)
class RigidMotion:
    """Constant world-frame velocities of a rigid body about ``pivot_m``."""

    pivot_m: np.ndarray
    """(3,) the point the rotation turns about: the body's origin at t = 0, world frame."""
    linear_m_s: np.ndarray
    """(3,) velocity of the pivot, m/s, world frame."""
    angular_rad_s: np.ndarray
    """(3,) angular velocity, rad/s, world frame (its direction is the axis, right-handed)."""

    @classmethod
    def of(cls, pivot_m: object, linear_m_s: object, angular_rad_s: object) -> RigidMotion:
        return cls(*(np.asarray(v, dtype=np.float64).reshape(3) for v in (pivot_m, linear_m_s, angular_rad_s)))

    @property
    def moving(self) -> bool:
        """Whether anything changes with time (zero velocities: the body stands still)."""
        return bool(np.any(self.linear_m_s != 0.0) or np.any(self.angular_rad_s != 0.0))

    def rotate(self, vectors: np.ndarray, times: np.ndarray) -> np.ndarray:
        """(N, 3) ``vectors`` turned by R(ω·t) of each row's time."""
        return _rodrigues(vectors, self.angular_rad_s, np.asarray(times, dtype=np.float64))

    def unrotate(self, vectors: np.ndarray, times: np.ndarray) -> np.ndarray:
        """(N, 3) ``vectors`` turned back by R(ω·t)⁻¹ = R(−ω·t)."""
        return _rodrigues(vectors, self.angular_rad_s, -np.asarray(times, dtype=np.float64))

    def forward(self, points: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Where (N, 3) points of the body at t = 0 are at each row's time."""
        t = np.asarray(times, dtype=np.float64)
        rel = np.asarray(points, dtype=np.float64) - self.pivot_m
        return self.pivot_m + self.linear_m_s * t[:, None] + self.rotate(rel, t)

    def backward(self, points: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Where (N, 3) points of the body at each row's time were at t = 0 (``forward``'s inverse)."""
        t = np.asarray(times, dtype=np.float64)
        rel = np.asarray(points, dtype=np.float64) - self.pivot_m - self.linear_m_s * t[:, None]
        return self.pivot_m + self.unrotate(rel, t)

    def matrix(self, time_s: float) -> np.ndarray:
        """The 4×4 row-vector map of t = 0 world points to their place at ``time_s``
        (``p(t) = p(0) @ M``), for composing with a prim's own matrix."""
        t = np.array([float(time_s)])
        out = np.eye(4)
        out[:3, :3] = self.rotate(np.eye(3), np.repeat(t, 3))
        out[3, :3] = self.forward(np.zeros((1, 3)), t)[0]
        return out


def _rodrigues(vectors: np.ndarray, omega: np.ndarray, times: np.ndarray) -> np.ndarray:
    """v·cos θ + (k × v)·sin θ + k·(k·v)·(1 − cos θ), θ = |ω|·t, k = ω/|ω|, per row (written out
    per component: numpy's cross and outer cost more than the arithmetic on large arrays)."""
    v = np.asarray(vectors, dtype=np.float64)
    speed = float(np.linalg.norm(omega))
    if speed == 0.0:
        return v.copy()
    kx, ky, kz = omega / speed
    theta = speed * np.broadcast_to(times, v.shape[:1])
    cos, sin = np.cos(theta), np.sin(theta)
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    along = (kx * x + ky * y + kz * z) * (1.0 - cos)
    out = np.empty_like(v)
    out[:, 0] = x * cos + (ky * z - kz * y) * sin + kx * along
    out[:, 1] = y * cos + (kz * x - kx * z) * sin + ky * along
    out[:, 2] = z * cos + (kx * y - ky * x) * sin + kz * along
    return out
