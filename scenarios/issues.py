"""Turn pydantic validation errors into :class:`Issue` lines with file, line, column and key.

pydantic reports a location path that also contains union tags and type names; those parts
are dropped by walking the loaded data, so the dotted key is exactly what the user wrote.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..sensors.errors import BadInputError, Issue, format_got
from .yaml_source import Loc, SourceMap, dotted

__all__ = ["issues_from_validation", "validate_document"]

_EXPECTED_BY_TYPE = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "finite_number": "a finite number",
    "string_pattern_mismatch": "a name of letters, digits and '_' not starting with a digit",
    "distribution": "a number, a list of numbers or {uniform|normal|log_uniform|choice|sequence|combine: …}",
}

_MESSAGE_BY_TYPE = {
    "finite_number": "NaN and infinity are not allowed",
    "string_pattern_mismatch": "invalid name",
    "distribution": "not a distribution",
    "none_required": "must be null",
}


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Loc, bool]:
    """Keep the parts of pydantic's ``loc`` that exist in the data; flag dict-key errors."""
    path: list[str | int] = []
    node = data
    at_key = False
    for part in loc:
        if part == "[key]":
            at_key = True
            continue
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path), at_key


def _range_expected(kind: str, ctx: dict[str, Any]) -> str:
    symbol = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
    bound = next(iter(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")))
    return f"{symbol} {bound:g}" if isinstance(bound, (int, float)) else f"{symbol} {bound}"


def _literal_hint(got: object, expected: str) -> str:
    """``; did you mean 'x'?`` for a value close to an allowed one: a known synonym first
    (``depth`` → ``distance_to_image_plane``), else the nearest spelling."""
    import difflib
    import re

    from .model import ANNOTATOR_SYNONYMS

    if not isinstance(got, str):
        return ""
    allowed = re.findall(r"'([^']*)'", expected)
    suggestion = ANNOTATOR_SYNONYMS.get(got.lower())
    if suggestion not in allowed:
        close = difflib.get_close_matches(got, allowed, n=1, cutoff=0.6)
        suggestion = close[0] if close else None
    return f"; did you mean '{suggestion}'?" if suggestion else ""


def _one(err: dict[str, Any], data: Any, smap: SourceMap) -> Issue:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"])
    path, at_key = _data_path(loc, data)
    got: object = err.get("input", ...)
    expected: str | None = _EXPECTED_BY_TYPE.get(kind)
    message = _MESSAGE_BY_TYPE.get(kind) or err["msg"]

    if kind == "unknown_key":
        path = (*path, ctx["key"])
        at_key = True
        message = f"unknown key '{ctx['key']}'{ctx.get('hint', '')}"
        allowed = ctx.get("allowed", [])
        expected = "one of: " + ", ".join(allowed) if allowed else "no keys here"
        got = ...
    elif kind == "missing":
        name = loc[-1]
        line, col = smap.position(path)
        return Issue(
            smap.file,
            line,
            col,
            dotted((*path, name)),
            f"missing required key '{name}'",
            "this key to be present",
            None,
        )
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "'kind'")).strip("'")
        tags = str(ctx.get("expected_tags", ""))
        if kind == "union_tag_invalid":
            path = (*path, field)
            message = f"unknown {field} '{ctx.get('tag')}'"
            got = ctx.get("tag")
        else:
            line, col = smap.position(path)
            return Issue(
                smap.file, line, col, dotted((*path, field)), f"missing required key '{field}'", f"one of {tags}", None
            )
        expected = f"one of {tags}"
    elif kind == "literal_error":
        message = "value not allowed" + _literal_hint(got, str(ctx.get("expected", "")))
        expected = f"one of {ctx.get('expected')}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        message = "value out of range"
        expected = _range_expected(kind, ctx)
    elif kind in ("too_short", "too_long"):
        message = "wrong number of items"
        actual = ctx.get("actual_length")
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        expected = f"{'at least' if kind == 'too_short' else 'at most'} {limit} items"
        got = f"{actual} items" if actual is not None else got
    elif kind in ("string_too_short", "string_too_long"):
        message = "string length out of range"
        limit = ctx.get("min_length", ctx.get("max_length"))
        expected = f"{'at least' if kind == 'string_too_short' else 'at most'} {limit} characters"
    elif kind == "invalid":
        expected = ctx.get("expected")
        got = ctx.get("got", ...)
        if ctx.get("key") is not None:
            path = (*path, ctx["key"])
            at_key = True
    elif kind in ("tuple_type", "list_type") and isinstance(got, (int, float, str)):
        message = "wrong type"
    elif kind in _EXPECTED_BY_TYPE and kind not in _MESSAGE_BY_TYPE:
        message = "wrong type"

    line, col = smap.position(path, at_key=at_key)
    got_text = (
        None
        if got is ...
        else (
            got
            if isinstance(got, str) and kind in ("too_short", "too_long") and got.endswith("items")
            else format_got(got)
        )
    )
    return Issue(smap.file, line, col, dotted(path), message, expected, got_text)


def _short_tuple(errors: list[dict[str, Any]], data: Any, smap: SourceMap) -> dict[tuple, Issue]:
    """Fixed-length lists given too few items show up as 'missing' at each absent index."""
    missing: dict[tuple, int] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc and isinstance(loc[-1], int):
            missing[loc[:-1]] = missing.get(loc[:-1], 0) + 1
    out = {}
    for parent, count in missing.items():
        path, _ = _data_path(parent, data)
        node: Any = data
        for part in path:
            node = node[part]
        have = len(node) if isinstance(node, list) else 0
        line, col = smap.position(path)
        out[parent] = Issue(
            smap.file, line, col, dotted(path), "wrong number of items", f"{have + count} items", f"{have} items"
        )
    return out


def issues_from_validation(exc: ValidationError, data: Any, smap: SourceMap) -> list[Issue]:
    """One issue per distinct (position, key) among the errors of ``exc``."""
    seen: set[tuple[int, int, str]] = set()
    out: list[Issue] = []
    errors = exc.errors(include_url=False)
    short = _short_tuple(errors, data, smap)
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc and isinstance(loc[-1], int):
            issue = short[loc[:-1]]
        else:
            issue = _one(err, data, smap)
        marker = (issue.line, issue.col, issue.key)
        if marker not in seen:
            seen.add(marker)
            out.append(issue)
    return out


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_document(model: type[ModelT], data: Any, smap: SourceMap, what: str) -> ModelT:
    """A YAML document (``data``, positions in ``smap``) validated as ``model``; anything but a
    mapping, and every validation error, is a ``BadInputError`` with file:line:col (``what``
    names the document in the message: "a scenario", "conditions")."""
    if not isinstance(data, dict):
        raise BadInputError(
            [smap.issue((), f"{what} must be a mapping", expected="a mapping of keys", got=type(data).__name__)]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(issues_from_validation(exc, data, smap)) from None
