"""The ``instance_segmentation_amodal`` annotator (issue 18 item 2): each labelled object's full
silhouette as if it were alone, cast only where a ray can meet the object's 3D box; written to
COCO (an RLE per annotation) and HDF5; refused by name inside Isaac Sim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scenesmith.runtime.backend import check_supported
from scenesmith.runtime.embedded import occlusion_pass
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.isaac.backend import CAPABILITIES as ISAAC
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
from scenesmith.sensors.errors import BadInputError
from scenesmith.sensors.outputs import AMODAL_ANNOTATOR, amodal_masks
from scenesmith.writers.base import RunInfo, ShardContext
from scenesmith.writers.coco_writer import CocoWriter, fragment_path
from scenesmith.writers.hdf5_reader import read_frames
from scenesmith.writers.hdf5_writer import Hdf5Writer

RES = (64, 48)
FOCAL_MM, APERTURE_MM = 18.0, 20.955
EYE_Z = 2.0
BACK = {"cube": {"size_m": 0.3}, "position_m": [0.0, 0.0, 0.15], "semantics": {"class": "crate"}}
# a plate above the crate's left half (seen from above, it hides that half)
FRONT = {
    "cube": {"size_m": 1.0},
    "scale": [0.3, 0.6, 0.02],
    "position_m": [-0.15, 0.0, 0.6],
    "semantics": {"class": "plate"},
}
FISHEYE = {"model": "fisheyeOpenCV", "k1": 0.08, "k2": -0.01}
ANNOTATORS = ["instance_segmentation", "bounding_box_2d_loose", "occlusion", AMODAL_ANNOTATOR]


def _scenario(assets: dict[str, Any], lens: dict[str, Any] | None, more: tuple[str, ...] = ()) -> dict[str, Any]:
    camera: dict[str, Any] = {
        "resolution": list(RES),
        "focal_length_mm": FOCAL_MM,
        "position_m": [0.0, 0.0, EYE_Z],
        "quat_wxyz": [1.0, 0.0, 0.0, 0.0],  # looks down world -Z, image up = world +Y
        "annotators": [*ANNOTATORS, *more],
    }
    if lens is not None:
        camera["lens"] = lens
    return {
        "version": 1,
        "assets": assets,
        "lights": {"sun": {"type": "distant", "intensity": 2.0}},
        "cameras": {"cam": camera},
    }


def _capture(assets: dict[str, Any], lens: dict[str, Any] | None = None, more: tuple[str, ...] = ()) -> dict[str, Any]:
    backend = EmbeddedBackend()
    resolved = resolve(build(_scenario(assets, lens, more)))
    backend.build(resolved)
    try:
        params = sample(resolved, 0, 0)
        backend.apply(params)
        return backend.capture(params)
    finally:
        backend.close()


def _by_path(annotators: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per prim path: the visible mask (instance_segmentation) and the amodal mask."""
    seg = annotators["instance_segmentation"]["cam"]
    ids = seg["data"]
    amodal = amodal_masks(annotators[AMODAL_ANNOTATOR]["cam"], *ids.shape)
    paths = {int(k): str(v) for k, v in seg["idToLabels"].items() if int(k) >= 2}
    visible = {path: ids == iid for iid, path in paths.items()}
    return visible, {paths[iid]: mask for iid, mask in amodal.items()}


@pytest.mark.parametrize("lens", [None, FISHEYE], ids=["pinhole", "fisheye"])
def test_a_half_hidden_object_has_its_alone_silhouette_as_amodal_mask(lens: dict[str, Any] | None) -> None:
    both = _capture({"back": BACK, "front": FRONT}, lens)["annotators"]
    alone = _capture({"back": BACK}, lens)["annotators"]
    visible, amodal = _by_path(both)
    alone_visible, _ = _by_path(alone)
    hidden = amodal["/World/back"]
    assert np.array_equal(hidden, alone_visible["/World/back"])  # the render of the object alone
    assert (visible["/World/back"] <= hidden).all() and hidden.sum() > visible["/World/back"].sum()
    share = visible["/World/back"].sum() / hidden.sum()
    assert 0.3 < share < 0.7  # about half hidden
    for path, mask in amodal.items():  # every amodal mask contains its visible pixels
        assert (visible[path] <= mask).all(), path
    # the occlusion ratio is 1 - visible / amodal pixels
    seg = both["instance_segmentation"]["cam"]
    back_id = next(int(k) for k, v in seg["idToLabels"].items() if v == "/World/back")
    occl = both["occlusion"]["cam"]["data"]
    ratio = float(occl["occlusionRatio"][occl["instanceId"] == back_id][0])
    assert ratio == pytest.approx(1.0 - share, abs=1e-6)


