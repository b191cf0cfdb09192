"""One convention for checking user input (config keys, class keywords): each helper checks one value and either
returns it or raises GmlConfigError ``<key path>: expected <expectation>, got <value>``.

Key paths. Code that reads the config itself names the full path (``scheduler.parallel_size``). A class built from
a config mapping by a registry (searchers, assessors, criteria, launchers) cannot know where that mapping sits, so
it names its keyword relative to it, as ``Keyword("population_size")``; the error is then a ``KeywordError`` and
the builder (``Registry.build``, or any code building such a class) supplies the prefix with ``err.under(path)``:
``searcher.population_size: expected an integer >= 2, got 1``.

Only ``gml.errors`` is imported, so launchers and searchers alike can use it.
"""
from __future__ import annotations

import difflib
import math
import numbers
from typing import Any, Callable, Iterable, List, Optional, Sequence

from .errors import GmlConfigError


class Keyword(str):
    """A key path relative to the config mapping a class is built from (its keyword name)."""


class KeywordError(GmlConfigError):
    """A bad keyword of a class built from a config mapping: ``path`` is relative to that mapping."""

    def under(self, prefix: str) -> GmlConfigError:
        """The same error with ``prefix`` (the mapping's key path) put before the path (``Keyword("")`` names
        the mapping itself)."""
        path = ".".join(p for p in (prefix, self.path) if p)
        return GmlConfigError(path, self.message)


def config_error(path: str, message: str) -> GmlConfigError:
    """The error for ``path``: a KeywordError for a ``Keyword`` path, a GmlConfigError otherwise."""
    return (KeywordError if isinstance(path, Keyword) else GmlConfigError)(str(path), message)


def invalid(path: str, value: Any, expectation: str) -> GmlConfigError:
    """``<path>: expected <expectation>, got <value!r>`` (to raise)."""
    return config_error(path, f"expected {expectation}, got {value!r}")


def is_integer(value: Any) -> bool:
    """An int that is not a bool (YAML's ``true`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _bounds_text(least: Any, above: Any, most: Any) -> str:
    parts = []
    if least is not None and most is not None:
        return f" in [{least}, {most}]"
    if least is not None:
        parts.append(f">= {least}")
    if above is not None:
        parts.append(f"> {above}")
    if most is not None:
        parts.append(f"<= {most}")
    return (" " + " and ".join(parts)) if parts else ""


def _in_bounds(value: Any, least: Any, above: Any, most: Any) -> bool:
    return ((least is None or value >= least) and (above is None or value > above)
            and (most is None or value <= most))


def integer(path: str, value: Any, *, least: Optional[int] = None, most: Optional[int] = None,
            optional: bool = False) -> Optional[int]:
    """``value`` if it is an integer (not a bool) within the bounds; None passes when ``optional``."""
    if value is None and optional:
        return None
    if not is_integer(value) or not _in_bounds(value, least, None, most):
        raise invalid(path, value, "an integer" + _bounds_text(least, None, most))
    return value


def number(path: str, value: Any, *, least: Optional[float] = None, above: Optional[float] = None,
           most: Optional[float] = None, optional: bool = False, what: str = "a number") -> Optional[float]:
    """``value`` if it is a real number (not a bool, not NaN; infinities pass unless a bound excludes them) within
    the bounds; None passes when ``optional``. ``what`` names the quantity in the message (``"seconds"``)."""
    if value is None and optional:
        return None
    if not is_number(value) or math.isnan(value) or not _in_bounds(value, least, above, most):
        raise invalid(path, value, what + _bounds_text(least, above, most))
    return value


def boolean(path: str, value: Any, *, optional: bool = False) -> Optional[bool]:
    """``value`` if it is true or false; None passes when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise invalid(path, value, "true or false")
    return value


def one_of(path: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise invalid(path, value, "one of " + ", ".join(str(c) for c in choices))
    return value


def mapping(path: str, value: Any, *, optional: bool = False) -> Optional[dict]:
    """``value`` if it is a mapping; None passes when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, dict):
        raise invalid(path, value, "a mapping")
    return value


def string(path: str, value: Any, *, optional: bool = False) -> Optional[str]:
    """``value`` stripped, if it is a non-empty string; None passes when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(path, value, "a non-empty string")
    return value.strip()


def nearest(name: str, candidates: Iterable[str], *, limit: int = 5) -> List[str]:
    """The candidates spelled most like ``name`` (a misspelt module or type name), best first; at most ``limit``."""
    return difflib.get_close_matches(str(name), [c for c in candidates if c], n=limit, cutoff=0.5)


def nearest_hint(name: str, candidates: Iterable[str], *, shown: Callable[[str], str] = str) -> str:
    """``"; nearby names: a, b"`` for the :func:`nearest` candidates (each written as ``shown(candidate)``), or
    ``""`` when none is close: the tail of an unknown-name message."""
    near = nearest(name, candidates)
    return f"; nearby names: {', '.join(shown(c) for c in near)}" if near else ""
