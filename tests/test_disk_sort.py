"""The final merges whose size grows with the dataset sort on disk (``writers.disk_sort``): the
order is Python's, the image lists of KITTI, VOC and pose are those a sort in memory writes, and
a million rows stay under a fixed memory bound (issue 19)."""

from __future__ import annotations

import random
from pathlib import Path

from conftest import peak_rss_growth
from scenesmith.writers.base import RunInfo
from scenesmith.writers.disk_sort import SortedOnDisk
from scenesmith.writers.registry import default_registry

SPLITS = (("train", 0.6), ("val", 0.3), ("test", 0.1))
RUN = RunInfo("0", 1, "s" * 64, "r" * 64, 3, ("box",), ("cam", "cam-2"), splits=SPLITS)


def test_rows_come_back_in_pythons_order_with_ties_in_insertion_order(tmp_path: Path) -> None:
    rng = random.Random(4)
    keys: list[int | str] = [2, 10, 123, "123", "000123", "a", "B", "ä", "cam/x", "cam-2"]
    rows = [(rng.choice("xy"), rng.choice(keys[:3]), rng.choice(keys[3:]), f"v{n}") for n in range(400)]
    with SortedOnDisk(tmp_path / "list.txt") as table:
        table.add(iter(rows))
        assert table.groups() == ["x", "y"]
        for group in ("x", "y"):
            expected = [v for g, k1, k2, v in sorted(rows, key=lambda r: (r[1], r[2])) if g == group]
            assert list(table.values(group)) == expected  # sorted() is stable: ties keep their order
        assert table.path.exists() and table.path.name.startswith(".list.txt.")
    assert list(tmp_path.iterdir()) == []  # the scratch table is removed with the sorter


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def _frames() -> list[int]:
    frames = list(range(0, 240, 1)) + [1234567]  # past six digits, where name order and number order part
    random.Random(1).shuffle(frames)  # created out of order: the file system's order is not the list's
    return frames


def test_the_kitti_voc_and_pose_lists_are_those_an_in_memory_sort_writes(tmp_path: Path) -> None:
    frames = _frames()
    for frame in frames:
        for camera in RUN.cameras:
            part = "testing" if RUN.split_of(frame) == "test" else "training"
            _touch(tmp_path / "kitti" / camera / part / "label_2" / f"{frame:06d}.txt")
            _touch(tmp_path / "voc" / "Annotations" / f"{camera}_{frame:06d}.xml")
            _touch(tmp_path / "pose" / camera / f"{frame:06d}.json")
    _touch(tmp_path / "pose" / "cam" / ".000001.json.77.tmp")  # a temporary file: not a document
    registry = default_registry()
    for name in ("kitti", "voc", "pose"):
        registry.get(name)().on_final_frame(tmp_path, RUN, [0])

    for split, _ in SPLITS:
        ids = sorted(f for f in frames if RUN.split_of(f) == split)
        for camera in RUN.cameras:
            text = (tmp_path / "kitti" / camera / "ImageSets" / f"{split}.txt").read_text()
            assert text == "".join(f"{f:06d}\n" for f in ids)
        voc = sorted((f, f"{c}_{f:06d}") for f in ids for c in RUN.cameras)
        assert (tmp_path / "voc" / "ImageSets" / "Main" / f"{split}.txt").read_text() == "".join(
            f"{i}\n" for _, i in voc
        )
        # pose sorts paths part by part: "cam" before "cam-2", though "cam/" sorts after "cam-"
        pose = sorted(Path(c) / f"{f:06d}.json" for f in ids for c in RUN.cameras)
        assert (tmp_path / "pose" / f"{split}.txt").read_text() == "".join(f"{p.as_posix()}\n" for p in pose)
    assert not [p for p in tmp_path.rglob(".*.db")]  # no scratch table left


ROWS = 10**6
SORT_RSS_BOUND_MB = 16
"""Peak RSS growth allowed while 10^6 rows (a frame's split, number and list line) are sorted and
read back. Measured (CPython 3.11, the high-water mark reset just before): 2.4 MB, SQLite's page
cache; the same rows as a Python list of tuples, sorted, measured 182 MB, so a merge that stops
streaming fails the bound by far; 16 MB leaves room for allocator and interpreter noise."""

SORT = """
out, rows = Path(sys.argv[1]), int(sys.argv[2])
with SortedOnDisk(out / "list.txt") as table:
    # frames arrive in a scrambled order (a file system's), every one a line of its split's list
    table.add(("train" if f % 3 else "val", f, 0, f"{f:07d}\\n") for f in (k * 7919 % rows for k in range(rows)))
    result = sum(1 for group in table.groups() for _ in table.values(group))
"""


def test_a_million_rows_sort_under_a_fixed_memory_bound(tmp_path: Path) -> None:
    setup = "from scenesmith.writers.disk_sort import SortedOnDisk\n"
    grown_mb, lines = peak_rss_growth(setup, SORT, str(tmp_path), str(ROWS))
    print(f"sorted on disk: peak RSS growth {grown_mb:.1f} MB for {ROWS} rows")
    assert int(lines) == ROWS
    assert grown_mb < SORT_RSS_BOUND_MB, grown_mb
