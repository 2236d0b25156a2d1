"""``scenesmith generate`` end to end: COCO, HDF5 and pose files, determinism, verify, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, EXAMPLES, REPO, run_cli
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from run_diff import assert_same_files, files_of
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.scenarios.loader import parse
from scenesmith.writers.coco_writer import ANNOTATIONS_PATH, ANNOTATIONS_PER_IMAGE, EXTRA_KEY, IMAGES_DIR
from scenesmith.writers.hdf5_reader import read_frames

SCENES = REPO / "tests" / "scenarios"
SMALL = SCENES / "small_tabletop.yaml"
ROOT = ["--asset-root", str(EXAMPLES)]


def gen(out: Path, *args: str, scenario: Path = SMALL) -> subprocess.CompletedProcess[str]:
    result = run_cli("generate", str(scenario), *ROOT, "-o", str(out), "--no-progress", *args)
    return result


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "small"
    result = gen(out)
    assert result.returncode == 0, result.stderr
    return out


# --------------------------------------------------------------------------- COCO


def _semantic_frames(out: Path) -> dict[tuple[int, str], dict]:
    frames = {}
    for shard in sorted((out / "hdf5").glob("*.h5")):
        for frame in read_frames(shard):
            for cam, sem in frame["annotators"]["semantic_segmentation"].items():
                frames[(frame["frame"], cam)] = sem
    return frames


def _check_coco(out: Path) -> int:
    path = out / ANNOTATIONS_PATH
    data = json.loads(path.read_text())
    coco = COCO(str(path))
    assert len(coco.anns) == len(data["annotations"]) > 0
    assert len({a["id"] for a in data["annotations"]}) == len(data["annotations"])
    assert len({i["id"] for i in data["images"]}) == len(data["images"])
    image_ids = {i["id"] for i in data["images"]}
    category_ids = {c["id"]: c["name"] for c in data["categories"]}
    semantics = _semantic_frames(out)
    for ann in data["annotations"]:
        assert ann["image_id"] in image_ids and ann["category_id"] in category_ids
        image = coco.imgs[ann["image_id"]]
        assert (out / IMAGES_DIR / image["file_name"]).is_file()
        mask = coco.annToMask(ann).astype(bool)
        assert mask.any() and ann["area"] == int(mask.sum()) == int(mask_utils.area(ann["segmentation"]))
        rows, cols = np.nonzero(mask)
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0
        assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
        sem = semantics[(image[EXTRA_KEY]["frame_index"], image[EXTRA_KEY]["camera"])]
        values = np.unique(sem["data"][mask])
        labels = {sem["idToLabels"][int(v)]["class"] for v in values}
        assert labels == {category_ids[ann["category_id"]]}, (ann["id"], labels)
    return len(data["annotations"])


def test_coco_from_the_small_tabletop_is_consistent_with_hdf5(small_run: Path) -> None:
    assert _check_coco(small_run) > 20


def test_coco_layout_is_the_standard_one_and_fragments_stay_outside(small_run: Path) -> None:
    coco = sorted(p.relative_to(small_run / "coco").as_posix() for p in (small_run / "coco").rglob("*") if p.is_file())
    data = json.loads((small_run / ANNOTATIONS_PATH).read_text())
    images = sorted(f"images/train/{i['file_name']}" for i in data["images"])
    assert coco == sorted(["annotations/instances_train.json", *images])
    assert [i["file_name"] for i in data["images"]][:2] == ["front/000000.png", "front/000001.png"]
    records = [json.loads(p.read_text()) for p in sorted((small_run / "shards").glob("*.json"))]
    assert len(records) == 3  # 8 frames in shards of 3: the merge spans shards
    for record in records:
        assert f"fragments/coco/shard_{record['shard']:06d}.json" in record["files"]
    assert sorted(p.name for p in (small_run / "fragments" / "coco").iterdir()) == [
        f"shard_{r['shard']:06d}.json" for r in records
    ]


def test_coco_ids_start_at_one_per_image(small_run: Path) -> None:
    data = json.loads((small_run / ANNOTATIONS_PATH).read_text())
    per_image: dict[int, list[int]] = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann["id"])
    assert 0 in per_image  # frame 0, camera 0: the image whose first annotation had id 0 before
    for image_id, ids in per_image.items():
        assert ids == [image_id * ANNOTATIONS_PER_IMAGE + j for j in range(1, len(ids) + 1)], image_id


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_coco_ground_truth_evaluated_as_detections_scores_exactly_one(small_run: Path, iou_type: str) -> None:
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    path = small_run / ANNOTATIONS_PATH
    data = json.loads(path.read_text())
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        gt = COCO(str(path))
        dt = gt.loadRes([dict(ann, score=1.0) for ann in data["annotations"]])
        evaluation = COCOeval(gt, dt, iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert len({i["id"] for i in data["images"]}) == 8 and len(data["annotations"]) > 20
    ap, ap50, ap75 = evaluation.stats[:3]
    assert (ap, ap50, ap75) == (1.0, 1.0, 1.0), evaluation.stats
    assert evaluation.stats[8] == 1.0  # AR at 100 detections per image: every object matched


def test_coco_loads_in_fiftyone_with_default_options(small_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the two functions the issue names parse COCO without FiftyOne's database; no fo.Dataset here
    monkeypatch.setenv("FIFTYONE_DO_NOT_TRACK", "true")
    import fiftyone.utils.coco as fouc

    path = small_run / ANNOTATIONS_PATH
    data = json.loads(path.read_text())
    _info, classes, supercategories, images, annotations = fouc.load_coco_detection_annotations(str(path))
    reference = COCO(str(path))
    by_id = {ann["id"]: ann for ann in data["annotations"]}
    seen = 0
    for image_id, objects in annotations.items():
        image = images[image_id]
        w, h = image["width"], image["height"]
        for obj in objects:
            det = obj.to_detection(
                (w, h), classes_map=classes, supercategory_map=supercategories, load_segmentation=True
            )
            ann = by_id[obj.id]
            x, y, bw, bh = ann["bbox"]
            assert det.label == classes[ann["category_id"]]
            assert np.allclose(det.bounding_box, [x / w, y / h, bw / w, bh / h])
            assert np.array_equal(det.mask, reference.annToMask(ann)[y : y + bh, x : x + bw].astype(bool))
            assert det[EXTRA_KEY] == ann[EXTRA_KEY] and det[EXTRA_KEY]["prim_path"].startswith("/World/")
            seen += 1
    assert seen == len(data["annotations"]) > 20


def test_coco_loads_in_supervision_with_default_options(small_run: Path) -> None:
    import supervision as sv

    path = small_run / ANNOTATIONS_PATH
    data = json.loads(path.read_text())
    dataset = sv.DetectionDataset.from_coco(
        images_directory_path=str(small_run / IMAGES_DIR), annotations_path=str(path)
    )
    reference = COCO(str(path))
    names = sorted(c["name"] for c in data["categories"])
    assert dataset.classes == names and len(dataset) == len(data["images"])
    loaded = {path: (pixels, detections) for path, pixels, detections in dataset}
    for image in data["images"]:
        pixels, detections = loaded[str((small_run / IMAGES_DIR / image["file_name"]).resolve())]
        assert pixels.shape == (image["height"], image["width"], 3)
        anns = reference.imgToAnns[image["id"]]
        assert len(detections) == len(anns) > 0
        for k, ann in enumerate(anns):
            x, y, bw, bh = ann["bbox"]
            assert detections.xyxy[k].tolist() == [x, y, x + bw, y + bh]
            assert names[detections.class_id[k]] == reference.cats[ann["category_id"]]["name"]
            assert np.array_equal(detections.mask[k], reference.annToMask(ann).astype(bool))


def test_datumaro_detects_the_coco_folder_and_imports_it(small_run: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from datumaro.components.annotation import AnnotationType
    from datumaro.components.dataset import Dataset
    from datumaro.components.environment import Environment

    folder = small_run / "coco"
    data = json.loads((small_run / ANNOTATIONS_PATH).read_text())
    with caplog.at_level(logging.WARNING):
        formats = Environment().detect_dataset(str(folder))
        assert formats == ["coco_instances"]
        dataset = Dataset.import_from(str(folder), formats[0])
        items = {item.id: item for item in dataset}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text  # no skipped files
    assert sorted(items) == sorted(i["file_name"].removesuffix(".png") for i in data["images"])
    per_image = {i["id"]: 0 for i in data["images"]}
    for ann in data["annotations"]:
        per_image[ann["image_id"]] += 1
    for image in data["images"]:
        item = items[image["file_name"].removesuffix(".png")]
        assert item.subset == "train" and Path(item.media.path).is_file()
        assert item.media.size == (image["height"], image["width"])
        masks = [a for a in item.annotations if a.type == AnnotationType.mask]
        assert len(masks) == per_image[image["id"]] > 0


def test_inspect_reports_mean_visibility_per_class(small_run: Path) -> None:
    data = json.loads((small_run / ANNOTATIONS_PATH).read_text())
    table = next(c for c in data["categories"] if c["name"] == "table")
    vis = [a[EXTRA_KEY]["visibility"] for a in data["annotations"] if a["category_id"] == table["id"]]
    result = run_cli("inspect", str(small_run), env={"COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines()]
    assert ["table", str(len(vis)), f"{sum(vis) / len(vis):.2f}"] in rows, result.stdout


@pytest.mark.slow
def test_the_readme_main_job_runs_clean(tmp_path: Path) -> None:
    """The README's first command on the shipped example, at its own settings (16 frames):
    nothing on stderr. It warned 'bodies still moving after the 4 s settle cap' (issue 14)."""
    out = tmp_path / "out" / "tabletop"
    result = run_cli("generate", str(EXAMPLES / "tabletop.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("wrote 16 frames")


@pytest.mark.slow
@pytest.mark.parametrize("example", ["tabletop.yaml", "pose_writer_parity.yaml"])
def test_coco_from_the_examples(example: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli("generate", str(EXAMPLES / example), "-o", str(out), "--frames", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert _check_coco(out) >= 3


# --------------------------------------------------------------------------- HDF5


def test_hdf5_round_trip_of_every_annotator(tmp_path: Path) -> None:
    out = tmp_path / "all"
    result = run_cli(
        "generate",
        str(SCENES / "all_annotators.yaml"),
        "-o",
        str(out),
        "--frames",
        "3",
        "--shard-size",
        "2",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    frames = [f for shard in sorted((out / "hdf5").glob("*.h5")) for f in read_frames(shard)]
    assert [f["frame"] for f in frames] == [0, 1, 2]
    doc = parse(SCENES / "all_annotators.yaml")
    names = {"cam_a": 13, "cam_b": 4}
    for frame in frames:
        want = capture_frame(doc, 0, frame["frame"])["annotators"]
        got = frame["annotators"]
        for annotator, per_rp in want.items():
            if annotator in ("camera", "resolution"):
                assert got[annotator] == per_rp
                continue
            for rp, output in per_rp.items():
                stored = got[annotator][rp]
                assert set(stored) == set(output), (annotator, rp)
                for key, value in output.items():
                    if isinstance(value, np.ndarray):
                        assert stored[key].dtype == value.dtype and np.array_equal(stored[key], value), (annotator, key)
                    else:
                        assert stored[key] == value, (annotator, key)
        assert sum(1 for a in got if rp in got.get(a, {})) >= 0
    assert {cam for a in frames[0]["annotators"].values() if isinstance(a, dict) for cam in a} >= set(names)
    import h5py

    with h5py.File(next((out / "hdf5").glob("*.h5")), "r") as f:
        assert f.attrs["seed"] == 0 and "conventions" in f.attrs
        assert f["cameras/cam_a/distance_to_camera/data"].attrs["units"] == "m"
        assert f["cameras/cam_a/bounding_box_2d_tight/data/frame_offsets"][0] == 0


# --------------------------------------------------------------------------- determinism


def test_two_runs_in_separate_processes_are_byte_identical(small_run: Path, tmp_path: Path) -> None:
    # the second run writes in the capturing process instead of the writer process
    again = tmp_path / "again"
    assert gen(again, "--in-process-writers").returncode == 0
    assert_same_files(again, small_run)
    a = files_of(small_run)
    assert any(k.startswith("hdf5/") for k in a) and any(k.startswith("pose/") for k in a)


def test_default_hdf5_filters_are_deterministic_and_standard(small_run: Path) -> None:
    """Byte-identical reruns need deterministic codecs: h5py's LZF is not (uninitialised hash
    table), gzip (zlib) is, and every HDF5 reader has it."""
    import h5py

    seen = set()
    for shard in (small_run / "hdf5").glob("*.h5"):
        with h5py.File(shard) as f:
            f.visititems(lambda name, obj: seen.add(obj.compression) if isinstance(obj, h5py.Dataset) else None)
    assert "gzip" in seen and seen <= {"gzip", None}, seen


@pytest.mark.slow
def test_shard_sizes_and_workers_give_identical_merged_annotations(small_run: Path, tmp_path: Path) -> None:
    base = files_of(small_run)
    base_manifest = json.loads(base["manifest.json"])
    for args in (
        ["--shard-size", "1"],
        ["--shard-size", "8"],
        ["--shard-size", "3", "--workers", "2"],
        ["--shard-size", "1", "--workers", "2"],
    ):
        out = tmp_path / "_".join(a.strip("-") for a in args)
        result = gen(out, *args)
        assert result.returncode == 0, result.stderr
        other = files_of(out)
        assert other[ANNOTATIONS_PATH.as_posix()] == base[ANNOTATIONS_PATH.as_posix()], args
        assert {k: v for k, v in other.items() if k.startswith("pose/")} == {
            k: v for k, v in base.items() if k.startswith("pose/")
        }
        assert json.loads(other["manifest.json"])["frame_hashes"] == base_manifest["frame_hashes"]


# --------------------------------------------------------------------------- PoseWriter parity


def test_pose_writer_parity_through_the_cli(tmp_path: Path, fixtures_dir: Path) -> None:
    out = tmp_path / "parity"
    result = run_cli("generate", str(EXAMPLES / "pose_writer_parity.yaml"), "-o", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    for rp, camera in (("rp1", "PinholeCamera1"), ("rp2", "PinholeCamera2")):
        golden = json.loads((fixtures_dir / "isaacsim-6.0.1" / "pose_writer_pinhole" / rp / "000000.json").read_text())
        ours = json.loads((out / "pose" / camera / "000000.json").read_text())
        assert list(ours) == list(golden)
        assert list(ours["camera_data"]) == list(golden["camera_data"])
        for key, value in golden["camera_data"].items():
            got = ours["camera_data"][key]
            if isinstance(value, dict):
                assert got.keys() == value.keys()
                assert np.allclose(list(got.values()), list(value.values()), rtol=1e-5, atol=1e-5)
            else:
                assert np.allclose(got, value, rtol=1e-5, atol=1e-5), key
        assert ours["keypoint_order"] == golden["keypoint_order"]
        assert [o["prim_path"] for o in ours["objects"]] == [o["prim_path"] for o in golden["objects"]]
        for mine, gold in zip(ours["objects"], golden["objects"]):
            assert list(mine) == list(gold)
            for key, value in gold.items():
                if isinstance(value, str):
                    assert mine[key] == value
                elif key == "visibility":
                    assert abs(mine[key] - value) < 0.02, (rp, gold["label"], mine[key], value)
                elif key.startswith("quat"):
                    a, b = np.asarray(mine[key]), np.asarray(value)
                    assert np.allclose(a, b, rtol=1e-5, atol=1e-5) or np.allclose(a, -b, rtol=1e-5, atol=1e-5), key
                else:
                    assert np.allclose(mine[key], value, rtol=1e-5, atol=1e-5), (rp, gold["label"], key)


# --------------------------------------------------------------------------- verify


@pytest.fixture()
def copy_of_run(small_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(small_run, out)
    return out


def test_verify_accepts_an_untouched_run(copy_of_run: Path) -> None:
    result = run_cli("verify", str(copy_of_run))
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_detects_a_deleted_file(copy_of_run: Path) -> None:
    victim = sorted((copy_of_run / "coco" / "images").rglob("*.png"))[2]
    victim.unlink()
    result = run_cli("verify", str(copy_of_run))
    assert result.returncode == 3
    assert f"missing: {victim.relative_to(copy_of_run).as_posix()}" in result.stdout


def test_verify_detects_a_truncated_file(copy_of_run: Path) -> None:
    victim = sorted((copy_of_run / "hdf5").glob("*.h5"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    result = run_cli("verify", str(copy_of_run))
    assert result.returncode == 3
    assert f"truncated: {victim.relative_to(copy_of_run).as_posix()}" in result.stdout


def test_verify_detects_a_modified_and_an_extra_file(copy_of_run: Path) -> None:
    victim = copy_of_run / ANNOTATIONS_PATH
    text = victim.read_text()
    victim.write_text(text.replace('"iscrowd":0', '"iscrowd":1', 1))
    (copy_of_run / "pose" / "stray.json").write_text("{}")
    result = run_cli("verify", str(copy_of_run))
    assert result.returncode == 3
    assert f"altered: {ANNOTATIONS_PATH.as_posix()}" in result.stdout
    assert "extra: pose/stray.json" in result.stdout


# --------------------------------------------------------------------------- crash and resume


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert gen(reference, "--frames", "23", "--shard-size", "4").returncode == 0
    out = tmp_path / "killed"
    env = dict(os.environ)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenesmith.scripts.cli",
            "generate",
            str(SMALL),
            *ROOT,
            "-o",
            str(out),
            "--no-progress",
            "--frames",
            "23",
            "--shard-size",
            "4",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    records = out / "shards"
    deadline = time.time() + 120
    while time.time() < deadline and not (records.is_dir() and any(records.glob("*.json"))):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    published = sorted(records.glob("*.json"))
    assert 1 <= len(published) < 6, "kill must land with some shards published and some not"
    assert not (out / "manifest.json").exists()
    result = gen(out, "--frames", "23", "--shard-size", "4", "--resume")
    assert result.returncode == 0, result.stderr
    assert_same_files(out, reference)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert run_cli("verify", str(out)).returncode == 0


def test_ctrl_c_keeps_published_shards_removes_the_rest_and_resume_finishes(tmp_path: Path) -> None:
    # A process started with SIGINT ignored (a background job of a non-interactive shell) passes
    # that on: generate would ignore the Ctrl-C and finish with exit 0. Say so instead.
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN, "pytest runs with SIGINT ignored"
    reference = tmp_path / "reference"
    assert gen(reference, "--frames", "12", "--shard-size", "4").returncode == 0
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenesmith.scripts.cli", "generate", str(SMALL), *ROOT, "-o", str(out)]
        + ["--no-progress", "--frames", "12", "--shard-size", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    records = out / "shards"
    deadline = time.time() + 120
    while time.time() < deadline and not (records.is_dir() and any(records.glob("*.json"))):
        time.sleep(0.02)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children, "generate runs its writers in a child process"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    published = sorted(p.stem for p in records.glob("*.json"))
    assert 1 <= len(published) < 3, "the interrupt must land with some shards published and some not"
    left = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert not [p for p in left if p.endswith(".tmp")]
    h5 = sorted(p for p in left if p.startswith("hdf5/"))
    assert h5 == [f"hdf5/shard_{int(k):06d}.h5" for k in published]  # the unfinished shards' files are gone
    assert not (out / "manifest.json").exists()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(int(pid)) for pid in children):
        time.sleep(0.05)
    assert not any(_alive(int(pid)) for pid in children), "no child outlives the interrupted run"
    assert gen(out, "--frames", "12", "--shard-size", "4", "--resume").returncode == 0
    assert_same_files(out, reference)


def test_an_interrupt_wrapped_by_a_compiled_kernel_is_still_an_interrupt() -> None:
    from scenesmith.runtime.run.local_executor import _wrapped_interrupt

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("CPUDispatcher(<f>) returned a result with an exception set") from inner
    except SystemError as exc:
        assert isinstance(_wrapped_interrupt(exc), KeyboardInterrupt)
    bare = SystemError("CPUDispatcher(<f>) returned a result with an exception set")
    assert isinstance(_wrapped_interrupt(bare), KeyboardInterrupt)
    assert _wrapped_interrupt(ValueError("bad value")) is None
    assert _wrapped_interrupt(SystemError("something else")) is None


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for its reaper)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_existing_folder_is_refused_without_resume_or_overwrite(small_run: Path) -> None:
    before = files_of(small_run)
    result = gen(small_run)
    assert result.returncode == 2 and "--resume" in result.stderr
    assert files_of(small_run) == before


def test_resume_refuses_a_different_run(copy_of_run: Path) -> None:
    result = gen(copy_of_run, "--resume", "--seed", "5")
    assert result.returncode == 2 and "different seed" in result.stderr


def test_bad_input_corpus_through_generate_creates_no_folder(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    work = tmp_path / "bad"
    shutil.copytree(CORPUS, work)

    def run(path: Path) -> str | None:
        target = tmp_path / f"out_{path.stem}"
        result = run_cli("generate", path.name, "-o", str(target), "--no-progress", cwd=work)
        if result.returncode != 2 or target.exists():
            return f"{path.name}: exit {result.returncode}, created {target.exists()}"
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:  # two interpreters at a time: one per core
        failures = [f for f in pool.map(run, sorted(work.glob("*.yaml"))) if f is not None]
    assert failures == []


def test_output_folders_are_created_with_their_parents_and_impossible_ones_refused(tmp_path: Path) -> None:
    """The README's main command writes to out/tabletop in a fresh checkout: parents are made."""
    nested = tmp_path / "runs" / "today" / "parity"
    result = run_cli(
        "generate", str(EXAMPLES / "pose_writer_parity.yaml"), "-o", str(nested), "--frames", "1", "--no-progress"
    )
    assert result.returncode == 0, result.stderr
    assert (nested / "manifest.json").is_file()
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    bad = run_cli("generate", str(EXAMPLES / "pose_writer_parity.yaml"), "-o", str(blocker / "out"), "--frames", "1")
    assert bad.returncode == 2 and "--output" in bad.stderr and "cannot create" in bad.stderr


