"""YOLO, KITTI, Pascal VOC and webdataset outputs (issue 18 items 3, 4, 6), read back by their
consumers: a plain YAML reader, OpenCV rasterising polygons as Ultralytics does, a KITTI reader
written here from the devkit's ``readme.txt``, ElementTree and the ``pascal-voc`` package,
Datumaro, and the ``webdataset`` package. Expectations come from the COCO and HDF5 outputs of
the same run (the payloads, written by other writers), from the scenario file's geometry, or
from the consumers' own conventions — never from the writers' code.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from run_diff import assert_same_files, files_of
from scenesmith.writers.hdf5_reader import read_frames
from scenesmith.writers.splits import split_of

SCENES = REPO / "tests" / "scenarios"
SMALL = SCENES / "small_tabletop.yaml"
LEVEL = SCENES / "level_camera.yaml"
ROOT = ["--asset-root", str(EXAMPLES)]
SPLITS = (("train", 0.6), ("val", 0.2), ("test", 0.2))
SEED = 2
"""With this seed the 8 frames fall in all three splits (test: 0, 2, 7; val: 1)."""
FORMAT_DIRS = ("yolo", "kitti", "voc", "webdataset")


IDEAL_LIDAR = """lidars:
  roof_lidar:
    profile: OS1_REV6_32ch10hz1024res
    position_m: [-1.6, -1.3, 1.3]
    rotation_deg: [0.0, 0.0, 39.0]
    noise: false
"""
"""The tabletop's LiDAR without noise or realism models: its points lie exactly on the surfaces
the camera's depth shows, which the calibration test relies on."""


