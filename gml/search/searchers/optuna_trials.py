"""What the searchers built on an Optuna sampler (GPSearcher, CMAESSearcher) share: importing Optuna quietly,
checking their integer keywords, and turning gml points into Optuna trials (through ``OptunaEncoding``).

Scores are told as they are (``Searcher.score``: larger is better), to a study whose direction is maximize."""
from __future__ import annotations

from typing import Any, Optional

from ...errors import GmlConfigError
from ..space.encoding import import_extra
from .base import Point


def import_optuna(searcher: str) -> Any:
    """The optuna module (the ``searchers`` extra), its per-trial INFO log lines silenced."""
    optuna = import_extra("optuna", searcher, "optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def check_int(name: str, value: Any, least: int, allow_none: bool = False) -> None:
    """GmlConfigError at ``searcher.<name>`` unless ``value`` is an integer >= ``least`` (or None if allowed)."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise GmlConfigError(f"searcher.{name}", f"expected an integer >= {least}"
                                                 f"{' (or null)' if allow_none else ''}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise GmlConfigError(f"searcher.{name}", f"expected true or false, got {value!r}")


def make_trial(encoding, point: Point, value: Optional[float], system_attrs: Optional[dict] = None):
    """A FrozenTrial at ``point``: COMPLETE with ``value``, or RUNNING when ``value`` is None; None when the
    point is not in the space (``encoding.encode`` refuses it)."""
    import optuna
    from optuna.trial import TrialState
    params = encoding.encode(point)
    if params is None:
        return None
    state = TrialState.RUNNING if value is None else TrialState.COMPLETE
    return optuna.trial.create_trial(params=params, distributions=encoding.distributions, state=state,
                                     value=None if value is None else float(value), system_attrs=system_attrs)
