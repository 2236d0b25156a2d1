"""Stereo rigs (issue 17, item 1): two cameras a baseline apart, rectified, moved as one.

The disparity between the left and right labels of an object must be f·b/z (stereo geometry),
the rectification metadata must be what OpenCV's ``stereoRectify`` computes for the rig, and a
randomizer that moves the rig moves both cameras rigidly.
"""

from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np
import pytest
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
from scenesmith.sensors.errors import BadInputError

RES = [128, 96]
BASELINE = 0.12
FOCAL_MM, APERTURE_MM = 24.0, 20.955
F_PX = FOCAL_MM / APERTURE_MM * RES[0]


def _scenario(randomizers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": 1,
        "assets": {
            "ground": {"plane": {"width_m": 20.0, "length_m": 20.0}},
            "ball": {"sphere": {"radius_m": 0.05}, "position_m": [0.1, 0.05, -1.5], "semantics": {"class": "ball"}},
        },
        "lights": {"sun": {"type": "distant", "intensity": 3.0}},
        "cameras": {
            "head": {
                "resolution": RES, "focal_length_mm": FOCAL_MM, "position_m": [0.0, 0.0, 0.0],
                "stereo": {"baseline_m": BASELINE},
                "annotators": ["rgb", "instance_segmentation", "distance_to_image_plane", "camera_params"],
            }
        },
        "randomizers": randomizers or {},
    }  # fmt: skip


def _capture(scenario: dict[str, Any], frame: int = 0) -> dict[str, Any]:
    backend = EmbeddedBackend()
    resolved = resolve(build(scenario))
    backend.build(resolved)
    params = sample(resolved, 0, frame)
    backend.apply(params)
    return backend.capture(params)


def _cam_to_world(params: dict[str, Any]) -> np.ndarray:
    return np.linalg.inv(np.asarray(params["cameraViewTransform"], dtype=np.float64).reshape(4, 4))


def test_the_right_camera_sees_the_ball_f_b_over_z_pixels_to_the_left() -> None:
    payload = _capture(_scenario())
    a = payload["annotators"]
    assert a["camera"] == {"head_left": "/World/head/left", "head_right": "/World/head/right"}
    left, right = _cam_to_world(a["camera_params"]["head_left"]), _cam_to_world(a["camera_params"]["head_right"])
    assert np.allclose(left[:3, :3], right[:3, :3])  # parallel axes
    assert np.allclose(right[3, :3] - left[3, :3], BASELINE * left[0, :3])  # b along the left's +x
    centroids = {}
    for rp in ("head_left", "head_right"):
        seg = a["instance_segmentation"][rp]
        ball = {v: k for k, v in seg["idToLabels"].items()}["/World/ball"]
        rows, cols = np.nonzero(seg["data"] == int(ball))
        assert len(cols) > 30
        centroids[rp] = (cols.mean(), rows.mean())
    # the camera looks down −Z world from the origin: the ball's centre is 1.5 m deep
    disparity = centroids["head_left"][0] - centroids["head_right"][0]
    assert disparity == pytest.approx(F_PX * BASELINE / 1.5, abs=0.3)
    assert centroids["head_left"][1] == pytest.approx(centroids["head_right"][1], abs=0.05)  # same rows


def test_rectification_metadata_is_opencvs_and_reprojects_the_ball() -> None:
    payload = _capture(_scenario())
    rigs = payload["scenesmith"]["stereo"]
    left, right = rigs["head_left"], rigs["head_right"]
    assert (left["role"], left["right"], right["role"], right["left"]) == ("left", "head_right", "right", "head_left")
    k = np.array(left["K"])
    r1, r2, p1, p2, q, _, _ = cv2.stereoRectify(
        k, np.zeros(5), k, np.zeros(5), tuple(RES), np.array(left["R"]), np.array(left["T"]),
        flags=cv2.CALIB_ZERO_DISPARITY, alpha=-1,
    )  # fmt: skip
    for name, ref in (("R1", r1), ("R2", r2), ("P1", p1), ("P2", p2), ("Q", q)):
        assert np.allclose(np.array(left[name]), ref, atol=1e-9), name
    # Q turns the ball's centre pixel and disparity back into its position (OpenCV frame)
    u = F_PX * 0.1 / 1.5 + k[0, 2]
    v = -F_PX * 0.05 / 1.5 + k[1, 2]
    point = np.array(left["Q"]) @ np.array([u, v, F_PX * BASELINE / 1.5, 1.0])
    assert np.allclose(point[:3] / point[3], [0.1, -0.05, 1.5], atol=1e-9)


def test_a_randomizer_moves_the_rig_as_one() -> None:
    rnd = {
        "orbit": {
            "kind": "look_at", "targets": ["head"], "target_m": [0.0, 0.0, -1.5],
            "distance_m": {"uniform": {"lower": 1.0, "upper": 3.0}},
            "azimuth_deg": {"uniform": {"lower": 0.0, "upper": 360.0}},
            "elevation_deg": {"uniform": {"lower": 10.0, "upper": 80.0}},
        }
    }  # fmt: skip
    poses = set()
    for frame in range(3):
        a = _capture(_scenario(rnd), frame)["annotators"]["camera_params"]
        left, right = _cam_to_world(a["head_left"]), _cam_to_world(a["head_right"])
        assert np.allclose(left[:3, :3], right[:3, :3], atol=1e-9)
        assert np.allclose(right[3, :3] - left[3, :3], BASELINE * left[0, :3], atol=1e-9)
        poses.add(tuple(np.round(left[3, :3], 6)))
    assert len(poses) == 3  # it did move


def test_a_camera_named_like_a_rigs_view_is_refused() -> None:
    s = _scenario()
    s["cameras"]["head_left"] = {"resolution": [32, 24]}
    with pytest.raises(BadInputError, match="head_left"):
        build(s)


@pytest.mark.slow
def test_a_rig_through_generate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Both views reach every writer: pose JSON per view with its rectification, HDF5 groups
    with a ``stereo`` attribute, COCO images of both, the stage's stereoRole; verify passes."""
    import h5py
    from conftest import run_cli
    from pxr import Usd

    s = _scenario()
    s["assets"]["ball"]["position_m"] = [0.1, 0.05, -1.5]
    scenario = tmp_path / "rig.yaml"
    scenario.write_text(json.dumps(s))  # JSON is YAML
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "-o", str(out), "--frames", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    for view in ("head_left", "head_right"):
        pose = json.loads((out / "pose" / view / "000000.json").read_text())
        assert pose["camera_data"]["stereo"]["baseline_m"] == BASELINE
        assert (out / "coco/images/train" / view / "000000.png").is_file()
    with h5py.File(sorted((out / "hdf5").glob("*.h5"))[0], "r") as f:
        assert json.loads(f["cameras/head_right"].attrs["stereo"])["role"] == "right"
    stage = Usd.Stage.Open(str(out / "stage.usda"))
    assert stage.GetPrimAtPath("/World/head/right").GetAttribute("stereoRole").Get() == "right"
    assert run_cli("verify", str(out)).returncode == 0