def _tabletop_with_formats(folder: Path) -> Path:
    lines = SMALL.read_text().splitlines(keepends=True)
    start = lines.index("lidars:\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha())  # the next section
    text = "".join(lines[:start]) + IDEAL_LIDAR + "\n" + "".join(lines[end:])
    extra = (
        "  splits: {train: 0.6, val: 0.2, test: 0.2}\n"
        "  writers: {yolo: true, kitti: true, voc: true, webdataset: true}\n"
    )
    assert "\noutput:\n" in text
    scenario = folder / "formats.yaml"
    scenario.write_text(text.replace("\noutput:\n", "\noutput:\n" + extra))
    return scenario


def gen(scenario: Path, out: Path, *args: str) -> None:
    result = run_cli("generate", str(scenario), *ROOT, "-o", str(out), "--no-progress", "--seed", str(SEED), *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tabletop_with_formats(tmp_path_factory.mktemp("formats_scenario"))


@pytest.fixture(scope="module")
def run(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 tabletop frames (a camera looking down at the table, a LiDAR) into every format."""
    out = tmp_path_factory.mktemp("formats") / "run"
    gen(scenario, out)
    return out


@pytest.fixture(scope="module")
def level(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The level-camera scene, YOLO in segment mode and KITTI."""
    out = tmp_path_factory.mktemp("formats_level") / "run"
    gen(LEVEL, out)
    return out


def _frames(out: Path) -> dict[int, dict]:
    return {f["frame"]: f for shard in sorted((out / "hdf5").glob("*.h5")) for f in read_frames(shard)}


def _coco(out: Path) -> tuple[dict[int, str], dict[tuple[int, str], tuple[dict, list[dict]]]]:
    """COCO categories (id → name) and, per (frame, camera), its image and annotations in id order."""
    categories: dict[int, str] = {}
    images: dict[tuple[int, str], tuple[dict, list[dict]]] = {}
    files = sorted((out / "coco" / "annotations").glob("instances_*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text())
        categories.update({c["id"]: c["name"] for c in data["categories"]})
        by_id = {}
        for image in data["images"]:
            extra = image["scenesmith"]
            by_id[image["id"]] = images[(extra["frame_index"], extra["camera"])] = (image, [])
        for ann in sorted(data["annotations"], key=lambda a: a["id"]):
            by_id[ann["image_id"]][1].append(ann)
    return categories, images


# --------------------------------------------------------------------------- YOLO


def test_yolo_detection_labels_round_trip_to_the_coco_boxes(run: Path) -> None:
    categories, images = _coco(run)
    frames = _frames(run)
    assert len(images) == 8
    for (frame, camera), (image, anns) in images.items():
        split = split_of(SEED, frame, SPLITS)
        stem = f"{camera}_{frame:06d}"
        label = run / "yolo" / "labels" / split / f"{stem}.txt"
        rows = [line.split() for line in label.read_text().splitlines()]
        assert len(rows) == len(anns) > 0, stem
        w, h = image["width"], image["height"]
        for row, ann in zip(rows, anns):
            assert len(row) == 5
            assert int(row[0]) == ann["category_id"] - 1  # class = COCO category id - 1
            cx, cy, bw, bh = (float(v) for v in row[1:])
            got = [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h]
            assert got == pytest.approx(ann["bbox"], abs=0.5), (stem, row, ann["bbox"])
        pixels = cv2.cvtColor(cv2.imread(str(run / "yolo" / "images" / split / f"{stem}.png")), cv2.COLOR_BGR2RGB)
        assert np.array_equal(pixels, frames[frame]["annotators"]["rgb"][camera]["data"][..., :3])


def test_yolo_data_yaml_loads_with_a_plain_yaml_reader(run: Path) -> None:
    import yaml

    categories, _ = _coco(run)
    data = yaml.safe_load((run / "yolo" / "data.yaml").read_text())
    assert data["names"] == {cid - 1: name for cid, name in categories.items()}
    assert data["nc"] == len(categories)
    assert "path" not in data  # Ultralytics then resolves the folders against data.yaml's own
    splits = {split_of(SEED, f, SPLITS) for f in range(8)}
    assert splits == {"train", "val", "test"}
    assert [k for k in data if k in dict(SPLITS)] == ["train", "val", "test"]
    for split in splits:
        assert data[split] == f"images/{split}"
        folder = run / "yolo" / data[split]
        want = sorted(f"front_{f:06d}.png" for f in range(8) if split_of(SEED, f, SPLITS) == split)
        assert sorted(p.name for p in folder.iterdir()) == want


def _ultralytics_mask(line: str, width: int, height: int) -> tuple[int, np.ndarray]:
    """A segment label line rasterised as Ultralytics does (``polygon2mask``: pixel coordinates
    truncated to int32, then ``cv2.fillPoly``)."""
    values = line.split()
    points = np.array(values[1:], dtype=np.float64).reshape(-1, 2) * [width, height]
    mask = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(mask, [np.asarray(points, dtype=np.int32)], color=1)
    return int(values[0]), mask.astype(bool)


def test_yolo_segment_polygons_rasterise_back_onto_the_masks(level: Path) -> None:
    import yaml
    from scipy import ndimage

    names = yaml.safe_load((level / "yolo" / "data.yaml").read_text())["names"]
    (frame,) = _frames(level).values()
    seg = frame["annotators"]["instance_segmentation"]["cam"]
    ids, semantics = seg["data"], {int(k): v["class"] for k, v in seg["idToSemantics"].items()}
    labelled = [i for i in sorted(semantics) if semantics[i] in names.values() and (ids == i).any()]
    lines = (level / "yolo" / "labels" / "train" / "cam_000000.txt").read_text().splitlines()
    assert len(lines) == len(labelled) == 5
    height, width = ids.shape
    crate = None
    for iid, line in zip(labelled, lines):
        cls, drawn = _ultralytics_mask(line, width, height)
        mask = ids == iid
        assert names[cls] == semantics[iid]
        assert not (mask & ~drawn).any(), semantics[iid]  # every mask pixel is covered
        iou = (mask & drawn).sum() / (mask | drawn).sum()
        assert iou >= 0.98, (semantics[iid], iou)
        if semantics[iid] == "crate":
            crate = mask
    # the crate is seen in two parts (the post) and with a hole (the ball): both were bridged
    assert crate is not None
    assert ndimage.label(crate)[1] == 2
    assert (ndimage.binary_fill_holes(crate) & ~crate).sum() > 100


@pytest.mark.parametrize("case", ["ring", "two_blobs_and_a_dot", "touching_the_border", "diagonal_line"])
def test_mask_polygons_cover_synthetic_masks_as_ultralytics_rasterises_them(case: str) -> None:
    from scenesmith.writers.mask_polygons import mask_polygon

    yy, xx = np.mgrid[0:60, 0:80]
    r = np.hypot(xx - 40, yy - 30)
    masks = {
        "ring": (r <= 20) & (r >= 8),
        "two_blobs_and_a_dot": (np.hypot(xx - 15, yy - 15) <= 9)
        | (np.hypot(xx - 60, yy - 40) <= 12)
        | ((xx == 40) & (yy == 5)),
        "touching_the_border": (xx < 30) | (yy > 50),
        "diagonal_line": (xx == yy) & (xx < 40),
    }
    mask = masks[case]
    polygon = mask_polygon(mask)
    assert len(polygon) >= 3
    drawn = np.zeros(mask.shape, dtype=np.uint8)
    cv2.fillPoly(drawn, [polygon.astype(np.int32)], 1)
    drawn = drawn.astype(bool)
    assert not (mask & ~drawn).any()
    extra = drawn & ~mask
    if case == "two_blobs_and_a_dot":  # the bridges between the parts, nothing else
        assert 0 < extra.sum() <= 60
    else:
        assert not extra.any()


# --------------------------------------------------------------------------- KITTI (devkit readme)

KITTI_FIELDS = ("type", "truncated", "occluded", "alpha", "left", "top", "right", "bottom",
                "h", "w", "l", "x", "y", "z", "rotation_y")  # fmt: skip


def read_kitti_labels(path: Path) -> list[dict]:
    """Label file of the KITTI object devkit's ``readme.txt``: 15 space-separated values."""
    objects = []
    for line in path.read_text().splitlines():
        values = line.split(" ")
        assert len(values) == 15, line
        obj: dict = {"type": values[0], "truncated": float(values[1]), "occluded": int(values[2])}
        obj.update({k: float(v) for k, v in zip(KITTI_FIELDS[3:], values[3:])})
        objects.append(obj)
    return objects


def read_kitti_calib(path: Path) -> dict[str, np.ndarray]:
    shapes = {"R0_rect": (3, 3)}
    out = {}
    for line in path.read_text().splitlines():
        key, values = line.split(":", 1)
        out[key] = np.array(values.split(), dtype=np.float64).reshape(shapes.get(key, (3, 4)))
    return out


def kitti_corners(obj: dict) -> np.ndarray:
    """(3, 8) corners of a KITTI object in the camera frame (devkit ``computeBox3D``)."""
    c, s = math.cos(obj["rotation_y"]), math.sin(obj["rotation_y"])
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    length, w, h = obj["l"], obj["w"], obj["h"]
    half = length / 2
    x = [half, half, -half, -half, half, half, -half, -half]
    y = [0, 0, 0, 0, -h, -h, -h, -h]
    z = [w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2]
    return rot @ np.array([x, y, z]) + np.array([[obj["x"]], [obj["y"]], [obj["z"]]])


def project(p: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, n) pixel coordinates of (3, n) points (devkit ``projectToImage``)."""
    uvw = p @ np.vstack([points, np.ones(points.shape[1])])
    return uvw[:2] / uvw[2]


def test_kitti_layout_splits_and_imagesets(run: Path) -> None:
    root = run / "kitti" / "front"
    for frame in range(8):
        split = split_of(SEED, frame, SPLITS)
        part = root / ("testing" if split == "test" else "training")
        for folder, ext in (("image_2", "png"), ("label_2", "txt"), ("calib", "txt"), ("velodyne", "bin")):
            assert (part / folder / f"{frame:06d}.{ext}").is_file(), (frame, folder)
        assert (root / "ImageSets" / f"{split}.txt").read_text().splitlines().count(f"{frame:06d}") == 1
    listed = sorted(line for p in (root / "ImageSets").glob("*.txt") for line in p.read_text().splitlines())
    assert listed == [f"{f:06d}" for f in range(8)]
    assert sorted(p.name for p in (root / "ImageSets").iterdir()) == ["test.txt", "train.txt", "val.txt"]


def test_kitti_labels_match_coco_and_their_3d_boxes_reproject_around_the_2d_boxes(run: Path) -> None:
    categories, images = _coco(run)
    frames = _frames(run)
    checked = 0
    for (frame, camera), (_image, anns) in images.items():
        part = "testing" if split_of(SEED, frame, SPLITS) == "test" else "training"
        root = run / "kitti" / camera / part
        objects = read_kitti_labels(root / "label_2" / f"{frame:06d}.txt")
        calib = read_kitti_calib(root / "calib" / f"{frame:06d}.txt")
        assert np.allclose(calib["R0_rect"], np.eye(3))
        assert len(objects) == len(anns)
        for obj, ann in zip(objects, anns):
            x, y, w, h = ann["bbox"]
            assert obj["type"] == categories[ann["category_id"]].replace(" ", "_")
            assert (obj["left"], obj["top"], obj["right"], obj["bottom"]) == (x, y, x + w - 1, y + h - 1)
            assert obj["truncated"] == pytest.approx(ann["scenesmith"]["truncation"], abs=0.005)
            occlusion = ann["scenesmith"]["occlusion"]
            assert obj["occluded"] == (0 if occlusion <= 0.05 else 1 if occlusion <= 0.5 else 2)
            expected_alpha = obj["rotation_y"] - math.atan2(obj["x"], obj["z"])
            assert math.cos(obj["alpha"] - expected_alpha) == pytest.approx(1.0, abs=1e-6)
            # the pixels' centres (integer coordinates in KITTI's convention) lie on the object,
            # so inside its 3D box's projection
            uv = project(calib["P2"], kitti_corners(obj))
            assert uv[0].min() <= obj["left"] + 0.05 and uv[0].max() >= obj["right"] - 0.05, (frame, obj)
            assert uv[1].min() <= obj["top"] + 0.05 and uv[1].max() >= obj["bottom"] - 0.05, (frame, obj)
            checked += 1
        png = cv2.cvtColor(cv2.imread(str(root / "image_2" / f"{frame:06d}.png")), cv2.COLOR_BGR2RGB)
        assert np.array_equal(png, frames[frame]["annotators"]["rgb"][camera]["data"][..., :3])
    assert checked > 40


def test_kitti_velodyne_points_land_on_the_depth_image_through_the_calibration(run: Path) -> None:
    """Each LiDAR point, taken into the image by calib's P2 · R0_rect · Tr_velo_to_cam, is a
    surface point: the camera's depth at its position lies between the depths of the 4 pixel
    centres around it (unless it sits on a depth edge), and it can be hidden behind what the
    camera sees (the LiDAR looks from elsewhere) but never in front of it. Half a pixel or half
    a degree of calibration error breaks both counts (0.49 and 3.7 %, 0.71 and 5.9 % here)."""
    frames = _frames(run)
    bracketed = in_front = total = 0
    for frame in range(8):
        part = "testing" if split_of(SEED, frame, SPLITS) == "test" else "training"
        root = run / "kitti" / "front" / part
        calib = read_kitti_calib(root / "calib" / f"{frame:06d}.txt")
        scan = np.fromfile(root / "velodyne" / f"{frame:06d}.bin", dtype="<f4").reshape(-1, 4)
        cam = calib["R0_rect"] @ (calib["Tr_velo_to_cam"] @ np.vstack([scan[:, :3].T, np.ones(len(scan))]))
        ahead = cam[2] > 0.1
        uv, z = project(calib["P2"], cam[:, ahead]), cam[2, ahead]
        depth = frames[frame]["annotators"]["distance_to_image_plane"]["front"]["data"]
        h, w = depth.shape
        # KITTI's pixel centres are at integer coordinates: the 4 around (u, v) start at floor()
        col, row = np.floor(uv).astype(int)
        inside = (col >= 0) & (col + 1 < w) & (row >= 0) & (row + 1 < h)
        col, row, z = col[inside], row[inside], z[inside]
        around = np.stack([depth[row, col], depth[row, col + 1], depth[row + 1, col], depth[row + 1, col + 1]])
        finite = np.isfinite(around).all(axis=0)
        lo, hi, z = around.min(axis=0)[finite], around.max(axis=0)[finite], z[finite]
        bracketed += int(((z >= lo - 1e-3) & (z <= hi + 1e-3)).sum())
        in_front += int((z < lo - 5e-3).sum())
        total += len(z)
    assert total > 5000
    assert bracketed / total > 0.8, bracketed / total
    assert in_front / total < 0.006, in_front / total


def test_kitti_velodyne_keeps_the_strongest_of_dual_returns(scenario: Path, tmp_path: Path) -> None:
    """KITTI's scans hold one return per beam: of a dual-return scan (``echoId`` 0 the
    strongest, 1 the other), the velodyne file keeps echo 0."""
    from scenesmith import SCHEMA_VERSION, __version__
    from scenesmith.runtime.single_frame import capture_frame
    from scenesmith.scenarios.loader import parse
    from scenesmith.writers.base import RunInfo, ShardContext
    from scenesmith.writers.kitti_writer import KittiWriter

    payload = capture_frame(parse(scenario, asset_roots=(EXAMPLES,)), SEED, 3)
    (lidar,) = payload["annotators"]["IsaacCreateRTXLidarScanBuffer"].values()
    single = np.column_stack([lidar["data"], lidar["intensity"]]).astype("<f4")
    n = len(single)
    for key in ("data", "intensity"):  # a second, weaker echo 1 m behind each point, interleaved
        other = lidar[key] + (1.0 if key == "data" else 0.0)
        lidar[key] = np.stack([lidar[key], other], axis=1).reshape(2 * n, *lidar[key].shape[1:])
    lidar["echoId"] = np.tile(np.array([0, 1], dtype=np.uint8), n)
    classes = ("ball", "box", "can", "cone", "mug", "table")
    info = RunInfo(__version__, SCHEMA_VERSION, "", "", SEED, classes, ("front",))
    writer = KittiWriter()
    writer.open(ShardContext(tmp_path, 0, (0, 8), info))
    writer.write(payload)
    writer.close()
    (written,) = tmp_path.glob("kitti/front/*/velodyne/000003.bin")
    assert np.array_equal(np.fromfile(written, dtype="<f4").reshape(-1, 4), single)


def test_kitti_boxes_are_exact_for_upright_objects_and_a_level_camera(level: Path) -> None:
    """Expected boxes from level_camera.yaml alone: the camera at (0, -1.6, 0.25) looks along
    +Y, so KITTI's x = world x, y = 0.25 - world z, z = world y + 1.6."""
    root = level / "kitti" / "cam" / "training"
    objects = {o["type"]: o for o in read_kitti_labels(root / "label_2" / "000000.txt")}
    calib = read_kitti_calib(root / "calib" / "000000.txt")
    # (h, w, l), bottom centre (x, y, z), rotation_y (the box's local x axis at (cos, 0, -sin))
    expected = {
        "crate": ((0.4, 0.4, 0.6), (0.0, 0.25, 1.9), -math.radians(30)),
        "can": ((0.15, 0.1, 0.1), (0.5, 0.25, 1.6), 0.0),
        "post": ((1.0, 0.05, 0.05), (-0.15, 0.25, 1.2), 0.0),
        "ball": ((0.12, 0.12, 0.12), (0.05, 0.25 - 0.16, 1.4), 0.0),
        # mug.obj spans x -0.04..0.086, y -0.04..0.04, z 0..0.1, scaled by 2
        "mug": ((0.2, 0.16, 0.252), (-0.55 + 0.046, 0.25, 1.6), 0.0),
    }
    assert set(objects) == set(expected)
    for name, (dims, location, ry) in expected.items():
        obj = objects[name]
        assert (obj["h"], obj["w"], obj["l"]) == pytest.approx(dims, abs=1e-3), name
        assert (obj["x"], obj["y"], obj["z"]) == pytest.approx(location, abs=1e-3), name
        assert math.cos(obj["rotation_y"] - ry) == pytest.approx(1.0, abs=1e-6), name
    # a box-shaped object in full view: its 3D box projects onto its 2D box (pixel centres at the edges)
    crate = objects["crate"]
    uv = project(calib["P2"], kitti_corners(crate))
    got = (uv[0].min(), uv[1].min(), uv[0].max(), uv[1].max())
    assert got == pytest.approx((crate["left"], crate["top"], crate["right"], crate["bottom"]), abs=1.0)
    # without a LiDAR, Tr_velo_to_cam is the axis change of a LiDAR frame at the camera
    assert np.array_equal(calib["Tr_velo_to_cam"], [[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]])
    assert not (root / "velodyne").exists()


def test_datumaro_imports_the_kitti_tree_as_kitti_detection(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Datumaro's ``kitti`` detector looks for ``label_2/*_*.txt`` (the KITTI *semantics*
    benchmark's ``000000_10`` names); the object benchmark, its devkit, mmdetection3d and
    OpenPCDet name labels ``000000.txt``, as we do, so the format is named here."""
    from datumaro.components.annotation import AnnotationType
    from datumaro.components.dataset import Dataset

    categories, images = _coco(run)
    with caplog.at_level(logging.WARNING):
        dataset = Dataset.import_from(str(run / "kitti" / "front"), "kitti_detection")
        items = {(item.subset, item.id): item for item in dataset}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert sorted(items) == sorted(
        ("testing" if split_of(SEED, f, SPLITS) == "test" else "training", f"{f:06d}") for f in range(8)
    )
    labels = dataset.categories()[AnnotationType.label]
    for (frame, _camera), (_image, anns) in images.items():
        part = "testing" if split_of(SEED, frame, SPLITS) == "test" else "training"
        boxes = [a for a in items[(part, f"{frame:06d}")].annotations if a.type == AnnotationType.bbox]
        assert [labels[b.label].name for b in boxes] == [categories[a["category_id"]] for a in anns]
        for box, ann in zip(boxes, anns):
            x, y, w, h = ann["bbox"]
            assert box.get_bbox() == pytest.approx([x, y, w - 1, h - 1])  # Datumaro: right - left


# --------------------------------------------------------------------------- Pascal VOC


def test_voc_xml_parses_with_elementtree_and_pascal_voc_and_matches_coco(run: Path) -> None:
    from pascal import annotation_from_xml

    categories, images = _coco(run)
    frames = _frames(run)
    for (frame, camera), (image, anns) in images.items():
        image_id = f"{camera}_{frame:06d}"
        xml = run / "voc" / "Annotations" / f"{image_id}.xml"
        root = ET.parse(xml).getroot()
        assert root.tag == "annotation"
        assert (int(root.findtext("size/width")), int(root.findtext("size/height"))) == (
            image["width"],
            image["height"],
        )
        jpeg = run / "voc" / "JPEGImages" / root.findtext("filename")
        pixels = cv2.cvtColor(cv2.imread(str(jpeg)), cv2.COLOR_BGR2RGB).astype(np.float64)
        reference = frames[frame]["annotators"]["rgb"][camera]["data"][..., :3].astype(np.float64)
        psnr = 10 * math.log10(255**2 / np.mean((pixels - reference) ** 2))
        assert psnr > 30, psnr  # JPEG quality 95
        objects = root.findall("object")
        assert len(objects) == len(anns)
        for obj, ann in zip(objects, anns):
            x, y, w, h = ann["bbox"]
            box = [int(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
            assert obj.findtext("name") == categories[ann["category_id"]]
            assert box == [x + 1, y + 1, x + w, y + h]  # 1-based, inclusive
            extra = ann["scenesmith"]
            assert obj.findtext("truncated") == ("1" if extra["truncation"] > 0.15 else "0")
            assert obj.findtext("occluded") == ("1" if extra["occlusion"] > 0.05 else "0")
            assert obj.findtext("difficult") == ("1" if extra["occlusion"] > 0.5 else "0")
        parsed = annotation_from_xml(xml)
        assert [o.name for o in parsed.objects] == [categories[a["category_id"]] for a in anns]
        assert [(o.bndbox.xmin, o.bndbox.ymin, o.bndbox.xmax, o.bndbox.ymax) for o in parsed.objects] == [
            (a["bbox"][0] + 1, a["bbox"][1] + 1, a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]) for a in anns
        ]
    for split in ("train", "val", "test"):
        listed = (run / "voc" / "ImageSets" / "Main" / f"{split}.txt").read_text().splitlines()
        assert listed == [f"front_{f:06d}" for f in range(8) if split_of(SEED, f, SPLITS) == split]


def test_datumaro_detects_the_voc_folder_and_imports_it(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    from datumaro.components.annotation import AnnotationType
    from datumaro.components.dataset import Dataset
    from datumaro.components.environment import Environment

    categories, images = _coco(run)
    folder = str(run / "voc")
    with caplog.at_level(logging.WARNING):
        assert "voc" in Environment().detect_dataset(folder)
        dataset = Dataset.import_from(folder, "voc", coordinate_mode="voc-one-based")
        items = {item.id: item for item in dataset}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    labels = dataset.categories()[AnnotationType.label]
    assert sorted(items) == sorted(f"{camera}_{frame:06d}" for frame, camera in images)
    for (frame, camera), (_image, anns) in images.items():
        item = items[f"{camera}_{frame:06d}"]
        assert item.subset == split_of(SEED, frame, SPLITS)
        boxes = [a for a in item.annotations if a.type == AnnotationType.bbox]
        assert [labels[b.label].name for b in boxes] == [categories[a["category_id"]] for a in anns]
        assert [b.get_bbox() for b in boxes] == [pytest.approx(a["bbox"]) for a in anns]


def test_datumaro_detects_the_yolo_folder_and_imports_it(run: Path, caplog: pytest.LogCaptureFixture) -> None:
    from datumaro.components.annotation import AnnotationType
    from datumaro.components.dataset import Dataset
    from datumaro.components.environment import Environment

    categories, images = _coco(run)
    folder = str(run / "yolo")
    with caplog.at_level(logging.WARNING):
        assert Environment().detect_dataset(folder) == ["yolo"]
        dataset = Dataset.import_from(folder, "yolo")
        items = {item.id: item for item in dataset}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    labels = dataset.categories()[AnnotationType.label]
    assert sorted(items) == sorted(f"{camera}_{frame:06d}" for frame, camera in images)
    for (frame, camera), (_image, anns) in images.items():
        item = items[f"{camera}_{frame:06d}"]
        assert item.subset == split_of(SEED, frame, SPLITS)
        boxes = [a for a in item.annotations if a.type == AnnotationType.bbox]
        assert [labels[b.label].name for b in boxes] == [categories[a["category_id"]] for a in anns]
        for box, ann in zip(boxes, anns):
            assert box.get_bbox() == pytest.approx(ann["bbox"], abs=1e-3)


def test_replicators_unknown_occlusion_is_kitti_level_3_and_not_difficult_in_voc() -> None:
    """Replicator gives occlusionRatio -1 for a labelled prim of several meshes (reference §2):
    no ratio, so KITTI's "unknown" level, and VOC does not mark the object occluded or difficult."""
    from scenesmith.sensors.outputs import BBOX2D_DTYPE
    from scenesmith.writers.instances import camera_instances
    from scenesmith.writers.kitti_writer import label_line
    from scenesmith.writers.voc_writer import annotation_xml

    ids = np.zeros((4, 6), dtype=np.uint32)
    ids[1:3, 2:5] = 7
    annotators = {
        "instance_segmentation": {
            "cam": {
                "data": ids,
                "idToSemantics": {0: {"class": "BACKGROUND"}, 7: {"class": "mug"}},
                "idToLabels": {7: "/World/mug"},
            }  # fmt: skip
        },
        "bounding_box_2d_loose": {
            "cam": {"data": np.array([(0, 2, 1, 4, 2, -1.0)], dtype=BBOX2D_DTYPE), "bboxIds": np.array([7])}
        },
    }
    (mug,) = camera_instances(annotators, "cam", ("mug",))
    assert (mug.occlusion, mug.box, mug.pixels, mug.prim_path) == (None, (2, 1, 4, 2), 6, "/World/mug")
    assert label_line(mug, None).split()[2] == "3"
    xml = ET.fromstring(annotation_xml("cam_000000", 6, 4, [mug], 0.5))
    assert (xml.findtext("object/occluded"), xml.findtext("object/difficult")) == ("0", "0")


# --------------------------------------------------------------------------- webdataset


def test_webdataset_shards_are_reproducible_tars_read_by_webdataset(run: Path) -> None:
    import webdataset as wds

    _, images = _coco(run)
    frames = _frames(run)
    tars = sorted((run / "webdataset").glob("*/shard_*.tar"))
    for path in tars:
        with tarfile.open(path) as tar:
            members = tar.getmembers()
        assert members and all(
            (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.isfile()) == (0, 0, 0, "", "", 0o644, True)
            for m in members
        ), path
        keys = [m.name.split(".")[0] for m in members]
        assert keys == sorted(keys)  # a sample's members are consecutive, samples in frame order
        assert all(split_of(SEED, int(k), SPLITS) == path.parent.name for k in keys)
    samples = list(wds.WebDataset([str(p) for p in tars], shardshuffle=False).decode("rgb8"))
    assert sorted(int(s["__key__"]) for s in samples) == list(range(8))
    for sample in samples:
        frame = int(sample["__key__"])
        annotators = frames[frame]["annotators"]
        assert set(sample) - {"__key__", "__url__", "__local_path__"} == {
            "json", "front.rgb.png", "front.depth.npy", "front.instance.npy"}  # fmt: skip
        assert np.array_equal(sample["front.rgb.png"], annotators["rgb"]["front"]["data"][..., :3])
        assert np.array_equal(sample["front.depth.npy"], annotators["distance_to_image_plane"]["front"]["data"])
        assert np.array_equal(sample["front.instance.npy"], annotators["instance_segmentation"]["front"]["data"])
        labels = sample["json"]
        assert (labels["frame"], labels["split"]) == (frame, split_of(SEED, frame, SPLITS))
        _image, anns = images[(frame, "front")]
        objects = labels["cameras"]["front"]["objects"]
        assert [(o["instance_id"], o["category_id"], o["bbox"], o["area"]) for o in objects] == [
            (a["scenesmith"]["instance_id"], a["category_id"], a["bbox"], a["area"]) for a in anns
        ]
        ids = np.unique(sample["front.instance.npy"]).tolist()
        assert sorted(map(int, labels["cameras"]["front"]["instances"])) == ids


# --------------------------------------------------------------------------- determinism and resume


@pytest.mark.slow
def test_two_workers_write_the_same_bytes_and_resume_finishes_the_same(
    run: Path, scenario: Path, tmp_path: Path
) -> None:
    reference = files_of(run, FORMAT_DIRS)
    assert {k.split("/")[0] for k in reference} == set(FORMAT_DIRS)
    other = tmp_path / "workers2"
    gen(scenario, other, "--workers", "2")
    assert_same_files(other, run, FORMAT_DIRS)
    # an interrupted run: shard 1 unpublished, its files half there, a temporary file left
    resumed = tmp_path / "resumed"
    shutil.copytree(run, resumed)
    (resumed / "shards" / "000001.json").unlink()
    (resumed / "manifest.json").unlink()
    (resumed / "yolo" / "data.yaml").unlink()
    (resumed / "webdataset" / "train" / "shard_000001.tar").write_bytes(b"partial")
    (resumed / "kitti" / "front" / "training" / "label_2" / "000004.txt").unlink()
    (resumed / "voc" / "Annotations" / ".front_000005.xml.999.tmp").write_text("<annot")
    result = run_cli(
        "generate", str(scenario), *ROOT, "-o", str(resumed), "--no-progress", "--seed", str(SEED), "--resume"
    )
    assert result.returncode == 0, result.stderr
    assert_same_files(resumed, run, FORMAT_DIRS)
    assert run_cli("verify", str(resumed)).returncode == 0
