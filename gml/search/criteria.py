"""Stop criteria (when the whole search ends) and filter criteria (which configurations are not run).

A StopCriterion is consulted at four points of the controller's loop: ``before_run`` (once, before the first
launch, also on resume), ``before_iter`` (each cycle, before launching), ``after_iter`` (each cycle, after a job
finished) and ``after_run`` (once, when the search ends; its answer is ignored). A hook returns None to go on, or
a ``Stop``: ``Stop.DRAIN`` stops launching and lets running jobs finish, ``Stop.END`` also ends them (KILLED).
A plain True counts as DRAIN.

A FilterCriterion's ``filter(candidate)`` returns True to run the configuration, False to drop it (recorded as
FILTERED, never proposed again).

The built-in ``stop_criterion`` keys (docs/search-config.md) map to MaxTries (DRAIN), TimeLimits (END) and MaxReward
(END); ``time_limits_per_job`` is enforced per job by the controller and by launchers with a scheduler.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ..errors import GmlConfigError
from ..registry import FILTER_CRITERIONS, STOP_CRITERIONS
from ..validation import Keyword, KeywordError, integer, invalid, number
from .config.durations import parse_duration


class Stop(enum.Enum):
    DRAIN = "drain"
    END = "end"


@dataclass
class SearchView:
    """What criteria see of a running search (a snapshot; read-only by convention)."""

    elapsed: float                # seconds the task's controllers have run, summed over resumes
    launched: int                 # configurations launched so far (filtered ones excluded)
    finished: int                 # jobs that ended
    running: int
    best_reward: Optional[float]
    optimize_mode: str


@dataclass
class Candidate:
    """A configuration about to be launched, as filters see it."""

    job_id: int
    point: Dict[str, Any]
    params: Dict[str, Any]


class StopCriterion:
    def before_run(self, view: SearchView) -> Optional[Stop]:
        return None

    def before_iter(self, view: SearchView) -> Optional[Stop]:
        return None

    def after_iter(self, view: SearchView) -> Optional[Stop]:
        return None

    def after_run(self, view: SearchView) -> None:
        return None

    def describe(self) -> str:
        return type(self).__name__


class FilterCriterion:
    def filter(self, candidate: Candidate) -> bool:
        return True


@STOP_CRITERIONS.register_module()
class MaxTries(StopCriterion):
    def __init__(self, max_tries: int):
        self.max_tries = integer(Keyword("max_tries"), max_tries, least=1)

    def before_iter(self, view):
        return Stop.DRAIN if view.launched >= self.max_tries else None

    before_run = before_iter

    def describe(self):
        return f"max_tries={self.max_tries} reached"


@STOP_CRITERIONS.register_module()
class TimeLimits(StopCriterion):
    def __init__(self, time_limits: Any):
        self.seconds = parse_duration(time_limits, Keyword("time_limits"))

    def before_iter(self, view):
        return Stop.END if self.seconds is not None and view.elapsed >= self.seconds else None

    before_run = before_iter

    def describe(self):
        return f"time_limits ({self.seconds:.0f}s) reached"


@STOP_CRITERIONS.register_module()
class MaxReward(StopCriterion):
    """Ends the search once a job's reward reaches ``max_reward`` (at or below it when minimizing)."""

    def __init__(self, max_reward: float):
        if isinstance(max_reward, str):      # YAML reads 1e-3 without a dot as a string
            try:
                max_reward = float(max_reward)
            except ValueError:
                raise invalid(Keyword("max_reward"), max_reward, "a number") from None
        self.max_reward = float(number(Keyword("max_reward"), max_reward))

    def after_iter(self, view):
        if view.best_reward is None or math.isinf(self.max_reward):
            return None
        reached = (view.best_reward >= self.max_reward if view.optimize_mode == "maximize"
                   else view.best_reward <= self.max_reward)
        return Stop.END if reached else None

    before_run = after_iter

    def describe(self):
        return f"max_reward={self.max_reward:g} reached"


@FILTER_CRITERIONS.register_module()
class DropParams(FilterCriterion):
    """Drops configurations matching any of ``drop``: a list of ``{arg: value}`` mappings (all pairs must match),
    e.g. known out-of-memory combinations ``[{batch-size: 1024, model: large}]``."""

    def __init__(self, drop: List[Dict[str, Any]]):
        if not isinstance(drop, list) or not all(isinstance(d, dict) and d for d in drop):
            raise invalid(Keyword("drop"), drop, "a list of non-empty {arg: value} mappings")
        self.drop = drop

    def filter(self, candidate):
        return not any(all(candidate.params.get(k) == v for k, v in rule.items()) for rule in self.drop)


_BUILTIN_KEYS = {"max_tries": MaxTries, "time_limits": TimeLimits, "max_reward": MaxReward}


def build_stop_criteria(cfg: Any, path: str = "scheduler.stop_criterion") -> Tuple[List[StopCriterion],
                                                                                       Optional[float]]:
    """The criteria of a ``stop_criterion`` block and the per-job time limit (seconds or None).

    Accepts the built-in mapping (max_tries, time_limits, max_reward, time_limits_per_job), optionally with
    ``custom: [{type: ...}]``, or a list of ``{type: ...}`` mappings of registered criteria."""
    criteria: List[StopCriterion] = []
    per_job = None
    if isinstance(cfg, list):
        items, mapping = cfg, {}
    else:
        mapping = dict(cfg or {})
        items = mapping.pop("custom", []) or []
        if not isinstance(items, list):
            raise invalid(f"{path}.custom", items, "a list of {type: ...} mappings")
    for key, value in mapping.items():
        if key == "time_limits_per_job":
            per_job = parse_duration(value, f"{path}.{key}")
        elif key in _BUILTIN_KEYS:
            if value is None:
                continue
            if key == "max_tries" and isinstance(value, float) and math.isinf(value):
                continue
            try:
                criteria.append(_BUILTIN_KEYS[key](value))
            except KeywordError as err:      # the keyword is the key here
                raise err.under(path) from None
        else:
            raise GmlConfigError(f"{path}.{key}", "unknown key; valid: max_tries, time_limits, max_reward, "
                                                  "time_limits_per_job, custom")
    for i, item in enumerate(items):
        criteria.append(STOP_CRITERIONS.build(item, f"{path}[{i}]" if isinstance(cfg, list) else f"{path}.custom[{i}]"))
    return criteria, per_job


def build_filters(items: List[Dict[str, Any]], path: str = "scheduler.filter_criterion") -> List[FilterCriterion]:
    return [FILTER_CRITERIONS.build(item, f"{path}[{i}]") for i, item in enumerate(items)]
