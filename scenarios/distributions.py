"""Distributions in Replicator's vocabulary, and how to draw from them.

A distribution is written either as a constant (a number or a list of numbers) or as a
one-key mapping naming the distribution, as ``rep.distribution.*`` names them:
``uniform``, ``normal``, ``log_uniform``, ``choice`` (weighted), ``sequence`` and ``combine``.
Drawing always takes an explicit ``numpy.random.Generator`` and the trigger key (``sequence``
yields ``items[key % n]``, DESIGN §9 "Triggers"); there is no global random state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Union

import numpy as np
from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from ..sensors.spec_base import MAX_POSITION_M, Number, Spec, invalid

__all__ = [
    "MAX_PARAMETER",
    "Choice",
    "Combine",
    "Constant",
    "Distribution",
    "Domain",
    "LogUniform",
    "Normal",
    "Sequence",
    "Uniform",
    "angle_window",
    "dimension",
    "draw",
    "draw_scalar",
    "draw_vector",
    "support",
    "within",
]

DISTRIBUTION_NAMES = ("uniform", "normal", "log_uniform", "choice", "sequence", "combine")

Constant = Union[Number, tuple[Number, ...]]

MAX_PARAMETER = 1e12
"""Largest magnitude of a uniform/log_uniform bound, a normal's mean or std. Beyond it a draw
overflows (``uniform(-1e308, 1e308)`` raises OverflowError) or is meaningless in every key."""


def _finite_size(values: tuple[float, ...], what: str) -> None:
    if any(abs(v) > MAX_PARAMETER for v in values):
        raise invalid(f"{what} is implausibly large", expected=f"magnitudes <= {MAX_PARAMETER:g}", got=list(values))


def _shape(value: float | tuple[float, ...]) -> int:
    return len(value) if isinstance(value, tuple) else 1


def _as_tuple(value: float | tuple[float, ...]) -> tuple[float, ...]:
    return value if isinstance(value, tuple) else (value,)


def _constant(value: Any) -> Any:
    """Normalise a constant: a list of numbers becomes a tuple; scalars stay scalars."""
    if isinstance(value, list):
        return tuple(value)
    return value


class _Bounds(Spec):
    lower: Annotated[Constant, Field(union_mode="left_to_right")]
    """Lower bound: a number or one per component."""
    upper: Annotated[Constant, Field(union_mode="left_to_right")]
    """Upper bound: a number or one per component."""

    @field_validator("lower", "upper", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _constant(value)

    @model_validator(mode="after")
    def _ordered(self) -> _Bounds:
        lo, hi = _as_tuple(self.lower), _as_tuple(self.upper)
        if len(lo) != len(hi):
            raise invalid(
                "lower and upper have different lengths", expected=f"{len(lo)} values", got=f"{len(hi)} values"
            )
        if any(a > b for a, b in zip(lo, hi)):
            raise invalid(
                "lower is greater than upper (inverted range)",
                expected="lower <= upper",
                got={"lower": list(lo), "upper": list(hi)},
            )
        _finite_size(lo + hi, "a bound")
        return self


class UniformParams(_Bounds):
    pass


class LogUniformParams(_Bounds):
    @model_validator(mode="after")
    def _positive(self) -> LogUniformParams:
        if any(v <= 0 for v in _as_tuple(self.lower)):
            raise invalid("log_uniform needs a positive lower bound", expected="> 0", got=list(_as_tuple(self.lower)))
        return self


class NormalParams(Spec):
    mean: Annotated[Constant, Field(union_mode="left_to_right")]
    """Mean: a number or one per component."""
    std: Annotated[Constant, Field(union_mode="left_to_right")]
    """Standard deviation: a number or one per component (>= 0)."""

    @field_validator("mean", "std", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _constant(value)

    @model_validator(mode="after")
    def _check(self) -> NormalParams:
        mean, std = _as_tuple(self.mean), _as_tuple(self.std)
        if len(std) not in (1, len(mean)):
            raise invalid(
                "std must be one number or one per component of mean",
                expected=f"1 or {len(mean)} values",
                got=f"{len(std)} values",
            )
        if any(s < 0 for s in std):
            raise invalid("std must not be negative", expected=">= 0", got=list(std))
        _finite_size(mean + std, "mean or std")
        return self


class ChoiceParams(Spec):
    items: Annotated[list[Annotated[Constant, Field(union_mode="left_to_right")]], Field(min_length=1)]
    """Values to choose from (numbers or equal-length lists)."""
    weights: list[Annotated[Number, Field(ge=0)]] | None = None
    """Relative probability of each item (default: equal)."""

    @field_validator("items", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [_constant(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check(self) -> ChoiceParams:
        dims = {_shape(v) for v in self.items}
        if len(dims) > 1:
            raise invalid("choice items have different lengths", expected="items of one length", got=sorted(dims))
        if self.weights is not None:
            if len(self.weights) != len(self.items):
                raise invalid(
                    "weights must have one entry per item",
                    expected=f"{len(self.items)} weights",
                    got=f"{len(self.weights)} weights",
                )
            if sum(self.weights) <= 0:
                raise invalid("weights must not all be zero", expected="a positive sum", got=self.weights)
        return self


class SequenceParams(Spec):
    items: Annotated[list[Annotated[Constant, Field(union_mode="left_to_right")]], Field(min_length=1)]
    """Values taken in turn: item frame mod len(items)."""

    @field_validator("items", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [_constant(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check(self) -> SequenceParams:
        dims = {_shape(v) for v in self.items}
        if len(dims) > 1:
            raise invalid("sequence items have different lengths", expected="items of one length", got=sorted(dims))
        return self


class Uniform(Spec):
    uniform: UniformParams
    """Uniform between lower and upper, per component."""


class Normal(Spec):
    normal: NormalParams
    """Normal with mean and std, per component."""


class LogUniform(Spec):
    log_uniform: LogUniformParams
    """Log-uniform between positive lower and upper, per component."""


class Choice(Spec):
    choice: ChoiceParams
    """One of the items, drawn with weights."""


class Sequence(Spec):
    sequence: SequenceParams
    """The items in turn, by frame (draw key)."""


class Combine(Spec):
    """Components drawn independently and concatenated into one vector (``rep.distribution.combine``)."""

    combine: Annotated[list[Distribution], Field(min_length=1)]
    """Components from several distributions, concatenated."""


def _tag(value: Any) -> str | None:
    if isinstance(value, Spec):
        return type(value).__name__.lower().replace("loguniform", "log_uniform")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "vector"
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in DISTRIBUTION_NAMES else None
    return None


def _vector(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


Distribution = Annotated[
    Union[
        Annotated[Number, Tag("number")],
        Annotated[Annotated[tuple[Number, ...], Field(min_length=1)], Tag("vector")],
        Annotated[Uniform, Tag("uniform")],
        Annotated[Normal, Tag("normal")],
        Annotated[LogUniform, Tag("log_uniform")],
        Annotated[Choice, Tag("choice")],
        Annotated[Sequence, Tag("sequence")],
        Annotated[Combine, Tag("combine")],
    ],
    Discriminator(
        _tag,
        custom_error_type="distribution",
        custom_error_message=(
            "expected a number, a list of numbers, or a one-key mapping naming a distribution "
            "(uniform, normal, log_uniform, choice, sequence, combine)"
        ),
    ),
]

Combine.model_rebuild()


def dimension(dist: Any) -> int:
    """Number of components a draw of ``dist`` has (1 for scalars)."""
    if isinstance(dist, tuple):
        return len(dist)
    if isinstance(dist, (int, float)):
        return 1
    if isinstance(dist, Uniform):
        return _shape(dist.uniform.lower)
    if isinstance(dist, LogUniform):
        return _shape(dist.log_uniform.lower)
    if isinstance(dist, Normal):
        return _shape(dist.normal.mean)
    if isinstance(dist, Choice):
        return _shape(dist.choice.items[0])
    if isinstance(dist, Sequence):
        return _shape(dist.sequence.items[0])
    if isinstance(dist, Combine):
        return sum(dimension(c) for c in dist.combine)
    raise TypeError(f"not a distribution: {dist!r}")


NORMAL_SPAN_STD = 6.0
"""Where a sanity bound (not a physical one) is checked, a normal counts as mean ± 6 std
(a draw beyond it has probability 2e-9)."""


def support(dist: Any, normal_span_std: float = math.inf) -> list[tuple[float, float]]:
    """Per component, the closed hull ``(lo, hi)`` of every value ``dist`` can draw.

    Normals with a positive std are unbounded (``±inf``) unless ``normal_span_std`` limits
    them to mean ± that many std; the hull of choice and sequence items is attained, so
    checking it against an interval checks every item.
    """
    if isinstance(dist, (int, float)):
        return [(float(dist), float(dist))]
    if isinstance(dist, tuple):
        return [(float(v), float(v)) for v in dist]
    if isinstance(dist, (Uniform, LogUniform)):
        params = dist.uniform if isinstance(dist, Uniform) else dist.log_uniform
        return list(zip(map(float, _as_tuple(params.lower)), map(float, _as_tuple(params.upper))))
    if isinstance(dist, Normal):
        mean = _as_tuple(dist.normal.mean)
        std = np.broadcast_to(np.asarray(_as_tuple(dist.normal.std), dtype=np.float64), (len(mean),)).tolist()
        span = [0.0 if sd == 0 else sd * normal_span_std for sd in std]
        return [(m - w, m + w) for m, w in zip(mean, span)]
    if isinstance(dist, (Choice, Sequence)):
        items = [_as_tuple(v) for v in (dist.choice.items if isinstance(dist, Choice) else dist.sequence.items)]
        return [(min(c), max(c)) for c in zip(*items)]
    if isinstance(dist, Combine):
        return [hull for part in dist.combine for hull in support(part, normal_span_std)]
    raise TypeError(f"not a distribution: {dist!r}")


def angle_window(dist: Any) -> float | None:
    """Start of the 360° window every angle (degrees) ``dist`` draws lies in, so an angle read
    back from a direction (``atan2``) can be put where it was drawn: the support's lower end, a
    normal's mean − 180; ``None`` when the support is wider than one turn (ambiguous)."""
    lo, hi = support(dist)[0]
    if isinstance(dist, Normal) and (math.isinf(lo) or math.isinf(hi)):
        return float(_as_tuple(dist.normal.mean)[0]) - 180.0
    return lo if hi - lo <= 360.0 else None


