"""DESIGN §3: import directions between packages, no Kit on import, and the package layout."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PACKAGES = ("scenarios", "sensors", "writers", "runtime", "report", "extension", "scripts")
# Which scenesmith packages each package may import (DESIGN §3). The root package
# ``scenesmith`` (version, data paths) and its leaf ``scenesmith.plugins`` may be imported by all.
ALLOWED = {
    "scenarios": {"scenarios", "sensors", "writers"},  # the writer registry: output.writers (issue 15)
    "sensors": {"sensors"},
    "writers": {"writers", "sensors"},
    "runtime": {"runtime", "scenarios", "sensors", "writers"},
    "report": {"report", "scenarios", "sensors", "writers"},  # reads output folders only (DESIGN §10)
    "extension": {"extension", "runtime", "scenarios", "sensors", "writers"},
    "scripts": {"scripts", "runtime", "report", "scenarios", "sensors", "writers"},
}
ROOT_NAMES = ("__version__", "config_path", "PACKAGE_ROOT", "SCHEMA_VERSION", "plugins")
KIT_MODULES = ("omni", "carb", "isaacsim", "usdrt", "warp")
CORE = ("scenarios", "sensors", "writers", "report")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            if "tests" in path.relative_to(REPO / pkg).parts and pkg == "extension":
                continue  # Kit's own test modules, never imported outside Kit
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append(("scenesmith." + ".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    function_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    function_lines.add(inner.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno, node.lineno not in function_lines))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    for alias in node.names:
                        found.append((f"{target}.{alias.name}", node.lineno, node.lineno not in function_lines))
                    continue
            else:
                target = node.module or ""
            found.append((target, node.lineno, node.lineno not in function_lines))
    return found


def test_import_directions_follow_design() -> None:
    violations = []
    for module, path in _modules():
        own = module.split(".")[1]
        for target, line, _ in _imports(module, path):
            top = target.split(".")[0]
            if top == "scenesmith":
                parts = target.split(".")
                if len(parts) == 1 or parts[1] in ROOT_NAMES:
                    continue
                if parts[1] not in ALLOWED[own]:
                    violations.append(f"{path.relative_to(REPO)}:{line}: {own} imports {target}")
            if own in CORE and top in ("pxr", *KIT_MODULES):
                violations.append(f"{path.relative_to(REPO)}:{line}: core package {own} imports {target}")
    assert not violations, "\n".join(violations)


def test_the_plugin_loader_is_a_leaf() -> None:
    """Every package may import ``scenesmith.plugins``, so it imports no scenesmith module."""
    imported = [t for t, _, _ in _imports("scenesmith.plugins", REPO / "plugins.py")]
    assert not [t for t in imported if t.startswith("scenesmith")], imported


def test_kit_modules_are_imported_lazily_everywhere() -> None:
    """omni/carb/isaacsim only inside functions, so importing any module outside Kit works."""
    violations = []
    for module, path in _modules():
        for target, line, top_level in _imports(module, path):
            if target.split(".")[0] in KIT_MODULES and top_level:
                violations.append(f"{path.relative_to(REPO)}:{line}: module-level import of {target}")
    assert not violations, "\n".join(violations)


def test_importing_every_module_loads_no_kit_and_no_heavy_backend_in_core() -> None:
    modules = [m for m, _ in _modules()]
    code = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "loaded = {}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "heavy = ('omni', 'carb', 'isaacsim', 'usdrt')\n"
        "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules if k.split('.')[0] in heavy})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    core = [m for m in modules if m.split(".")[1] in CORE]
    code = (
        "import importlib, json, sys\n"
        f"for m in {core!r}: importlib.import_module(m)\n"
        "bad = ('pxr', 'open3d', 'mujoco', 'omni', 'carb')\n"
        "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules if k.split('.')[0] in bad})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_layout_has_the_required_folders_and_no_grab_bags() -> None:
    for pkg in PACKAGES:
        assert (REPO / pkg / "__init__.py").is_file(), pkg
    assert (REPO / "extension.toml").is_file()
    assert (REPO / "config" / "scenarios").is_dir()
    grab_bags = [p for p in REPO.rglob("utils.py") if not any(part.startswith(".venv") for part in p.parts)]
    assert grab_bags == []


def test_public_modules_declare_all() -> None:
    missing = []
    for _module, path in _modules():
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            t.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)
        }
        has_code = any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
        if has_code and "__all__" not in names:
            missing.append(str(path.relative_to(REPO)))
    assert not missing, missing


def test_the_scenarios_writer_keys_are_the_writer_registry() -> None:
    """One place per name: a writer is registered once, and the scenario's output.writers has a
    key for exactly the registered ones (runtime.run.pipeline iterates the keys)."""
    from scenesmith.scenarios.model import WritersSpec
    from scenesmith.writers.registry import default_registry

    assert set(WritersSpec.model_fields) == set(default_registry().names())


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    """`.ci/run` is the README's second command (lint, format check, tests), character for character."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## Two commands") :]
    block = block[block.index("```bash") + len("```bash") : block.index("```", block.index("```bash") + 7)]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    ci = [
        line
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci == [commands[1]]
    assert "ruff check ." in ci[0] and "ruff format --check ." in ci[0] and ci[0].endswith("python -m pytest")


BACKEND_PACKAGES = ("scenesmith.runtime.embedded", "scenesmith.runtime.isaac")


def test_backends_are_reached_only_through_the_backend_registry() -> None:
    """Peer rules: a backend never imports the other, and the rest of runtime/ (pipeline,
    preview, stage authoring…) imports neither; it names them in ``runtime.backend.BACKENDS``
    and creates them with ``create_backend``. Core packages reach no runtime at all (ALLOWED)."""
    violations = []
    for module, path in _modules():
        if not module.startswith("scenesmith.runtime"):
            continue
        own = next((b for b in BACKEND_PACKAGES if module == b or module.startswith(b + ".")), None)
        for target, line, _ in _imports(module, path):
            hit = next((b for b in BACKEND_PACKAGES if target == b or target.startswith(b + ".")), None)
            if hit is not None and hit != own:
                violations.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not violations, violations


def test_every_randomizer_kind_is_declared_once_with_phase_targets_and_handler() -> None:
    """RANDOMIZER_KINDS is the one list of kinds: the scenario union, the target rules and the
    sampler's phases come from it; each kind has a handler, and nothing else names a kind."""
    import typing

    from scenesmith.scenarios.randomizers import RANDOMIZER_KINDS, TARGET_KINDS, Randomizer, RandomizerKind, kind_of

    union = typing.get_args(typing.get_args(Randomizer)[0])
    assert tuple(union) == RANDOMIZER_KINDS
    assert all(cls.draw is not RandomizerKind.draw for cls in RANDOMIZER_KINDS)  # each kind draws itself
    assert list(TARGET_KINDS) == [kind_of(cls) for cls in RANDOMIZER_KINDS]
    assert all(isinstance(cls.phase, int) and cls.target_sections for cls in RANDOMIZER_KINDS)


def _string_literals(path: Path) -> set[str]:
    """String constants of a module that are code, not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # attribute docstrings: a bare string right after an assignment
    for node in ast.walk(tree):
        for stmt in getattr(node, "body", []) if isinstance(getattr(node, "body", None), list) else []:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                docstrings.add(id(stmt.value))
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    }


def test_registered_names_are_written_in_one_place() -> None:
    """The LiDAR annotator's name and each writer's Replicator class name are spelled once, in
    the module that owns them; everything else uses the constant or the registry."""
    from scenesmith.sensors.outputs import LIDAR_ANNOTATOR
    from scenesmith.writers.registry import default_registry

    owners = {LIDAR_ANNOTATOR: "sensors/outputs.py"}
    for cls in default_registry().classes():
        owners[cls.replicator_class_name] = str(Path(sys.modules[cls.__module__].__file__).relative_to(REPO))
    spelled: dict[str, list[str]] = {name: [] for name in owners}
    for _module, path in _modules():
        literals = _string_literals(path)
        for name in owners:
            if name in literals:
                spelled[name].append(str(path.relative_to(REPO)))
    assert spelled == {name: [owner] for name, owner in owners.items()}


def test_every_package_folder_is_installed() -> None:
    """A new subpackage (a room of runtime/, a split module) must be listed in pyproject.toml,
    or ``pip install .`` ships a scenesmith that fails on import."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"scenesmith"}
    for pkg in PACKAGES:
        for init in (REPO / pkg).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO)
            if "tests" not in rel.parts:
                found.add(".".join(("scenesmith", *rel.parts)))
    assert found - listed == set(), f"not installed: {sorted(found - listed)}"


