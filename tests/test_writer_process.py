"""The writer process: the same files as writing in-process, errors and deaths reported,
no orphan left behind when the capturing process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from scenesmith import SCHEMA_VERSION, __version__
from scenesmith.runtime.run.shard_writer import ShardWriter
from scenesmith.runtime.run.shards import ShardJob, ShardPlan
from scenesmith.runtime.run.writer_process import WriterProcess, WriterProcessError
from scenesmith.sensors.outputs import BBOX2D_DTYPE, annotator_payload, empty_payload
from scenesmith.writers.base import RunInfo

INFO = RunInfo(__version__, SCHEMA_VERSION, "s" * 64, "r" * 64, 0, ("box",), ("cam",))


def _job(out: Path, configs: dict | None = None, frames: int = 3) -> ShardJob:
    return ShardJob(None, 0, ShardPlan(0, 0, frames), out, "embedded", configs or {"hdf5": {}}, INFO)  # type: ignore[arg-type]


def _payload(frame: int) -> dict:
    rng = np.random.default_rng(frame)
    payload = empty_payload(frame, (frame, 30))
    depth = rng.random((48, 64)).astype(np.float32)
    depth[:5] = np.inf
    annotator_payload(payload, "distance_to_camera", "cam", {"data": depth})
    normals = np.zeros((48, 64, 4), dtype=np.float32)
    normals[..., 2] = 1.0
    annotator_payload(payload, "normals", "cam", {"data": normals[:, ::1]})
    boxes = np.zeros(frame + 1, dtype=BBOX2D_DTYPE)
    boxes["x_max"] = np.arange(frame + 1)
    annotator_payload(
        payload,
        "bounding_box_2d_tight",
        "cam",
        {
            "data": boxes,
            "idToLabels": {0: {"class": "box"}},
            "bboxIds": np.arange(frame + 1, dtype=np.uint32),
            "primPaths": [f"/World/box_{k}" for k in range(frame + 1)],
        },
    )
    big = rng.random((300, 300)).astype(np.float64)[:, ::2]  # not contiguous: pickled in band
    annotator_payload(payload, "pointcloud", "cam", {"data": big.reshape(-1, 3)[:1000].astype(np.float32)})
    payload["annotators"]["camera"]["cam"] = "/World/cam"
    payload["annotators"]["resolution"]["cam"] = [64, 48]
    return payload


def test_writer_process_writes_the_same_shard_as_this_process(tmp_path: Path) -> None:
    process = WriterProcess()
    try:
        for rep in range(2):  # a second shard in the same child, after its slots were reused
            process.open(_job(tmp_path / f"child{rep}"))
            for frame in range(3):
                process.write(frame, _payload(frame), None)
            child_record = process.close()
    finally:
        process.shutdown()
    here = ShardWriter(_job(tmp_path / "here"))
    for frame in range(3):
        here.write(frame, _payload(frame), None)
    record = here.close()
    assert child_record["frame_hashes"] == record["frame_hashes"]
    assert [e["sha256"] for e in child_record["files"].values()] == [e["sha256"] for e in record["files"].values()]
    for rel in record["files"]:
        assert (tmp_path / "child1" / rel).read_bytes() == (tmp_path / "here" / rel).read_bytes()


def test_a_writer_error_in_the_child_comes_back_with_its_traceback(tmp_path: Path) -> None:
    process = WriterProcess()
    try:
        process.open(_job(tmp_path, {"hdf5": {"compression": "no-such-codec"}}))
        with pytest.raises(WriterProcessError, match="KeyError: 'no-such-codec'"):
            for frame in range(3):  # the error arrives with whichever call reads the reply
                process.write(frame, _payload(frame), None)
            process.close()
    finally:
        process.abort()


def test_the_writer_process_dies_with_the_capturing_process(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from scenesmith.runtime.run.writer_process import WriterProcess
        process = WriterProcess()
        print(process._proc.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # alive while its parent is
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        if _is_zombie(child):
            return
        time.sleep(0.05)
    pytest.fail(f"writer process {child} outlived its killed parent")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def test_writer_process_yields_the_cpu_to_capture() -> None:
    """Capture is the critical path: the child runs at WRITER_NICE above its parent (capped at
    19), so waking capture threads preempt it."""
    from scenesmith.runtime.run.writer_process import WRITER_NICE

    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + WRITER_NICE)
    process = WriterProcess()
    try:
        deadline = time.monotonic() + 30
        while os.getpriority(os.PRIO_PROCESS, process.pid) != expected and time.monotonic() < deadline:
            time.sleep(0.05)  # the child sets its niceness as it starts
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == expected
    finally:
        process.shutdown()
