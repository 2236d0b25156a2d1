"""Our writers behind Replicator's payload layouts (issue 9, Kit-free).

The payloads fed to the adapter are shaped as Replicator delivers them — built here from the
schema transcription fixture (``fixtures/replicator-1.12.27/annotator_schemas.json``) and the
layout rules of reference §2.2, not from our own code: ``camera``/``resolution`` inside
``annotators``, ``_fast`` annotator names, empty ``(0,)`` arrays, the ``renderProduct`` layout
and the legacy ``{data, info}`` form with extra arrays at both levels. The files they produce
must equal what our writers produce from the embedded backend's payloads.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO
from scenesmith import SCHEMA_VERSION, __version__
from scenesmith.runtime.run.pipeline import run_categories
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import parse
from scenesmith.sensors.outputs import ANNOTATORS, SCENESMITH_KEY
from scenesmith.writers.base import RunInfo, ShardContext
from scenesmith.writers.coco_writer import ANNOTATIONS_PATH
from scenesmith.writers.hdf5_reader import read_frames
from scenesmith.writers.registry import default_registry
from scenesmith.writers.replicator_adapter import ReplicatorWriterAdapter, normalize_payload
from scenesmith.writers.splits import DEFAULT_SPLITS, split_of

SMALL = REPO / "tests" / "scenarios" / "small_tabletop.yaml"
FAST = ("bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "instance_segmentation",
        "instance_id_segmentation")  # fmt: skip
"""Annotators BasicWriter attaches as their ``_fast`` variants (reference §4.1)."""
LIDAR = "IsaacCreateRTXLidarScanBuffer"


@pytest.fixture(scope="module")
def schemas(fixtures_dir: Path) -> dict[str, Any]:
    return json.loads((fixtures_dir / "replicator-1.12.27" / "annotator_schemas.json").read_text())["annotators"]


@pytest.fixture(scope="module")
def embedded() -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Two frames from the embedded backend with every camera annotator (lineage removed:
    Replicator payloads carry none)."""
    doc = parse(SMALL, asset_roots=(EXAMPLES,))
    payloads = []
    for frame in (0, 1):
        payload = capture_frame(doc, 0, frame, annotators={"front": tuple(ANNOTATORS)})
        payload.pop(SCENESMITH_KEY)
        payloads.append(payload)
    return payloads, run_categories(resolve(doc))


# ------------------------------------------------------------------ Replicator's delivery shapes


