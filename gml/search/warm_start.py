"""Warm starts: configurations given by the user rather than proposed by the searcher.

Two sources, one conversion. ``searcher.initial_points`` in the search config lists configurations the controller
runs before the searcher's own suggestions; ``search-ctl enqueue -t T --params lr=0.05 wd=1e-4`` adds one to a
running or finished task. Both are written the way a user sees a configuration, as its *params* (the arg dict of
``SearchSpace.params``: plain args by name, the keys of a Nested bundle, File inner args as ``config(epochs)``),
and :func:`point_from_params` turns them into the space's point, checking every value against its dimension, so
a warm-start point is the same configuration (same ``canonical_key``) as the searcher's own proposal of it.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence

import yaml

from ..errors import GmlConfigError
from ..validation import invalid, mapping
from .space.dimensions import ChoiceDimension, Dimension, Int, Nested, Real, SearchSpace

Point = Dict[str, Any]


def _numeric(value: Any) -> Any:
    """A number written as text ('1e-4', which YAML reads as a string) as a number; anything else unchanged."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _range_value(dim: Dimension, value: Any, path: str) -> Any:
    value = _numeric(value)
    if isinstance(dim, Int) and isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(dim, Real) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, float) and math.isnan(value) or not dim.contains(value):
        if isinstance(dim, Int):
            expected = f"an integer in [{dim.low}, {dim.high}]" + (f" on steps of {dim.step}" if dim.step != 1 else "")
        else:
            expected = f"a number in [{dim.low}, {dim.high}]" + (f" on steps of {dim.step}" if dim.step else "")
        raise invalid(path, value, expected)
    return dim.snap(value) if isinstance(dim, Real) else value


def _choice_value(dim: ChoiceDimension, value: Any, path: str) -> Any:
    if dim.contains(value):
        return dim.copy(value)
    # a value typed on the command line arrives as text or a YAML scalar: match a choice by its text as well
    same_text = [c for c in dim.choices if str(c) == str(value)]
    if len(same_text) == 1:
        return dim.copy(same_text[0])
    # ... or a number written as text ('1e-4', a string to YAML) equal to a numeric choice
    number = _numeric(value)
    same_number = [c for c in dim.choices if isinstance(number, float) and isinstance(c, (int, float))
                   and not isinstance(c, bool) and c == number]
    if len(same_number) == 1:
        return dim.copy(same_number[0])
    raise invalid(path, value, "one of " + ", ".join(repr(c) for c in dim.choices))


def _same(given: Any, value: Any) -> bool:
    """Whether a given value means a bundle's value (also when typed as text: '0.5' means 0.5)."""
    if given == value and type(given) is not bool and type(value) is not bool:
        return True
    return str(_numeric(given)) == str(_numeric(value))


def _bundle(dim: Nested, given: Dict[str, Any], path: str) -> Dict[str, Any]:
    """The bundle of ``dim`` that sets exactly the given keys of it, to the given values."""
    names = [n for n in dim.param_names() if n in given]
    if not names:
        raise GmlConfigError(path, f"missing {', '.join(dim.param_names())} (a Nested arg: give the keys of one of "
                                   f"its bundles)")
    for choice in dim.choices:
        bundle = dim.params(choice)
        if set(bundle) == set(names) and all(_same(given[n], v) for n, v in bundle.items()):
            return dim.copy(choice)
    shown = {n: given[n] for n in names}
    raise GmlConfigError(path, f"{shown} is not one of the Nested arg's bundles: "
                               f"{'; '.join(str(dim.params(c)) for c in dim.choices)}")


def _arg_path(path: str, name: str) -> str:
    """``searcher.initial_points[0].lr`` in a config; ``--params lr`` on a command line."""
    return f"{path} {name}" if path.startswith("-") else f"{path}.{name}"


def point_from_params(space: SearchSpace, params: Any, path: str) -> Point:
    """The point of ``space`` whose params are ``params`` ({arg name: value}); GmlConfigError naming
    ``<path>.<arg>`` (``<option> <arg>`` for a command-line ``path`` such as ``--params``) for an unknown arg, a
    missing one or a value outside its dimension."""
    mapping(path, params)
    known: List[str] = []
    for dim in space.dimensions:
        known.extend(dim.param_names())
    for name in params:
        if name not in known:
            raise GmlConfigError(_arg_path(path, name), f"not a searched arg; args: {', '.join(known)}")
    point: Point = {}
    for dim in space.dimensions:
        if isinstance(dim, Nested):
            point[dim.key] = _bundle(dim, params, path)
            continue
        if dim.key not in params:
            raise GmlConfigError(_arg_path(path, dim.key), "is missing: a configuration sets every searched arg")
        where = _arg_path(path, dim.key)
        value = params[dim.key]
        point[dim.key] = (_choice_value(dim, value, where) if isinstance(dim, ChoiceDimension)
                          else _range_value(dim, value, where))
    return point


def parse_initial_points(value: Any, space: SearchSpace, path: str = "searcher.initial_points") -> List[Point]:
    """``searcher.initial_points``: a list of params mappings, each a configuration of ``space``; no repeats."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(path, value, "a list of configurations such as [{lr: 0.1, epochs: 3}]")
    points: List[Point] = []
    for i, params in enumerate(value):
        point = point_from_params(space, params, f"{path}[{i}]")
        if point in points:
            raise GmlConfigError(f"{path}[{i}]", f"repeats {path}[{points.index(point)}]")
        points.append(point)
    return points


def parse_cli_params(items: Sequence[str], option: str = "--params") -> Dict[str, Any]:
    """``['lr=0.05', 'wd=1e-4']`` as ``{'lr': 0.05, 'wd': 0.0001}`` (values read as YAML scalars, never run)."""
    params: Dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise invalid(option, item, "NAME=VALUE pairs such as lr=0.05")
        if name in params:
            raise GmlConfigError(f"{option} {name}", "is given twice")
        try:
            value = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            value = text
        params[name] = value
    return params
