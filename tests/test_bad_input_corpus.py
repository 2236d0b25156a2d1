"""Every malformed-input category is rejected through the CLI with exit 2, an exact
``FILE:LINE:COL: key:`` prefix, and nothing written (issue 2's corpus)."""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CORPUS, run_cli

EXPECT = re.compile(r"^# expect: (\d+):(\d+): (\S+)\s*$")


def _expected(path: Path) -> str:
    """The ``LINE:COL: key`` a corpus file declares in its first line."""
    raw = path.read_bytes()
    if not raw.strip():
        return "1:1: (document)"
    first = raw.decode("utf-8").splitlines()[0]
    match = EXPECT.match(first)
    assert match, f"{path.name} lacks an '# expect:' header"
    return f"{match[1]}:{match[2]}: {match[3]}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """A copy of the corpus plus the cases that cannot be committed as plain files."""
    root = tmp_path_factory.mktemp("corpus")
    work = root / "bad"
    shutil.copytree(CORPUS, work)
    outside = root / "outside_mug.obj"
    shutil.copy(CORPUS / "assets" / "mug.obj", outside)
    os.symlink(outside, work / "assets" / "link_out.obj")
    cases = {p.name: (p, _expected(p)) for p in sorted(work.glob("*.yaml"))}
    # Not valid UTF-8: 0xe9 is Latin-1 'é' (line 4, column 12).
    bad = work / "non_utf8.yaml"
    bad.write_bytes(b"version: 1\nassets:\n  mug:\n    label: caf\xe9\n")
    cases[bad.name] = (bad, "4:15: (document)")
    # Over the 1 MiB size limit.
    big = work / "oversized_file.yaml"
    big.write_bytes(b"version: 1\n" + b"# padding\n" * 110_000)
    cases[big.name] = (big, "1:1: (document)")
    return cases


def test_corpus_covers_every_category(corpus: dict[str, tuple[Path, str]]) -> None:
    assert len(corpus) >= 30
    for needed in [
        "syntax_error",
        "duplicate_key",
        "unknown_key",
        "wrong_unit_suffix",
        "wrong_type_string_number",
        "nan_value",
        "inf_value",
        "inverted_uniform",
        "empty_choice",
        "negative_size",
        "negative_mass",
        "negative_intensity",
        "unknown_annotator",
        "unknown_light_type",
        "missing_asset_file",
        "asset_escapes_folder",
        "asset_symlink_escape",
        "oversized_resolution",
        "oversized_frames",
        "oversized_instances",
        "oversized_file",
        "yaml_tag_python",
        "yaml_tag_custom",
        "yaml_anchor_alias",
        "yaml_alias_bomb",
        "non_utf8",
        "empty",
    ]:
        assert f"{needed}.yaml" in corpus


def _run(case: tuple[Path, str]) -> tuple[Path, str, int, str, list[str], list[str]]:
    path, expected = case
    before = sorted(os.listdir(path.parent))
    result = run_cli("validate", path.name, cwd=path.parent)
    after = sorted(os.listdir(path.parent))
    return path, expected, result.returncode, result.stderr, before, after


def test_each_file_is_rejected_with_file_line_col_key(corpus: dict[str, tuple[Path, str]]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_run, corpus.values()))
    failures = []
    for path, expected, code, stderr, before, after in results:
        prefix = f"{path.name}:{expected}:"
        first = stderr.splitlines()[0] if stderr else ""
        if code != 2 or not first.startswith(prefix) or before != after:
            failures.append(
                f"{path.name}: exit {code}, want prefix {prefix!r}, got {first!r}, files changed: {before != after}"
            )
    assert not failures, "\n".join(failures)


def test_messages_say_expected_and_got(corpus: dict[str, tuple[Path, str]]) -> None:
    path, _ = corpus["negative_size.yaml"]
    _, _, code, stderr, _, _ = _run(corpus["negative_size.yaml"])
    assert code == 2
    assert "expected > 0" in stderr and "got -0.1" in stderr
    _, _, _, stderr, _, _ = _run(corpus["unknown_key.yaml"])
    assert "did you mean 'position_m'?" in stderr
    _, _, _, stderr, _, _ = _run(corpus["wrong_unit_suffix.yaml"])
    assert "did you mean 'focal_length_mm'?" in stderr
    _, _, _, stderr, _, _ = _run(corpus["oversized_resolution.yaml"])
    assert "at most 8192 px" in stderr
    _, _, _, stderr, _, _ = _run(corpus["oversized_file.yaml"])
    assert f"at most {1 << 20} bytes" in stderr
