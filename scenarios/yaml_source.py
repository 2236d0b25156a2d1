"""Safe YAML loading that remembers where every key and value sits in the file.

ruamel.yaml's round-trip loader gives line/column marks and rejects duplicate keys, but it
accepts tags and expands aliases (DESIGN §9 "YAML safety"), so the event stream is scanned
first and every explicit tag, anchor and alias is rejected before anything is constructed.
The result is plain Python data (dict/list/str/int/float/bool/None) plus a :class:`SourceMap`
from key paths to 1-based positions, used to turn validation errors into ``FILE:LINE:COL``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..sensors.errors import ROOT_KEY, BadInputError, Issue, format_got

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Loc", "SourceMap", "load_yaml_bytes", "dotted"]

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file accepted (1 MiB): scenarios are descriptions, not data."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""

Loc = tuple[str | int, ...]

# YAML 1.2's printable set (§5.1): anything else (NUL, ESC, other C0/C1 controls, lone
# surrogates) makes ruamel's reader raise a ReaderError that carries only a character offset,
# so it is found here first and reported with its line and column.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def dotted(loc: Iterable[str | int]) -> str:
    """``('assets', 'mug', 'scale', 0)`` → ``assets.mug.scale[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or ROOT_KEY


@dataclass
class SourceMap:
    """Positions of keys and values of one loaded file, keyed by their path."""

    file: str
    key_pos: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    value_pos: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Loc, at_key: bool = False) -> tuple[int, int]:
        """Best position for ``loc``: the exact entry, else its nearest recorded ancestor."""
        table = self.key_pos if at_key else self.value_pos
        for end in range(len(loc), -1, -1):
            sub = tuple(loc[:end])
            if sub in table:
                return table[sub]
            if sub in self.value_pos:
                return self.value_pos[sub]
        return (1, 1)

    def issue(
        self,
        loc: Loc,
        message: str,
        *,
        at_key: bool = False,
        expected: str | None = None,
        got: object = ...,
    ) -> Issue:
        line, col = self.position(loc, at_key=at_key)
        return Issue(self.file, line, col, dotted(loc), message, expected, None if got is ... else format_got(got))


def _fail(
    file: str,
    line: int,
    col: int,
    message: str,
    key: str = ROOT_KEY,
    expected: str | None = None,
    got: str | None = None,
) -> BadInputError:
    return BadInputError([Issue(file, line, col, key, message, expected, got)])


def _decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        return_err = _fail(
            file, 1, 1, "file is too large", expected=f"at most {MAX_FILE_BYTES} bytes", got=f"{len(raw)} bytes"
        )
        raise return_err
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = raw[: exc.start]
        line = head.count(b"\n") + 1
        col = exc.start - (head.rfind(b"\n") + 1) + 1
        raise _fail(
            file, line, col, "file is not valid UTF-8", expected="UTF-8 text", got=f"byte 0x{raw[exc.start]:02x}"
        ) from None
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise _fail(
            file,
            line,
            col,
            "control character in the file",
            expected="printable text (tabs and newlines only among control characters)",
            got=f"U+{ord(bad.group()):04X}",
        )
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise _fail(file, 1, 1, "file is empty", expected="a scenario mapping", got="no content")
    return text


def _scan_events(text: str, file: str) -> None:
    """Reject tags, anchors, aliases and over-deep nesting from the event stream."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        NodeEvent,
        ScalarEvent,
    )

    depth = 0
    documents = 0
    try:
        for event in YAML(typ="rt").parse(text):
            mark = event.start_mark
            line, col = mark.line + 1, mark.column + 1
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _fail(
                        file,
                        line,
                        col,
                        "expected exactly one YAML document",
                        expected="one document",
                        got="a second document",
                    )
            if isinstance(event, AliasEvent):
                raise _fail(file, line, col, "YAML aliases are not allowed", got=f"*{event.anchor}")
            if isinstance(event, NodeEvent) and event.anchor is not None:
                raise _fail(file, line, col, "YAML anchors are not allowed", got=f"&{event.anchor}")
            tag = getattr(event, "tag", None)
            explicit = tag is not None and not (isinstance(event, ScalarEvent) and event.implicit and event.implicit[0])
            if isinstance(event, CollectionStartEvent) and tag is not None:
                explicit = True
            if explicit:
                raise _fail(file, line, col, "YAML tags are not allowed", got=str(tag))
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(
                        file,
                        line,
                        col,
                        "nesting is too deep",
                        expected=f"at most {MAX_DEPTH} levels",
                        got=f"{depth} levels",
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None


def _syntax_error(exc: Any, file: str) -> BadInputError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    return _fail(file, line, col, f"YAML syntax error: {problem}")


def _plain(node: Any, loc: Loc, smap: SourceMap) -> Any:
    """Convert ruamel's round-trip objects to plain Python, recording positions."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            name = key if isinstance(key, str) else str(key)
            sub = (*loc, name)
            kl, kc = node.lc.key(key)
            vl, vc = node.lc.value(key)
            smap.key_pos[sub] = (kl + 1, kc + 1)
            smap.value_pos[sub] = (vl + 1, vc + 1)
            out[name] = _plain(value, sub, smap)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            sub = (*loc, index)
            il, ic = node.lc.item(index)
            smap.key_pos[sub] = smap.value_pos[sub] = (il + 1, ic + 1)
            items.append(_plain(value, sub, smap))
        return items
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _first_content_line(text: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return (number, 1)
    return (1, 1)


def load_yaml_bytes(raw: bytes, file: str) -> tuple[Any, SourceMap]:
    """Parse ``raw`` safely; raise :class:`BadInputError` naming the file and position."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    text = _decode(raw, file)
    _scan_events(text, file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    if len(documents) != 1:
        raise _fail(file, 1, 1, "expected exactly one YAML document", got=f"{len(documents)} documents")
    smap = SourceMap(file)
    root = documents[0]
    # Problems with the whole document point at its first line of content.
    start = getattr(getattr(root, "lc", None), "line", None)
    smap.value_pos[()] = (start + 1, 1) if isinstance(start, int) else _first_content_line(text)
    data = _plain(root, (), smap)
    if data is None:
        raise _fail(file, 1, 1, "file is empty", expected="a scenario mapping", got="no content")
    return data, smap
