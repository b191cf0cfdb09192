"""Torch-free parsing of the search-space leaves that searchable backbones take (``search_space=dict(...)``).

A leaf is parsed by the same code, into the same dimension types, as an HPO task's ``search_args`` entry
(``gml.search.space.parse.parse_dimension``; only the ``name`` is optional, the leaf's key path names it):

- ``dict(type='Categorical', data=[16, 24], default=16)``: one of ``data`` (a ``Categorical``);
- ``dict(type='Int', lower=32, upper=97, step=8, default=64)``: ``lower, lower+step, ...`` up to ``upper``
  inclusive (an ``Int``; the example gives 32, 40, ..., 96); ``low``/``high`` and ``data=[low, high]`` too;
- ``dict(type='Real', lower=0.5, upper=1.0, step=0.25)``: a ``Real`` on a grid (a supernet needs finite choices);
- a plain value: fixed, the only choice (a one-choice ``Categorical``).

``default`` (optional) must be one of the choices. Lists of leaves (one per stage / layer) and dicts of leaves are
parsed recursively. A parsed leaf is a :class:`Choices`: the shared ``Dimension`` plus the NAS view of it (its
values ascending, so "max" and "min" are the last and first one, and the default).

A structure of Choices (a mutator's ``search_space``) is also one flat ``SearchSpace`` of the HPO side
(:func:`flat_space`), keyed by each leaf's place in a subnet choice (``backbone.MB_out_channels[0]``): the one
canonical key, encoding and sampler that every gml searcher works on; :func:`point_of` / :func:`choice_of`
convert a subnet choice to that space's point and back.
"""
from __future__ import annotations

import abc
import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import GmlConfigError
from ..search.space.dimensions import Categorical, Dimension, SearchSpace
from ..search.space.parse import parse_dimension


@dataclass(frozen=True)
class Choices:
    """One searchable dimension of a supernet: the shared ``dimension`` (its key is the leaf's config path),
    ``values`` (its grid, ascending and without repeats) and ``default`` (one of them; the largest if not given).

    ``Choices((16, 24, 32), 24)`` (a plain sequence of values instead of a dimension, the older form) still works:
    it becomes a Categorical keyed ``search_space``."""

    dimension: Dimension
    default: Any = None
    values: tuple = field(init=False)

    def __post_init__(self):
        if not isinstance(self.dimension, Dimension):
            values = tuple(self.dimension)
            if not values:
                raise ValueError("a search dimension needs at least one choice")
            object.__setattr__(self, "dimension", Categorical("search_space", values))
        path = self.dimension.key
        grid = self.dimension.grid()
        try:
            values = tuple(sorted(set(grid)))
        except TypeError:
            raise GmlConfigError(path, f"choices must be comparable numbers, got {list(grid)!r}") from None
        object.__setattr__(self, "values", values)
        if self.default is None:
            object.__setattr__(self, "default", values[-1])
        elif self.default not in values:
            raise GmlConfigError(f"{path}.default", f"{self.default!r} is not one of the choices {list(values)}")

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
        return self.dimension.sample(rng)

    def __contains__(self, value) -> bool:
        return value in self.values


def parse_leaf(spec: Any, path: str) -> Choices:
    """One leaf: a space dict (the shared ``parse_dimension``) or a plain (fixed) value."""
    if isinstance(spec, Choices):
        return spec
    if isinstance(spec, dict) and "type" in spec:
        return Choices(parse_dimension(spec, path, path), spec.get("default"))
    if isinstance(spec, (dict, list, tuple)):
        raise GmlConfigError(path, f"expected a space dict (type=Categorical/Int/Real) or a number, got {spec!r}")
    return Choices(Categorical(path, (spec,)), spec)


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


# --- the flat, shared view of a structure of Choices ---------------------------------------------------------
def leaves(space: Any, prefix: Tuple = ()) -> List[Tuple[Tuple, Choices]]:
    """``(where, Choices)`` of every leaf of a structure of Choices, in structure order; ``where`` is the tuple of
    dict keys and list indices that reaches it."""
    if isinstance(space, dict):
        return [leaf for key in space for leaf in leaves(space[key], prefix + (key,))]
    if isinstance(space, (list, tuple)):
        return [leaf for i, value in enumerate(space) for leaf in leaves(value, prefix + (i,))]
    return [(prefix, space)]


def leaf_key(where: Tuple) -> str:
    """The canonical key of a leaf at ``where`` (dict keys and list indices): ``backbone.MB_out_channels[0]``."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def flat_space(space: Any) -> SearchSpace:
    """The HPO ``SearchSpace`` of a structure of Choices: one dimension per leaf, keyed by :func:`leaf_key`, in
    structure order; ``sources`` maps each key to the leaf's config path."""
    flat = SearchSpace()
    for where, choices in leaves(space):
        key = leaf_key(where)
        flat.dimensions.append(dataclasses.replace(choices.dimension, key=key))
        flat.sources[key] = choices.dimension.key
    return flat


def point_of(space: Any, choice: Any) -> Dict[str, Any]:
    """The flat-space point of a subnet ``choice`` shaped like ``space``."""
    point = {}
    for where, _ in leaves(space):
        value = choice
        for part in where:
            value = value[part]
        point[leaf_key(where)] = value
    return point


def choice_of(space: Any, point: Dict[str, Any]) -> Any:
    """The subnet choice (shaped like ``space``) of a flat-space point."""
    values = {leaf_key(where): point[leaf_key(where)] for where, _ in leaves(space)}
    return _rebuild(space, (), values)


def _rebuild(space: Any, where: Tuple, values: Dict[str, Any]) -> Any:
    if isinstance(space, dict):
        return {key: _rebuild(value, where + (key,), values) for key, value in space.items()}
    if isinstance(space, (list, tuple)):
        return [_rebuild(value, where + (i,), values) for i, value in enumerate(space)]
    return values[leaf_key(where)]


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
