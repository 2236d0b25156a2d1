"""The BOP writer (issue 18 item 1), read back by a reader written here from
``bop_toolkit``'s ``docs/bop_datasets_format.md`` and checked against the invariants the toolkit
relies on; OpenCV decodes the PNGs and projects nothing of ours."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from run_diff import assert_same_files, files_of
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.object_models import object_models
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.runtime.usd.stage import author_stage
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
from scenesmith.writers.base import RunInfo, ShardContext
from scenesmith.writers.bop_writer import BopWriter, scene_of
from scenesmith.writers.hdf5_reader import read_frames

SCENES = REPO / "tests" / "scenarios"
SPLITS = ("train", "val")
SYMMETRIES = """    symmetries:
      continuous: [{axis: [0.0, 0.0, 1.0]}]
"""
BOX_SYMMETRIES = """    symmetries:
      discrete: [{axis: [0.0, 0.0, 1.0], angle_deg: 180.0}, {axis: [1.0, 0.0, 0.0], angle_deg: 180.0}]
"""


# --------------------------------------------------------------------------- a reader from the spec


def read_json(path: Path) -> dict[int, Any]:
    """A scene/models JSON file: keys are image or object ids."""
    return {int(k): v for k, v in json.loads(path.read_text()).items()}


def read_png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """ASCII PLY: (vertices (V, 3) from properties x, y, z; faces (F, 3))."""
    lines = path.read_text().splitlines()
    assert lines[0] == "ply" and lines[1] == "format ascii 1.0"
    elements: list[tuple[str, int, list[str]]] = []
    end = lines.index("end_header")
    for line in lines[2:end]:
        words = line.split()
        if words[0] == "element":
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property":
            elements[-1][2].append(words[-1])
    row = end + 1
    vertices = faces = None
    for name, count, props in elements:
        block = [line.split() for line in lines[row : row + count]]
        row += count
        if name == "vertex":
            table = np.array(block, dtype=np.float64)
            vertices = table[:, [props.index("x"), props.index("y"), props.index("z")]]
        elif name == "face":
            assert all(int(b[0]) == 3 for b in block)
            faces = np.array([b[1:4] for b in block], dtype=np.int64)
    assert vertices is not None and faces is not None
    return vertices, faces


def calc_2d_bbox(mask: np.ndarray) -> list[int]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return [-1, -1, -1, -1]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min())]


def _side(p: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """Which side of the line p0 -> p1 the points p lie on (the sign of the cross product)."""
    return (p1[0] - p0[0]) * (p[..., 1] - p0[1]) - (p1[1] - p0[1]) * (p[..., 0] - p0[0])


def rasterise(vertices_mm: np.ndarray, faces: np.ndarray, k: np.ndarray, r: np.ndarray, t: np.ndarray,
              shape: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """Pixels whose centre (integer coordinates, OpenCV's convention) lies in a projected triangle."""
    cam = vertices_mm @ r.T + t
    assert (cam[:, 2] > 0).all()
    uv = (cam @ k.T)[:, :2] / cam[:, 2:3]
    h, w = shape
    out = np.zeros(shape, dtype=bool)
    for a, b, c in uv[faces]:
        x0, x1 = max(int(math.floor(min(a[0], b[0], c[0]))), 0), min(int(math.ceil(max(a[0], b[0], c[0]))), w - 1)
        y0, y1 = max(int(math.floor(min(a[1], b[1], c[1]))), 0), min(int(math.ceil(max(a[1], b[1], c[1]))), h - 1)
        if x0 > x1 or y0 > y1:
            continue
        ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
        p = np.stack([xs, ys], -1).astype(np.float64)

        s1, s2, s3 = _side(p, a, b), _side(p, b, c), _side(p, c, a)
        inside = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
        out[y0 : y1 + 1, x0 : x1 + 1] |= inside
    return out


def check_dataset(root: Path, splits: tuple[str, ...] = SPLITS) -> dict[str, Any]:
    """Every invariant of every image of every scene; returns what the other tests compare."""
    info = read_json(root / "models" / "models_info.json")
    models = {obj: read_ply(root / "models" / f"obj_{obj:06d}.ply") for obj in info}
    camera = json.loads((root / "camera.json").read_text())
    assert set(camera) >= {"fx", "fy", "cx", "cy", "width", "height", "depth_scale"}
    stats = {"images": {}, "overlap": [], "hidden": 0}
    for split in splits:
        for scene in sorted((root / split).iterdir()):
            cams, gts = read_json(scene / "scene_camera.json"), read_json(scene / "scene_gt.json")
            gt_infos = read_json(scene / "scene_gt_info.json")
            assert cams.keys() == gts.keys() == gt_infos.keys() and len(cams) <= 1000
            for im, cam in cams.items():
                k = np.array(cam["cam_K"]).reshape(3, 3)
                depth = read_png(scene / "depth" / f"{im:06d}.png")
                rgb = read_png(scene / "rgb" / f"{im:06d}.png")
                assert depth.dtype == np.uint16 and rgb.shape[:2] == depth.shape
                stats["images"][(split, int(scene.name), im)] = (cam, gts[im], depth)
                for gt_id, (gt, gi) in enumerate(zip(gts[im], gt_infos[im])):
                    mask = read_png(scene / "mask" / f"{im:06d}_{gt_id:06d}.png") > 0
                    visib = read_png(scene / "mask_visib" / f"{im:06d}_{gt_id:06d}.png") > 0
                    assert (visib <= mask).all()  # mask_visib ⊆ mask
                    assert gi["px_count_all"] == mask.sum() and gi["px_count_visib"] == visib.sum()
                    assert gi["visib_fract"] == (visib.sum() / mask.sum() if mask.sum() else 0.0)
                    assert gi["px_count_valid"] == (mask & (depth > 0)).sum()
                    assert gi["bbox_obj"] == calc_2d_bbox(mask) and gi["bbox_visib"] == calc_2d_bbox(visib)
                    stats["hidden"] += int(mask.sum() > visib.sum())
                    r = np.array(gt["cam_R_m2c"]).reshape(3, 3)
                    t = np.array(gt["cam_t_m2c"])
                    assert np.allclose(r @ r.T, np.eye(3), atol=1e-5) and np.linalg.det(r) == pytest.approx(1, abs=1e-5)
                    drawn = rasterise(*models[gt["obj_id"]], k, r, t, mask.shape)
                    if drawn.sum():
                        stats["overlap"].append(((drawn & mask).sum(), drawn.sum(), mask.sum()))
    return stats


# --------------------------------------------------------------------------- runs


def generate(scenario: Path, out: Path, *args: str) -> None:
    result = run_cli("generate", str(scenario), "--asset-root", str(EXAMPLES), "-o", str(out), "--no-progress", *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bop")
    text = (SCENES / "small_tabletop.yaml").read_text()
    for old, new in (
        ("output:\n  frames: 8\n",
         "output:\n  frames: 8\n  splits: {train: 0.6, val: 0.4}\n  writers: {bop: true, coco: {amodal: true}}\n"),
        ("    semantics: {class: can}\n", "    semantics: {class: can}\n" + SYMMETRIES),
        ("    semantics: {class: box}\n", "    semantics: {class: box}\n" + BOX_SYMMETRIES),
    ):  # fmt: skip
        assert old in text
        text = text.replace(old, new)
    scenario = root / "bop_tabletop.yaml"
    scenario.write_text(text)
    one, two, resumed = root / "one", root / "two", root / "resumed"
    generate(scenario, one)
    generate(scenario, two, "--workers", "2")
    shutil.copytree(one, resumed)
    (resumed / "shards" / "000001.json").unlink()  # that shard never published
    (resumed / "manifest.json").unlink()
    generate(scenario, resumed, "--resume")
    return {"one": one, "two": two, "resumed": resumed}


def test_the_dataset_reads_back_with_every_invariant(runs: dict[str, Path]) -> None:
    stats = check_dataset(runs["one"] / "bop")
    assert len(stats["images"]) == 8
    # the models' silhouettes, posed by cam_R_m2c / cam_t_m2c and projected with cam_K, are the masks
    inside = sum(o[0] for o in stats["overlap"]) / sum(o[1] for o in stats["overlap"])
    covered = sum(o[0] for o in stats["overlap"]) / sum(o[2] for o in stats["overlap"])
    assert inside >= 0.99 and covered >= 0.99, (inside, covered)


def test_depth_png_times_scale_is_our_depth_in_mm(runs: dict[str, Path]) -> None:
    """Image ids follow the documented rule: one camera, 1000 frames a scene, im_id = frame."""
    out = runs["one"]
    depth = {}
    for shard in sorted((out / "hdf5").glob("*.h5")):
        for frame in read_frames(shard):
            depth[frame["frame"]] = (frame["split"], frame["annotators"]["distance_to_image_plane"]["front"]["data"])
    images = check_dataset(out / "bop")["images"]
    assert {(split, 0, f) for f, (split, _) in depth.items()} == set(images)
    for frame, (split, metres) in depth.items():
        cam, _, png = images[(split, 0, frame)]
        scale = cam["depth_scale"]
        mm = metres.astype(np.float64) * 1000.0
        valid = np.isfinite(mm) & (mm < 65535 * scale)
        assert (png[~valid] == 0).all()
        assert np.abs(png[valid] * scale - mm[valid]).max() <= scale / 2 + 1e-6


def test_world_and_model_poses_agree_with_the_pose_json(runs: dict[str, Path]) -> None:
    """cam_R_w2c/cam_t_w2c applied to the objects' world poses (PoseWriter JSON's world-frame
    fields) give cam_R_m2c/cam_t_m2c; obj ids are the sorted labelled assets."""
    out = runs["one"]
    images = check_dataset(out / "bop")["images"]
    names = [line.split()[3] for line in _ply_comments(out / "bop" / "models")]
    assert names == sorted(["ball", "box", "can", "cone", "mug", "table"])
    for (split, _, im), (cam, gts, _) in images.items():
        pose = json.loads((out / "pose" / "front" / f"{im:06d}.json").read_text())
        r_w2c, t_w2c = np.array(cam["cam_R_w2c"]).reshape(3, 3), np.array(cam["cam_t_w2c"])
        by_obj: dict[int, list] = {}
        for gt in gts:
            by_obj.setdefault(gt["obj_id"], []).append(gt)
        for obj in pose["objects"]:
            name = re.sub(r"_\d{3}$", "", obj["prim_path"].split("/")[-1])  # counted copies: /World/<name>_<k>
            m = np.array(obj["local_to_world_transform"])  # row vectors, scale included
            rot = (m[:3, :3] / np.linalg.norm(m[:3, :3], axis=1, keepdims=True)).T
            r, t = r_w2c @ rot, r_w2c @ (m[3, :3] * 1000) + t_w2c
            candidates = by_obj[names.index(name) + 1]
            assert any(
                np.allclose(np.array(g["cam_R_m2c"]).reshape(3, 3), r, atol=1e-5)
                and np.allclose(g["cam_t_m2c"], t, atol=1e-3)
                for g in candidates
            ), (split, im, obj["prim_path"])


def _ply_comments(folder: Path) -> list[str]:
    return [
        next(line for line in p.read_text().splitlines() if line.startswith("comment"))
        for p in sorted(folder.glob("obj_*.ply"))
    ]


def test_declared_symmetries_map_each_model_onto_itself(runs: dict[str, Path]) -> None:
    root = runs["one"] / "bop" / "models"
    info = read_json(root / "models_info.json")
    names = [line.split()[3] for line in _ply_comments(root)]
    for obj, entry in info.items():
        vertices, _ = read_ply(root / f"obj_{obj:06d}.ply")
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        assert [entry[f"min_{a}"] for a in "xyz"] == pytest.approx(lo, abs=1e-5)
        assert [entry[f"size_{a}"] for a in "xyz"] == pytest.approx(hi - lo, abs=1e-5)
        pairwise = np.linalg.norm(vertices[:, None] - vertices[None], axis=-1).max()
        assert entry["diameter"] == pytest.approx(pairwise, abs=1e-4)
        key = np.round(vertices, 3)
        own = {tuple(v) for v in key}
        if names[obj - 1] == "box":
            assert len(entry["symmetries_discrete"]) == 2 and "symmetries_continuous" not in entry
            for flat in entry["symmetries_discrete"]:
                m = np.array(flat).reshape(4, 4)
                moved = np.round(vertices @ m[:3, :3].T + m[:3, 3], 3) + 0.0
                assert {tuple(v) for v in moved} == own
        elif names[obj - 1] == "can":
            (sym,) = entry["symmetries_continuous"]
            assert sym["axis"] == [0.0, 0.0, 1.0] and sym["offset"] == [0.0, 0.0, 0.0]
            turn = cv2.Rodrigues(np.array(sym["axis"]) * 2 * math.pi / 16)[0]  # the 16-segment tessellation
            moved = np.round(vertices @ turn.T, 3) + 0.0
            assert len({tuple(v) for v in moved} & own) >= 0.9 * len(own)
        else:
            assert "symmetries_discrete" not in entry and "symmetries_continuous" not in entry


def test_bop_files_are_identical_for_any_worker_count_and_after_resume(runs: dict[str, Path]) -> None:
    one = files_of(runs["one"])
    assert any(k.startswith("bop/val/") for k in one) and any(k.startswith("bop/train/") for k in one)
    for other in ("two", "resumed"):
        assert_same_files(runs[other], runs["one"])
    for out in runs.values():
        assert run_cli("verify", str(out)).returncode == 0


def test_physics_sequences_are_bop_scenes(tmp_path: Path) -> None:
    text = (SCENES / "physics_sequence.yaml").read_text()
    assert "output:\n  frames: 6\n" in text
    scenario = tmp_path / "sequence.yaml"
    scenario.write_text(text.replace("output:\n  frames: 6\n", "output:\n  frames: 6\n  writers: {bop: true}\n"))
    out = tmp_path / "out"
    generate(scenario, out)
    scenes = sorted(p.name for p in (out / "bop" / "train").iterdir())
    assert scenes == ["000000", "000001"]  # two 3-frame episodes
    for scene in scenes:
        assert sorted(read_json(out / "bop" / "train" / scene / "scene_gt.json")) == [0, 1, 2]


def test_scene_numbering_keeps_scenes_at_1000_images() -> None:
    assert scene_of(999, 0, 1) == (0, 999) and scene_of(1000, 0, 1) == (1, 0)
    assert scene_of(332, 2, 3) == (0, 998) and scene_of(333, 0, 3) == (1, 0)  # 333 frames of 3 cameras
    # an episode of 2500 frames (one camera) fills scenes 0-2; the next episode starts scene 3
    assert scene_of(2499, 0, 1, 2500) == (2, 499) and scene_of(2500, 0, 1, 2500) == (3, 0)
    assert scene_of(7, 0, 1, 3) == (2, 1)  # short episodes: one scene each


# --------------------------------------------------------------------------- a half-hidden object


CRATE = {
    "cube": {"size_m": 0.3},
    "position_m": [0.0, 0.0, 0.15],
    "semantics": {"class": "crate"},
    "symmetries": {"discrete": [{"axis": [0.0, 0.0, 1.0], "angle_deg": 90.0, "offset_m": [0.0, 0.0, 0.0]}]},
}
PLATE = {"cube": {"size_m": 1.0}, "scale": [0.3, 0.6, 0.02], "position_m": [-0.15, 0.0, 0.6],
         "semantics": {"class": "plate"}}  # fmt: skip


def test_a_half_hidden_object_has_mask_strictly_larger_than_mask_visib(tmp_path: Path) -> None:
    scenario = {
        "version": 1,
        "assets": {"crate": CRATE, "plate": PLATE},
        "lights": {"sun": {"type": "distant", "intensity": 2.0}},
        "cameras": {
            "cam": {
                "resolution": [96, 72], "focal_length_mm": 18.0, "position_m": [0.3, -0.4, 2.0],
                "look_at_m": [0.0, 0.0, 0.2], "annotators": list(BopWriter.required_annotators),
            }
        },
    }  # fmt: skip
    resolved = resolve(build(scenario))
    backend = EmbeddedBackend()
    backend.build(resolved)
    try:
        params = sample(resolved, 0, 0)
        backend.apply(params)
        payload = backend.capture(params)
    finally:
        backend.close()
    info = RunInfo(
        "t", 1, "d", "r", 0, ("crate", "plate"), ("cam",), objects=object_models(resolved, author_stage(resolved))
    )
    writer = BopWriter()
    writer.open(ShardContext(tmp_path, 0, (0, 1), info))
    writer.write(payload)
    writer.close()
    writer.on_final_frame(tmp_path, info, [0])
    stats = check_dataset(tmp_path / "bop", ("train",))
    assert stats["hidden"] == 1  # the crate: mask ⊋ mask_visib (the plate is fully visible)
    (inside_n, drawn_n, mask_n) = stats["overlap"][0]
    assert inside_n / drawn_n >= 0.99 and inside_n / mask_n >= 0.99


def test_isaac_mode_refuses_the_bop_writer_by_name() -> None:
    from scenesmith.runtime.backend import check_supported
    from scenesmith.runtime.isaac.backend import CAPABILITIES
    from scenesmith.runtime.isaac.rep_writers import WRITER_CLASS_NAMES
    from scenesmith.sensors.errors import BadInputError

    assert WRITER_CLASS_NAMES["bop"] == "ScenesmithBopWriter"
    scenario = {"version": 1, "assets": {"crate": CRATE}, "output": {"writers": {"bop": True}}}
    with pytest.raises(BadInputError, match="bop writer"):
        check_supported(resolve(build(scenario)), CAPABILITIES, "isaac")


SCALE = "    scale: {uniform: {lower: 0.9, upper: 1.1}}\n"


def test_a_scale_randomizer_on_a_labelled_object_is_refused_at_its_key(tmp_path: Path) -> None:
    """BOP poses are rigid: a drawn scale on a labelled asset is exit 2 at the randomizer's
    scale key, from ``validate`` on, before anything is written; a scale on an unlabelled
    asset (the floor) is fine."""
    text = (SCENES / "small_tabletop.yaml").read_text()
    head = "output:\n  frames: 8\n"
    assert head in text and "randomizers:\n" in text
    text = text.replace(head, head + "  writers: {bop: true}\n")
    scaled = text.replace(
        "randomizers:\n",
        "randomizers:\n  grow_cans:\n    kind: pose\n    targets: [can]\n" + SCALE,
    )
    scenario = tmp_path / "scaled.yaml"
    scenario.write_text(scaled)
    line = scaled.splitlines().index(SCALE.rstrip("\n")) + 1
    for command in (("validate", str(scenario)), ("generate", str(scenario), "-o", str(tmp_path / "out"))):
        result = run_cli(*command, "--asset-root", str(EXAMPLES))
        assert result.returncode == 2, result.stderr
        assert f"{scenario}:{line}:" in result.stderr and "randomizers.grow_cans.scale" in result.stderr
        assert "labelled asset(s) can;" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    floor = text.replace(
        "randomizers:\n", "randomizers:\n  floor_size:\n    kind: pose\n    targets: [floor]\n" + SCALE
    )
    scenario.write_text(floor)
    result = run_cli("validate", str(scenario), "--asset-root", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
