"""Search spaces: the dimensions a search explores, parsed from ``task.search_args``.

A *point* is one configuration as searchers see it: ``{dimension key: value}``. Its *params* are the arg dict a
user sees and the template is rendered from: plain args by name, each key of a chosen Nested bundle, and the inner
args of a File arg as ``file(key)`` (``config(epochs)``). Points are JSON values, so they persist in the store and
compare by their canonical JSON text (``canonical_key``).

Dimensions (all immutable):

- ``Categorical(choices)``: any JSON values;
- ``Int(low, high, step=1, log=False)``: inclusive bounds, values ``low + k*step``;
- ``Real(low, high, step=None, log=False)``: continuous; on a grid only with ``step``;
- ``Nested(choices)``: one choice = a bundle of keys set together (a dict), a categorical over bundles.

Each type also codes its values for numeric optimisers (``domain``, ``encode``, ``decode``), snaps numbers onto
its grid and mutates values (docs/extending-search.md), so searchers and encodings never switch on the type.
"""
from __future__ import annotations

import abc
import enum
import functools
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ...errors import GmlConfigError


def canonical_key(point: Dict[str, Any]) -> str:
    """The identity of a point: two points are the same configuration iff their keys are equal."""
    return json.dumps(point, sort_keys=True, separators=(",", ":"), default=str)


def _round(x: float) -> float:
    """Grid values without float noise (0.1 + 2*0.1 -> 0.3)."""
    return float(f"{x:.12g}")


class DomainKind(enum.Enum):
    CHOICE = "choice"   # codes are the indices 0 .. n-1 of the choices
    INT = "int"
    REAL = "real"


@dataclass(frozen=True)
class Domain:
    """How a dimension looks to a numeric optimiser (Optuna, scikit-optimize): its values are coded as numbers in
    ``[low, high]`` (inclusive), on a grid of ``step`` (None: continuous), log-scaled with ``log``.

    The library-neutral description that ``space.encoding`` maps onto each library's own distribution objects."""

    kind: DomainKind
    low: float
    high: float
    step: Optional[float] = None
    log: bool = False

    @property
    def is_constant(self) -> bool:
        """Whether the dimension has a single value (an optimiser need not see it)."""
        return self.low == self.high


@dataclass(frozen=True)
class Dimension(abc.ABC):
    """One searched dimension. ``key`` names it in a point; ``params`` maps its value to arg names.

    Each type knows how to draw, enumerate, check, code (``domain``/``encode``/``decode``) and mutate its values,
    so searchers and encodings never switch on the dimension type."""

    key: str

    @abc.abstractmethod
    def sample(self, rng: random.Random) -> Any:
        """A value drawn uniformly (log-uniformly with ``log``) from the dimension."""

    @abc.abstractmethod
    def grid(self) -> List[Any]:
        """Every value, in order; raises GmlConfigError for a continuous dimension."""

    @abc.abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this dimension."""

    @property
    @abc.abstractmethod
    def domain(self) -> Domain:
        """The numeric coding of this dimension's values (see ``Domain``)."""

    @abc.abstractmethod
    def encode(self, value: Any) -> float:
        """The code in ``domain`` of a value this dimension ``contains``."""

    @abc.abstractmethod
    def decode(self, code: float) -> Any:
        """The value of a code: snapped to the grid and clipped to the bounds (a choice index picks that choice)."""

    @abc.abstractmethod
    def mutate(self, value: Any, rng: random.Random, scale: float) -> Any:
        """A value near ``value`` (another choice; a Gaussian move of ``scale`` of the range for numbers)."""

    def copy(self, value: Any) -> Any:
        """``value`` not shared with any other point (bundles are dicts)."""
        return value

    def params(self, value: Any) -> Dict[str, Any]:
        """This dimension's contribution to a point's params."""
        return {self.key: value}

    def param_names(self) -> List[str]:
        """Every name ``params`` can produce."""
        return [self.key]

    @property
    def is_finite(self) -> bool:
        return True


