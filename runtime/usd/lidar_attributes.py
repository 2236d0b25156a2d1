"""Isaac Sim 6.0 ``OmniLidar`` attributes from an RTX profile.

Isaac Sim 6.0 describes LiDARs as ``OmniLidar`` prims whose ``omni:sensor:Core:<field>``
attributes carry the profile's fields and ``omni:sensor:Core:emitterState:s<NNN>:<field>`` the
emitter states (1-based, 3 digits); strings are upper-cased and ``solidState`` becomes
``SOLID_STATE``; missing emitter fields among azimuthDeg, channelId, elevationDeg, fireTimeNs
are filled (channel ids 1…n, zeros otherwise). Read from Isaac Sim's
``source/tools/isaacsim.sensors.rtx/convert_lidar_json_to_usda.py`` (v6.0.1); the value types
here follow the JSON values (Kit's compiled OmniLidar schema types them itself).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CORE_PREFIX", "omni_lidar_attributes"]

CORE_PREFIX = "omni:sensor:Core:"
REQUIRED_STATE_FIELDS = ("azimuthDeg", "channelId", "elevationDeg", "fireTimeNs")


def _usd_value(value: Any) -> Any:
    if isinstance(value, str):
        return ("solid_state" if value == "solidState" else value).upper()
    return value


def _comment(key: str) -> bool:
    return key.startswith(("_", "comment"))


def omni_lidar_attributes(profile: dict[str, Any]) -> dict[str, Any]:
    """Attribute name → value for the profile's scalar and numeric-array fields."""
    out: dict[str, Any] = {}
    n = int(profile.get("numberOfEmitters", 0))
    for i, state in enumerate(profile.get("emitterStates", [])):
        fields = dict(state)
        for name in REQUIRED_STATE_FIELDS:
            if name not in fields:
                fields[name] = list(range(1, n + 1)) if name == "channelId" else [0] * n
        for name, value in fields.items():
            if not _comment(name) and isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
                out[f"{CORE_PREFIX}emitterState:s{i + 1:03d}:{name}"] = value
    for name, value in profile.items():
        if name == "emitterStates" or _comment(name):
            continue
        if isinstance(value, (str, int, float, bool)):
            out[f"{CORE_PREFIX}{name}"] = _usd_value(value)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            out[f"{CORE_PREFIX}{name}"] = value
    return out


def sdf_type(value: Any) -> Any:
    from pxr import Sdf

    if isinstance(value, bool):
        return Sdf.ValueTypeNames.Bool
    if isinstance(value, int):
        return Sdf.ValueTypeNames.Int
    if isinstance(value, float):
        return Sdf.ValueTypeNames.Float
    if isinstance(value, str):
        return Sdf.ValueTypeNames.Token
    if all(isinstance(v, int) for v in value):
        return Sdf.ValueTypeNames.IntArray
    return Sdf.ValueTypeNames.FloatArray


__all__ += ["sdf_type"]
