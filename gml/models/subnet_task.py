"""A subnet search as a gml task: the supernet's flat space as ``search_args``, candidates scored by gml jobs
through the normal controller (local / Slurm / Ray; resumable after the controller dies, visible in search-ctl).

- :func:`task_config`: the search config of such a task. Each job runs ``tools/search_subnet.py CONFIG CHECKPOINT
  --eval-args KEY=VALUE ...`` (one ``KEY=VALUE`` per leaf of the flat space) and reports ``acc``, ``flops`` and
  ``params``; ``acc`` is the reward.
- :class:`SubnetCostLimit`: the filter criterion that drops a candidate over a FLOPs/params limit before launch
  (recorded FILTERED, observed as failed by the searcher), computed in the controller from the config alone (no
  weights needed).
- :func:`task_candidates`: the scored candidates of the task, read from its store.
"""
from __future__ import annotations

import shlex
import sys
from typing import Any, Dict, List, Optional

from ..registry import FILTER_CRITERIONS
from ..search.criteria import FilterCriterion
from ..search.space.parse import dimension_arg
from ..validation import Keyword, mapping, number, one_of, string
from .space import choice_of, flat_space
from .subnet_search import Candidate

METRICS = ("flops", "params")


def parse_eval_args(items: List[str], path: str = "--eval-args") -> Dict[str, Any]:
    """``['KEY=VALUE', ...]`` -> a flat-space point; values are read as YAML scalars (16, 0.5, true, text)."""
    import yaml

    from ..errors import GmlConfigError
    point = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise GmlConfigError(path, f"expected KEY=VALUE, got {item!r}")
        point[key] = yaml.safe_load(text)
    return point


def task_config(search_space: Dict[str, Any], tool: str, config: str, checkpoint: str, searcher: Dict[str, Any],
                launcher: str, parallel: int, num_candidates: int, metric: str, limit: Optional[float],
                extra_args: List[str], cfg_options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The search config (a plain dict, written as YAML) of a subnet search task; see the module docstring."""
    flat = flat_space(search_space)
    fixed = [sys.executable, tool, config, checkpoint]
    template = " ".join(shlex.quote(p) for p in fixed).replace("{", "{{").replace("}", "}}")
    leaves = " ".join(f"'{key}={{{key}}}'" for key in flat.keys)
    rest = " ".join(shlex.quote(p) for p in extra_args).replace("{", "{{").replace("}", "}}")
    scheduler: Dict[str, Any] = {"parallel_size": parallel, "stop_criterion": {"max_tries": num_candidates},
                                 "launcher": {"type": launcher}}
    if limit is not None:
        scheduler["filter_criterion"] = [{"type": "gml.models.subnet_task.SubnetCostLimit", "config": config,
                                          "metric": metric, "limit": limit, "cfg_options": dict(cfg_options or {})}]
    return {"task": {"template": f"{template} --eval-args {leaves} {rest}".strip(),
                     "search_args": [dimension_arg(d) for d in flat.dimensions]},
            "searcher": dict(searcher, reward_attribute="acc", optimize_mode="maximize"),
            "scheduler": scheduler, "scalars": ["acc", "flops", "params"]}


@FILTER_CRITERIONS.register_module()
class SubnetCostLimit(FilterCriterion):
    """Runs a candidate only if its ``metric`` (flops or params, in the config's evaluator units) is <= ``limit``.
    ``config``: the supernet config (built once, on the first candidate, without weights)."""

    def __init__(self, config: str, limit: float, metric: str = "flops",
                 cfg_options: Optional[Dict[str, Any]] = None):
        self.config = string(Keyword("config"), config)
        self.limit = float(number(Keyword("limit"), limit, above=0))
        self.metric = one_of(Keyword("metric"), metric, METRICS)
        self.cfg_options = mapping(Keyword("cfg_options"), cfg_options, optional=True) or {}
        self._algorithm = None
        self._evaluator = None

    def cost(self, point: Dict[str, Any]) -> float:
        if self._algorithm is None:
            from .builder import load_config
            from .subnet import evaluator_from_cfg, load_supernet
            cfg = load_config(self.config, self.cfg_options)
            self._algorithm, self._evaluator = load_supernet(cfg, None), evaluator_from_cfg(cfg)
        mutator = self._algorithm.mutator
        mutator.set_choice(choice_of(mutator.search_space, point), "candidate")
        return float(self._evaluator.complexity(self._algorithm)[self.metric])

    def filter(self, candidate) -> bool:
        return self.cost(candidate.point) <= self.limit


def task_candidates(root: str, task: str, search_space: Dict[str, Any], metric: str) -> List[Candidate]:
    """Every job of the task that reported a reward, as a scored Candidate (metrics: acc, flops, params)."""
    from ..search.task.lifecycle import open_store
    from ..search.task.workspace import TaskPaths

    store = open_store(TaskPaths(root, task))
    try:
        out = []
        for job in store.jobs():
            if job.reward is None:
                continue
            metrics = {}
            for name in ("acc",) + METRICS:
                values = [v for _, _, v in store.scalars(job.id, name) if v is not None]
                if values:
                    metrics[name] = values[-1]
            out.append(Candidate(choice_of(search_space, job.point), metrics.get(metric, float("nan")),
                                 score=job.reward, metrics=metrics, generation=job.id))
        return out
    finally:
        store.close()