@dataclass(frozen=True)
class ChoiceDimension(Dimension):
    """A dimension over an explicit list of ``choices`` (Categorical, Nested); coded by choice index."""

    choices: tuple = ()

    @abc.abstractmethod
    def choice_key(self, value: Any) -> str:
        """The identity of a choice (equal keys = the same choice)."""

    def choice(self, index: int) -> Any:
        """The choice at ``index``, as a fresh value."""
        return self.copy(self.choices[index])

    @functools.cached_property
    def _index(self) -> Dict[str, int]:
        """The index of each choice by ``choice_key``; of equal choices, the first one's."""
        return {self.choice_key(c): i for i, c in reversed(list(enumerate(self.choices)))}

    def sample(self, rng):
        return self.choice(rng.randrange(len(self.choices)))

    def grid(self):
        return [self.choice(i) for i in range(len(self.choices))]

    def contains(self, value):
        return self.choice_key(value) in self._index

    @property
    def domain(self):
        return Domain(DomainKind.CHOICE, 0, len(self.choices) - 1, 1)

    def encode(self, value):
        return self._index[self.choice_key(value)]

    def decode(self, code):
        return self.choice(int(code))

    def mutate(self, value, rng, scale):
        current = self.choice_key(value)
        others = [c for c in self.choices if self.choice_key(c) != current]
        if not others:
            return value
        return self.copy(others[rng.randrange(len(others))])


@dataclass(frozen=True)
class Categorical(ChoiceDimension):
    def choice_key(self, value):
        return canonical_key({"v": value})


@dataclass(frozen=True)
class Nested(ChoiceDimension):
    """A categorical over bundles; ``prefix`` renames the bundle keys in params (File inner args)."""

    prefix: str = ""

    def choice_key(self, value):
        return canonical_key(value)

    def contains(self, value):
        return isinstance(value, dict) and super().contains(value)

    def copy(self, value):
        return dict(value)

    def params(self, value):
        if not self.prefix:
            return dict(value)
        return {f"{self.prefix}({k})": v for k, v in value.items()}

    def param_names(self):
        return [f"{self.prefix}({k})" if self.prefix else k for k in self.bundle_keys]

    @property
    def bundle_keys(self) -> List[str]:
        keys: List[str] = []
        for choice in self.choices:
            keys.extend(k for k in choice if k not in keys)
        return keys


@dataclass(frozen=True)
class RangeDimension(Dimension):
    """A numeric dimension (Int, Real) with ``low``, ``high``, ``step`` and ``log`` fields."""

    @abc.abstractmethod
    def snap(self, x: float) -> Any:
        """The value nearest to the number ``x``: on the ``step`` grid (if any), clipped to the bounds."""

    def mutate(self, value, rng, scale):
        if self.low == self.high:
            return value
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (float(self.low), float(self.high))
        u = ((math.log(value) if self.log else float(value)) - lo) / (hi - lo)
        u += rng.gauss(0.0, scale)
        u = abs(u) % 2.0
        u = 2.0 - u if u > 1.0 else u                  # reflect into [0, 1]
        return self.snap(math.exp(lo + u * (hi - lo)) if self.log else lo + u * (hi - lo))