def test_code_dispatches_on_a_randomizer_kind_only_through_its_class() -> None:
    """Issue 15 item 7: no ``rnd.kind == "material"``, ``expand_targets(s, "scatter", …)`` or
    ``isinstance(rnd, ScatterRandomizer)`` outside the kind's own module: behaviour that
    depends on the kind is a method of the kind (or, for Isaac, the Replicator compiler's one
    table), so a new kind is one new file."""
    from scenesmith.scenarios.randomizers import RANDOMIZER_KINDS, kind_of

    kinds = {kind_of(cls) for cls in RANDOMIZER_KINDS}
    classes = {cls.__name__ for cls in RANDOMIZER_KINDS}
    found = []
    for module, path in _modules():
        if module.startswith("scenesmith.scenarios.randomizers"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                on_kind = any(isinstance(s, ast.Attribute) and s.attr == "kind" for s in sides)
                literal = [s.value for s in sides if isinstance(s, ast.Constant) and s.value in kinds]
                if on_kind and literal:
                    found.append(f"{where}: compares .kind with {literal[0]!r}")
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "expand_targets" and any(
                    isinstance(a, ast.Constant) and a.value in kinds for a in node.args
                ):
                    found.append(f"{where}: expand_targets with a kind literal")
                if name == "isinstance" and len(node.args) == 2:
                    names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                    if names & classes:
                        found.append(f"{where}: isinstance on {sorted(names & classes)}")
    assert not found, "\n".join(found)
