"""How good are gml's searchers at finding good configurations in few trials, next to the libraries people use?

Problems (``--problems``):

- ``branin``: Branin (``skopt.benchmarks.branin``), 2 Real args, minimise; reported as regret to 0.397887;
- ``hartmann6``: Hartmann6 (``skopt.benchmarks.hart6``), 6 Real args in [0, 1], minimise; regret to -3.32237;
- ``mixed9``: Hartmann6 behind 9 mixed args, minimise; regret to -3.32237: four Real args in [0, 1], an Int
  ``k`` in [0, 19] (the fifth coordinate is 0.011652 + 0.05 k), a log Real ``lr`` in [1e-3, 1] (the sixth is
  (log10 lr + 3) / 3), a Categorical ``kind`` (a, b, c: Hartmann6 scaled by 1, 0.85, 0.7) and two args the value
  does not depend on (a Real and an Int with step 2). The optimum (kind a, k 6, lr 0.0937) lies on the grid;
- ``digits``: a real task: PCA + RBF SVC on scikit-learn's bundled digits (300 training / 1,497 validation images),
  maximise validation accuracy over C (log), gamma (log), PCA components (Int, step 8) and feature scaling
  (Categorical). C and gamma are rounded to 1/20 decade before training so results are cached by config.

Methods (``--methods``): gml's searchers driven through the controller's protocol (suggest, mark_issued,
observe): ``gml-random``, ``gml-skopt`` (SkoptSearcher, defaults), ``gml-evolution`` (EvolutionSearcher,
population_size 10 for a 50-trial budget), ``gml-evolution32`` (its defaults), ``gml-tpe`` (TPESearcher,
defaults), ``gml-gp`` (GPSearcher, defaults), ``gml-gp-w25`` (GPSearcher with ``max_model_points: 25``: what a
model window costs, half the history at 50 trials), ``gml-cmaes`` (CMAESSearcher, defaults); and the peers
through their own APIs: ``gp_minimize`` (``skopt.gp_minimize``, defaults), ``optuna-tpe``, ``optuna-gp`` and
``optuna-cmaes`` (``optuna``'s TPESampler, GPSampler and CmaEsSampler, defaults, ``study.optimize``) and
``random`` (independent uniform / log-uniform draws).

Every (problem, method, seed) run appends one JSON line to ``--out``; a rerun skips the runs already there, so a
long benchmark can be stopped and continued. The table gives, per problem and method, the median and quartiles
of the final regret (Branin, Hartmann6: lower is better) or of the best validation accuracy (digits: higher is
better), the seconds per run, and one-sided Mann-Whitney U p-values of each method against the best peer (the
peer with the best median): ``p better`` for "this method's results are better", ``p worse`` for "worse". A
summary line per problem compares gml's best method with the best peer. The latency section times ``suggest()``
after 1,000 observed Hartmann6 trials (``--latency-problem mixed9``: mixed9 trials), wall and CPU seconds, for
gml's searchers and for GPSearcher with a window of 100 and 500 points and without one.

    python benchmarks/search_quality.py                              # 50 trials, 20 seeds, everything
    python benchmarks/search_quality.py --seeds 3 --trials 30 -j 2   # a quick look
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")         # small matrices: one BLAS thread per process is fastest
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from functools import lru_cache  # noqa: E402
from resumable_runs import add_run_arguments, chosen_runs, run_missing  # noqa: E402
from searcher_runs import gml_values, one_sided_p, optuna_values, quartiles, random_values  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROBLEMS = ("branin", "hartmann6", "mixed9", "digits")
METHODS = ("gml-random", "gml-skopt", "gml-evolution", "gml-evolution32", "gml-tpe", "gml-gp", "gml-gp-w25",
           "gml-cmaes", "gp_minimize", "optuna-tpe", "optuna-gp", "optuna-cmaes", "random")
PEERS = ("gp_minimize", "optuna-tpe", "optuna-gp", "optuna-cmaes", "random")
OPTIMA = {"branin": 0.397887, "hartmann6": -3.32237, "mixed9": -3.32237}


# -- problems: (gml search_args, objective(params) -> value, optimize_mode) ------------------------------------------
def branin(p):
    from skopt.benchmarks import branin as f
    return float(f([p["x1"], p["x2"]]))


def hartmann6(p):
    import numpy as np
    from skopt.benchmarks import hart6
    return float(hart6(np.array([p[f"x{i}"] for i in range(6)])))


MIXED9_SCALE = {"a": 1.0, "b": 0.85, "c": 0.7}


def mixed9(p):
    import numpy as np
    from skopt.benchmarks import hart6
    u = [p["x0"], p["x1"], p["x2"], p["x3"], 0.011652 + 0.05 * p["k"], (math.log10(p["lr"]) + 3) / 3]
    return MIXED9_SCALE[p["kind"]] * float(hart6(np.array(u)))


@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, train_size=300, random_state=0, stratify=y)


@lru_cache(maxsize=None)
def _svc_accuracy(log_c: float, log_gamma: float, components: int, scaling: str) -> float:
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    Xtr, Xva, ytr, yva = _digits()
    steps = [StandardScaler()] if scaling == "standard" else []
    model = make_pipeline(*steps, PCA(components, random_state=0), SVC(C=10 ** log_c, gamma=10 ** log_gamma))
    return float(model.fit(Xtr, ytr).score(Xva, yva))


def digits(p):
    return _svc_accuracy(round(math.log10(p["C"]) * 20) / 20, round(math.log10(p["gamma"]) * 20) / 20,
                         int(p["components"]), p["scaling"])


SPACES = {
    "branin": ([{"type": "Real", "name": "x1", "data": [-5.0, 10.0]},
                {"type": "Real", "name": "x2", "data": [0.0, 15.0]}], branin, "minimize"),
    "hartmann6": ([{"type": "Real", "name": f"x{i}", "data": [0.0, 1.0]} for i in range(6)], hartmann6, "minimize"),
    "mixed9": ([{"type": "Real", "name": f"x{i}", "data": [0.0, 1.0]} for i in range(4)]
               + [{"type": "Int", "name": "k", "data": [0, 19]},
                  {"type": "Real", "name": "lr", "data": [0.001, 1.0], "log": True},
                  {"type": "Categorical", "name": "kind", "data": ["a", "b", "c"]},
                  {"type": "Real", "name": "unused_real", "data": [-1.0, 1.0]},
                  {"type": "Int", "name": "unused_int", "data": [2, 16], "step": 2}], mixed9, "minimize"),
    "digits": ([{"type": "Real", "name": "C", "data": [0.01, 1000.0], "log": True},
                {"type": "Real", "name": "gamma", "data": [1e-5, 0.1], "log": True},
                {"type": "Int", "name": "components", "data": [8, 64], "step": 8},
                {"type": "Categorical", "name": "scaling", "data": ["none", "standard"]}], digits, "maximize"),
}


# -- methods ---------------------------------------------------------------------------------------------------------
GML = {"gml-random": ("RandomSearcher", {}), "gml-skopt": ("SkoptSearcher", {}),
       "gml-evolution": ("EvolutionSearcher", {"population_size": 10}), "gml-evolution32": ("EvolutionSearcher", {}),
       "gml-tpe": ("TPESearcher", {}), "gml-gp": ("GPSearcher", {}),
       "gml-gp-w25": ("GPSearcher", {"max_model_points": 25}), "gml-cmaes": ("CMAESSearcher", {})}


def run_gml(name, problem, seed, trials):
    args, f, mode = SPACES[problem]
    kind, kwargs = GML[name]
    return gml_values(kind, kwargs, seed, args, f, trials, optimize_mode=mode)


def _skopt_dims(problem):
    from skopt.space import Categorical, Integer, Real
    args, _, _ = SPACES[problem]
    dims = []
    for a in args:
        if a["type"] == "Real":
            dims.append(Real(*a["data"], prior="log-uniform" if a.get("log") else "uniform", name=a["name"]))
        elif a["type"] == "Int":   # low + step * k, k in [0, (high - low) // step]
            dims.append(Integer(0, (a["data"][1] - a["data"][0]) // a.get("step", 1), name=a["name"]))
        else:
            dims.append(Categorical(a["data"], name=a["name"]))
    return dims


def _from_skopt(problem, x):
    args, _, _ = SPACES[problem]
    return {a["name"]: (a["data"][0] + int(v) * a.get("step", 1) if a["type"] == "Int" else v)
            for a, v in zip(args, x)}


def run_gp_minimize(problem, seed, trials):
    from skopt import gp_minimize
    _, f, mode = SPACES[problem]
    values = []

    def objective(x):
        values.append(f(_from_skopt(problem, x)))
        return values[-1] if mode == "minimize" else -values[-1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp_minimize(objective, _skopt_dims(problem), n_calls=trials, random_state=seed)
    return values


OPTUNA = {"optuna-tpe": "TPESampler", "optuna-gp": "GPSampler", "optuna-cmaes": "CmaEsSampler"}


def run_optuna(name, problem, seed, trials):
    args, f, mode = SPACES[problem]
    return optuna_values(OPTUNA[name], {}, seed, args, f, trials, direction=mode)


def run_one(job):
    problem, method, seed, trials = job
    start = time.time()
    if method in GML:
        values = run_gml(method, problem, seed, trials)
    elif method == "gp_minimize":
        values = run_gp_minimize(problem, seed, trials)
    elif method in OPTUNA:
        values = run_optuna(method, problem, seed, trials)
    else:
        values = random_values(SPACES[problem][0], SPACES[problem][1], seed, trials)
    mode = SPACES[problem][2]
    best = min(values) if mode == "minimize" else max(values)
    final = best - OPTIMA[problem] if problem in OPTIMA else best
    return dict(problem=problem, method=method, seed=seed, trials=trials, final=final,
                values=[float(f"{v:.6g}") for v in values],
                seconds=time.time() - start)


# -- latency at 1,000 observed trials --------------------------------------------------------------------------------
def latency(n_history=1000, repeats=5, problem="hartmann6"):
    """Yield (searcher, replay seconds, median wall, max wall, median CPU, max CPU seconds) per searcher."""
    import random

    from gml.registry import SEARCHERS
    from gml.search import searchers  # noqa: F401
    from gml.search.space.parse import parse_search_args
    args, f, mode = SPACES[problem]
    space = parse_search_args(args)
    rng = random.Random(0)
    history = [(p, f(p), True) for p in (space.sample(rng) for _ in range(n_history))]
    searchers_timed = dict(GML, **{"gml-gp-w100": ("GPSearcher", {"max_model_points": 100}),
                                   "gml-gp-w500": ("GPSearcher", {"max_model_points": 500}),
                                   "gml-gp-nowindow": ("GPSearcher", {"max_model_points": None})})
    for name, (kind, kwargs) in searchers_timed.items():
        if name in ("gml-evolution32", "gml-gp-w25"):
            continue
        searcher = SEARCHERS.build({"type": kind, "seed": 0, **kwargs}, "searcher", space=space, optimize_mode=mode)
        t0 = time.time()
        searcher.restore(history)
        replay = time.time() - t0
        walls, cpus = [], []
        for _ in range(repeats):
            w, c = time.time(), time.process_time()
            point = searcher.suggest()
            walls.append(time.time() - w)
            cpus.append(time.process_time() - c)
            searcher.mark_issued(point)      # later suggestions also see pending points
        yield name, replay, statistics.median(walls), max(walls), statistics.median(cpus), max(cpus)


# -- table -----------------------------------------------------------------------------------------------------------
def table(results, problems, methods):
    lines = []
    for problem in problems:
        better = min if problem in OPTIMA else max
        lower_is_better = problem in OPTIMA
        metric = "final regret (lower is better)" if lower_is_better else "best validation accuracy (higher is better)"
        by = {m: [r["final"] for r in results if r["problem"] == problem and r["method"] == m] for m in methods}
        secs = {m: [r["seconds"] for r in results if r["problem"] == problem and r["method"] == m] for m in methods}
        by = {m: v for m, v in by.items() if v}
        if not by:
            continue
        trials = {r["trials"] for r in results if r["problem"] == problem}
        peers = [m for m in PEERS if m in by]
        best_peer = better(peers, key=lambda m: statistics.median(by[m])) if peers else None
        lines.append(f"\n{problem}: {metric}, {'/'.join(map(str, sorted(trials)))} trials; p: one-sided "
                     f"Mann-Whitney U against {best_peer} (the best peer)")
        lines.append("| method | seeds | median | q25 | q75 | s/run | p better | p worse |")
        lines.append("|---|---|---|---|---|---|---|---|")

        def pvalue(m, other, this_better: bool):
            if other not in by or m == other:
                return ""
            return one_sided_p(by[m], by[other], "less" if lower_is_better == this_better else "greater")

        for m, v in by.items():
            q1, med, q3 = quartiles(v)
            lines.append(f"| {m} | {len(v)} | {med:.4g} | {q1:.4g} | {q3:.4g} | {statistics.mean(secs[m]):.1f} | "
                         f"{pvalue(m, best_peer, True)} | {pvalue(m, best_peer, False)} |")
        ours = [m for m in by if m in GML]
        if ours and best_peer:
            best_gml = better(ours, key=lambda m: statistics.median(by[m]))
            gml_med, peer_med = statistics.median(by[best_gml]), statistics.median(by[best_peer])
            verdict = "at least as good" if better(gml_med, peer_med) == gml_med else "WORSE"
            lines.append(f"gml's best: {best_gml} (median {gml_med:.4g}) vs best peer {best_peer} (median "
                         f"{peer_med:.4g}): {verdict}; p better {pvalue(best_gml, best_peer, True) or '-'}, "
                         f"p worse {pvalue(best_gml, best_peer, False) or '-'}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, PROBLEMS, METHODS, trials=50, out="benchmarks/results/search_quality.jsonl")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="print the table of --out, run nothing")
    parser.add_argument("--latency-only", action="store_true", help="only the latency section")
    parser.add_argument("--latency-repeats", type=int, default=5, help="suggestions timed per searcher")
    parser.add_argument("--latency-problem", default="hartmann6", choices=("hartmann6", "mixed9"))
    a = parser.parse_args(argv)
    problems, methods, results, todo = chosen_runs(parser, a, PROBLEMS, METHODS,
                                                   range(a.first_seed, a.first_seed + a.seeds))
    if a.latency_only:
        todo, problems = [], []
    if not a.table_only and todo:
        run_missing(todo, run_one, a.out, a.jobs, results, lambda r: f"{r['final']:.4f} ({r['seconds']:.1f}s)")
    results = [r for r in results if r["trials"] == a.trials and a.first_seed <= r["seed"] < a.first_seed + a.seeds]
    if problems:
        print(table(results, problems, methods))
    if not a.no_latency and not a.table_only:
        print(f"\nsuggest() latency after 1,000 observed {a.latency_problem} trials ({a.latency_repeats} suggestions, "
              f"pending points kept):", flush=True)
        print("| searcher | replay 1,000 (s) | median wall (s) | max wall (s) | median CPU (s) | max CPU (s) |")
        print("|---|---|---|---|---|---|")
        for name, replay, wall, worst, cpu, worst_cpu in latency(repeats=a.latency_repeats, problem=a.latency_problem):
            print(f"| {name} | {replay:.2f} | {wall:.3f} | {worst:.3f} | {cpu:.3f} | {worst_cpu:.3f} |", flush=True)


if __name__ == "__main__":
    main()