def test_amodal_masks_leave_boxes_and_occlusion_unchanged() -> None:
    """The pass that keeps the pixels yields the same loose boxes and ratios as the counting pass."""
    assets = {"back": BACK, "front": FRONT}
    scenario = _scenario(assets, None)
    scenario["cameras"]["cam"]["annotators"] = ["instance_segmentation", "bounding_box_2d_loose", "occlusion"]
    backend = EmbeddedBackend()
    resolved = resolve(build(scenario))
    backend.build(resolved)
    try:
        params = sample(resolved, 0, 0)
        backend.apply(params)
        without = backend.capture(params)["annotators"]
    finally:
        backend.close()
    with_amodal = _capture(assets)["annotators"]
    for name in ("bounding_box_2d_loose", "occlusion"):
        assert without[name]["cam"]["data"].tobytes() == with_amodal[name]["cam"]["data"].tobytes(), name


def test_rays_are_cast_only_inside_the_projected_hull_of_the_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ray the amodal pass casts for the crate goes through a pixel centre inside the
    convex hull of its 3D box's 8 corners projected by the pinhole (computed here with OpenCV)."""
    cast: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    original = occlusion_pass._box_rays

    def recording(x0: int, y0: int, x1: int, y1: int, *rest: Any) -> Any:
        rays, cell, mask = original(x0, y0, x1, y1, *rest)
        cast.append((x0, y0, cell, mask.copy()))
        return rays, cell, mask

    monkeypatch.setattr(occlusion_pass, "_box_rays", recording)
    _capture({"back": BACK, "front": FRONT})
    (x0, y0, cell, own) = cast[0]  # /World/back comes first (prim-path order)
    w = own.shape[1]
    fx = FOCAL_MM / APERTURE_MM * RES[0]
    half = 0.15
    corners = np.array([(x, y, z) for x in (-half, half) for y in (-half, half) for z in (0.0, 0.3)])
    depth = EYE_Z - corners[:, 2]
    uv = np.stack([RES[0] / 2 + fx * corners[:, 0] / depth, RES[1] / 2 - fx * corners[:, 1] / depth], -1)
    hull = cv2.convexHull(uv.astype(np.float32))
    centres = np.stack([x0 + cell % w + 0.5, y0 + cell // w + 0.5], -1)
    assert len(centres) > 20  # the hidden half is cast
    inside = [cv2.pointPolygonTest(hull, (float(u), float(v)), True) for u, v in centres]
    assert min(inside) > -0.01
    # the window around the hull holds pixels neither shown nor cast: the test skipped them
    assert own.size - own.sum() - len(cell) > 0


def _run_info() -> RunInfo:
    return RunInfo("t", 1, "d", "r", 0, ("crate", "plate"), ("cam",))


def test_coco_and_hdf5_carry_the_amodal_masks(tmp_path: Path) -> None:
    payload = _capture({"back": BACK, "front": FRONT}, more=("rgb",))
    visible, amodal = _by_path(payload["annotators"])
    info = _run_info()
    coco = CocoWriter(amodal=True)
    assert AMODAL_ANNOTATOR in coco.requires() and AMODAL_ANNOTATOR not in CocoWriter().requires()
    hdf5 = Hdf5Writer()
    for writer in (coco, hdf5):
        writer.open(ShardContext(tmp_path, 0, (0, 1), info))
        writer.write(payload)
        writer.close()
    coco.on_final_frame(tmp_path, info, [0])
    fragment = json.loads((tmp_path / fragment_path(0)).read_text())
    anns = {a["scenesmith"]["prim_path"]: a for a in fragment["annotations"]}
    assert set(anns) == {"/World/back", "/World/front"}
    for path, ann in anns.items():
        full = mask_utils.decode(ann["scenesmith"]["segmentation_amodal"]).astype(bool)
        seen = mask_utils.decode(ann["segmentation"]).astype(bool)
        assert np.array_equal(full, amodal[path]) and np.array_equal(seen, visible[path])
        assert ann["scenesmith"]["area_amodal"] == int(full.sum())
    frame = next(read_frames(tmp_path / "hdf5" / "shard_000000.h5"))
    stored = frame["annotators"][AMODAL_ANNOTATOR]["cam"]
    original = payload["annotators"][AMODAL_ANNOTATOR]["cam"]
    for key in ("data", "bboxIds", "boxes"):
        assert np.array_equal(stored[key], original[key]), key
    assert stored["primPaths"] == original["primPaths"]


def test_isaac_mode_refuses_the_amodal_annotator_and_writers_that_read_it() -> None:
    scenario = _scenario({"back": BACK}, None)
    with pytest.raises(BadInputError, match=AMODAL_ANNOTATOR):
        check_supported(resolve(build(scenario)), ISAAC, "isaac")
    scenario["cameras"]["cam"]["annotators"] = ["instance_segmentation"]
    check_supported(resolve(build(scenario)), ISAAC, "isaac")  # without it: supported
    scenario["output"] = {"writers": {"coco": {"amodal": True}}}
    with pytest.raises(BadInputError, match="coco writer"):
        check_supported(resolve(build(scenario)), ISAAC, "isaac")
