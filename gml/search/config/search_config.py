"""The search config (search_config.yaml) as validated objects.

``load_search_config`` reads and checks everything that can be checked without running anything: the shape of
every block, the search space, the template's placeholders against the args, and that File args' files exist.
Classes named by ``type`` (searcher, assessor, criteria, launcher) are checked when the controller builds them,
still before anything is written under ``.search-run/``. Every mistake raises GmlConfigError with a key path.
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import yaml

from ...errors import GmlConfigError
from ...validation import boolean, integer, invalid, mapping, one_of
from . import template as templating
from .file_args import check_file_exists, check_inner_keys
from ..ingest.sources import SourceSpec, parse_metrics_from
from ..space.parse import parse_search_args
from ..space.dimensions import Nested, SearchSpace
from ..constraints import Constraint, parse_constraints
from ..objectives import Objective, parse_objectives
from ..warm_start import parse_initial_points

TOP_LEVEL = ("task", "searcher", "scheduler", "scalars", "generate_log", "custom_imports", "pavi", "use_spe",
             "metrics_from", "step_attribute")
TASK_KEYS = ("template", "search_args")
SEARCHER_KEYS_OWN = ("type", "reward_attribute", "optimize_mode", "reward_from", "on_missing_reward")
SEARCHER_KEYS_CONTROLLER = ("initial_points", "constraints")   # read by the controller, not passed to the searcher
SCHEDULER_KEYS = ("type", "parallel_size", "stop_criterion", "assessor", "filter_criterion", "launcher")
OPTIMIZE_MODES = ("maximize", "minimize")
REWARD_FROM = ("last", "best")


class MissingRewardPolicy(enum.Enum):
    """What a search does when a job ends without the reward attribute and no job has reported it."""
    WARN = "warn"      # one loud warning (stderr and the task), the search goes on
    FAIL = "fail"      # the warning, then the search ends FAILED


@dataclass
class SearcherConfig:
    type: str = "GridSearcher"
    reward_attribute: str = "acc"
    optimize_mode: str = "maximize"
    reward_from: str = "last"          # the job's reward: its last reported value, or its best
    on_missing_reward: MissingRewardPolicy = MissingRewardPolicy.WARN
    kwargs: Dict[str, Any] = field(default_factory=dict)
    initial_points: List[Dict[str, Any]] = field(default_factory=list)   # points run first (gml.search.warm_start)
    constraints: List[Constraint] = field(default_factory=list)         # on reported scalars (gml.search.constraints)
    objectives: List[Objective] = field(default_factory=list)   # all objectives; the first is reward_attribute


@dataclass
class SchedulerConfig:
    type: str = "FIFO"
    parallel_size: int = 1
    stop_criterion: Any = field(default_factory=dict)
    assessor: Optional[Dict[str, Any]] = None
    filter_criterion: List[Dict[str, Any]] = field(default_factory=list)
    launcher: Dict[str, Any] = field(default_factory=lambda: {"type": "local"})


@dataclass
class SearchConfig:
    template: str
    space: SearchSpace
    searcher: SearcherConfig
    scheduler: SchedulerConfig
    scalars: List[str]
    generate_log: bool
    raw: Dict[str, Any]
    base_dir: str            # File paths are resolved against this directory (the project root)
    custom_imports: List[str] = field(default_factory=list)   # modules that register the user's classes
    metrics_from: List[SourceSpec] = field(default_factory=list)   # where jobs' scalars are read besides gml's

    @property
    def collected_scalars(self) -> List[str]:
        """What is collected from jobs: ``scalars`` plus the reward attribute and the constrained scalars."""
        names = list(self.scalars)
        if self.searcher.reward_attribute not in names:
            names.insert(0, self.searcher.reward_attribute)
        for extra in [o.name for o in self.searcher.objectives] + [c.scalar for c in self.searcher.constraints]:
            if extra not in names:
                names.append(extra)
        return names


ROOT = "<config>"   # the key path of the whole config, when no file name is known


def _mapping(value: Any, path: str, allowed, root: bool = False) -> Dict[str, Any]:
    """``value`` as a mapping ({} for None) whose keys are all ``allowed`` (None: any). For the ``root`` mapping,
    ``path`` names the config itself and its keys are named without it."""
    if value is None:
        return {}
    mapping(path, value)
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise GmlConfigError(str(key) if root else f"{path}.{key}",
                                     f"unknown key; valid: {', '.join(allowed)}")
    return value


def _parse_searcher(raw: Dict[str, Any]) -> SearcherConfig:
    s = _mapping(raw.get("searcher"), "searcher", None)
    cfg = SearcherConfig(**{k: s[k] for k in SEARCHER_KEYS_OWN if k in s},
                         kwargs={k: v for k, v in s.items()
                                 if k not in SEARCHER_KEYS_OWN and k not in SEARCHER_KEYS_CONTROLLER})
    if not isinstance(cfg.type, str) or not cfg.type:
        raise invalid("searcher.type", cfg.type, "a searcher name")
    # several objectives (gml.search.objectives): the first is the reward everywhere one number is needed
    cfg.objectives = parse_objectives(cfg.reward_attribute, cfg.optimize_mode)
    cfg.reward_attribute, cfg.optimize_mode = cfg.objectives[0].name, cfg.objectives[0].mode
    one_of("searcher.reward_from", cfg.reward_from, REWARD_FROM)
    if not isinstance(cfg.on_missing_reward, MissingRewardPolicy):
        policies = [p.value for p in MissingRewardPolicy]
        cfg.on_missing_reward = MissingRewardPolicy(one_of("searcher.on_missing_reward", cfg.on_missing_reward,
                                                           policies))
    return cfg


def _as_list_of_mappings(value: Any, path: str) -> List[Dict[str, Any]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "type" not in item:
            raise invalid(f"{path}[{i}]" if isinstance(value, list) else path, item, "a mapping with a 'type' key")
    return items


def _parse_scheduler(raw: Dict[str, Any]) -> SchedulerConfig:
    s = _mapping(raw.get("scheduler"), "scheduler", SCHEDULER_KEYS)
    cfg = SchedulerConfig()
    cfg.type = s.get("type", "FIFO")
    if cfg.type != "FIFO":
        raise GmlConfigError("scheduler.type", f"unknown scheduler {cfg.type!r}; valid: FIFO")
    cfg.parallel_size = integer("scheduler.parallel_size", s.get("parallel_size", 1), least=1)
    stop = s.get("stop_criterion") or {}
    if not isinstance(stop, (dict, list)):
        raise invalid("scheduler.stop_criterion", stop, "a mapping or a list")
    cfg.stop_criterion = stop
    assessor = s.get("assessor")
    if assessor is not None and (not isinstance(assessor, dict) or "type" not in assessor):
        raise invalid("scheduler.assessor", assessor, "a mapping with a 'type' key")
    cfg.assessor = assessor
    cfg.filter_criterion = _as_list_of_mappings(s.get("filter_criterion"), "scheduler.filter_criterion")
    launcher = s.get("launcher", {"type": "local"})
    if isinstance(launcher, str):
        launcher = {"type": launcher}
    if not isinstance(launcher, dict):
        raise invalid("scheduler.launcher", launcher, "a mapping such as {type: local}")
    cfg.launcher = {"type": "local", **launcher}
    return cfg


def _parse_scalars(raw: Dict[str, Any]) -> List[str]:
    if "scalars" in raw and "pavi" in raw:
        raise GmlConfigError("pavi", "give 'scalars' or the older 'pavi.scalars', not both")
    if "pavi" in raw:
        pavi = _mapping(raw["pavi"], "pavi", None)
        value, path = pavi.get("scalars", []), "pavi.scalars"
    else:
        value, path = raw.get("scalars", []), "scalars"
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise invalid(path, value, "a list of scalar names")
    return list(value)


def _check_template_args(template: str, space: SearchSpace) -> None:
    """Every placeholder has an arg that sets it in every configuration, and every top-level arg is used."""
    used = templating.placeholders(template)
    known = set(space.arg_names())
    for name in used:
        if name not in known:
            raise GmlConfigError("task.template", f"placeholder {{{name}}} has no arg in task.search_args; "
                                                  f"args: {', '.join(sorted(known)) or '(none)'}")
    for dim in space.dimensions:
        if isinstance(dim, Nested) and not dim.prefix:
            for j, bundle in enumerate(dim.choices):
                missing = [k for k in used if k in dim.bundle_keys and k not in bundle]
                if missing:
                    raise GmlConfigError(f"{space.sources[dim.key]}.data[{j}]",
                                         f"this bundle does not set {missing[0]!r}, used as {{{missing[0]}}} "
                                         f"in task.template")
    inner = {d.key for f in space.files for d in f.dimensions}
    for dim in space.dimensions:
        if dim.key in inner:
            continue
        for name in dim.param_names():
            if name not in used:
                raise GmlConfigError(space.sources[dim.key], f"arg {name!r} is never used in task.template "
                                                             f"(add {{{name}}} to the template or remove the arg)")
    for file_arg in space.files:
        if file_arg.name not in used:
            raise GmlConfigError(space.sources[file_arg.name], f"File arg {file_arg.name!r} is never used in "
                                                               f"task.template (add {{{file_arg.name}}})")


def parse_search_config(raw: Any, base_dir: str, source: str = ROOT) -> SearchConfig:
    """Validate a loaded config mapping. ``base_dir`` is where relative File paths are looked up; ``source``
    names the config itself in errors about its top level (the file's path, or ``<config>``)."""
    if raw is not None and not isinstance(raw, dict):
        raise invalid(source, raw, f"a mapping of top-level keys ({', '.join(TOP_LEVEL[:3])}, ...)")
    raw = _mapping(raw, source, TOP_LEVEL, root=True)
    task = _mapping(raw.get("task"), "task", TASK_KEYS)
    if "task" not in raw:
        raise GmlConfigError("task", "is required (with task.template and task.search_args)")
    for key in TASK_KEYS:
        if key not in task:
            raise GmlConfigError(f"task.{key}", "is required")
    template = templating.check_template(task["template"])
    space = parse_search_args(task["search_args"])
    for file_arg in space.files:
        file_path = os.path.join(base_dir, file_arg.file)
        check_file_exists(file_path, f"{space.sources[file_arg.name]}.file")
        check_inner_keys(file_path, file_arg, space.sources[file_arg.name], base_dir)
    _check_template_args(template, space)
    custom_imports = raw.get("custom_imports") or []
    if not isinstance(custom_imports, list) or not all(isinstance(m, str) and m for m in custom_imports):
        raise invalid("custom_imports", custom_imports, "a list of module names")
    generate_log = boolean("generate_log", raw.get("generate_log", True))
    searcher = _parse_searcher(raw)
    searcher.initial_points = parse_initial_points((raw.get("searcher") or {}).get("initial_points"), space)
    searcher.constraints = parse_constraints((raw.get("searcher") or {}).get("constraints"))
    metrics_from = parse_metrics_from(raw.get("metrics_from"), raw.get("step_attribute"),
                                      searcher.reward_attribute)
    return SearchConfig(template=template, space=space, searcher=searcher,
                        scheduler=_parse_scheduler(raw), scalars=_parse_scalars(raw), generate_log=generate_log,
                        raw=raw, base_dir=os.path.abspath(base_dir), custom_imports=custom_imports,
                        metrics_from=metrics_from)


def load_search_config(path: str, base_dir: Optional[str] = None) -> SearchConfig:
    """Read and validate a search config file; File paths resolve against ``base_dir`` (default: cwd)."""
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise GmlConfigError(path, "the search config file does not exist") from None
    except yaml.YAMLError as err:
        raise GmlConfigError(path, f"not valid YAML: {err}") from None
    return parse_search_config(raw, base_dir or os.getcwd(), source=path)
