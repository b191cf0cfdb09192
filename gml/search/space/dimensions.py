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
"""
from __future__ import annotations

import abc
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


@dataclass(frozen=True)
class Dimension(abc.ABC):
    """One searched dimension. ``key`` names it in a point; ``params`` maps its value to arg names."""

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

    def params(self, value: Any) -> Dict[str, Any]:
        """This dimension's contribution to a point's params."""
        return {self.key: value}

    @property
    def is_finite(self) -> bool:
        return True


@dataclass(frozen=True)
class Categorical(Dimension):
    choices: tuple = ()

    def sample(self, rng):
        return self.choices[rng.randrange(len(self.choices))]

    def grid(self):
        return list(self.choices)

    def contains(self, value):
        return any(canonical_key({"v": value}) == canonical_key({"v": c}) for c in self.choices)


@dataclass(frozen=True)
class Int(Dimension):
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


@dataclass(frozen=True)
class Real(Dimension):
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


@dataclass(frozen=True)
class Nested(Dimension):
    """A categorical over bundles; ``prefix`` renames the bundle keys in params (File inner args)."""

    choices: tuple = ()
    prefix: str = ""

    def sample(self, rng):
        return dict(self.choices[rng.randrange(len(self.choices))])

    def grid(self):
        return [dict(c) for c in self.choices]

    def contains(self, value):
        return isinstance(value, dict) and any(canonical_key(value) == canonical_key(c) for c in self.choices)

    def params(self, value):
        if not self.prefix:
            return dict(value)
        return {f"{self.prefix}({k})": v for k, v in value.items()}

    @property
    def bundle_keys(self) -> List[str]:
        keys: List[str] = []
        for choice in self.choices:
            keys.extend(k for k in choice if k not in keys)
        return keys


@dataclass(frozen=True)
class FileArg:
    """A config file whose inner keys are searched; ``{name}`` in the template becomes the written copy's path.

    ``dimensions`` are its inner args, keyed ``name(key)`` in points and params.
    """

    name: str
    file: str
    dimensions: tuple = ()

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
            keys = d.bundle_keys if isinstance(d, Nested) else [d.key]
            if isinstance(d, Nested) and d.prefix:
                keys = [f"{d.prefix}({k})" for k in keys]
            names.extend(k for k in keys if k not in names)
        names.extend(f.name for f in self.files)
        return names
