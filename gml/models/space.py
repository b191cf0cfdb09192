"""Torch-free parsing of the search-space leaves that searchable backbones take (``search_space=dict(...)``).

A leaf uses the same space types as an HPO task config:

- ``dict(type='Categorical', data=[16, 24], default=16)``: one of ``data``;
- ``dict(type='Int', lower=32, upper=97, step=8, default=64)``: ``lower, lower+step, ...`` up to ``upper``
  inclusive, as the HPO side's ``Int`` (the example gives 32, 40, ..., 96); ``low``/``high`` are accepted too;
- a plain value: fixed, the only choice.

Lists of leaves (one per stage / layer) and dicts of leaves are parsed recursively. A parsed leaf is a
:class:`Choices`; its choices are kept sorted ascending so that "max" and "min" are the last and first one.
"""
from __future__ import annotations

import abc
import random
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence

from ..errors import GmlConfigError

_SPACE_TYPES = ("Categorical", "Int")


@dataclass(frozen=True)
class Choices:
    """The allowed values of one searchable dimension, ascending; ``default`` is one of them."""

    values: tuple
    default: Any = field(default=None)

    def __post_init__(self):
        if not self.values:
            raise ValueError("a search dimension needs at least one choice")
        if self.default is None:
            object.__setattr__(self, "default", self.values[-1])

    @property
    def max(self):
        return self.values[-1]

    @property
    def min(self):
        return self.values[0]

    @property
    def is_fixed(self) -> bool:
        return len(self.values) == 1

    def sample(self, rng: random.Random):
        return rng.choice(self.values)

    def __contains__(self, value) -> bool:
        return value in self.values


def _sorted_unique(values: Sequence, path: str) -> tuple:
    try:
        return tuple(sorted(set(values)))
    except TypeError:
        raise GmlConfigError(path, f"choices must be comparable numbers, got {list(values)!r}") from None


def parse_leaf(spec: Any, path: str) -> Choices:
    """One leaf: a space dict or a plain (fixed) value."""
    if isinstance(spec, Choices):
        return spec
    if isinstance(spec, dict) and "type" in spec:
        kind = spec["type"]
        default = spec.get("default")
        if kind == "Categorical":
            data = spec.get("data")
            if not isinstance(data, (list, tuple)) or not data:
                raise GmlConfigError(f"{path}.data", f"expected a non-empty list, got {data!r}")
            values = _sorted_unique(data, f"{path}.data")
        elif kind == "Int":
            lower, upper = spec.get("lower", spec.get("low")), spec.get("upper", spec.get("high"))
            if lower is None or upper is None:
                raise GmlConfigError(path, f"Int needs 'lower' and 'upper', got {spec!r}")
            lower, upper, step = int(lower), int(upper), int(spec.get("step", 1))
            if step <= 0 or lower >= upper:
                raise GmlConfigError(path, f"Int needs lower < upper and step > 0, got lower={lower}, "
                                           f"upper={upper}, step={step}")
            values = tuple(range(lower, upper + 1, step))
        else:
            raise GmlConfigError(f"{path}.type", f"unknown space type {kind!r}; valid: {', '.join(_SPACE_TYPES)}")
        if default is not None and default not in values:
            raise GmlConfigError(f"{path}.default", f"{default!r} is not one of the choices {list(values)}")
        return Choices(values, default)
    if isinstance(spec, (dict, list, tuple)):
        raise GmlConfigError(path, f"expected a space dict (type=Categorical/Int) or a number, got {spec!r}")
    return Choices((spec,), spec)


def parse_space(spec: Any, path: str = "search_space") -> Any:
    """Parse a nested dict / list of leaves into the same structure of :class:`Choices`."""
    if isinstance(spec, dict) and "type" not in spec:
        return {key: parse_space(value, f"{path}.{key}") for key, value in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [parse_space(value, f"{path}[{i}]") for i, value in enumerate(spec)]
    return parse_leaf(spec, path)


def leaves_as_list(spec: Any, length: Optional[int], path: str) -> List[Choices]:
    """A per-stage list of leaves; ``length`` (when given) is the required length."""
    if not isinstance(spec, (list, tuple)):
        raise GmlConfigError(path, f"expected a list with one entry per stage, got {spec!r}")
    parsed = [parse_leaf(value, f"{path}[{i}]") for i, value in enumerate(spec)]
    if length is not None and len(parsed) != length:
        raise GmlConfigError(path, f"expected {length} entries (one per stage), got {len(parsed)}")
    return parsed


def check_value(choices: Choices, value: Any, path: str) -> Any:
    """``value`` if it is one of ``choices``, else a GmlConfigError naming ``path``."""
    if value not in choices:
        raise GmlConfigError(path, f"{value!r} is not one of the choices {list(choices.values)}")
    return value


# --- choices of a structure of Choices ---------------------------------------------------------------------
def max_choice(space: Any) -> Any:
    """The largest value of every leaf, in the same dict/list structure."""
    return map_space(space, lambda c: c.max)


def min_choice(space: Any) -> Any:
    return map_space(space, lambda c: c.min)


def default_choice(space: Any) -> Any:
    return map_space(space, lambda c: c.default)


def random_choice(space: Any, rng: random.Random) -> Any:
    return map_space(space, lambda c: c.sample(rng))


def map_space(space: Any, fn) -> Any:
    if isinstance(space, dict):
        return {key: map_space(value, fn) for key, value in space.items()}
    if isinstance(space, (list, tuple)):
        return [map_space(value, fn) for value in space]
    return fn(space)


def validate_choice(space: Any, choice: Any, path: str) -> Any:
    """``choice`` checked against ``space`` (same structure, every value one of its leaf's choices); returns it
    with lists normalised (tuples -> lists). Errors name the offending key path."""
    if isinstance(space, dict):
        if not isinstance(choice, dict):
            raise GmlConfigError(path, f"expected a mapping with keys {sorted(space)}, got {choice!r}")
        missing = sorted(set(space) - set(choice))
        extra = sorted(set(choice) - set(space))
        if missing or extra:
            raise GmlConfigError(path, f"keys must be {sorted(space)}; missing {missing}, unknown {extra}")
        return {key: validate_choice(space[key], choice[key], f"{path}.{key}") for key in space}
    if isinstance(space, (list, tuple)):
        if not isinstance(choice, (list, tuple)) or len(choice) != len(space):
            raise GmlConfigError(path, f"expected a list of {len(space)} values, got {choice!r}")
        return [validate_choice(s, c, f"{path}[{i}]") for i, (s, c) in enumerate(zip(space, choice))]
    return check_value(space, choice, path)


class Searchable(abc.ABC):
    """Mixin of a module with searchable dimensions (a searchable backbone, ``ResizeSlice``).

    Contract: ``search_space`` is a dict name -> :class:`Choices` or list of them (one per stage);
    ``current_choice`` has the same structure with values; ``set_choice(choice, path)`` validates ``choice``
    (errors name ``path``) and configures the module's dynamic ops. Mutators find searchables by this type.
    """

    search_space: dict

    @property
    @abc.abstractmethod
    def current_choice(self) -> dict:
        """The choice the module runs now, shaped like ``search_space``."""

    @abc.abstractmethod
    def set_choice(self, choice: dict, path: str = "") -> None:
        """Validate ``choice`` (errors name ``path``) and configure the dynamic ops with it."""
