"""Splits in the shipped writers (issue 18 item 5): COCO, HDF5 and pose JSON put every frame
where its split says, for any worker count and after a resume."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_cli
from pycocotools.coco import COCO
from run_diff import files_of
from scenesmith.writers.hdf5_reader import read_frames

SMALL = REPO / "tests" / "scenarios" / "small_tabletop.yaml"
SPLITS = {"train": 0.6, "val": 0.4}
FRAMES = 8


def expected_split(seed: int, frame: int) -> str:
    """The documented rule, written again here: the first 8 bytes of
    sha256("scenesmith-split:<seed>:<frame>"), little-endian, as a fraction of 2^64, against
    the cumulative fractions in declared order."""
    u = int.from_bytes(hashlib.sha256(f"scenesmith-split:{seed}:{frame}".encode()).digest()[:8], "little") / 2.0**64
    total = 0.0
    for name, fraction in SPLITS.items():
        total += fraction
        if u < total:
            return name
    return list(SPLITS)[-1]


def split_scenario(folder: Path) -> Path:
    text = SMALL.read_text()
    assert "output:\n  frames: 8\n" in text
    text = text.replace("output:\n  frames: 8\n", "output:\n  frames: 8\n  splits: {train: 0.6, val: 0.4}\n")
    path = folder / "split_tabletop.yaml"
    path.write_text(text)
    return path


def generate(scenario: Path, out: Path, *args: str) -> None:
    result = run_cli("generate", str(scenario), "--asset-root", str(EXAMPLES), "-o", str(out), "--no-progress", *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("splits")
    scenario = split_scenario(root)
    one, two = root / "one", root / "two"
    generate(scenario, one)
    generate(scenario, two, "--workers", "2")
    # an interrupted run: shard 1 never published (its record gone), no manifest yet
    resumed = root / "resumed"
    shutil.copytree(one, resumed)
    (resumed / "shards" / "000001.json").unlink()
    (resumed / "manifest.json").unlink()
    generate(scenario, resumed, "--resume")
    return {"one": one, "two": two, "resumed": resumed}


def test_both_splits_are_drawn() -> None:
    assert {expected_split(0, f) for f in range(FRAMES)} == set(SPLITS)


def test_coco_puts_each_frame_in_its_split_and_pycocotools_loads_each(runs: dict[str, Path]) -> None:
    out = runs["one"]
    seen = {}
    for split in SPLITS:
        path = out / "coco" / "annotations" / f"instances_{split}.json"
        coco = COCO(str(path))
        for image in coco.dataset["images"]:
            frame = image["scenesmith"]["frame_index"]
            seen[frame] = split
            assert (out / "coco" / "images" / split / image["file_name"]).is_file()
            assert not (out / "coco" / "images" / ({*SPLITS} - {split}).pop() / image["file_name"]).exists()
        for ann in coco.dataset["annotations"]:  # every annotation's image is in this file
            assert ann["image_id"] in coco.imgs
        assert len(coco.getAnnIds()) > 0
    assert seen == {f: expected_split(0, f) for f in range(FRAMES)}


def test_hdf5_and_pose_json_record_each_frames_split(runs: dict[str, Path]) -> None:
    out = runs["one"]
    splits = {}
    for shard in sorted((out / "hdf5").glob("*.h5")):
        for frame in read_frames(shard):
            splits[frame["frame"]] = frame["split"]
    assert splits == {f: expected_split(0, f) for f in range(FRAMES)}
    listed = {}
    for split in SPLITS:
        for line in (out / "pose" / f"{split}.txt").read_text().splitlines():
            camera, name = line.split("/")
            assert (out / "pose" / camera / name).is_file()
            listed[int(Path(name).stem)] = split
    files = {int(p.stem) for p in (out / "pose").glob("*/*.json")}
    assert listed == {f: expected_split(0, f) for f in files}


def test_split_runs_are_identical_for_any_worker_count_and_after_resume(runs: dict[str, Path]) -> None:
    one = files_of(runs["one"])
    for other in ("two", "resumed"):
        got = files_of(runs[other])
        assert got.keys() == one.keys(), other
        assert [k for k in one if one[k] != got[k]] == [], other
    for out in runs.values():
        assert run_cli("verify", str(out)).returncode == 0
