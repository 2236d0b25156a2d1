"""Where every random number comes from (DESIGN §4 "Determinism", §9 "Digests").

A draw's generator is derived with ``numpy.random.SeedSequence`` from the randomization digest,
the seed, the trigger key (⌊frame/interval⌋ or the episode), the randomizer's stream id (a
stable hash of its name) and the target's prim path. No global RNG, no ``hash()``, no
dependence on set or list order: the same inputs give the same draws in any process, any
worker count, any shard size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .model import Scenario

__all__ = [
    "canonical_json",
    "frame_rng",
    "randomization_digest",
    "scenario_digest",
    "stable_id",
]


def stable_id(text: str) -> int:
    """A 64-bit id of ``text`` that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def canonical_json(data: Any) -> str:
    """Sorted keys, no whitespace, floats as Python's shortest round-trip repr."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


LABEL_ONLY_ASSET_KEYS = ("symmetries",)
"""Asset keys left out of the randomization digest: they describe labels, not the random space."""


def randomization_digest(scenario: Scenario) -> str:
    """Digest of what defines the random space (DESIGN §9): the assets and distractors (their
    geometry bounds placements), the randomizers with their targets and distributions, the
    material pools, and the names randomizers can target. Renderer, annotator, writer, light
    and camera settings are left out, so changing them reshuffles no draw."""
    data = scenario.model_dump(mode="json")
    # declared symmetries label an object for pose datasets and define no draw
    assets = {
        name: {k: v for k, v in a.items() if k not in LABEL_ONLY_ASSET_KEYS} for name, a in data["assets"].items()
    }
    space = {
        "assets": assets,
        "distractors": data["distractors"],
        "randomizers": data["randomizers"],
        "material_pools": data["material_pools"],
        "names": {
            section: sorted(data[section]) for section in ("materials", "textures", "lights", "cameras", "lidars")
        },
        "episode_frames": data["physics"]["episode"]["frames"] if data["physics"]["enabled"] else 1,
    }
    return hashlib.sha256(canonical_json(space).encode()).hexdigest()


def scenario_digest(scenario: Scenario, files: Iterable[tuple[str, Path]]) -> tuple[str, dict[str, str]]:
    """sha256 of the canonical model plus the bytes of every referenced file; and per-file digests."""
    h = hashlib.sha256(canonical_json(scenario.model_dump(mode="json")).encode())
    per_file: dict[str, str] = {}
    for raw, path in sorted(files):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        per_file[raw] = digest
        h.update(f"\0{raw}\0{digest}".encode())
    return h.hexdigest(), per_file


def frame_rng(randomization: str, seed: int, key: int, stream: str, path: str = "") -> np.random.Generator:
    """The generator for one randomizer (``stream``), one trigger key and one target path."""
    entropy = [int(randomization[:32], 16), int(seed), int(key), stable_id(stream), stable_id(path)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
