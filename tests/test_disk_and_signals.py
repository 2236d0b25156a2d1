"""A full disk, interrupts and kills lose nothing and leave nothing behind (issue 14, items 6 and 7).

The disk-full test runs generate on a real, small tmpfs inside a private mount namespace
(``unshare -rm``: root in a user namespace, which needs no privileges), then grows the tmpfs
("frees space") and resumes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_cli
from run_diff import assert_same_files

SMALL = REPO / "tests" / "scenarios" / "small_tabletop.yaml"
ARGS = ["--asset-root", str(EXAMPLES), "--no-progress", "--frames", "8", "--shard-size", "4"]
CLI = [sys.executable, "-m", "scenesmith.scripts.cli", "generate", str(SMALL)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    result = run_cli("generate", str(SMALL), "-o", str(out), *ARGS)
    assert result.returncode == 0, result.stderr
    return out


def _shm_of(out: Path) -> list[str]:
    from scenesmith.runtime.run.ipc_names import SHM_ROOT, run_key

    key = run_key(out)
    return sorted(p.name for p in SHM_ROOT.iterdir() if key in p.name)


@pytest.mark.slow
@pytest.mark.parametrize("writers", ["writer_process", "in_process"])
def test_disk_full_names_the_file_once_and_resume_after_freeing_space_is_identical(
    tmp_path: Path, reference: Path, writers: str
) -> None:
    mount = tmp_path / "disk"
    mount.mkdir()
    copy = tmp_path / "copy"
    extra = ["--in-process-writers"] if writers == "in_process" else []
    command = " ".join(map(_quote, [*CLI, "-o", str(mount / "out"), *ARGS, *extra]))
    script = f"""
set -u
mount -t tmpfs -o size=2500k tmpfs {_quote(mount)} || exit 99
{command} > {_quote(tmp_path / "out1")} 2> {_quote(tmp_path / "err1")}
echo $? > {_quote(tmp_path / "rc1")}
mount -o remount,size=200m {_quote(mount)}
{command} --resume > {_quote(tmp_path / "out2")} 2> {_quote(tmp_path / "err2")}
echo $? > {_quote(tmp_path / "rc2")}
cp -a {_quote(mount / "out")} {_quote(copy)}
"""
    done = subprocess.run(["unshare", "-rm", "bash", "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    stderr = (tmp_path / "err1").read_text()
    assert (tmp_path / "rc1").read_text().strip() == "5", stderr
    lines = stderr.splitlines()
    assert lines[0].startswith("cannot write ") and lines[0].endswith("No space left on device"), stderr
    written = lines[0].removeprefix("cannot write ").split(":")[0]
    assert Path(written).parent.parent == mount / "out" and not Path(written).name.startswith(".")
    assert "Traceback" not in stderr and "exit code" not in stderr and stderr.lower().count("no space left") == 1
    assert lines[1].startswith("resume with: ") and len(lines) == 2
    assert (tmp_path / "rc2").read_text().strip() == "0", (tmp_path / "err2").read_text()
    assert_same_files(copy, reference)
    assert run_cli("verify", str(copy)).returncode == 0


def _quote(value: object) -> str:
    import shlex

    return shlex.quote(str(value))


def _start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "-o", str(out), *ARGS, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_killed_process_group_leaves_shared_memory_that_resume_reclaims(
    tmp_path: Path, reference: Path, workers: str
) -> None:
    out = tmp_path / "killed"
    proc = _start(out, "--workers", workers)
    deadline = time.time() + 180
    while time.time() < deadline and not _shm_of(out):
        time.sleep(0.01)
    left = _shm_of(out)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert left, "the run's shared memory / semaphores are named after its output folder"
    assert _shm_of(out), "a kill -9 of the whole group leaves them (nobody is left to unlink them)"
    result = run_cli("generate", str(SMALL), "-o", str(out), *ARGS, "--workers", workers, "--resume")
    assert result.returncode == 0, result.stderr
    assert _shm_of(out) == []
    assert_same_files(out, reference)


@pytest.mark.slow
def test_sigint_right_after_the_run_finished_keeps_exit_0(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _start(out)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "wrote N frames ..." is printed (and flushed) once the run is complete
    assert line.startswith("wrote 8 frames"), line + proc.stderr.read()
    for _ in range(20):  # a user pressing Ctrl-C while the process winds down
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.02)
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert run_cli("verify", str(out)).returncode == 0


def test_an_interrupt_during_a_message_to_the_writer_process_waits_for_the_message(tmp_path: Path) -> None:
    """SIGINT is held back while a message goes down the pipe: the child receives it whole and
    the interrupt is raised right after; the writer then stops without another message."""
    from scenesmith.runtime.run.writer_process import WriterProcess

    # what this test relies on in the pytest process: a pytest started with SIGINT ignored (a
    # background job of a non-interactive shell) sees no KeyboardInterrupt, and says so here
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set()), "SIGINT blocked before the test"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.getsignal(signal.SIGINT)
    writer = WriterProcess("test")
    conn = writer._to_child
    real_send = conn._send
    sends = []

    def send_in_two_halves(buf: bytes, write: object = None) -> None:
        half = len(buf) // 2
        real_send(buf[:half])
        signal.raise_signal(signal.SIGINT)  # Ctrl-C between the two writes of one message
        real_send(buf[half:])
        sends.append(len(buf))

    conn._send = send_in_two_halves
    try:
        with pytest.raises(KeyboardInterrupt):
            writer._send(("exit",))
        assert sends, "the whole message was written before the interrupt was raised"
        assert writer._proc.wait(timeout=60) == 0, "the child read a whole 'exit' message and left"
        writer.shutdown()  # after an interrupted send it must not write to the pipe again
    finally:
        conn._send = real_send
        if writer._proc.poll() is None:
            writer._proc.kill()
    assert len(sends) == 1


def test_unstable_physics_writes_nothing_into_the_current_folder(tmp_path: Path) -> None:
    code = (
        "import mujoco\n"
        "from scenesmith.runtime.embedded.physics_model import route_mujoco_warnings\n"
        "route_mujoco_warnings(mujoco)\n"
        "m = mujoco.MjModel.from_xml_string(\"<mujoco><worldbody><body><freejoint/><geom size='.1'/>"
        '</body></worldbody></mujoco>")\n'
        "d = mujoco.MjData(m)\n"
        "d.qvel[:] = 1e30\n"
        "mujoco.mj_step(m, d)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "simulation is unstable" in result.stderr  # logged, not lost
    assert list(tmp_path.iterdir()) == []
