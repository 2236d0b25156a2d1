"""``FrameParams``: every value drawn for one frame — its lineage (DESIGN §2).

Written next to the frame's data, it explains the frame and regenerates it alone:
``prims`` holds the USD-level values ``runtime.stage.apply`` sets (translate, orient, scale,
visible, material, light inputs), ``materials`` the material inputs, and ``draws`` which
randomizer drew what with which trigger key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FrameParams", "plain"]


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
        )

    @classmethod
    def from_json(cls, text: str) -> FrameParams:
        return cls.from_dict(json.loads(text))