@dataclass(frozen=True)
class Int(RangeDimension):
    low: int = 0
    high: int = 0
    step: int = 1
    log: bool = False

    def sample(self, rng):
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            k = min(int((value - self.low) // self.step), (self.high - self.low) // self.step)
            return self.low + max(k, 0) * self.step
        return self.low + self.step * rng.randrange((self.high - self.low) // self.step + 1)

    def grid(self):
        return list(range(self.low, self.high + 1, self.step))

    def contains(self, value):
        return (isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high
                and (value - self.low) % self.step == 0)

    @property
    def top(self) -> int:
        """The largest value on the grid (``high`` unless the step overshoots it)."""
        return self.low + (self.high - self.low) // self.step * self.step

    @property
    def domain(self):
        return Domain(DomainKind.INT, self.low, self.top, self.step, self.log)

    def encode(self, value):
        return int(value)

    def decode(self, code):
        return self.snap(int(round(float(code))))

    def snap(self, x):
        k = round((x - self.low) / self.step)
        return int(self.low + min(max(k, 0), (self.high - self.low) // self.step) * self.step)


@dataclass(frozen=True)
class Real(RangeDimension):
    low: float = 0.0
    high: float = 1.0
    step: Optional[float] = None
    log: bool = False

    def sample(self, rng):
        if self.step is not None:
            return self.grid()[rng.randrange(len(self.grid()))]
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def grid(self):
        if self.step is None:
            raise GmlConfigError(self.key, "a Real arg is continuous and has no grid; give it a 'step' "
                                           "(or use RandomSearcher / a model-based searcher)")
        count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        return [_round(self.low + i * self.step) for i in range(count)]

    def contains(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.step is not None:
            return any(abs(value - g) <= 1e-9 * max(1.0, abs(g)) for g in self.grid())
        return self.low <= value <= self.high

    @property
    def is_finite(self):
        return self.step is not None

    @functools.cached_property
    def domain(self):
        if self.step is None:
            return Domain(DomainKind.REAL, self.low, self.high, None, self.log)
        grid = self.grid()
        return Domain(DomainKind.REAL, grid[0], grid[-1], self.step, self.log)

    def encode(self, value):
        domain = self.domain
        return min(max(float(value), domain.low), domain.high)

    def decode(self, code):
        return self.snap(float(code))

    def snap(self, x):
        if self.step is None:
            return min(max(x, self.low), self.high)
        grid = self.grid()
        return grid[min(max(int(round((x - self.low) / self.step)), 0), len(grid) - 1)]


@dataclass(frozen=True)
class FileArg:
    """A config file whose inner keys are searched; ``{name}`` in the template becomes the written copy's path.

    ``dimensions`` are its inner args, keyed ``name(key)`` in points and params; ``sources`` their config key
    paths (same order). ``allow_new_keys``: inner keys absent from the file may be added (else they are refused).
    """

    name: str
    file: str
    dimensions: tuple = ()
    sources: tuple = ()
    allow_new_keys: bool = False

    def overrides(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """The dotted keys to set in the file, from a point's params."""
        prefix = f"{self.name}("
        return {k[len(prefix):-1]: v for k, v in params.items() if k.startswith(prefix) and k.endswith(")")}


@dataclass
class SearchSpace:
    """All dimensions of a search, in ``search_args`` order, plus the File args that write files per job."""

    dimensions: List[Dimension] = field(default_factory=list)
    files: List[FileArg] = field(default_factory=list)
    sources: Dict[str, str] = field(default_factory=dict)   # dimension key / File name -> its config key path

    @property
    def keys(self) -> List[str]:
        return [d.key for d in self.dimensions]

    def dimension(self, key: str) -> Dimension:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise KeyError(key)

    def sample(self, rng: random.Random) -> Dict[str, Any]:
        return {d.key: d.sample(rng) for d in self.dimensions}

    def contains(self, point: Dict[str, Any]) -> bool:
        return (set(point) == set(self.keys)
                and all(d.contains(point[d.key]) for d in self.dimensions))

    def params(self, point: Dict[str, Any]) -> Dict[str, Any]:
        """The arg dict of a point (File names are added by the controller when it writes the files)."""
        out: Dict[str, Any] = {}
        for d in self.dimensions:
            out.update(d.params(point[d.key]))
        return out

    @property
    def is_finite(self) -> bool:
        return all(d.is_finite for d in self.dimensions)

    def size(self) -> Optional[int]:
        """The number of distinct points, or None for a continuous space."""
        if not self.is_finite:
            return None
        n = 1
        for d in self.dimensions:
            n *= len(d.grid())
        return n

    def arg_names(self) -> Sequence[str]:
        """Every params name a point can produce, plus the File names."""
        names: List[str] = []
        for d in self.dimensions:
            names.extend(k for k in d.param_names() if k not in names)
        names.extend(f.name for f in self.files)
        return names
