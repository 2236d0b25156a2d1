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
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import peak_rss_growth, run_cli
from ray.cluster_utils import Cluster
from run_diff import files_of

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
    """Test only: the first process to draw an armed frame waits there until it is killed (or
    every process fails there, when armed to fail)."""

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
        if armed.get("fail"):
            raise ZeroDivisionError("planted by the test")
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

    def arm(self, frames: list[int], node: str | None = None, fail: bool = False) -> None:
        for name in ("claim", "held"):
            (self.hold / name).unlink(missing_ok=True)
        armed = {"frames": frames, "fail": fail} | ({} if node is None else {"node": node})
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


PROGRESS = """
import json
import sys
from pathlib import Path

from scenesmith.runtime.run.pipeline import GenerateOptions, finish_run, prepare_run
from scenesmith.runtime.run.ray_executor import RayOptions, run_ray
from scenesmith.scenarios.loader import parse

scene, out, address = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
opts = GenerateOptions(out=out, stop=8, shard_size=2, workers=2, progress=False, executor="ray")
setup = prepare_run(parse(scene), opts)
seen = []
report = lambda status: seen.append([status.frames, status.alive, status.retries])
setup.published.update(run_ray(setup.jobs, 2, report, out, RayOptions(address=address)))
finish_run(setup)
print(json.dumps(seen))
"""


