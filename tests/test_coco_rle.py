"""COCO RLE of all instances from one pass over the id image equals pycocotools' own encoding
of each mask, with the exact pixel count and the mask's inclusive box."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scenesmith.writers.coco_writer import instance_rles


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_instance_rles_equal_per_mask_encoding(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = 37, 53
    ids = np.zeros((h, w), dtype=np.uint32)
    for k in range(2, 12):
        y, x = rng.integers(0, h), rng.integers(0, w)
        ids[max(0, y - 6) : y + 6, max(0, x - 9) : x + 9] = k
    ids[:, 0] = 20  # a full column: its run wraps into the next column
    ids[-1, -1] = 21  # the very last pixel
    ids[0, 5] = 22  # a single pixel at the top
    ids[h - 3 :, 30] = 23  # the bottom of one column ...
    ids[:2, 31] = 23  # ... continuing at the top of the next: one wrapped run
    ids[5, 40] = 0xFF00FF00  # a packed colorized id
    present = {int(v) for v in np.unique(ids)}
    wanted = present - {0}
    got = instance_rles(ids, wanted | {999})
    assert set(got) == wanted
    for iid, (rle, area, (x0, y0, x1, y1)) in got.items():
        mask = ids == iid
        ref = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert rle == {"size": [h, w], "counts": ref["counts"].decode("ascii")}, iid
        assert area == int(mask.sum())
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert (x0, y0, x1, y1) == (cols[0], rows[0], cols[-1], rows[-1]), iid
        assert np.array_equal(mask_utils.decode({"size": [h, w], "counts": rle["counts"].encode()}), mask)


def test_instance_rles_of_an_empty_image() -> None:
    assert instance_rles(np.zeros((0, 4), dtype=np.uint32), {2}) == {}
    assert instance_rles(np.zeros((3, 4), dtype=np.uint32), {2}) == {}
