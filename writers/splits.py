"""Dataset splits (issue 18 item 5): which split a frame belongs to, as a pure function.

A frame's split depends only on the run's seed, the frame index and the declared fractions
(``output.splits``, in their declared order): u = the first 8 bytes of
sha256("scenesmith-split:<seed>:<frame>") as a fraction of 2^64, and the frame goes to the first
split whose cumulative fraction exceeds u. So resume, any worker count and any shard size agree,
and the assignment is i.i.d. per frame (a split's share converges to its fraction). Every
camera of a frame is in the frame's split: views of one scene never straddle train and test.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

__all__ = ["DEFAULT_SPLITS", "SPLIT_NAME", "split_of"]

SPLIT_NAME = re.compile(r"[a-z][a-z0-9]{0,31}")
"""A split's name: lower-case letters and digits (``train``, ``val``, ``test``, ``holdout2``), so
file names built from it (``instances_<split>.json``) never collide with a user's
``instances_val_fixed.json``, and the run's ownership patterns can match them (``<split>``)."""
DEFAULT_SPLITS: tuple[tuple[str, float], ...] = (("train", 1.0),)


def split_of(seed: int, frame: int, splits: Sequence[tuple[str, float]] = DEFAULT_SPLITS) -> str:
    """The split of ``frame`` in a run with ``seed`` (fractions summing to 1, declared order)."""
    if len(splits) == 1:
        return splits[0][0]
    digest = hashlib.sha256(f"scenesmith-split:{int(seed)}:{int(frame)}".encode()).digest()
    u = int.from_bytes(digest[:8], "little") / 2.0**64
    total = 0.0
    for name, fraction in splits:
        total += fraction
        if u < total:
            return name
    return splits[-1][0]  # u within rounding of 1
