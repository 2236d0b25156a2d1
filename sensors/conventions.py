"""Frames, rotations and matrices as USD, Isaac Sim and Replicator use them (DESIGN §7).

- Metres, seconds, kilograms; degrees only where a name says ``_deg``.
- Quaternions are ``(w, x, y, z)`` (``quat_wxyz``), USD/Isaac order.
- 4×4 matrices are row-major and act on **row vectors**: ``p_world = p_local @ M``, the
  translation sits in the last row. A local-to-parent matrix of translate/orient/scale ops is
  ``S @ R @ T``.
- Cameras look down their local −Z with +Y up (USD).
- Euler angles ``rotation_deg = (x, y, z)`` are Replicator's XYZ order:
  ``Gf.Rotation(X, x) * Gf.Rotation(Y, y) * Gf.Rotation(Z, z)``, i.e. first about X, then Y,
  then Z (fixed axes) — the same as USD's ``xformOp:rotateXYZ``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "euler_xyz_deg_to_quat",
    "look_at_quat",
    "matrix_to_quat_wxyz",
    "matrices_to_quat_wxyz",
    "normalize_quat",
    "quat_multiply",
    "quat_to_rotation_matrix",
    "rotation_matrix_to_quat",
    "transform_matrix",
]


def normalize_quat(q: Sequence[float]) -> np.ndarray:
    arr = np.asarray(q, dtype=np.float64)
    norm = float(np.linalg.norm(arr))
    if norm < 1e-12:
        raise ValueError("zero quaternion")
    arr = arr / norm + 0.0  # + 0.0 turns -0.0 into 0.0 so serialised values are stable
    # One sign per rotation keeps outputs stable: w >= 0 (first non-zero component positive).
    for component in arr:
        if abs(component) > 1e-15:
            return arr if component > 0 else -arr + 0.0
    return arr


def quat_to_rotation_matrix(q: Sequence[float]) -> np.ndarray:
    """3×3 rotation matrix acting on row vectors (``v_rotated = v @ R``) of ``q = (w, x, y, z)``."""
    w, x, y, z = normalize_quat(q)
    # Column-vector matrix, transposed at the end for the row-vector convention.
    col = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    return col.T


def rotation_matrix_to_quat(rot: np.ndarray) -> np.ndarray:
    """Quaternion ``(w, x, y, z)`` of a row-vector rotation matrix (inverse of the above)."""
    m = np.asarray(rot, dtype=np.float64).T  # column-vector form
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = math.sqrt(trace + 1.0) * 2
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    return normalize_quat(q)


def matrix_to_quat_wxyz(matrix: np.ndarray) -> np.ndarray:
    """Rotation of a 4×4 row-vector transform (scale removed by orthonormalising rows)."""
    return matrices_to_quat_wxyz(np.asarray(matrix, dtype=np.float64)[None])[0]


def matrices_to_quat_wxyz(matrices: np.ndarray) -> np.ndarray:
    """(n, 4) rotations of (n, 4, 4) row-vector transforms; one batched SVD for all of them."""
    u, _, vt = np.linalg.svd(np.asarray(matrices, dtype=np.float64)[:, :3, :3])
    rotations = u @ vt
    return np.array([rotation_matrix_to_quat(r) for r in rotations]).reshape(-1, 4)


def quat_multiply(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Hamilton product ``a ⊗ b`` (apply ``b`` first, then ``a``, on column vectors)."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def _axis_quat(axis: int, angle_deg: float) -> np.ndarray:
    half = math.radians(angle_deg) / 2
    q = np.zeros(4)
    q[0] = math.cos(half)
    q[1 + axis] = math.sin(half)
    return q


def euler_xyz_deg_to_quat(angles_deg: Sequence[float]) -> np.ndarray:
    """Replicator/USD ``rotateXYZ``: about X first, then Y, then Z (fixed axes)."""
    qx, qy, qz = (_axis_quat(i, float(a)) for i, a in enumerate(angles_deg))
    return normalize_quat(quat_multiply(qz, quat_multiply(qy, qx)))


def transform_matrix(
    translate: Sequence[float] = (0.0, 0.0, 0.0),
    quat_wxyz: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    scale: Sequence[float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """Row-vector 4×4 local-to-parent matrix ``S @ R @ T`` of translate/orient/scale ops."""
    m = np.eye(4)
    m[:3, :3] = np.diag(np.asarray(scale, dtype=np.float64)) @ quat_to_rotation_matrix(quat_wxyz)
    m[3, :3] = np.asarray(translate, dtype=np.float64)
    return m


def look_at_quat(
    eye: Sequence[float], target: Sequence[float], up: Sequence[float] = (0.0, 0.0, 1.0), stage_up_axis: str = "Z"
) -> np.ndarray:
    """Orientation of a prim at ``eye`` whose −Z looks at ``target``, by Replicator's rule.

    Replicator 1.12.27 (``scripts/utils/utils.py: look_at``) builds ``Gf.Matrix4d.SetLookAt(eye,
    target, up)`` and inverts it. When the view direction is exactly parallel to ``up`` it first
    nudges the eye by 1e-6 along +X on a Z-up stage (+Z on a Y-up stage), which fixes the
    answer for a camera looking straight down: its +X points along world +Y.
    """
    eye_v = np.asarray(eye, dtype=np.float64)
    target_v = np.asarray(target, dtype=np.float64)
    up_v = np.asarray(up, dtype=np.float64)
    if np.linalg.norm(up_v) < 1e-6:
        raise ValueError("look_at up axis cannot be a zero vector")
    if np.linalg.norm(target_v - eye_v) < 1e-6:
        raise ValueError("look_at target cannot be at the eye position")
    if np.all(np.cross(target_v - eye_v, up_v) == 0):
        eye_v = eye_v + (np.array([0.0, 0.0, 1e-6]) if stage_up_axis == "Y" else np.array([1e-6, 0.0, 0.0]))
    up_v = up_v / np.linalg.norm(up_v)
    forward = target_v - eye_v
    forward /= np.linalg.norm(forward)
    side = np.cross(forward, up_v)
    side /= np.linalg.norm(side)
    true_up = np.cross(side, forward)
    # Rows of the camera-to-world rotation (row-vector convention) are the camera axes.
    rot = np.stack([side, true_up, -forward])
    return rotation_matrix_to_quat(rot)
