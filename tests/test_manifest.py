"""``manifest.json`` is written by streaming (``runtime.run.manifest.build_manifest``): the same
bytes as ``json.dump`` of the whole manifest, while the driver's memory stays flat whatever the
number of frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import peak_rss_growth
from scenesmith.runtime.run.manifest import build_manifest
from scenesmith.runtime.run.shards import ShardPlan, file_entry, publish_record, record_path


def _publish(out: Path, plan: ShardPlan, names: list[str]) -> dict[str, Any]:
    files = []
    for name in names:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{name} {plan.shard_id}".encode())
        files.append(Path(name))
    return publish_record(out, plan, files, {f: f"{f:064x}" for f in plan.frames})


def _in_memory(out: Path, run: dict[str, Any], records: list[dict[str, Any]], run_files: list[Path]) -> str:
    """The manifest as one ``json.dump`` of the whole document writes it (the format's definition)."""
    files = {rel.as_posix(): file_entry(out / rel) for rel in run_files}
    hashes: dict[str, str] = {}
    shards = []
    for record in records:
        files.update(record["files"])
        rel = record_path(out, record["shard"]).relative_to(out).as_posix()
        files[rel] = file_entry(out / rel)
        hashes.update(record["frame_hashes"])
        shards.append({"id": record["shard"], "frames": record["frames"], "record": rel})
    manifest = {**run, "shards": shards, "frame_hashes": hashes, "files": files}
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def test_the_streamed_manifest_has_the_bytes_of_one_json_dump(tmp_path: Path) -> None:
    out = tmp_path / "a b?#%"  # a folder name a file URI must escape (its table opens by URI)
    out.mkdir()
    # orders where sorting by text, by number and by bytes could part: frames 2 and 10, "-" and
    # "/" in paths, upper case before lower, a non-ASCII name (escaped by json, sorted unescaped)
    plans = [ShardPlan(0, 0, 3), ShardPlan(1, 3, 12), ShardPlan(4, 12, 13)]
    names = ["coco/shard_<k>.json", "coco-b/x<k>.json", "Pose/a<k>.json", "pose/ä<k>.json", "hdf5/s<k>.h5"]
    records = [_publish(out, p, [n.replace("<k>", str(p.shard_id)) for n in names]) for p in plans]
    (out / "run.json").write_text("{}")
    (out / "stage_textures").mkdir()
    (out / "stage_textures" / "Z.png").write_bytes(b"z")
    run_files = [Path("run.json"), Path("stage_textures/Z.png")]
    run = {"seed": 7, "frames": {"start": 0, "stop": 13}, "writers": {"coco": {}, "pose": {"keys": []}}, "a": [1, []]}

    path = build_manifest(out, run, [p.shard_id for p in plans], run_files)

    assert path.read_text(encoding="utf-8") == _in_memory(out, run, records, run_files)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # its table is gone


FRAMES = 10**6
SHARDS = 1000
MANIFEST_RSS_BOUND_MB = 24
"""Peak RSS growth allowed while the manifest of 10^6 frames (1000 shards, 10^6 frame hashes,
5000 files) is written. Measured (CPython 3.11, the high-water mark reset just before): 3.2 MB:
one record parsed at a time and SQLite's page cache (2 MB by default). The same records held as
parsed JSON and the manifest built as one dict and dumped (what the driver did before) measured
371 MB, and the manifest's text alone is 77 MB, so a manifest that stops streaming fails the
bound by far; 24 MB leaves room for allocator and interpreter noise."""

BUILD = """
build_manifest(Path(sys.argv[1]), {"seed": 0}, range(int(sys.argv[2])), [])
result = "built"
"""


def _records(out: Path) -> None:
    """``SHARDS`` published records of ``FRAMES // SHARDS`` frames and five files each, written
    here by hand (``publish_record`` would hash the files, and fsync each record)."""
    folder = out / "shards"
    folder.mkdir()
    per = FRAMES // SHARDS
    entry = {"sha256": "0" * 64, "bytes": 1}
    for k in range(SHARDS):
        frames = range(k * per, (k + 1) * per)
        record = {
            "shard": k,
            "frames": [frames.start, frames.stop],
            "files": {f"{kind}/shard_{k:06d}.json": entry for kind in ("coco", "pose", "bop", "yolo", "hdf5")},
            "frame_hashes": {str(f): f"{f:064x}" for f in frames},
        }
        (folder / f"{k:06d}.json").write_text(json.dumps(record, indent=1, sort_keys=True))


def test_the_manifest_of_a_million_frames_stays_under_a_fixed_memory_bound(tmp_path: Path) -> None:
    _records(tmp_path)
    setup = "from scenesmith.runtime.run.manifest import build_manifest\n"
    grown_mb, _ = peak_rss_growth(setup, BUILD, str(tmp_path), str(SHARDS))
    size_mb = (tmp_path / "manifest.json").stat().st_size / 2**20
    print(f"manifest: peak RSS growth {grown_mb:.1f} MB for {size_mb:.0f} MB of manifest")
    assert grown_mb < MANIFEST_RSS_BOUND_MB < size_mb, (grown_mb, size_mb)
    with open(tmp_path / "manifest.json", encoding="utf-8") as handle:  # every frame and file is there
        text = handle.read()
    assert text.count('"sha256"') == SHARDS * 6  # five files and the record per shard
    assert text.count('": "') == FRAMES + SHARDS * 6 + SHARDS  # hashes, file digests, record paths