def test_the_progress_the_workers_feed_reaches_every_frame(lab: Lab, reference: dict[str, bytes]) -> None:
    """Workers report frames at most every 0.25 s and after a shard's last frame: the driver's
    last status counts every frame, never goes back without a retry, and sees live workers."""
    out = lab.root / "progress"
    result = subprocess.run(
        [sys.executable, "-c", PROGRESS, str(lab.scene), str(out), lab.cluster.address],
        env=lab.environ(None),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    frames = [s[0] for s in seen]
    assert frames[-1] == 8 and frames == sorted(frames), seen
    assert 1 <= max(s[1] for s in seen) <= 2 and {s[2] for s in seen} == {0}, seen
    assert_same(out, reference)


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


def test_an_internal_failure_on_a_worker_names_the_shard_the_worker_and_the_frame(lab: Lab) -> None:
    out = lab.root / "failed"
    lab.arm([5], fail=True)
    try:
        result = subprocess.run(
            lab.cli(out, "--workers", "2"), env=lab.environ(None), capture_output=True, text=True, timeout=300
        )
    finally:
        lab.disarm()
    assert result.returncode == 1, result.stderr
    assert re.search(
        r"internal failure: ShardFailedError: shard 2 failed on worker [01] \(pid \d+ on \S+\): "
        r"ZeroDivisionError: planted by the test \(at frame 5\)",
        result.stderr,
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert published(out) <= {0, 1, 3} and not (out / "manifest.json").exists()


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


# --------------------------------------------------------------------------- the driver's merge

ANNOTATIONS = 10**6
PER_IMAGE = 10
SHARDS = 1000
IMAGES_PER_SHARD = ANNOTATIONS // PER_IMAGE // SHARDS
MERGE_RSS_BOUND_MB = 16
"""Peak RSS growth allowed while one merge runs over 10^6 annotations. Measured (CPython 3.11,
the kernel's high-water mark reset just before the merge): COCO 0.3 MB, BOP 3.8 MB: one shard's
fragment (or one 1000-image BOP scene) is parsed at a time. Holding the same 10^6 (minimal)
annotations as parsed JSON measured 254 MB, and even their text is 42 MB, so a merge that stops
streaming fails the bound by far; 16 MB leaves room for allocator and interpreter noise."""

MERGE_SETUP = """
import scenesmith.scenarios.model  # plugins and writers load after the scenario model
from scenesmith.writers.base import RunInfo
from scenesmith.writers.registry import default_registry
"""

MERGE = """
out, name, shards = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
run = RunInfo("0", 1, "s" * 64, "r" * 64, 0, ("box",), ("cam",), splits=(("train", 0.5), ("val", 0.5)))
writer = default_registry().get(name)()
written = writer.on_final_frame(out, run, list(range(shards)))
result = " ".join(p.as_posix() for p in written)
"""


def _coco_fragments(out: Path) -> None:
    """``SHARDS`` fragments of the layout ``CocoWriter.close`` writes, written here by hand, with
    the fields the merge reads (a merge copies items whole, whatever they hold)."""
    folder = out / "fragments" / "coco"
    folder.mkdir(parents=True)
    for shard in range(SHARDS):
        ids = range(shard * IMAGES_PER_SHARD, (shard + 1) * IMAGES_PER_SHARD)
        images = ",".join(f'{{"id":{i}}}' for i in ids)
        anns = ",".join(
            f'{{"id":{i * PER_IMAGE + k + 1},"image_id":{i},"iscrowd":0}}' for i in ids for k in range(PER_IMAGE)
        )
        (folder / f"shard_{shard:06d}.json").write_text(f'{{"images":[{images}],"annotations":[{anns}]}}')


def _bop_fragments(out: Path) -> None:
    """The layout ``BopWriter.close`` writes: one entry per image, ``PER_IMAGE`` objects each."""
    folder = out / "fragments" / "bop"
    folder.mkdir(parents=True)
    gt = "[" + ",".join(['{"obj_id":1}'] * PER_IMAGE) + "]"
    info = "[" + ",".join(["{}"] * PER_IMAGE) + "]"
    for shard in range(SHARDS):
        ids = range(shard * IMAGES_PER_SHARD, (shard + 1) * IMAGES_PER_SHARD)
        entries = ",".join(
            f'{{"split":"train","scene":{f // 1000},"im":{f % 1000},"camera":{{}},"gt":{gt},"gt_info":{info}}}'
            for f in ids
        )
        body = f'{{"frames":[{ids.start},{ids.stop}],"cameras":{{"cam":{{}}}},"images":[{entries}]}}'
        (folder / f"shard_{shard:06d}.json").write_text(body)


@pytest.mark.parametrize("writer", ["coco", "bop"])
def test_the_drivers_merge_of_a_million_annotations_stays_under_a_fixed_memory_bound(
    writer: str, tmp_path: Path
) -> None:
    (_coco_fragments if writer == "coco" else _bop_fragments)(tmp_path)
    fragments = sum(p.stat().st_size for p in (tmp_path / "fragments").rglob("*.json"))
    grown_mb, names = peak_rss_growth(MERGE_SETUP, MERGE, str(tmp_path), writer, str(SHARDS))
    written = names.split()
    print(f"{writer}: peak RSS growth {grown_mb:.1f} MB over {fragments / 2**20:.0f} MB of fragments")
    assert grown_mb < MERGE_RSS_BOUND_MB < fragments / 2**20, (grown_mb, fragments)
    merged = [tmp_path / rel for rel in written]
    if writer == "coco":  # every annotation made it, counted in the text (not parsed: that takes a GB)
        assert sum(p.read_bytes().count(b'"iscrowd"') for p in merged) == ANNOTATIONS
    else:
        scenes = [p for p in merged if p.name == "scene_gt.json"]
        assert len(scenes) == ANNOTATIONS // PER_IMAGE // 1000
        assert sum(p.read_bytes().count(b'"obj_id"') for p in scenes) == ANNOTATIONS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--executor", "ray", "--ray-num-cpus-per-worker", "0"],
            "argument --ray-num-cpus-per-worker: expected a number",
        ),
        (
            ["--executor", "ray", "--ray-num-cpus-per-worker", "nan"],
            "argument --ray-num-cpus-per-worker: expected a number",
        ),
        (["--ray-address", "10.0.0.1:6379"], "--ray-address: only used by the Ray executor (expected --executor ray"),
        (["--ray-num-cpus-per-worker", "2"], "--ray-num-cpus-per-worker: only used by the Ray executor"),
        (["--executor", "ray", "--ray-address", "127.0.0.1:1"], "--ray-address: nothing answers there"),
        (["--executor", "ray", "--ray-address", "head-without-port"], "--ray-address: cannot join a Ray cluster"),
    ],
)
def test_bad_ray_options_are_exit_2_naming_the_option_and_write_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TILTED)
    result = run_cli("generate", str(scenario), "-o", str(tmp_path / "out"), "--no-progress", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_ray_is_imported_only_by_a_ray_run() -> None:
    """``--help`` stays fast and the embedded install runs without ray: nothing imports it
    before a run asks for the Ray executor."""
    code = (
        "import sys; from scenesmith.scripts.cli import build_parser; "
        "import scenesmith.runtime.run.pipeline, scenesmith.scripts.cmd_dataset; build_parser(); "
        "print('ray' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
