"""Distributions in Replicator's vocabulary, and how to draw from them.

A distribution is written either as a constant (a number or a list of numbers) or as a
one-key mapping naming the distribution, as ``rep.distribution.*`` names them:
``uniform``, ``normal``, ``log_uniform``, ``choice`` (weighted), ``sequence`` and ``combine``.
Drawing always takes an explicit ``numpy.random.Generator`` and the trigger key (``sequence``
yields ``items[key % n]``, DESIGN §9 "Triggers"); there is no global random state.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Union

import numpy as np
from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from .spec_base import Number, Spec, invalid

__all__ = [
    "Choice",
    "Combine",
    "Constant",
    "Distribution",
    "LogUniform",
    "Normal",
    "Sequence",
    "Uniform",
    "dimension",
    "draw",
    "draw_scalar",
    "draw_vector",
]

DISTRIBUTION_NAMES = ("uniform", "normal", "log_uniform", "choice", "sequence", "combine")

Constant = Union[Number, tuple[Number, ...]]


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
    upper: Annotated[Constant, Field(union_mode="left_to_right")]

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
    std: Annotated[Constant, Field(union_mode="left_to_right")]

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
        return self


class ChoiceParams(Spec):
    items: Annotated[list[Annotated[Constant, Field(union_mode="left_to_right")]], Field(min_length=1)]
    weights: list[Annotated[Number, Field(ge=0)]] | None = None

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


class Normal(Spec):
    normal: NormalParams


class LogUniform(Spec):
    log_uniform: LogUniformParams


class Choice(Spec):
    choice: ChoiceParams


class Sequence(Spec):
    sequence: SequenceParams


class Combine(Spec):
    """Components drawn independently and concatenated into one vector (``rep.distribution.combine``)."""

    combine: Annotated[list[Distribution], Field(min_length=1)]


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
