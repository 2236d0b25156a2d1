"""Bad-input errors that name the file, line, column and dotted key.

Every rejection of user input (scenario files, assets, LiDAR profiles, CLI arguments) ends up
as one or more :class:`Issue` lines formatted ``FILE:LINE:COL: dotted.key: message (expected …,
got …)``; a command-line option has no file, so its issue (:meth:`Issue.option`) reads
``--option: message (expected …, got …)``. The CLI prints them and exits with code 2 before any
output exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ROOT_KEY", "BadInputError", "Issue", "format_got"]

ROOT_KEY = "(document)"
"""Key shown when an error concerns the whole file (empty file, encoding, size)."""


def format_got(value: object, limit: int = 60) -> str:
    """Short, single-line rendering of an offending value for error messages."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.replace("\n", "\\n")


@dataclass(frozen=True)
class Issue:
    """One problem in one input file, with a 1-based line and column."""

    file: str
    line: int
    col: int
    key: str
    message: str
    expected: str | None = None
    got: str | None = None

    @classmethod
    def option(cls, name: str, message: str, expected: str | None = None, got: str | None = None) -> Issue:
        """A problem with a command-line option (``--output``): no file, so no line or column
        (0 marks that) rather than a made-up ``--output:1:1`` location."""
        return cls("", 0, 0, name, message, expected, got)

    @property
    def is_option(self) -> bool:
        return self.line == 0

    def __str__(self) -> str:
        detail = []
        if self.expected is not None:
            detail.append(f"expected {self.expected}")
        if self.got is not None:
            detail.append(f"got {self.got}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        where = "" if self.is_option else f"{self.file}:{self.line}:{self.col}: "
        return f"{where}{self.key or ROOT_KEY}: {self.message}{suffix}"


@dataclass
class BadInputError(Exception):
    """Raised for any invalid user input; carries every issue found, sorted by position."""

    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.issues = sorted(self.issues, key=lambda i: (i.file, i.line, i.col))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    def __reduce__(self) -> tuple:
        # crosses to the parent from pool workers and Ray actors: rebuilt from its issues
        # (Exception's default rebuilds from ``args``, the message string)
        return (type(self), (self.issues,))
