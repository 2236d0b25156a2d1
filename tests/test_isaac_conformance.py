"""API conformance of the Isaac code (issue 9): every Kit name used is cited (Kit-free).

``scripts/kit_api_scan.py`` finds every ``omni.*``, ``carb.*``, ``isaacsim.*`` and Replicator
``rep.*`` name that ``extension/``, ``runtime/isaac/`` and ``scripts/isaac_generate.py`` use;
each must have an entry in ``extension/api_citations.toml`` citing repository, commit, path and
the quoted line of its definition (Replicator 1.12.27) or of a documented usage (Isaac Sim's
own code for compiled Kit modules). ``scripts/check_isaac_citations.py`` re-checks the Isaac
Sim quotes against a fetched snapshot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from conftest import REPO
from scenesmith.scripts.kit_api_scan import scan_file, scan_source

CITATIONS = REPO / "extension" / "api_citations.toml"
SCANNED = sorted([*(REPO / "extension").rglob("*.py"), *(REPO / "runtime" / "isaac").rglob("*.py"),
                  REPO / "scripts" / "isaac_generate.py"])  # fmt: skip


@pytest.fixture(scope="module")
def citations() -> dict:
    return tomllib.loads(CITATIONS.read_text(encoding="utf-8"))


def _used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in SCANNED:
        for use in scan_file(path, REPO):
            used.setdefault(use.name, []).append(f"{use.file}:{use.line}")
    return used


def test_every_kit_name_used_is_cited_and_every_citation_is_used(citations: dict) -> None:
    cited = {entry["name"] for entry in citations["api"]}
    used = _used()
    uncited = {name: where for name, where in used.items() if name not in cited}
    assert not uncited, "cite these in extension/api_citations.toml:\n" + "\n".join(
        f"  {name}  ({', '.join(where)})" for name, where in sorted(uncited.items())
    )
    stale = cited - set(used)
    assert not stale, f"cited but no longer used: {sorted(stale)}"
    # the scan really sees the code: the central calls are among the names found
    for name in ("omni.replicator.core.orchestrator.step_async", "omni.replicator.core.create.render_product",
                 "omni.ext.IExt", "isaacsim.SimulationApp", "omni.physx.get_physx_simulation_interface"):  # fmt: skip
        assert name in used, name


def test_citations_are_complete_records(citations: dict) -> None:
    sources = citations["sources"]
    assert set(sources) >= {"replicator", "isaacsim51", "isaacsim601"}
    for source in sources.values():
        assert len(source["commit"]) == 40 and int(source["commit"], 16) >= 0
        assert source["repo"].count("/") == 1
    assert sources["replicator"]["repo"] == "Herong1212/isaac-sim-5.1.0"
    assert "omni.replicator.core-1.12.27" in sources["replicator"]["prefix"]
    for entry in [*citations["api"], *citations["member"]]:
        assert entry["source"] in sources, entry
        assert entry["kind"] in ("definition", "usage"), entry
        assert entry["path"] and entry["line"].strip(), entry
        if entry["name"].startswith("omni.replicator.core.") and entry in citations["api"]:
            # Replicator is Python: its names cite their definitions in Replicator's source
            assert entry["source"] == "replicator" and entry["kind"] == "definition", entry
            leaf = entry["name"].rsplit(".", 1)[1]
            assert leaf in entry["line"], entry


def test_an_invented_call_is_caught() -> None:
    source = (
        "def capture(rep):\n"
        "    rep.orchestrator.step_async(rt_subframes=4)\n"
        "    rep.create.magic_render(quality='best')\n"
        "def physics():\n"
        "    from omni.physx import get_physx_simulation_interface as sim\n"
        "    import omni.kit.app as app\n"
        "    sim().simulate(0.01, 0.0)\n"
        "    app.get_app().teleport()\n"
    )
    names = {u.name for u in scan_source(source, "invented.py")}
    assert "omni.replicator.core.create.magic_render" in names
    assert "omni.replicator.core.orchestrator.step_async" in names
    assert "omni.physx.get_physx_simulation_interface" in names and "omni.kit.app.get_app" in names
    cited = {e["name"] for e in tomllib.loads(CITATIONS.read_text(encoding="utf-8"))["api"]}
    assert names - cited == {"omni.replicator.core.create.magic_render"}


def test_the_citation_checker_reads_snapshots(tmp_path: Path) -> None:
    """scripts/check_isaac_citations.py against a tiny git snapshot: a quote it finds, one it does not."""
    import subprocess

    from scenesmith.scripts.check_isaac_citations import check

    repo = tmp_path / "snap"
    repo.mkdir()
    (repo / "a.py").write_text("import omni.ext\nclass Extension(omni.ext.IExt):\n    pass\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "a.py"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "-m", "x"], check=True)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    citations = {
        "sources": {
            "s": {"repo": "isaac-sim/IsaacSim", "commit": commit, "prefix": ""},
            "o": {"repo": "someone/else", "commit": "0" * 40, "prefix": ""},
        },  # fmt: skip
        "api": [
            {"name": "omni.ext.IExt", "source": "s", "path": "a.py", "line": "class Extension(omni.ext.IExt):"},
            {"name": "omni.ext.Nope", "source": "s", "path": "a.py", "line": "class Nope(omni.ext.Nope):"},
            {"name": "other", "source": "o", "path": "b.py", "line": "x"},
        ],
    }
    verified, failed, unchecked = check(citations, {"isaac-sim/IsaacSim": repo / ".git"})
    assert [v.split(":")[0] for v in verified] == ["omni.ext.IExt"]
    assert [f.split(":")[0] for f in failed] == ["omni.ext.Nope"]
    assert [u.split(":")[0] for u in unchecked] == ["other"]
