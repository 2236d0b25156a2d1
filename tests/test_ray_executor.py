"""``generate --executor ray`` on a real two-node Ray cluster on 127.0.0.1 (issue 19).

One module-scoped ``ray.cluster_utils.Cluster`` (two nodes, one CPU and a small object store
each) serves every test; drivers run as subprocesses (``scenesmith generate``), as a user runs
them, so a test can kill one. "Mid-shard" is made deterministic by a test-only randomizer
plugin (``hold``): the first process to draw an armed frame claims it, says who it is (pid,
Ray node), and waits there until the test kills it or its node; every later draw of the frame
passes, so a retry runs through. Every run's files are compared byte for byte with one
``--workers 1`` reference run of the same scenario.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from ray.cluster_utils import Cluster

HOLD_ENV = "SCENESMITH_TEST_HOLD_DIR"
FRAMES = ("--frames", "8", "--shard-size", "2")
NODE_ARGS = {"num_cpus": 1, "object_store_memory": 80 * 2**20}  # Ray's minimum is 75 MiB

PLUGIN = '''
import json
import os
import sys
import time
from typing import Literal

from scenesmith.scenarios.randomizers.base import RandomizerKind


class HoldRandomizer(RandomizerKind):
    """Test only: the first process to draw an armed frame waits there until it is killed."""

    phase = 2
    target_sections = ("assets",)

    kind: Literal["hold"]
    """Randomizer kind."""

    def draw(self, frame, name):
        folder = os.environ.get("SCENESMITH_TEST_HOLD_DIR")
        if not folder or not os.path.exists(os.path.join(folder, "armed")):
            return
        with open(os.path.join(folder, "armed")) as handle:
            armed = json.load(handle)
        node = sys.modules["ray"].get_runtime_context().get_node_id() if "ray" in sys.modules else "local"
        if frame.params.frame_index not in armed["frames"] or armed.get("node", node) != node:
            return
        try:
            fd = os.open(os.path.join(folder, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # claimed before: a retry runs through
        os.close(fd)
        who = {"pid": os.getpid(), "node": node, "frame": frame.params.frame_index}
        with open(os.path.join(folder, "held.tmp"), "w") as handle:
            json.dump(who, handle)
        os.replace(os.path.join(folder, "held.tmp"), os.path.join(folder, "held"))
        while True:
            time.sleep(0.01)


RANDOMIZERS = (HoldRandomizer,)
'''

SCENE = """\
version: 1
name: ray_tiny
assets:
  floor: {plane: {width_m: 4.0, length_m: 4.0}}
  box: {cube: {size_m: 0.3}, semantics: {class: box}}
  ball: {sphere: {radius_m: 0.1}, semantics: {class: ball}}
cameras:
  cam: {resolution: [16, 12], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}
randomizers:
  spread:
    kind: pose
    targets: [box, ball]
    position_m: {uniform: {lower: [-0.4, -0.4, 0.0], upper: [0.4, 0.4, 0.3]}}
  wait_here: {kind: hold, targets: [box]}
output:
  splits: {train: 0.5, val: 0.5}
  writers: {coco: {amodal: true}, bop: true, yolo: true, kitti: true, voc: true, webdataset: true}
"""

# a table tilted every frame under a scatter: refused when a frame is drawn (on a worker)
TILTED = """\
version: 1
name: ray_tilted
assets:
  table: {cube: {size_m: 0.5}, position_m: [0.0, 0.0, 0.25], semantics: {class: table}}
  box: {cube: {size_m: 0.1}, semantics: {class: box}}
cameras:
  cam: {resolution: [16, 12], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}
randomizers:
  tilt:
    kind: pose
    targets: [table]
    rotation: {euler_deg: {uniform: {lower: [5.0, 0.0, 0.0], upper: [10.0, 0.0, 0.0]}}}
  on_table: {kind: scatter, targets: [box], surface: table}
