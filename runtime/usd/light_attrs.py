"""Light attributes scenesmith authors beyond UsdLux's schema, spelled as Isaac Sim's RTX reads them."""

from __future__ import annotations

from typing import Any

__all__ = ["VISIBLE_IN_PRIMARY_RAY", "visible_in_primary_ray"]

VISIBLE_IN_PRIMARY_RAY = "visibleInPrimaryRay"
"""RTX's bare (un-namespaced) Bool on a UsdLux light: camera rays see the light's emitting
surface. Isaac Sim's own code authors it this way (``isaacsim.sensors.experimental.rtx``,
``structured_light_camera.py``, v6.0.1, sets it False on its projector rect lights); an
``inputs:``-prefixed spelling parses but RTX ignores it. scenesmith authors it on every light
it makes (not domes), so the two backends agree whatever RTX's default; on a stage that does not
author it, the embedded renderer leaves the light unseen."""


def visible_in_primary_ray(prim: Any) -> bool:
    """Whether ``prim`` (a UsdLux light) is authored visible to camera rays."""
    attr = prim.GetAttribute(VISIBLE_IN_PRIMARY_RAY)
    return bool(attr and attr.Get())
