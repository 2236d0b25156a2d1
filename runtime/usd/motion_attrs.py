"""Motion on the stage: a ``velocity`` draw as prim attributes, and a camera's exposure.

A drawn velocity is set on its prim as ``scenesmith:motion:velocity`` (m/s) and
``scenesmith:motion:angularVelocity`` (deg/s), world frame, with UsdPhysics' units
(``physics:velocity`` / ``physics:angularVelocity``), which we leave alone: on a rigid body those
are physics' initial velocities. The embedded backend reads them at capture.

A camera's exposure is USD's own ``UsdGeom.Camera`` ``shutter:open`` / ``shutter:close``: frame-
relative times in time codes, here centred on the frame (−exposure/2 … +exposure/2 seconds times
the stage's time codes per second), the attributes Isaac Sim's camera classes set for motion blur
(``set_shutter_properties``, ``set_shutter_times``; cited in ``extension/api_citations.toml``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ANGULAR_VELOCITY_ATTR", "VELOCITY_ATTR", "author_exposure", "read_velocity", "set_velocity"]

VELOCITY_ATTR = "scenesmith:motion:velocity"
ANGULAR_VELOCITY_ATTR = "scenesmith:motion:angularVelocity"


def set_velocity(prim: Any, linear_m_s: Any | None, angular_deg_s: Any | None) -> None:
    """Set the drawn velocities (either may be None: left as they are) on ``prim``."""
    from pxr import Gf, Sdf

    for attr, value in ((VELOCITY_ATTR, linear_m_s), (ANGULAR_VELOCITY_ATTR, angular_deg_s)):
        if value is not None:
            prim.CreateAttribute(attr, Sdf.ValueTypeNames.Double3).Set(Gf.Vec3d(*map(float, value)))


def read_velocity(prim: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(m/s, rad/s) world-frame velocities drawn for ``prim``, or None when it has none."""
    linear, angular = prim.GetAttribute(VELOCITY_ATTR), prim.GetAttribute(ANGULAR_VELOCITY_ATTR)
    if not linear and not angular:
        return None
    v = np.asarray(linear.Get() if linear else (0.0, 0.0, 0.0), dtype=np.float64)
    w = np.radians(np.asarray(angular.Get() if angular else (0.0, 0.0, 0.0), dtype=np.float64))
    return v, w


def author_exposure(camera: Any, exposure_s: float) -> None:
    """``shutter:open`` / ``shutter:close`` of a ``UsdGeom.Camera``, centred on the frame."""
    half = 0.5 * exposure_s * camera.GetPrim().GetStage().GetTimeCodesPerSecond()
    camera.CreateShutterOpenAttr(-half)
    camera.CreateShutterCloseAttr(half)
