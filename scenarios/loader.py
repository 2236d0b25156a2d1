"""Parse a scenario file (or a Python mapping) into a validated :class:`ScenarioDocument`.

Parsing is pure (DESIGN §9 "Parse, then resolve"): YAML is read safely, the model validated,
cross-references and asset files checked — no pxr, no mesh readers. Any problem raises
:class:`~scenesmith.sensors.errors.BadInputError` listing every issue with its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sensors.errors import BadInputError, Issue
from .issues import validate_document
from .model import Scenario
from .references import CheckContext, check_scenario
from .yaml_source import SourceMap, load_yaml_bytes

__all__ = ["ScenarioDocument", "build", "parse", "parse_bytes", "shipped_profile_names"]


@dataclass(frozen=True)
class ScenarioDocument:
    """A validated scenario with where it came from and the real paths of its asset files."""

    scenario: Scenario
    file: str
    base_dir: Path
    asset_roots: tuple[Path, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)
    source_map: SourceMap | None = field(default=None, compare=False, repr=False)
    allow_large: bool = field(default=False, compare=False)
    """Skip the resource budgets of :mod:`.budget` (``--allow-large``); checked at resolve."""

    def asset_file(self, raw: str) -> Path:
        """Real path of an asset path as written in the scenario."""
        return self.files[raw]

    def error(
        self, loc: tuple[str | int, ...], message: str, *, expected: str | None = None, got: object = ...
    ) -> BadInputError:
        """A bad-input error found after parsing (at resolve or run time), with its position."""
        smap = self.source_map or SourceMap(self.file)
        return BadInputError([smap.issue(loc, message, expected=expected, got=got)])


def shipped_profile_names() -> frozenset[str] | None:
    """Names of the LiDAR profiles shipped in ``config/lidar_profiles`` (None if none ship)."""
    from .. import config_path

    folder = config_path("lidar_profiles")
    if not folder.is_dir():
        return None
    return frozenset(p.stem for p in folder.glob("*.json"))


def _check(
    scenario: Scenario, smap: SourceMap, base_dir: Path, asset_roots: tuple[Path, ...], allow_large: bool = False
) -> ScenarioDocument:
    ctx = CheckContext(base_dir=base_dir, asset_roots=asset_roots, shipped_profiles=shipped_profile_names())
    issues = check_scenario(scenario, smap, ctx)
    if issues:
        raise BadInputError(issues)
    return ScenarioDocument(scenario, smap.file, base_dir, asset_roots, dict(ctx.files), smap, allow_large)


def _validate(
    data: Any, smap: SourceMap, base_dir: Path, asset_roots: tuple[Path, ...], allow_large: bool = False
) -> ScenarioDocument:
    scenario = validate_document(Scenario, data, smap, "a scenario")
    return _check(scenario, smap, base_dir, asset_roots, allow_large)


def parse_bytes(
    raw: bytes, file: str, base_dir: Path, asset_roots: tuple[Path, ...] = (), allow_large: bool = False
) -> ScenarioDocument:
    data, smap = load_yaml_bytes(raw, file)
    return _validate(data, smap, base_dir, asset_roots, allow_large)


def parse(path: str | Path, asset_roots: tuple[str | Path, ...] = (), allow_large: bool = False) -> ScenarioDocument:
    """Read and validate the scenario file at ``path``; ``allow_large`` skips the resource
    budgets (:mod:`.budget`) that ``runtime.usd.resolve`` checks."""
    path = Path(path)
    display = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(
            [Issue(display, 1, 1, "", "scenario file not found", "an existing file", display)]
        ) from None
    except IsADirectoryError:
        raise BadInputError([Issue(display, 1, 1, "", "scenario path is a folder", "a file", display)]) from None
    except OSError as exc:
        raise BadInputError([Issue(display, 1, 1, "", f"cannot read scenario file: {exc.strerror}")]) from None
    roots = tuple(Path(r) for r in asset_roots)
    for root in roots:
        if not root.is_dir():
            raise BadInputError(
                [Issue.option("--asset-root", "asset root is not a folder", "an existing folder", str(root))]
            )
    return parse_bytes(raw, display, path.resolve().parent, roots, allow_large)


def build(
    data: dict[str, Any] | Scenario,
    base_dir: str | Path = ".",
    asset_roots: tuple[str | Path, ...] = (),
    allow_large: bool = False,
) -> ScenarioDocument:
    """Python API: validate a mapping, or check an already-built :class:`Scenario`, like a file.

    Relative asset paths resolve against ``base_dir`` (default: the working directory).
    """
    smap = SourceMap("<python>")
    base = Path(base_dir).resolve()
    roots = tuple(Path(r) for r in asset_roots)
    if isinstance(data, Scenario):
        return _check(data, smap, base, roots, allow_large)
    return _validate(data, smap, base, roots, allow_large)
