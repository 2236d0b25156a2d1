"""Dataset splits (issue 18 item 5): a pure function of (seed, frame) with the declared shares."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from scenesmith.runtime.run.run_folder import is_owned
from scenesmith.scenarios.loader import build
from scenesmith.sensors.errors import BadInputError
from scenesmith.writers.splits import split_of

SPLITS = (("train", 0.8), ("val", 0.1), ("test", 0.1))


def test_shares_converge_to_the_fractions_and_assignment_is_a_pure_function() -> None:
    n = 60_000
    splits = [split_of(7, f, SPLITS) for f in range(n)]
    for name, fraction in SPLITS:
        share = splits.count(name) / n
        assert share == pytest.approx(fraction, abs=4 * (fraction * (1 - fraction) / n) ** 0.5)
    # frames drawn alone, in any order, agree (resume, any worker count)
    assert [split_of(7, f, SPLITS) for f in reversed(range(1000))] == splits[:1000][::-1]
    assert splits[:200] != [split_of(8, f, SPLITS) for f in range(200)]  # the seed matters
    assert {split_of(7, f) for f in range(100)} == {"train"}  # the default: one split


def test_splits_are_validated_and_owned_by_name() -> None:
    base = {"version": 1, "assets": {"box": {"cube": {"size_m": 0.1}}}}
    ok = build({**base, "output": {"splits": {"train": 0.7, "val": 0.3}}})
    assert list(ok.scenario.output.splits) == ["train", "val"]
    for bad in ({"train": 0.7}, {"Train": 1.0}, {"val_fixed": 1.0}, {"train": 1.5, "val": -0.5}):
        with pytest.raises(BadInputError):
            build({**base, "output": {"splits": bad}})
    assert is_owned(PurePosixPath("coco/annotations/instances_val.json"))
    assert not is_owned(PurePosixPath("coco/annotations/instances_val_fixed.json"))
