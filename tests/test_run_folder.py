"""Output folders: ``--overwrite`` and ``--resume`` delete only what a run owns, one run at a time
(issue 14, items 1 and 3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.run.run_folder import FolderLock, check_overwrite_allowed, is_owned, sweep
from scenesmith.sensors.errors import BadInputError

SMALL = REPO / "tests" / "scenarios" / "small_tabletop.yaml"
PARITY = EXAMPLES / "pose_writer_parity.yaml"

USER_FILES = {
    "NOTES.md": b"# my notes\n",
    "analysis/plot.py": b"print('plot')\n",
    "coco/my_labels_fixed.json": b'{"fixed": true}\n',
    "hdf5/README.txt": b"what these shards are\n",
    "pose/front/notes.json": b"{}\n",
    # names next to ours: a run's files are only the exact names its writers make
    "coco/annotations/instances_val_fixed.json": b"{}\n",
    "coco/images/train/front/0001_edited.png": b"png",
    "pose/front/0_notes.json": b"{}\n",
    "hdf5/shard_0_backup.h5": b"h5",
    "shards/0_old.json": b"{}\n",
    "fragments/coco/shard_1_mine.json": b"{}\n",
}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (symlinks as their target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def plant(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def project(tmp_path: Path) -> Path:
    """A user's project folder: the scenario, its assets and unrelated files."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLES, root / "scenarios")
    plant(root, {"README.md": b"my project\n", "data/keep.bin": os.urandom(64)})
    return root


def generate(scenario: Path, out: str | Path, *args: str, cwd: Path | None = None, env: dict | None = None):
    return run_cli("generate", str(scenario), "-o", str(out), "--frames", "1", "--no-progress", *args, cwd=cwd, env=env)


# --------------------------------------------------------------------------- --overwrite


@pytest.mark.parametrize("where", ["cwd", "scenario_folder", "parent_of_scenario", "asset_root", "home", "not_a_run"])
def test_overwrite_refuses_every_folder_that_is_not_a_run_and_touches_nothing(tmp_path: Path, where: str) -> None:
    root = project(tmp_path)
    scenario = root / "scenarios" / "pose_writer_parity.yaml"
    other = tmp_path / "assets_elsewhere"
    plant(other, {"wood.png": b"not really a png", "sub/x.txt": b"x"})
    env = None
    args: list[str] = []
    cwd = root
    if where == "cwd":  # even a real run is refused when it is where the user stands
        cwd = tmp_path / "a_run"
        assert generate(scenario, cwd).returncode == 0
        plant(cwd, USER_FILES)
        out: str | Path = "."
    elif where == "scenario_folder":
        out = root / "scenarios"
    elif where == "parent_of_scenario":
        out = root
    elif where == "asset_root":
        out, args = other, ["--asset-root", str(other)]
    elif where == "home":  # a real run, but it is $HOME
        out = tmp_path / "home"
        assert generate(scenario, out).returncode == 0
        plant(out, USER_FILES)
        env = {"HOME": str(out)}
    else:
        out = tmp_path / "someone_elses"
        plant(out, {"results.csv": b"a,b\n1,2\n", "run.txt": b"not ours"})
    before = {p: tree(p) for p in (root, other, tmp_path / "someone_elses", tmp_path / "a_run", tmp_path / "home")}
    result = generate(scenario, out, "--overwrite", *args, cwd=cwd, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("--overwrite")
    assert "refusing" in result.stderr or "not a scenesmith run" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p: tree(p) for p in before}
    assert after == before


def test_overwrite_refuses_the_filesystem_root() -> None:
    with pytest.raises(BadInputError, match="filesystem root"):
        check_overwrite_allowed(Path("/"), [])


def test_overwrite_of_a_run_removes_only_the_run_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert generate(PARITY, out).returncode == 0
    plant(out, USER_FILES)
    (out / "hdf5" / ".shard_000000.h5.999.tmp").write_bytes(b"left by a crash")
    result = generate(PARITY, out, "--overwrite", "--seed", "3")
    assert result.returncode == 0, result.stderr
    files = tree(out)
    for rel, data in USER_FILES.items():
        assert files[rel] == data
    assert '"seed": 3' in (out / "run.json").read_text()
    assert not any(rel.endswith(".tmp") for rel in files)
    assert (out / "manifest.json").is_file()


# --------------------------------------------------------------------------- --resume


def test_resume_of_a_finished_run_keeps_the_users_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert generate(PARITY, out).returncode == 0
    plant(out, USER_FILES)
    result = generate(PARITY, out, "--resume")
    assert result.returncode == 0, result.stderr
    files = tree(out)
    for rel, data in USER_FILES.items():
        assert files[rel] == data


