"""``search-ctl export --optuna URL``: a task as an Optuna study in any Optuna storage (optuna-dashboard opens it).

- Distributions come from the task's search space (``run_config.yaml``): Int and Real as Optuna's
  IntDistribution/FloatDistribution (the same mapping as TPESearcher's), Categorical and Nested as a
  CategoricalDistribution over the choices (a list or dict choice as its JSON text).
- One trial per job, in id order, with its parameters (keyed by search arg), value (the reward), intermediate values
  (the reward's curve by step), start/end times and state: SUCCEEDED -> COMPLETE (FAIL without a reward),
  EARLY_STOPPED -> PRUNED (its value is the reward when stopped), RUNNING -> RUNNING, PENDING -> WAITING, ERROR,
  KILLED, TIMEOUT and FILTERED -> FAIL. User attributes keep gml's view: ``gml_job_id``, ``gml_status``,
  ``gml_stop_reason``, ``gml_params``.
- The study is named after the task unless told otherwise; an existing study of that name is an error (nothing is
  overwritten).
"""
from __future__ import annotations

import datetime
import json
import math
import warnings
from typing import Any, Dict, List, Optional, Tuple

import yaml

from ..errors import GmlConfigError
from ..search.space.dimensions import Categorical, Nested
from ..search.space.parse import parse_search_args
from ..search.task.jobs import JobStatus
from ..search.task.workspace import TaskPaths
from .extras import require
from .job_facts import job_facts
from .task_data import read_store


def _choice_label(choice: Any) -> Any:
    if choice is None or isinstance(choice, (bool, int, float, str)):
        return choice
    return json.dumps(choice, sort_keys=True)


def space_distributions(paths: TaskPaths) -> Dict[str, Any]:
    """Optuna distributions of the task's search space, keyed by dimension key."""
    from optuna.distributions import CategoricalDistribution
    from ..search.space.encoding import OptunaEncoding
    with open(paths.run_config) as f:
        raw = yaml.safe_load(f)
    space = parse_search_args(raw["task"]["search_args"])
    distributions = dict(OptunaEncoding(space).distributions)     # Int/Real as TPESearcher maps them
    for d in space.dimensions:
        if isinstance(d, (Categorical, Nested)):
            distributions[d.key] = CategoricalDistribution([_choice_label(c) for c in d.choices])
    return distributions


def _when(t: Optional[float]) -> Optional[datetime.datetime]:
    return None if t is None else datetime.datetime.fromtimestamp(t)


def optuna_trials(root: str, name: str) -> Tuple[str, str, List[Any]]:
    """``(direction, reward name, trials)``: the task's jobs as Optuna FrozenTrials, in job id order."""
    require("optuna", "search-ctl export --optuna")
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import FrozenTrial, TrialState
    paths = TaskPaths(root, name)
    distributions = space_distributions(paths)
    with read_store(paths) as store:
        jobs = store.jobs()
        mode = store.get_meta("optimize_mode") or "maximize"
        reward_name = store.get_meta("reward_attribute") or "reward"
        curves = {j.id: store.scalars(j.id, reward_name) for j in jobs}
    trials = []
    for number, job in enumerate(jobs):
        reward = job.reward if job.reward is not None and math.isfinite(job.reward) else None
        if job.status == JobStatus.SUCCEEDED:
            state = TrialState.COMPLETE if reward is not None else TrialState.FAIL
        elif job.status == JobStatus.EARLY_STOPPED:
            state = TrialState.PRUNED
        elif job.status == JobStatus.RUNNING:
            state = TrialState.RUNNING
        elif job.status == JobStatus.PENDING:
            state = TrialState.WAITING
        else:
            state = TrialState.FAIL
        params = {key: _choice_label(value) if isinstance(distributions[key], CategoricalDistribution) else value
                  for key, value in job.point.items()}
        facts = job_facts(job)
        trials.append(FrozenTrial(
            number=number, trial_id=number, state=state,
            value=None if state in (TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING) else reward,
            datetime_start=None if state == TrialState.WAITING else _when(job.start_time or job.created_at),
            datetime_complete=_when(job.end_time) if state.is_finished() else None,
            params=params, distributions={k: distributions[k] for k in params},
            user_attrs={"gml_job_id": job.id, "gml_status": job.status.value, "gml_stop_reason": facts.stop_reason,
                        "gml_params": json.loads(json.dumps(job.params, default=str))},
            system_attrs={},
            intermediate_values={step: value for _, step, value in curves[job.id]
                                 if value is not None and math.isfinite(value)}))
    return mode, reward_name, trials


def export_optuna(root: str, name: str, storage_url: str, study_name: Optional[str] = None) -> int:
    """Write the study; returns the number of trials."""
    optuna = require("optuna", "search-ctl export --optuna")
    if "://" not in storage_url:
        raise GmlConfigError("--optuna", f"expected a storage URL like sqlite:///study.db, got {storage_url!r}")
    mode, reward_name, trials = optuna_trials(root, name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            study = optuna.create_study(storage=storage_url, study_name=study_name or name, direction=mode)
        except optuna.exceptions.DuplicatedStudyError:
            raise GmlConfigError("--optuna", f"a study named {study_name or name!r} exists already in {storage_url}; "
                                             f"delete it or write to another storage") from None
        except (ValueError, ImportError) as err:
            raise GmlConfigError("--optuna", f"optuna cannot open the storage {storage_url!r}: {err}") from None
        study.set_user_attr("gml_task", name)
        study.set_user_attr("gml_reward_attribute", reward_name)
        study.add_trials(trials)
    return len(trials)
