"""``FrameParams``: every value drawn for one frame — its lineage (DESIGN §2).

Written next to the frame's data, it explains the frame and regenerates it alone:
``prims`` holds the USD-level values ``runtime.usd.apply`` sets (translate, orient, scale,
visible, material, light inputs), ``materials`` the material inputs, and ``draws`` which
randomizer drew what with which trigger key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LIGHT_INPUT_ATTRS", "MATERIAL_INPUT_ATTRS", "FrameParams", "MaterialKey", "PrimKey", "plain"]


class PrimKey:
    """Keys of ``FrameParams.prims[path]``: the values ``runtime.usd.apply`` sets on a prim.
    The sampler writes them, the stage and the Replicator compiler read them."""

    TRANSLATE = "translate"
    """xformOp:translate, 3 floats in the parent frame."""
    ORIENT = "orient"
    """xformOp:orient, a (w, x, y, z) quaternion."""
    SCALE = "scale"
    """xformOp:scale, 3 floats."""
    VISIBLE = "visible"
    """visibility: inherited (True) or invisible (False)."""
    MATERIAL = "material"
    """Name of the material bound (material:binding)."""
    INTENSITY = "intensity"
    EXPOSURE = "exposure"
    COLOR = "color"
    COLOR_TEMPERATURE = "color_temperature"
    ENABLE_COLOR_TEMPERATURE = "enable_color_temperature"
    TEXTURE = "texture"
    """Name of a dome light's texture."""
    SKY = "sky"
    """Drawn parameters of a dome's procedural sky texture (sun elevation, azimuth, turbidity)."""
    LINEAR_VELOCITY = "linear_velocity"
    """Velocity of the prim's origin during an exposure, m/s, world frame (``velocity`` kind)."""
    ANGULAR_VELOCITY = "angular_velocity"
    """Angular velocity about the prim's origin during an exposure, deg/s, world frame."""


POSE_KEYS = frozenset({PrimKey.TRANSLATE, PrimKey.ORIENT, PrimKey.SCALE, PrimKey.VISIBLE})
"""What physics owns on a simulated body inside an episode."""

LIGHT_INPUT_ATTRS: dict[str, tuple[str, type]] = {
    PrimKey.INTENSITY: ("inputs:intensity", float),
    PrimKey.EXPOSURE: ("inputs:exposure", float),
    PrimKey.COLOR_TEMPERATURE: ("inputs:colorTemperature", float),
    PrimKey.ENABLE_COLOR_TEMPERATURE: ("inputs:enableColorTemperature", bool),
}
"""Scalar UsdLux inputs: the light's attribute and type per key (``color`` is a Vec3f)."""


class MaterialKey:
    """Keys of ``FrameParams.materials[name]``: UsdPreviewSurface inputs."""

    DIFFUSE_COLOR = "diffuse_color"
    ROUGHNESS = "roughness"
    METALLIC = "metallic"
    EMISSIVE_COLOR = "emissive_color"


MATERIAL_INPUT_ATTRS: dict[str, str] = {
    MaterialKey.DIFFUSE_COLOR: "inputs:diffuseColor",
    MaterialKey.ROUGHNESS: "inputs:roughness",
    MaterialKey.METALLIC: "inputs:metallic",
    MaterialKey.EMISSIVE_COLOR: "inputs:emissiveColor",
}
"""The shader attribute each material key sets."""

__all__ += ["POSE_KEYS"]


def plain(value: Any) -> Any:
    """JSON-ready copy: numpy arrays and scalars become lists and Python numbers."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@dataclass
class FrameParams:
    frame_index: int
    seed: int
    episode_index: int
    frame_in_episode: int
    randomization_digest: str
    prims: dict[str, dict[str, Any]] = field(default_factory=dict)
    materials: dict[str, dict[str, Any]] = field(default_factory=dict)
    draws: dict[str, dict[str, Any]] = field(default_factory=dict)
    sensors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per camera, the sensor models' drawn parameters (``sensor``, ``depth_sensor``), and per
    LiDAR its models' (``dropout``, ``returns``); absent from the lineage JSON when no sensor
    has a model, so older outputs are unchanged."""

    def prim(self, path: str) -> dict[str, Any]:
        return self.prims.setdefault(path, {})

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "frame_index": self.frame_index,
                "seed": self.seed,
                "episode_index": self.episode_index,
                "frame_in_episode": self.frame_in_episode,
                "randomization_digest": self.randomization_digest,
                "prims": self.prims,
                "materials": self.materials,
                "draws": self.draws,
                **({"sensors": self.sensors} if self.sensors else {}),
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameParams:
        return cls(
            frame_index=int(data["frame_index"]),
            seed=int(data["seed"]),
            episode_index=int(data["episode_index"]),
            frame_in_episode=int(data["frame_in_episode"]),
            randomization_digest=str(data["randomization_digest"]),
            prims={k: dict(v) for k, v in data["prims"].items()},
            materials={k: dict(v) for k, v in data["materials"].items()},
            draws={k: dict(v) for k, v in data["draws"].items()},
            sensors={k: dict(v) for k, v in data.get("sensors", {}).items()},
        )

    @classmethod
    def from_json(cls, text: str) -> FrameParams:
        return cls.from_dict(json.loads(text))