def _describe(dist: Any) -> str:
    if isinstance(dist, (int, float, tuple)):
        return f"the constant {list(dist) if isinstance(dist, tuple) else dist}"
    name = type(dist).__name__.lower().replace("loguniform", "log_uniform")
    hull = support(dist)
    lo, hi = [h[0] for h in hull], [h[1] for h in hull]
    if len(hull) == 1:
        return f"{name} over [{lo[0]:g}, {hi[0]:g}]"
    return f"{name} over [{', '.join(f'{v:g}' for v in lo)}] .. [{', '.join(f'{v:g}' for v in hi)}]"


@dataclass(frozen=True)
class Domain:
    """The values a randomized key accepts. A distribution is valid for the key only when
    every value it can draw lies inside (not just the draws a lucky seed makes), so the check
    runs at validation. Declared next to each key with :func:`within`."""

    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = False
    """``lower`` itself is excluded (``scale > 0``)."""
    sanity: bool = False
    """The bounds guard against typos (positions within ±1e6 m), not physics: a normal is
    then checked as mean ± ``NORMAL_SPAN_STD`` std instead of being refused as unbounded."""

    def describe(self) -> str:
        parts = []
        if self.lower > -math.inf:
            parts.append(f"{'>' if self.lower_open else '>='} {self.lower:g}")
        if self.upper < math.inf:
            parts.append(f"<= {self.upper:g}")
        return "every value " + " and ".join(parts)

    def violation(self, dist: Any) -> str | None:
        """Why ``dist`` can draw outside the domain, or ``None`` when it cannot."""
        for lo, hi in support(dist, NORMAL_SPAN_STD if self.sanity else math.inf):
            low_bad = lo <= self.lower if self.lower_open else lo < self.lower
            if low_bad or hi > self.upper:
                if math.isinf(lo) or math.isinf(hi):
                    return "a normal distribution is unbounded, so it can draw outside the key's range"
                return "the distribution can draw values outside the key's range"
        return None


