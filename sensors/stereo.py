"""Rectification metadata of a stereo rig (issue 17, item 1), in OpenCV's ``stereoRectify`` terms.

A rig's two cameras share intrinsics and orientation, the right one ``baseline_m`` along the
left's +x, so their pinhole images are already rectified: R1 = R2 = I, P1 = [K | 0],
P2 = [K | (−fx·b, 0, 0)ᵀ] and Q maps (u, v, disparity, 1) to 3D as ``cv2.reprojectImageTo3D``
expects. K is the cameras' pinhole intrinsics in OpenCV's pixel convention (pixel (0, 0)'s
centre at (0, 0)); with a lens, the images must be undistorted to K first (OpenCV's
``initUndistortRectifyMap`` with R = I and P = P1/P2). The stereo extrinsics follow
``cv2.stereoCalibrate``: a point X in the left camera's OpenCV frame is R·X + T in the right's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .camera import PinholeCamera
from .lens import PIXEL_CENTRE

__all__ = ["STEREO_KEY", "rectification"]

STEREO_KEY = "stereo"
"""Key of the rig metadata inside the payload's scenesmith entry (``SCENESMITH_KEY``), per render product."""


def rectification(model: PinholeCamera, baseline_m: float, rig: str, role: str, other: str) -> dict[str, Any]:
    """The rig metadata a render product of a stereo rig carries (JSON-ready)."""
    k = model.intrinsics()
    k[0, 2] -= PIXEL_CENTRE  # scenesmith's pixel centres are at +0.5, OpenCV's at integers
    k[1, 2] -= PIXEL_CENTRE
    p1 = np.hstack([k, np.zeros((3, 1))])
    p2 = p1.copy()
    p2[0, 3] = -k[0, 0] * baseline_m
    q = np.array(
        [
            [1.0, 0.0, 0.0, -k[0, 2]],
            [0.0, 1.0, 0.0, -k[1, 2]],
            [0.0, 0.0, 0.0, k[0, 0]],
            [0.0, 0.0, 1.0 / baseline_m, 0.0],
        ]
    )
    return {
        "rig": rig,
        "role": role,
        "left": other if role == "right" else None,
        "right": other if role == "left" else None,
        "baseline_m": float(baseline_m),
        "K": k.tolist(),
        "R": np.eye(3).tolist(),
        "T": [-float(baseline_m), 0.0, 0.0],
        "R1": np.eye(3).tolist(),
        "R2": np.eye(3).tolist(),
        "P1": p1.tolist(),
        "P2": p2.tolist(),
        "Q": q.tolist(),
        "image_size": [model.width, model.height],
    }
