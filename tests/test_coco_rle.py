"""COCO RLE of all instances from one pass over the id image equals pycocotools' own encoding
of each mask, with the exact pixel count and the mask's inclusive box; annotation ids and their
bounds (DESIGN §9: ``image_id × 10,000 + j + 1``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scenesmith.writers.base import RunInfo, ShardContext
from scenesmith.writers.coco_writer import (
    ANNOTATIONS_PER_IMAGE,
    EXTRA_KEY,
    MAX_EXACT_ID,
    CocoWriter,
    instance_rles,
)


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


def _run(cameras: int) -> RunInfo:
    return RunInfo("0", 1, "", "", 0, ("thing",), tuple(f"cam{k:04d}" for k in range(cameras)))


def _payload(frame: int, instances: int) -> dict:
    """One camera image in which each of ``instances`` labelled objects covers one pixel."""
    w = 100
    h = -(-instances // w)
    ids = np.zeros((h, w), dtype=np.uint32)
    ids.reshape(-1)[:instances] = np.arange(2, instances + 2, dtype=np.uint32)
    semantics = {str(i): {"class": "thing"} for i in range(2, instances + 2)}
    return {
        "swhFrameNumber": frame,
        "annotators": {
            "camera": {"cam0000": "/World/cam0000"},
            "rgb": {"cam0000": {"data": np.zeros((h, w, 4), dtype=np.uint8)}},
            "instance_segmentation": {
                "cam0000": {
                    "data": ids,
                    "idToSemantics": semantics,
                    "idToLabels": {str(i): f"/World/thing_{i:05d}" for i in range(2, instances + 2)},
                }
            },
        },
    }


def test_an_image_holds_up_to_10000_annotations_with_ids_from_one(tmp_path: Path) -> None:
    writer = CocoWriter()
    writer.open(ShardContext(tmp_path, 0, (0, 8), _run(2)))
    writer.write(_payload(3, ANNOTATIONS_PER_IMAGE))
    image_id = 3 * 2 + 0
    ids = [a["id"] for a in writer.annotations]
    assert ids == list(range(image_id * ANNOTATIONS_PER_IMAGE + 1, (image_id + 1) * ANNOTATIONS_PER_IMAGE + 1))
    assert ids[-1] < (image_id + 1) * ANNOTATIONS_PER_IMAGE + 1  # below the next image's first id
    assert writer.annotations[0][EXTRA_KEY]["instance_id"] == 2
    assert writer.annotations[0][EXTRA_KEY]["prim_path"] == "/World/thing_00002"
    with pytest.raises(ValueError, match="frame 4, camera cam0000: more than 10000 instances"):
        writer.write(_payload(4, ANNOTATIONS_PER_IMAGE + 1))


def test_ids_beyond_2_53_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    # the documented maximum of 10^8 frames: 9,007 cameras still fit, 9,008 do not
    frames = (100_000_000 - 8, 100_000_000)
    writer = CocoWriter()
    writer.open(ShardContext(tmp_path, 0, frames, _run(9007)))
    assert frames[1] * 9007 * ANNOTATIONS_PER_IMAGE <= MAX_EXACT_ID == 2**53 - 1
    with pytest.raises(ValueError, match="beyond 9007199254740991"):
        CocoWriter().open(ShardContext(tmp_path, 0, frames, _run(9008)))
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_run_past_exact_ids_is_bad_input_before_the_folder_exists(tmp_path: Path) -> None:
    from conftest import run_cli

    cameras = "\n".join(
        f"  c{k}: {{resolution: [8, 8], position_m: [{k * 0.001}, -2.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}}"
        for k in range(9008)
    )
    scenario = tmp_path / "many.yaml"
    scenario.write_text(f"version: 1\nassets:\n  box: {{cube: {{size_m: 0.1}}}}\ncameras:\n{cameras}\n")
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "-o", str(out), "--frames", "100000000")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("--frames: too many frames for exact COCO ids"), result.stderr
    assert "beyond 9007199254740991" in result.stderr
    assert not out.exists()
    # the frame count from the scenario's own output.frames is named there
    scenario.write_text(scenario.read_text() + "output: {frames: 100000000}\n")
    result = run_cli("generate", str(scenario), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{scenario}:"), result.stderr
    assert ": output.frames: too many frames for exact COCO ids" in result.stderr
    assert not out.exists()