"""


class Lab:
    """The cluster, the scenario and the hold folder the tests share."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hold = root / "hold"
        self.hold.mkdir()
        (root / "plugins").mkdir()
        (root / "plugins" / "hold_plugin.py").write_text(PLUGIN)
        self.scene = root / "tiny.yaml"
        self.scene.write_text(SCENE)
        self.env = {"PYTHONPATH": str(root / "plugins"), "SCENESMITH_PLUGINS": "hold_plugin"}
        # the nodes' workers see the hold folder (their raylet's environment), the drivers do not
        node_env = {"env_vars": {HOLD_ENV: str(self.hold)}}
        self.cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, **node_env})
        self.second = self.cluster.add_node(**NODE_ARGS, **node_env)
        self.cluster.wait_for_nodes()

    def arm(self, frames: list[int], node: str | None = None) -> None:
        for name in ("claim", "held"):
            (self.hold / name).unlink(missing_ok=True)
        armed = {"frames": frames} | ({} if node is None else {"node": node})
        (self.hold / "armed").write_text(json.dumps(armed))

    def disarm(self) -> None:
        (self.hold / "armed").unlink(missing_ok=True)

    def held(self, proc: subprocess.Popen | None = None) -> dict:
        """Who holds the armed frame, once someone does."""
        path = self.hold / "held"
        deadline = time.monotonic() + 120
        while not path.exists():
            assert time.monotonic() < deadline, "nobody reached the armed frame"
            assert proc is None or proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        return json.loads(path.read_text())

    def cli(self, out: Path, *args: str, ray_run: bool = True, env: dict | None = None) -> list[str]:
        command = [sys.executable, "-m", "scenesmith.scripts.cli", "generate", str(self.scene), "-o", str(out)]
        command += ["--no-progress", *FRAMES, *args]
        if ray_run:
            command += ["--executor", "ray", "--ray-address", self.cluster.address]
        return command

    def run(self, out: Path, *args: str, ray_run: bool = True, env: dict | None = None) -> str:
        result = subprocess.run(
            self.cli(out, *args, ray_run=ray_run),
            env=self.environ(env),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stderr

    def start(self, out: Path, *args: str, ray_run: bool = True, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            self.cli(out, *args, ray_run=ray_run),
            env=self.environ(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def environ(self, extra: dict | None) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", HOLD_ENV)}
        return env | self.env | (extra or {})


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("ray"))
    try:
        yield lab
    finally:
        lab.cluster.shutdown()


@pytest.fixture(scope="module")
def reference(lab: Lab) -> dict[str, bytes]:
    out = lab.root / "reference"
    lab.run(out, "--workers", "1", ray_run=False)
    return files_of(out)


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def published(out: Path) -> set[int]:
    return {int(p.stem) for p in (out / "shards").glob("*.json")}


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def assert_same(out: Path, reference: dict[str, bytes]) -> None:
    files = files_of(out)
    assert files.keys() == reference.keys()
    assert [k for k in files if files[k] != reference[k]] == []
    writers = {k.split("/", 1)[0] for k in files}
    assert {"coco", "bop", "yolo", "kitti", "voc", "webdataset", "hdf5", "manifest.json"} <= writers


def test_ray_with_two_workers_writes_the_bytes_of_one_local_worker(lab: Lab, reference: dict[str, bytes]) -> None:
    out = lab.root / "two"
    lab.run(out, "--workers", "2")
    assert_same(out, reference)  # run.json and manifest.json included: no executor, no worker count


def test_a_worker_killed_mid_shard_is_retried_on_its_restarted_actor(lab: Lab, reference: dict[str, bytes]) -> None:
    out = lab.root / "worker_killed"
    lab.arm([1, 3, 5, 7])  # the second frame of every shard
    try:
        proc = lab.start(out, "--workers", "2")
        held = lab.held(proc)
        os.kill(held["pid"], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
    finally:
        lab.disarm()
    assert proc.returncode == 0, stderr
    assert held["frame"] % 2 == 1 and held["node"] != "local"
    assert_same(out, reference)


def test_a_driver_killed_on_ray_is_finished_by_the_local_executor(lab: Lab, reference: dict[str, bytes]) -> None:
    out = lab.root / "ray_then_local"
    lab.arm([5])  # shard 2 stops mid-way; shards 0, 1 and 3 publish
    try:
        proc = lab.start(out, "--workers", "2")
        lab.held(proc)
        wait_for(lambda: published(out) == {0, 1, 3}, "the other shards publish")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        lab.disarm()
    assert not (out / "manifest.json").exists()
    lab.run(out, "--resume", ray_run=False)
    assert_same(out, reference)


def test_a_killed_local_driver_is_finished_on_ray(lab: Lab, reference: dict[str, bytes]) -> None:
    out = lab.root / "local_then_ray"
    lab.arm([5])
    try:
        proc = lab.start(out, "--workers", "1", ray_run=False, env={HOLD_ENV: str(lab.hold)})
        lab.held(proc)
        wait_for(lambda: published(out) == {0, 1}, "the shards before the held one publish")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        lab.disarm()
    assert not (out / "manifest.json").exists()
    lab.run(out, "--resume", "--workers", "2")
    assert_same(out, reference)


def test_bad_input_drawn_on_a_worker_is_exit_2_with_the_scenario_line(lab: Lab) -> None:
    scenario = lab.root / "tilted.yaml"
    scenario.write_text(TILTED)
    result = run_cli(
        "generate", str(scenario), "-o", str(lab.root / "tilted"), "--no-progress", "--frames", "4",
        "--executor", "ray", "--ray-address", lab.cluster.address, "--workers", "2",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = next(n for n, text in enumerate(TILTED.splitlines(), 1) if "on_table" in text)
    assert f"tilted.yaml:{line}:" in result.stderr and "randomizers.on_table.surface" in result.stderr
    assert "is tilted" in result.stderr
    assert "Traceback" not in result.stderr and "RayTaskError" not in result.stderr


def test_a_node_removed_mid_shard_moves_the_shard_to_the_surviving_node(lab: Lab, reference: dict[str, bytes]) -> None:
    out = lab.root / "node_removed"
    lab.arm([1, 3, 5, 7], node=lab.second.node_id)
    try:
        # half a CPU each, spread one per node: the surviving node has room for the restart
        proc = lab.start(out, "--workers", "2", "--ray-num-cpus-per-worker", "0.5")
        held = lab.held(proc)
        assert held["node"] == lab.second.node_id
        lab.cluster.remove_node(lab.second)
        _, stderr = proc.communicate(timeout=300)
    finally:
        lab.disarm()
    assert proc.returncode == 0, stderr
    assert_same(out, reference)


def test_bad_input_crosses_a_process_boundary_with_its_issues() -> None:
    """Workers (pool processes, Ray actors) send a sample-time ``BadInputError`` back pickled;
    Exception's default pickling rebuilt it from its message and failed in the parent."""
    import pickle

    from scenesmith.sensors.errors import BadInputError, Issue

    issues = [Issue("s.yaml", 3, 5, "randomizers.a", "b"), Issue("s.yaml", 1, 2, "assets.c", "d", "e", "f")]
    again = pickle.loads(pickle.dumps(BadInputError(issues)))
    assert type(again) is BadInputError and again.issues == sorted(issues, key=lambda i: i.line)
    assert str(again) == "s.yaml:1:2: assets.c: d (expected e, got f)\ns.yaml:3:5: randomizers.a: b"
