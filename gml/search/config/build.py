"""Build a search's parts from its validated config, before anything is written to disk.

Every class named by ``type`` (searcher, assessor, stop/filter criteria, launcher) is looked up in its registry
and constructed here, so a wrong name or keyword fails with a key path before the task directory exists.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import List, Optional

from ... import launchers  # noqa: F401  (registers the built-in launchers)
from ...errors import GmlConfigError
from ...launchers.base import Launcher
from ...registry import ASSESSORS, LAUNCHERS, SEARCHERS
from .. import assessors, searchers  # noqa: F401  (register the built-ins)
from ..assessors.base import Assessor
from .search_config import SearchConfig
from ..criteria import FilterCriterion, StopCriterion, build_filters, build_stop_criteria
from ..searchers.base import Searcher


@dataclass
class Components:
    searcher: Searcher
    stop_criteria: List[StopCriterion]
    job_time_limit: Optional[float]
    filters: List[FilterCriterion]
    assessor: Optional[Assessor]
    launcher: Launcher   # built but not yet connected: launchers contact their backend on first use


def build_searcher(cfg: SearchConfig) -> Searcher:
    """The searcher; with several objectives only a ``multi_objective`` one, given them all as ``directions``."""
    spec = {"type": cfg.searcher.type, **cfg.searcher.kwargs}
    objectives = cfg.searcher.objectives
    if len(objectives) > 1:
        cls = SEARCHERS.get(cfg.searcher.type, "searcher.type")
        if not getattr(cls, "multi_objective", False):
            several = [n for n in SEARCHERS.names if getattr(SEARCHERS.get(n), "multi_objective", False)]
            raise GmlConfigError("searcher.reward_attribute",
                                 f"{cfg.searcher.type} optimises one objective, got {len(objectives)} "
                                 f"({', '.join(o.name for o in objectives)}); give one reward_attribute, or use a "
                                 f"multi-objective searcher: {', '.join(several)}")
    return SEARCHERS.build(spec, "searcher", space=cfg.space, optimize_mode=cfg.searcher.optimize_mode,
                           directions=[o.mode for o in objectives])


def build_assessor(cfg: SearchConfig) -> Optional[Assessor]:
    if cfg.scheduler.assessor is None:
        return None
    assessor = ASSESSORS.build(cfg.scheduler.assessor, "scheduler.assessor",
                               optimize_mode=cfg.searcher.optimize_mode)
    if not isinstance(assessor, Assessor):
        raise GmlConfigError("scheduler.assessor.type", f"{cfg.scheduler.assessor['type']!r} is not an Assessor: "
                                                        f"subclass gml.search.assessors.Assessor")
    return assessor


def build_launcher(cfg: SearchConfig) -> Launcher:
    launcher = LAUNCHERS.build(cfg.scheduler.launcher, "scheduler.launcher")
    if not isinstance(launcher, Launcher):
        raise GmlConfigError("scheduler.launcher.type", f"{cfg.scheduler.launcher['type']!r} is not a Launcher")
    return launcher


def import_custom_modules(cfg: SearchConfig) -> None:
    """Import ``custom_imports`` (their decorators register the user's classes); the project root is importable."""
    if cfg.base_dir not in sys.path:
        sys.path.insert(0, cfg.base_dir)
    for i, name in enumerate(cfg.custom_imports):
        try:
            importlib.import_module(name)
        except Exception as err:   # the user's module may fail in any way: report it as a config error
            raise GmlConfigError(f"custom_imports[{i}]", f"cannot import {name!r}: {type(err).__name__}: {err}") \
                from None


def build_components(cfg: SearchConfig) -> Components:
    """Build every part of the search from ``cfg``; raises GmlConfigError with a key path for any mistake."""
    import_custom_modules(cfg)
    searcher = build_searcher(cfg)
    if not isinstance(searcher, Searcher):
        raise GmlConfigError("searcher.type", f"{cfg.searcher.type!r} is not a Searcher")
    criteria, per_job = build_stop_criteria(cfg.scheduler.stop_criterion)
    filters = build_filters(cfg.scheduler.filter_criterion)
    assessor = build_assessor(cfg)
    return Components(searcher, criteria, per_job, filters, assessor, build_launcher(cfg))
