"""Which scenario entries a list of target patterns names, within the sections a kind may target."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Scenario

__all__ = ["match_targets"]


def match_targets(scenario: Scenario, sections: tuple[str, ...], patterns: tuple[str, ...]) -> list[str]:
    """Names in ``sections`` of ``scenario`` matched by any of ``patterns`` (``fnmatch``), sorted."""
    names: set[str] = set()
    for section in sections:
        for name in getattr(scenario, section):
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                names.add(name)
    return sorted(names)