def test_a_one_process_run_resolves_and_authors_the_scenario_once(tmp_path: Path, monkeypatch) -> None:
    """Issue 15 item 4: the engine of a one-worker run is built on the scenario ``prepare_run``
    resolved and the stage it authored for stage.usda, and its output equals a fresh build's."""
    from scenesmith.runtime.embedded import backend as embedded_backend
    from scenesmith.runtime.run import local_executor, pipeline
    from scenesmith.runtime.usd import resolve as resolve_module
    from scenesmith.runtime.usd import stage as stage_module

    calls = {"resolve": 0, "author": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    author = counted("author", stage_module.author_stage)
    monkeypatch.setattr(stage_module, "author_stage", author)
    monkeypatch.setattr(embedded_backend, "author_stage", author)
    for module in (pipeline, local_executor):
        monkeypatch.setattr(module, "resolve", counted("resolve", resolve_module.resolve))
    monkeypatch.setattr(local_executor, "_WORKER_STATE", {})  # no engine left by an earlier test
    opts = pipeline.GenerateOptions(out=tmp_path / "once", stop=2, workers=1, progress=False, writer_process=False)
    pipeline.generate(parse(SMALL, asset_roots=(EXAMPLES,)), opts)
    assert calls == {"resolve": 1, "author": 1}
    # the same frames from an engine that authored its own stage (a worker's)
    fresh = gen(tmp_path / "fresh", "--frames", "2", "--workers", "2", "--shard-size", "1")
    assert fresh.returncode == 0, fresh.stderr
    once = {f["frame"]: f for f in read_frames(tmp_path / "once" / "hdf5" / "shard_000000.h5")}
    compared = 0
    for shard in sorted((tmp_path / "fresh" / "hdf5").glob("shard_*.h5")):
        for frame in read_frames(shard):
            mine = once[frame["frame"]]["annotators"]
            for name, per_rp in frame["annotators"].items():
                for rp, value in per_rp.items():
                    if isinstance(value, dict):
                        for key, array in value.items():
                            np.testing.assert_array_equal(np.asarray(mine[name][rp][key]), np.asarray(array))
                            compared += 1
    assert compared > 20  # rgb, depth, masks, boxes… of both frames


def test_a_procedural_dome_texture_renders_the_same_whatever_the_folder_and_worker_count(tmp_path: Path) -> None:
    """The dome carries its procedural texture's description: the renderer never looks for the
    PNG (whose ``./stage_textures`` path is relative to stage.usda, not to an in-memory stage
    or the current folder), and no material needs to use the texture."""
    scene = tmp_path / "s.yaml"
    scene.write_text(
        "version: 1\n"
        "textures:\n  sky: {checker: {squares: 4, color_a: [1, 1, 1], color_b: [0.0, 0.0, 0.3]}}\n"
        "lights:\n  dome: {type: dome, intensity: 1.0, texture: sky}\n"
        "assets:\n  box: {cube: {size_m: 0.3}, semantics: {class: box}}\n"
        "cameras:\n  cam: {resolution: [32, 24], position_m: [0.0, -3.0, 0.5], look_at_m: [0.0, 0.0, 1.5]}\n"
    )
    inside = tmp_path / "inside"
    inside.mkdir()
    one = run_cli("generate", str(scene), "-o", ".", "--frames", "2", "--workers", "1", "--no-progress", cwd=inside)
    assert one.returncode == 0, one.stderr
    two = gen(tmp_path / "two", "--frames", "2", "--workers", "2", "--shard-size", "1", scenario=scene)
    assert two.returncode == 0, two.stderr
    first = [f["annotators"]["rgb"]["cam"]["data"] for f in read_frames(inside / "hdf5" / "shard_000000.h5")]
    second = [
        f["annotators"]["rgb"]["cam"]["data"]
        for shard in sorted((tmp_path / "two" / "hdf5").glob("shard_*.h5"))
        for f in read_frames(shard)
    ]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    sky = first[0][:6, :, :3].reshape(-1, 3).astype(int)
    assert (sky[:, 2] - sky[:, 0]).max() > 100  # the checker's blue squares, not a white dome
