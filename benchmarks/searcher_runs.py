"""One run of a searcher on a benchmark problem whose space is written as gml's ``search_args`` (a list of arg
dicts: ``{"type": "Real", "name": "lr", "data": [1e-4, 1.0], "log": True}``, Int with an optional ``step``,
Categorical), for search_quality.py and multi_objective_quality.py.

Each ``*_values`` function evaluates ``f(params)`` once per trial and returns the values in the order evaluated
(a float per trial, or a list of floats with several objectives): gml's searchers driven through the controller's
protocol, Optuna's samplers through ``study.optimize`` and ``suggest_args``, and the independent uniform / log-uniform draws of the
``random`` baseline.
"""
from __future__ import annotations

import math
import statistics
import warnings


def gml_values(kind: str, kwargs: dict, seed: int, args, f, trials: int, **build_kwargs) -> list:
    """Build gml's searcher ``kind`` (with ``kwargs`` and ``seed``) on ``args`` and drive it as the controller does
    (suggest, mark_issued, observe) for ``trials`` evaluations of ``f``; ``build_kwargs`` (``optimize_mode``,
    ``directions``) go to the searcher's constructor."""
    from gml.registry import SEARCHERS
    from gml.search import searchers  # noqa: F401
    from gml.search.space.parse import parse_search_args
    searcher = SEARCHERS.build({"type": kind, "seed": seed, **kwargs}, "searcher", space=parse_search_args(args),
                               **build_kwargs)
    values = []
    for _ in range(trials):
        point = searcher.suggest()
        searcher.mark_issued(point)
        values.append(f(point))
        searcher.observe(point, values[-1])
    return values


def suggest_args(trial, args) -> dict:
    """One point of the benchmark's search_args (gml's arg dicts) asked from an Optuna trial."""
    p = {}
    for a in args:
        if a["type"] == "Real":
            p[a["name"]] = trial.suggest_float(a["name"], *a["data"], log=a.get("log", False))
        elif a["type"] == "Int":
            p[a["name"]] = trial.suggest_int(a["name"], *a["data"], step=a.get("step", 1))
        else:
            p[a["name"]] = trial.suggest_categorical(a["name"], a["data"])
    return p


def optuna_values(sampler: str, sampler_kwargs: dict, seed: int, args, f, trials: int, **study_kwargs) -> list:
    """Optuna's ``study.optimize`` with ``optuna.samplers.<sampler>(seed=seed, **sampler_kwargs)`` for ``trials``
    evaluations of ``f`` at points asked through ``suggest_args``; ``study_kwargs`` (``direction`` or
    ``directions``) go to ``optuna.create_study``. Optuna's log is cut to errors and its warnings are silenced
    (CmaEsSampler logs and warns for each categorical arg it samples independently)."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    values = []

    def objective(trial):
        values.append(f(suggest_args(trial, args)))
        return tuple(values[-1]) if isinstance(values[-1], list) else values[-1]

    study = optuna.create_study(sampler=getattr(optuna.samplers, sampler)(seed=seed, **sampler_kwargs),
                                **study_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=trials)
    return values


def random_values(args, f, seed: int, trials: int) -> list:
    """``f`` at ``trials`` independent draws from ``args``: Real uniform (log-uniform with ``log``), Int uniform
    over its steps, Categorical uniform; numpy's generator seeded with ``seed``."""
    import numpy as np
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(trials):
        p = {}
        for a in args:
            if a["type"] == "Real":
                lo, hi = a["data"]
                p[a["name"]] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))) if a.get("log")
                                     else rng.uniform(lo, hi))
            elif a["type"] == "Int":
                lo, hi = a["data"]
                p[a["name"]] = int(lo + a.get("step", 1) * rng.integers(0, (hi - lo) // a.get("step", 1) + 1))
            else:
                p[a["name"]] = a["data"][int(rng.integers(len(a["data"])))]
        values.append(f(p))
    return values


def quartiles(xs):
    """(q25, median, q75) of ``xs`` (inclusive method; one value is all three)."""
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def one_sided_p(xs, ys, alternative: str) -> str:
    """The one-sided Mann-Whitney U p-value that ``xs`` is ``alternative`` ('less' or 'greater') than ``ys``,
    formatted for a table; "" when either side has fewer than two values."""
    from scipy.stats import mannwhitneyu

    if len(xs) < 2 or len(ys) < 2:
        return ""
    return f"{mannwhitneyu(xs, ys, alternative=alternative).pvalue:.3f}"
