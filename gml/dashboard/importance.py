"""Which parameters matter: Optuna's fANOVA importance evaluator over a task's scored jobs.

The jobs become trials of an in-memory Optuna study (numbers as FloatDistribution over their observed range,
anything else as a CategoricalDistribution over the observed values; a parameter with one value is left out, it
cannot explain anything). Jobs with a reward count (SUCCEEDED and EARLY_STOPPED: an early-stopped job's reward is
its value when stopped). fANOVA fits a random forest, so at most :data:`MAX_TRIALS` jobs are used, the latest ones,
and its trees are at most :data:`MAX_DEPTH` deep (Optuna's default is 64): on 1,000 jobs of
``benchmarks/dashboard_load.py``'s task, depth 8 gave the same shares to 0.003 in a third of the time.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, List

from ..search.task.jobs import Job, JobStatus
from .extras import require
from .labels import display_value

MAX_TRIALS = 1000
MAX_DEPTH = 8
METHOD = f"fANOVA (optuna.importance.FanovaImportanceEvaluator: 64 trees of depth <= {MAX_DEPTH}, seed 0)"


def parameter_importance(jobs: List[Job], params: List[Dict[str, Any]], mode: str) -> Dict[str, Any]:
    """``{"method", "trials", "values": {param: share}}``; ``values`` is empty and ``note`` says why when there
    is too little to judge."""
    optuna = require("optuna", "parameter importance")
    require("sklearn", "parameter importance (fANOVA)")
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    scored = [j for j in jobs if j.reward is not None and j.status in (JobStatus.SUCCEEDED, JobStatus.EARLY_STOPPED)]
    scored = scored[-MAX_TRIALS:]
    distributions = {}
    for column in params:
        values = [display_value(j.params[column["name"]]) for j in scored if column["name"] in j.params]
        if len(set(values)) < 2:
            continue
        if column["kind"] == "number":
            distributions[column["name"]] = FloatDistribution(float(min(values)), float(max(values)))
        else:
            distributions[column["name"]] = CategoricalDistribution(sorted(set(values), key=str))
    result: Dict[str, Any] = {"method": METHOD, "trials": 0, "values": {}}
    if not distributions:
        result["note"] = "no parameter took two different values among the scored jobs"
        return result
    trials = []
    for job in scored:
        labels = {n: display_value(job.params[n]) for n in distributions if n in job.params}
        if len(labels) != len(distributions):
            continue
        values = {n: float(v) if isinstance(distributions[n], FloatDistribution) else v for n, v in labels.items()}
        trials.append(optuna.trial.create_trial(params=values, distributions=distributions, value=job.reward))
    if len(trials) < 2:
        result["note"] = f"{len(trials)} scored job(s) with every parameter: fANOVA needs at least 2"
        return result
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(direction=mode)
        study.add_trials(trials)
        values = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(n_trees=64, max_depth=MAX_DEPTH, seed=0))
    result["trials"] = len(trials)
    result["values"] = {name: float(share) for name, share in values.items()}
    return result
