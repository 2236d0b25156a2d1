"""Physics through the embedded backend: settle-then-capture, sequences, replay, the drop test,
the physics-state log and its HDF5 round trip, reproducibility across processes (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, run_cli
from scenesmith.runtime.backend import create_backend
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import parse
from scenesmith.scenarios.sampler import sample
from scenesmith.sensors.physics_state import check_physics_state, step_rows

SCENARIOS = REPO / "tests" / "scenarios"
SEQUENCE = SCENARIOS / "physics_sequence.yaml"
DROP30 = SCENARIOS / "drop30.yaml"


def _run(path: Path, frames: range, seed: int = 0, capture: bool = False) -> tuple[Any, list[dict[str, Any]]]:
    backend = create_backend("embedded")
    resolved = resolve(parse(path))
    backend.build(resolved)
    out = []
    for frame in frames:
        params = sample(resolved, seed, frame)
        backend.apply(params)
        state = backend.simulate(params)
        record = {"physics_state": state}
        if capture:
            record.update(backend.capture(params))
        out.append(record)
    return backend, out


@pytest.fixture(scope="module")
def sequence() -> list[dict[str, Any]]:
    return _run(SEQUENCE, range(6), capture=True)[1]


def _body(state: dict[str, Any], path: str) -> int:
    return state["body_paths"].index(path)


def test_states_follow_the_schema(sequence: list[dict[str, Any]]) -> None:
    for record in sequence:
        assert check_physics_state(record["physics_state"]) == []
    assert check_physics_state({**sequence[0]["physics_state"], "surprise": 1}) == ["unknown surprise"]


def test_each_episode_settles_then_steps_at_the_capture_rate(sequence: list[dict[str, Any]]) -> None:
    states = [r["physics_state"] for r in sequence]
    for episode in (states[:3], states[3:]):
        first = episode[0]
        assert first["settle_status"] == "settled" and first["settle_time_s"] > 0.2  # the crate fell 0.1 m
        assert first["step_index"][0] == 0  # frame 0 carries the initial state and every settle step
        for k, state in enumerate(episode):
            assert state["frame_in_episode"] == k
            assert state["capture_time_s"] == pytest.approx(0.1 * k)
            assert state["time_s"] == pytest.approx(first["settle_time_s"] + 0.1 * k)
            if k:
                assert state["settle_status"] == "not_requested"
                # steps carry on from the previous capture, at the logging stride, to this capture
                previous = episode[k - 1]["step_index"][-1]
                assert state["step_index"][0] == (previous // 5 + 1) * 5
                assert state["step_index"][-1] == previous + 50
            # the captured state is the log's last row
            np.testing.assert_array_equal(step_rows(state, "step_position_m")[-1], state["position_m"])


def test_kinematic_pusher_moves_at_its_velocity_after_settling_and_shoves_the_crate(
    sequence: list[dict[str, Any]],
) -> None:
    states = [r["physics_state"] for r in sequence[:3]]
    pusher = [s["position_m"][_body(s, "/World/pusher")] for s in states]
    for k, position in enumerate(pusher):  # held while settling, then 0.5 m/s
        np.testing.assert_allclose(position, [-0.15 + 0.05 * k, 0.1, 0.8], atol=1e-9)
    crate = [s["position_m"][_body(s, "/World/crate")] for s in states]
    assert crate[1][0] == pytest.approx(crate[0][0], abs=1e-4)  # not reached yet
    assert crate[2][0] > crate[1][0] + 0.02  # shoved along +x
    kinds = dict(zip(states[0]["body_paths"], states[0]["body_kind"]))
    assert kinds["/World/pusher"] == "kinematic" and kinds["/World/crate"] == "dynamic"


def test_labels_show_the_simulated_poses(sequence: list[dict[str, Any]]) -> None:
    for record in sequence:
        state = record["physics_state"]
        boxes = record["annotators"]["bounding_box_3d"]["top"]
        paths = boxes["primPaths"]
        for name in ("/World/crate", "/World/pusher"):
            transform = boxes["data"]["transform"][paths.index(name)]
            np.testing.assert_allclose(transform[3, :3], state["position_m"][_body(state, name)], atol=2e-6)


def test_a_frame_captured_alone_replays_its_episode_bit_identically(sequence: list[dict[str, Any]]) -> None:
    alone = capture_frame(parse(SEQUENCE), 0, 5)
    expected = sequence[5]
    for key, value in expected["physics_state"].items():
        np.testing.assert_array_equal(np.asarray(alone["physics_state"][key]), np.asarray(value), err_msg=key)
    np.testing.assert_array_equal(
        alone["annotators"]["bounding_box_3d"]["top"]["data"], expected["annotators"]["bounding_box_3d"]["top"]["data"]
    )


def test_every_episode_starts_from_the_authored_scene() -> None:
    """Frame 3 starts episode 1 from the authored scene, not from where episode 0 ended."""
    backend, states = _run(SEQUENCE, range(4))
    fresh = _run(SEQUENCE, range(3, 4))[1][0]
    for key in ("position_m", "step_position_m", "contact_normal_force_n"):
        np.testing.assert_array_equal(states[3]["physics_state"][key], fresh["physics_state"][key])


# ---------------------------------------------------------------------------- drop test


def test_thirty_mixed_bodies_dropped_on_a_table_settle_on_it_or_on_the_ground() -> None:
    from scenesmith.runtime.embedded.scene import FrameGeometry

    backend, records = _run(DROP30, range(3))
    table_top = 0.75
    for record in records:
        state = record["physics_state"]
        assert len(state["body_paths"]) == 30
        assert state["settle_status"] == "settled", state["settle_time_s"]
        assert not state["left_scene"].any()
        # penetration at the captured instant
        final = state["contact_step_index"] == state["step_index"][-1]
        assert state["contact_penetration_m"][final].max() <= 0.005
        assert set(state["support_paths"]) == {"/World/table"}
    # the last frame's poses are on the stage: every body rests on the table top or on the ground
    frame = FrameGeometry(backend.index)
    gprims = {g.path: g.index for g in backend.index.gprims}
    state = records[-1]["physics_state"]
    for path, fell in zip(state["body_paths"], state["fell_off_support"]):
        g = gprims[path]
        faces = frame.faces[frame.face_offset[g] : frame.face_offset[g + 1]]
        bottom = frame.vertices[faces].reshape(-1, 3)[:, 2].min()  # tessellated: on the surface
        if fell:
            assert bottom == pytest.approx(0.0, abs=0.005), path
        else:
            assert bottom >= table_top - 0.005, path


def test_fallen_bodies_can_be_left_out_of_the_labels(tmp_path: Path) -> None:
    """A ball scattered on the table and launched at 1.5 m/s leaves it; with
    ``drop_fallen_from_labels`` it is in neither the image nor any label."""
    text = (SCENARIOS / "physics_falloff.yaml").read_text()
    for drop in (False, True):
        path = tmp_path / f"falloff_{drop}.yaml"
        path.write_text(text.replace("drop_fallen_from_labels: false", f"drop_fallen_from_labels: {str(drop).lower()}"))
        payload = capture_frame(parse(path), 0, 0)
        state = payload["physics_state"]
        ball = _body(state, "/World/ball")
        assert state["fell_off_support"][ball] and state["support_paths"][ball] == "/World/table"
        assert state["in_labels"][ball] == (not drop)
        labels = payload["annotators"]["instance_segmentation"]["top"]["idToLabels"]
        assert ("/World/ball" in json.dumps(labels)) == (not drop)


# ---------------------------------------------------------------------------- the log on disk


def test_hdf5_physics_group_round_trips_and_reruns_are_bit_identical(
    sequence: list[dict[str, Any]], tmp_path: Path
) -> None:
    import h5py
    from scenesmith.writers.hdf5_reader import read_frames

    outs = []
    for run in ("a", "b"):  # separate processes
        out = tmp_path / run
        result = run_cli("generate", str(SEQUENCE), "-o", str(out), "--no-progress")
        assert result.returncode == 0, result.stderr
        outs.append(out)
    manifests = [json.loads((o / "manifest.json").read_text()) for o in outs]
    assert len(manifests[0]["frame_hashes"]) == 6
    assert manifests[0]["frame_hashes"] == manifests[1]["frame_hashes"]  # content hashes include physics
    assert manifests[0]["files"] == manifests[1]["files"]  # every file, byte for byte (sha256)
    shards = sorted((outs[0] / "hdf5").glob("*.h5"))
    assert len(shards) == 2
    for shard in shards:
        assert shard.read_bytes() == (outs[1] / "hdf5" / shard.name).read_bytes()
    frames = [f for shard in shards for f in read_frames(shard)]
    assert len(frames) == 6
    for frame, expected in zip(frames, sequence):
        got, want = frame["physics_state"], expected["physics_state"]
        assert sorted(got) == sorted(want)
        for key, value in want.items():
            if isinstance(value, np.ndarray):
                assert got[key].dtype == value.dtype, key
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)
    with h5py.File(shards[0]) as f:
        assert f["physics/position_m"].attrs["units"] == "m"
        assert f["physics/contact_normal_force_n"].attrs["units"] == "N"
        assert f["physics/time_s"].attrs["units"] == "s"
