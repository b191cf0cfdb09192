"""Encodings of gml points for outside optimisers: one design, one small adapter per library.

Every dimension describes its values neutrally (``Dimension.domain``: choice indices, an integer range or a real
range, with ``step`` and ``log``) and codes them (``Dimension.encode`` / ``decode``: decode snaps onto the grid
and clips to the bounds). ``Encoding`` turns whole points into codes and back; an adapter only maps each
``Domain`` onto the library's own object:

- ``OptunaEncoding``: ``distributions`` (key -> Optuna distribution), ``encode(point) -> params | None``,
  ``decode(params) -> point``. Every dimension is a distribution (a single-valued one too). An Int with ``log``
  and a step > 1, which Optuna cannot sample, becomes a log IntDistribution whose draw is snapped to the grid;
- ``SkoptEncoding``: ``dimensions`` (skopt dimensions of the ``free`` gml dimensions, in order),
  ``encode(point) -> list | None``, ``decode(x) -> point``. Single-valued dimensions are held aside as
  ``constants`` (skopt refuses empty ranges); a ``step`` is not skopt's: its proposals are snapped on decode.

Both import their library only when built (the ``searchers`` extra).
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, List, Optional, Sequence

from ...validation import Keyword, config_error
from .dimensions import Dimension, Domain, DomainKind, SearchSpace

Point = Dict[str, Any]


def import_extra(module: str, searcher: str, package: str, extra: str = "searchers") -> Any:
    """Import ``module`` of gml's ``extra`` (an optional-dependencies group of pyproject.toml), or raise a config
    error at the searcher's ``type`` keyword saying that ``searcher`` needs ``package`` and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise config_error(Keyword("type"), f"{searcher} needs {package} ({err}); install it with "
                                            f"pip install 'gml[{extra}]'") from None


class Encoding:
    """gml point <-> ``{key: code}`` for the ``free`` dimensions; with ``hold_constants`` the single-valued
    dimensions are left out of the codes and put back on decode (``constants``)."""

    def __init__(self, space: SearchSpace, hold_constants: bool = False):
        self.space = space
        self.free: List[Dimension] = []
        self.constants: Dict[str, Any] = {}
        for d in space.dimensions:
            if hold_constants and d.domain.is_constant:
                self.constants[d.key] = d.decode(d.domain.low)
            else:
                self.free.append(d)

    def codes(self, point: Point) -> Optional[Dict[str, Any]]:
        """The codes of a gml point, or None when it is not in the space (e.g. an edited config)."""
        if not self.space.contains(point):
            return None
        return {d.key: d.encode(point[d.key]) for d in self.free}

    def point(self, codes: Dict[str, Any]) -> Point:
        """The gml point of codes (snapped and clipped), in the space's order."""
        values = {d.key: d.decode(codes[d.key]) for d in self.free}
        values.update({k: self.space.dimension(k).copy(v) for k, v in self.constants.items()})
        return {d.key: values[d.key] for d in self.space.dimensions}


class OptunaEncoding(Encoding):
    """gml point <-> Optuna params (one distribution per dimension key)."""

    def __init__(self, space: SearchSpace):
        super().__init__(space)
        self.distributions: Dict[str, Any] = {d.key: optuna_distribution(d.domain) for d in self.free}

    def encode(self, point: Point) -> Optional[Dict[str, Any]]:
        """Optuna params of a gml point, or None when it is not in the space."""
        return self.codes(point)

    def decode(self, params: Dict[str, Any]) -> Point:
        return self.point(params)


def optuna_distribution(domain: Domain) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    if domain.kind is DomainKind.CHOICE:
        return CategoricalDistribution(list(range(int(domain.high) + 1)))
    if domain.kind is DomainKind.INT:
        if domain.log and domain.step > 1:
            return IntDistribution(domain.low, domain.high, log=True)
        return IntDistribution(domain.low, domain.high, log=domain.log, step=domain.step)
    if domain.step is not None:
        return FloatDistribution(domain.low, domain.high, step=domain.step)
    return FloatDistribution(domain.low, domain.high, log=domain.log)


class SkoptEncoding(Encoding):
    """gml point <-> skopt point, for the dimensions that vary (constants are held aside)."""

    def __init__(self, space: SearchSpace):
        super().__init__(space, hold_constants=True)
        self.dimensions: List[Any] = [skopt_dimension(d.domain, d.key) for d in self.free]

    def encode(self, point: Point) -> Optional[list]:
        """The skopt point of a gml point, or None when the point is not in the space (e.g. an edited config)."""
        codes = self.codes(point)
        return None if codes is None else [codes[d.key] for d in self.free]

    def decode(self, x: Sequence[Any]) -> Point:
        """The gml point of a skopt point: values snapped to steps and clipped to bounds, in the space's order."""
        return self.point({d.key: value for d, value in zip(self.free, x)})


def skopt_dimension(domain: Domain, name: str) -> Any:
    from skopt.space import Categorical, Integer, Real
    if domain.kind is DomainKind.CHOICE:
        return Categorical(list(range(int(domain.high) + 1)), name=name)
    prior = "log-uniform" if domain.log else "uniform"
    if domain.kind is DomainKind.INT:
        return Integer(domain.low, domain.high, prior=prior, name=name)
    return Real(domain.low, domain.high, prior=prior, name=name)
