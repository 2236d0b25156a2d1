"""``sample(resolved, seed, frame_index) -> FrameParams``: the frame's randomness, alone.

A frame depends only on the randomization digest, the seed, the frame index and each
randomizer's stable id (DESIGN §4): frames 5..9 sampled alone equal frames 5..9 sampled within
0..9, in any process. Randomizers draw in the order of their kind's ``phase``, by name within a
phase:

1. ``count`` then ``visibility`` (which copies are shown),
2. ``pose``, 3. ``scatter`` (needs the surface's pose), 4. ``look_at``,
5. ``light``, ``material``, ``material_inputs``, 6. distractors, 7. the cameras' sensor models.

When two randomizers set the same attribute, the later one wins. How each kind draws is its
class's ``draw`` (``scenarios.randomizers``); distractors are ``distractor_sampling``.
"""

from __future__ import annotations

from .distractor_sampling import draw_distractors
from .frame_params import FrameParams
from .frame_state import FrameState, authored_orientation, episode_of, trigger_key
from .resolved import ResolvedScenario
from .sensor_draws import draw_sensor_models

__all__ = ["authored_orientation", "episode_of", "sample", "trigger_key"]


def sample(resolved: ResolvedScenario, seed: int, frame_index: int) -> FrameParams:
    """Every value drawn for ``frame_index`` under ``seed`` (pure; no global state)."""
    frame = FrameState(resolved, seed, frame_index)
    randomizers = resolved.scenario.randomizers
    for name in sorted(randomizers, key=lambda n: (randomizers[n].phase, n)):
        randomizers[name].draw(frame, name)
    for name in sorted(resolved.scenario.distractors):
        draw_distractors(frame, name, resolved.scenario.distractors[name])
    draw_sensor_models(frame)
    return frame.params