@pytest.mark.parametrize("run_json", ["foreign", "malformed", "other_seed"])
def test_a_refused_resume_leaves_the_folder_as_it_was(tmp_path: Path, run_json: str) -> None:
    out = tmp_path / "folder"
    if run_json == "other_seed":  # a run of ours, its lock file gone (copied without dotfiles)
        assert generate(PARITY, out, "--seed", "7").returncode == 0
        (out / ".scenesmith.lock").unlink()
    else:
        plant(out, {"run.json": b'{"mine": true}\n' if run_json == "foreign" else b"{", **USER_FILES})
    before = tree(out)
    result = generate(PARITY, out, "--resume")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("--resume: ")
    assert tree(out) == before


@pytest.mark.parametrize("flag", ["--overwrite", "--resume"])
def test_a_run_never_replaces_an_input_of_its_own_scenario(tmp_path: Path, flag: str) -> None:
    # a texture read from the earlier run's own COCO images: --overwrite would delete it
    out = tmp_path / "out"
    scene = tmp_path / "s.yaml"
    scene.write_text(
        "version: 1\n"
        "assets:\n  box: {cube: {size_m: 0.3}, semantics: {class: box}}\n"
        "cameras:\n  cam: {resolution: [32, 24], position_m: [1.0, -1.0, 1.0], look_at_m: [0.0, 0.0, 0.0]}\n"
    )
    assert generate(scene, out).returncode == 0
    image = "out/coco/images/train/cam/000000.png"
    scene.write_text(
        scene.read_text().replace("semantics: {class: box}}", "semantics: {class: box}, material: skin}")
        + f"textures:\n  shot: {{file: {image}}}\nmaterials:\n  skin: {{diffuse_texture: shot}}\n"
    )
    before = tree(out)
    result = generate(scene, out, flag)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{flag}: the output folder holds an input of the scenario")
    assert tree(out) == before


def test_sweep_deletes_unfinished_shard_files_and_temporaries_of_our_names_only(tmp_path: Path) -> None:
    ours = {
        "hdf5/shard_000003.h5": b"unfinished",
        "hdf5/.shard_000004.h5.1234.tmp": b"half",
        "pose/front/000012.json": b"{}",
        "coco/images/train/front/000012.png": b"png",
        "fragments/coco/shard_000003.json": b"{}",
        "lidar/roof/.000012.pcd.77.tmp.pcd": b"pcd",
        "shards/.000003.json.55.tmp": b"{",
    }
    kept_run = {"run.json": b"{}", "stage.usda": b"#usda 1.0", "stage_textures/wood.png": b"png"}
    plant(tmp_path, {**ours, **kept_run, **USER_FILES, ".NOTES.md.12.tmp": b"an editor's swap file"})
    for folder in ("analysis/empty", "pose/mine", "lidar/roof_old"):  # empty folders of the user's
        (tmp_path / folder).mkdir(parents=True)
    removed = sweep(tmp_path, {})
    assert sorted(r.as_posix() for r in removed) == sorted(ours)
    left = tree(tmp_path)
    assert set(left) == {*kept_run, *USER_FILES, ".NOTES.md.12.tmp"}
    # folders emptied by the sweep go, the user's own empty folders stay
    assert not (tmp_path / "lidar" / "roof").exists()
    assert all((tmp_path / folder).is_dir() for folder in ("analysis/empty", "pose/mine", "lidar/roof_old"))


def test_ownership_is_by_name_and_never_outside_the_folder() -> None:
    assert is_owned(PurePosixPath("hdf5/shard_000001.h5"))
    assert is_owned(PurePosixPath("shards/000001.json"))
    for rel in ["NOTES.md", "hdf5/shard_notes.txt", "coco/my_labels_fixed.json", "sub/run.json", "../run.json"]:
        assert not is_owned(PurePosixPath(rel)), rel


# --------------------------------------------------------------------------- one run at a time


def test_a_second_run_on_a_locked_folder_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert generate(PARITY, out).returncode == 0
    before = tree(out)
    lock = FolderLock(out).acquire()  # this test process plays the first run
    try:
        for extra in (["--resume"], ["--overwrite"]):
            result = generate(PARITY, out, *extra)
            assert result.returncode == 2, result.stderr
            assert "another scenesmith run is using this folder" in result.stderr
            assert f"pid {os.getpid()}" in result.stderr
    finally:
        lock.release()
    assert tree(out) == before
    assert generate(PARITY, out, "--resume").returncode == 0  # released: the folder is free again


@pytest.mark.slow
def test_resume_while_the_first_run_is_mid_shard_is_refused_and_the_first_run_finishes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "scenesmith.scripts.cli", "generate", str(SMALL), "--asset-root", str(EXAMPLES)]
        + ["-o", str(out), "--no-progress", "--frames", "8", "--shard-size", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "stage.usda").is_file():
        time.sleep(0.02)
    second = run_cli(
        "generate",
        str(SMALL),
        "--asset-root",
        str(EXAMPLES),
        "-o",
        str(out),
        "--no-progress",
        "--frames",
        "8",
        "--shard-size",
        "4",
        "--resume",
    )
    assert second.returncode == 2, second.stderr
    assert "another scenesmith run is using this folder" in second.stderr
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert run_cli("verify", str(out)).returncode == 0