def within(domain: Domain) -> AfterValidator:
    """Validator for a distribution-valued key: its whole support must lie in ``domain``."""

    def check(value: Any) -> Any:
        problem = domain.violation(value)
        if problem is not None and isinstance(value, (int, float, tuple)):
            problem = "value out of the key's range"
        if problem is not None:
            hint = "; use uniform, log_uniform or choice" if isinstance(value, Normal) else ""
            raise invalid(problem + hint, expected=domain.describe(), got=_describe(value))
        return value

    return AfterValidator(check)


NON_NEGATIVE = Domain(lower=0.0)
POSITIVE = Domain(lower=0.0, lower_open=True)
UNIT_INTERVAL = Domain(lower=0.0, upper=1.0)
POSITION = Domain(lower=-MAX_POSITION_M, upper=MAX_POSITION_M, sanity=True)
__all__ += ["NON_NEGATIVE", "POSITION", "POSITIVE", "UNIT_INTERVAL"]


def draw(dist: Any, rng: np.random.Generator, key: int) -> np.ndarray:
    """Draw one value of ``dist`` as a float64 array of shape ``(dimension(dist),)``."""
    if isinstance(dist, (int, float)):
        return np.array([float(dist)])
    if isinstance(dist, tuple):
        return np.asarray(dist, dtype=np.float64)
    if isinstance(dist, Uniform):
        lo, hi = np.asarray(_as_tuple(dist.uniform.lower)), np.asarray(_as_tuple(dist.uniform.upper))
        return rng.uniform(lo, hi)
    if isinstance(dist, LogUniform):
        lo, hi = np.asarray(_as_tuple(dist.log_uniform.lower)), np.asarray(_as_tuple(dist.log_uniform.upper))
        return np.exp(rng.uniform(np.log(lo), np.log(hi)))
    if isinstance(dist, Normal):
        mean = np.asarray(_as_tuple(dist.normal.mean))
        std = np.broadcast_to(np.asarray(_as_tuple(dist.normal.std)), mean.shape)
        return rng.normal(mean, std)
    if isinstance(dist, Choice):
        items = dist.choice.items
        if dist.choice.weights is None:
            index = int(rng.integers(len(items)))
        else:
            weights = np.asarray(dist.choice.weights, dtype=np.float64)
            index = int(rng.choice(len(items), p=weights / weights.sum()))
        return np.asarray(_as_tuple(items[index]), dtype=np.float64)
    if isinstance(dist, Sequence):
        items = dist.sequence.items
        return np.asarray(_as_tuple(items[key % len(items)]), dtype=np.float64)
    if isinstance(dist, Combine):
        return np.concatenate([draw(c, rng, key) for c in dist.combine])
    raise TypeError(f"not a distribution: {dist!r}")


def draw_scalar(dist: Any, rng: np.random.Generator, key: int) -> float:
    value = draw(dist, rng, key)
    if value.shape != (1,):
        raise ValueError(f"expected a scalar distribution, got {value.shape[0]} components")
    result = float(value[0])
    if not math.isfinite(result):
        raise ValueError("a distribution produced a non-finite value")
    return result


def draw_vector(dist: Any, rng: np.random.Generator, key: int, size: int) -> np.ndarray:
    value = draw(dist, rng, key)
    if value.shape == (1,) and size > 1:
        value = np.repeat(value, size)
    if value.shape != (size,):
        raise ValueError(f"expected {size} components, got {value.shape[0]}")
    return value