def _legacy_output(anno: str, flat: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """§2.2 rule 3: array only → bare array; no array → flat dict; else {data, info}, with
    extra arrays at both levels."""
    schema = schemas.get(anno)
    extras = {k: v for k, v in flat.items() if k != "data"}
    if "data" not in flat or (schema is not None and schema.get("data", "") is None):
        return dict(flat)
    if not extras:
        return flat["data"]
    out = {"data": flat["data"], "info": dict(extras)}
    out.update({k: v for k, v in extras.items() if isinstance(v, np.ndarray)})
    return out


def _delivered_name(anno: str) -> str:
    return f"{anno}_fast" if anno in FAST else anno


def _empty_as_delivered(flat: dict[str, Any]) -> dict[str, Any]:
    """§2.2 rule 5: empty outputs come as ``np.empty((0,))``-like arrays, not typed."""
    data = flat.get("data")
    if isinstance(data, np.ndarray) and data.size == 0:
        return {**flat, "data": np.empty((0,))}
    return flat


def delivered(payload: dict[str, Any], layout: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as Replicator hands it to a writer with ``data_structure=layout``."""
    ours = payload["annotators"]
    rps = sorted({rp for a, per in ours.items() if a not in ("camera", "resolution") for rp in per})
    cameras = {rp: ours["camera"].get(rp, f"/World/{rp}") for rp in rps}  # LiDAR RPs too
    resolution = {rp: ours["resolution"].get(rp, [1, 1]) for rp in rps}
    top = {k: copy.deepcopy(payload[k]) for k in ("swhFrameNumber", "reference_time", "distribution_outputs",
                                                  "trigger_outputs", "named_outputs")}  # fmt: skip
    top["swhFrameNumber"] = 10_000 + payload["swhFrameNumber"]  # the renderer's counter, not ours
    outputs = {
        (_delivered_name(a), rp): _empty_as_delivered(flat)
        for a, per in ours.items()
        if a not in ("camera", "resolution")
        for rp, flat in per.items()
    }
    if layout == "annotator":
        block: dict[str, Any] = {"camera": cameras, "resolution": resolution}
        for (anno, rp), flat in outputs.items():
            block.setdefault(anno, {})[rp] = flat
        return {**top, "annotators": block}
    if layout == "renderProduct":
        products = {rp: {"camera": cameras[rp], "resolution": resolution[rp]} for rp in rps}
        for (anno, rp), flat in outputs.items():
            products[rp][anno] = flat
        return {**top, "renderProducts": products}
    legacy = dict(top)
    for rp in rps:
        legacy[f"rp_{rp}"] = {"camera": cameras[rp], "resolution": resolution[rp]}
    for (anno, rp), flat in outputs.items():
        legacy[f"{anno}-{rp}"] = _legacy_output(anno.removesuffix("_fast"), flat, schemas)
    return legacy


# ------------------------------------------------------------------ comparisons


def _direct(
    writer: str,
    payloads: list[dict[str, Any]],
    categories: tuple[str, ...],
    out: Path,
    seed: int = 0,
    splits: tuple[tuple[str, float], ...] = DEFAULT_SPLITS,
) -> None:
    info = RunInfo(__version__, SCHEMA_VERSION, "", "", seed, tuple(sorted(categories)), ("front",), ("roof_lidar",),
                   {"source": "omni.replicator.core payloads"}, splits=splits)  # fmt: skip
    instance = default_registry().get(writer)()
    instance.open(ShardContext(out, 0, (0, 1_000_000), info))
    for payload in payloads:
        instance.write(copy.deepcopy(payload))
    instance.close()
    instance.on_final_frame(out, info, [0])


def _assert_same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a, key=str) == sorted(b, key=str), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


@pytest.mark.parametrize("layout", ["annotator", "renderProduct", "legacy"])
def test_replicator_payloads_write_the_same_files_as_embedded_payloads(
    layout: str, embedded: tuple[list[dict[str, Any]], tuple[str, ...]], schemas: dict[str, Any], tmp_path: Path
) -> None:
    payloads, categories = embedded
    for writer in ("hdf5", "coco"):
        direct, adapted = tmp_path / f"direct_{writer}", tmp_path / f"adapted_{writer}"
        _direct(writer, payloads, categories, direct)
        adapter = ReplicatorWriterAdapter(writer, adapted, categories=categories)
        for payload in payloads:
            adapter.write(delivered(payload, layout, schemas))
        files = adapter.finish()
        assert files, writer
        if writer == "hdf5":
            got = list(read_frames(adapted / "hdf5" / "shard_000000.h5"))
            want = list(read_frames(direct / "hdf5" / "shard_000000.h5"))
            assert len(got) == len(want) == 2
            for i, (g, w) in enumerate(zip(got, want)):
                _assert_same(w, g, f"{layout} frame {i}")
        else:
            assert (adapted / ANNOTATIONS_PATH).read_bytes() == (direct / ANNOTATIONS_PATH).read_bytes()


@pytest.mark.parametrize("writer", ["yolo", "kitti", "voc", "webdataset"])
def test_replicator_payloads_write_the_same_format_files_as_embedded_payloads(
    writer: str, embedded: tuple[list[dict[str, Any]], tuple[str, ...]], schemas: dict[str, Any], tmp_path: Path
) -> None:
    """The issue 18 formats, fed Replicator's legacy layout (bare arrays, ``{data, info}``,
    ``_fast`` names): every file the same bytes as from the embedded payloads."""
    payloads, categories = embedded
    direct, adapted = tmp_path / "direct", tmp_path / "adapted"
    _direct(writer, payloads, categories, direct)
    adapter = ReplicatorWriterAdapter(writer, adapted, categories=categories)
    for payload in payloads:
        adapter.write(delivered(payload, "legacy", schemas))
    files = adapter.finish()

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert sorted(p.as_posix() for p in files) == sorted(tree(adapted))
    assert files and tree(adapted) == tree(direct)


def test_replicator_writers_split_frames_as_a_scenesmith_run_does(
    embedded: tuple[list[dict[str, Any]], tuple[str, ...]], schemas: dict[str, Any], tmp_path: Path
) -> None:
    """``splits`` and ``seed`` given to a bare rep.Writer put each frame in the split a
    scenesmith run with that seed gives it: COCO and YOLO files byte-identical to the writers
    fed directly with the run's split table; bad fractions are refused."""
    payloads, categories = embedded
    splits = {"train": 0.5, "val": 0.5}
    seed = next(s for s in range(100) if split_of(s, 0, tuple(splits.items())) != split_of(s, 1, tuple(splits.items())))
    for writer in ("coco", "yolo"):
        direct, adapted = tmp_path / f"direct_{writer}", tmp_path / f"adapted_{writer}"
        _direct(writer, payloads, categories, direct, seed, tuple(splits.items()))
        adapter = ReplicatorWriterAdapter(writer, adapted, categories=categories, seed=seed, splits=splits)
        for payload in payloads:
            adapter.write(delivered(payload, "annotator", schemas))
        adapter.finish()
        tree = {p.relative_to(adapted).as_posix(): p.read_bytes() for p in sorted(adapted.rglob("*")) if p.is_file()}
        assert tree == {
            p.relative_to(direct).as_posix(): p.read_bytes() for p in sorted(direct.rglob("*")) if p.is_file()
        }
        if writer == "coco":
            assert {"coco/annotations/instances_train.json", "coco/annotations/instances_val.json"} <= set(tree)
    for bad in ({"train": 0.5, "val": 0.4}, {"Train": 1.0}, {"train": 1.5, "val": -0.5}, {}):
        with pytest.raises(ValueError, match="splits"):
            ReplicatorWriterAdapter("coco", tmp_path / "bad", splits=bad)
    assert not (tmp_path / "bad").exists()


def test_normalisation_details(embedded: tuple[list[dict[str, Any]], tuple[str, ...]], schemas: dict[str, Any]) -> None:
    payload = embedded[0][0]
    legacy = delivered(payload, "legacy", schemas)
    # the fixture's shapes really are exercised: a bare array, a flat dict, {data, info} with top-level arrays
    assert isinstance(legacy["rgb-front"], np.ndarray)
    assert isinstance(legacy["camera_params-front"], dict) and "data" not in legacy["camera_params-front"]
    assert set(legacy["bounding_box_2d_tight_fast-front"]) >= {"data", "info", "bboxIds"}
    normal = normalize_payload(legacy, frame_index=7)
    assert normal["swhFrameNumber"] == 7
    assert "bounding_box_2d_tight" in normal["annotators"] and "bounding_box_2d_tight_fast" not in normal["annotators"]
    assert LIDAR in normal["annotators"] and "roof_lidar" not in normal["annotators"]["camera"]
    # empty (0,) outputs take the annotator's dtype
    empty = {"annotators": {"camera": {"c": "/World/c"}, "resolution": {"c": [4, 3]},
                            "bounding_box_3d_fast": {"c": {"data": np.empty((0,)), "primPaths": []}}}}  # fmt: skip
    box = normalize_payload(empty, 0)["annotators"]["bounding_box_3d"]["c"]["data"]
    assert box.shape == (0,) and box.dtype.names[-1] == "occlusionRatio"
