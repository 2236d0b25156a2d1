"""Which Kit names (``omni.*``, ``carb.*``, ``isaacsim.*``, Replicator's ``rep.*``) a module uses.

An AST scan that follows import aliases (``import omni.replicator.core as rep``, ``from
omni.kit.menu.utils import add_menu_items``) and resolves every attribute chain rooted at such
a name to its full dotted name (``rep.orchestrator.step_async(...)`` →
``omni.replicator.core.orchestrator.step_async``). A function parameter called ``rep`` stands
for ``omni.replicator.core`` (the Isaac code passes the module in, so tests can give a double).
Attributes of returned objects (``annotator.attach``) are not module names and are not scanned.

Used by ``tests/test_isaac_conformance.py`` against ``extension/api_citations.toml``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KIT_ROOTS", "REP", "Use", "scan_file", "scan_source"]

KIT_ROOTS = ("omni", "carb", "isaacsim")
REP = "omni.replicator.core"


@dataclass(frozen=True)
class Use:
    name: str
    file: str
    line: int


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` → ['a', 'b', 'c'] (None if the chain is not rooted at a plain name)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.aliases: dict[str, str] = {}
        self.uses: list[Use] = []

    def _kit(self, module: str) -> bool:
        return module.split(".")[0] in KIT_ROOTS

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._kit(alias.name):
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    self.aliases[root] = root
                    self.uses.append(Use(alias.name, self.file, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and self._kit(node.module):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                self.aliases[alias.asname or alias.name] = full
                self.uses.append(Use(full, self.file, node.lineno))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        if "rep" in params:
            self.aliases.setdefault("rep", REP)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _chain(node)
        if chain is not None and chain[0] in self.aliases:
            self.uses.append(Use(".".join([self.aliases[chain[0]], *chain[1:]]), self.file, node.lineno))
            return  # the maximal chain only, not its prefixes
        self.generic_visit(node)


def scan_source(source: str, file: str) -> list[Use]:
    tree = ast.parse(source, filename=file)
    first = _Scanner(file)
    first.visit(tree)  # collects aliases wherever the imports are (they are inside functions)
    second = _Scanner(file)
    second.aliases = dict(first.aliases)
    second.visit(tree)
    return sorted(set(second.uses), key=lambda u: (u.file, u.line, u.name))


def scan_file(path: Path, root: Path | None = None) -> list[Use]:
    name = str(path.relative_to(root)) if root is not None else str(path)
    return scan_source(path.read_text(encoding="utf-8"), name)
