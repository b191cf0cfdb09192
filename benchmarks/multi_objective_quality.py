"""How close do gml's multi-objective searchers get to the Pareto front in few trials: NSGA-II vs MOTPE.

Problems (``--problems``), two objectives, both minimised, hypervolume against the reference point (11, 11):

- ``zdt1``: ZDT1 with 4 Real args in [0, 1] (convex front f2 = 1 - sqrt(f1); best hypervolume 120 + 2/3);
- ``zdt2``: ZDT2 with 4 Real args in [0, 1] (concave front f2 = 1 - f1^2; best hypervolume 120 + 1/3);
- ``mixed``: ZDT1's shape behind mixed args: ``x`` Real in [0, 1] is f1; the distance g to the front grows with
  an Int ``k`` in [0, 20] (0.45 per step), a Categorical ``opt`` (a, b, c, d: +0, +0.5, +1, +2) and a log Real
  ``lr`` in [1e-4, 1] ((log10 lr + 2)^2); the front (k 0, opt a, lr 0.01) has hypervolume 120 + 2/3;
- ``digits``: a real task, search_quality.py's PCA + RBF SVC on scikit-learn's digits (C, gamma, PCA components,
  scaling), minimising the validation error and the number of PCA components (a model-size proxy); reference
  point (1, 72). Its best hypervolume is not known: the regret is measured against the hypervolume of every
  point any run in the results file evaluated (the best front found), so rows are comparable within one table.

Methods (``--methods``): gml's searchers through the controller's protocol (suggest, mark_issued, observe with
both values, as for ``reward_attribute: [f1, f2]``): ``gml-nsga2`` (NSGA2Searcher, ``population_size: 10``),
``gml-nsga2-50`` (its defaults: population 50), ``gml-motpe`` (TPESearcher with two objectives, defaults),
``gml-random`` (RandomSearcher); the peers through Optuna's own API (``study.optimize``, the same settings):
``optuna-nsga2`` (NSGAIISampler, population 10), ``optuna-motpe`` (TPESampler) and ``random`` (independent
uniform / log-uniform draws).

Each (problem, method, seed) run appends a JSON line to ``--out`` (a rerun skips the runs already there). The
table gives, per problem and method, the median and quartiles over seeds of the hypervolume regret (best
hypervolume minus that of the points evaluated; lower is better) after ``--trials`` evaluations and after half of
them, and one-sided Mann-Whitney U p-values against the best peer. The table is computed from the objective
values each run stored.

    python benchmarks/multi_objective_quality.py                       # 80 trials, 20 seeds, everything
    python benchmarks/multi_objective_quality.py --table-only          # the tables of the results file
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from search_quality import SPACES as SINGLE_OBJECTIVE, digits  # noqa: E402
from resumable_runs import add_run_arguments, chosen_runs, run_missing  # noqa: E402
from searcher_runs import gml_values, one_sided_p, optuna_values, quartiles, random_values  # noqa: E402

REFERENCE = {"zdt1": (11.0, 11.0), "zdt2": (11.0, 11.0), "mixed": (11.0, 11.0), "digits": (1.0, 72.0)}
BEST_HV = {"zdt1": 120 + 2 / 3, "zdt2": 120 + 1 / 3, "mixed": 120 + 2 / 3}    # digits: the best front found
REALS4 = [{"type": "Real", "name": f"x{i}", "data": [0.0, 1.0]} for i in range(4)]
OPT_COST = {"a": 0.0, "b": 0.5, "c": 1.0, "d": 2.0}


def zdt(p, concave: bool):
    f1 = p["x0"]
    g = 1 + 9 * sum(p[f"x{i}"] for i in range(1, 4)) / 3
    return [f1, g * (1 - (f1 / g) ** 2 if concave else 1 - math.sqrt(f1 / g))]


def mixed(p):
    g = 1 + 0.45 * p["k"] + OPT_COST[p["opt"]] + (math.log10(p["lr"]) + 2) ** 2
    return [p["x"], g * (1 - math.sqrt(p["x"] / g))]


SPACES = {
    "zdt1": (REALS4, lambda p: zdt(p, concave=False)),
    "zdt2": (REALS4, lambda p: zdt(p, concave=True)),
    "mixed": ([{"type": "Real", "name": "x", "data": [0.0, 1.0]}, {"type": "Int", "name": "k", "data": [0, 20]},
               {"type": "Categorical", "name": "opt", "data": list(OPT_COST)},
               {"type": "Real", "name": "lr", "data": [1e-4, 1.0], "log": True}], mixed),
    "digits": (SINGLE_OBJECTIVE["digits"][0], lambda p: [1 - digits(p), p["components"]]),
}
PROBLEMS = tuple(SPACES)
GML = {"gml-nsga2": ("NSGA2Searcher", {"population_size": 10}), "gml-nsga2-50": ("NSGA2Searcher", {}),
       "gml-motpe": ("TPESearcher", {}), "gml-random": ("RandomSearcher", {})}
OPTUNA = {"optuna-nsga2": ("NSGAIISampler", {"population_size": 10}), "optuna-motpe": ("TPESampler", {})}
PEERS = ("optuna-nsga2", "optuna-motpe", "random")
METHODS = tuple(GML) + PEERS


def hypervolume(points, reference) -> float:
    """The area that ``points`` (two objectives, both minimised) dominate inside the box below ``reference``."""
    inside = sorted((a, b) for a, b in points if a < reference[0] and b < reference[1])
    area, lowest = 0.0, reference[1]
    for i, (a, b) in enumerate(inside):      # sweep along the first objective; each step adds a slab
        if b < lowest:
            lowest = b
        right = inside[i + 1][0] if i + 1 < len(inside) else reference[0]
        area += (right - a) * (reference[1] - lowest)
    return area


def run_gml(name, problem, seed, trials):
    args, f = SPACES[problem]
    kind, kwargs = GML[name]
    return gml_values(kind, kwargs, seed, args, f, trials, optimize_mode="minimize",
                      directions=["minimize", "minimize"])


def run_optuna(name, problem, seed, trials):
    kind, kwargs = OPTUNA[name]
    return optuna_values(kind, kwargs, seed, *SPACES[problem], trials, directions=["minimize", "minimize"])


def run_one(job):
    problem, method, seed, trials = job
    start = time.time()
    if method in GML:
        values = run_gml(method, problem, seed, trials)
    elif method in OPTUNA:
        values = run_optuna(method, problem, seed, trials)
    else:
        values = random_values(*SPACES[problem], seed, trials)
    return dict(problem=problem, method=method, seed=seed, trials=trials,
                hv=hypervolume(values, REFERENCE[problem]),
                values=[[float(f"{v:.6g}") for v in pair] for pair in values], seconds=time.time() - start)


def table(results, problems, methods):
    lines = []
    for problem in problems:
        rows = {m: [r for r in results if r["problem"] == problem and r["method"] == m] for m in methods}
        rows = {m: v for m, v in rows.items() if v}
        if not rows:
            continue
        reference = REFERENCE[problem]
        best = BEST_HV.get(problem)
        if best is None:         # the front of every point evaluated in this problem's runs
            best = hypervolume([tuple(x) for v in rows.values() for r in v for x in r["values"]], reference)
        for v in rows.values():
            for r in v:
                r["final"] = best - hypervolume(r["values"], reference)
                r["half"] = best - hypervolume(r["values"][:r["trials"] // 2], reference)
        final = {m: [r["final"] for r in v] for m, v in rows.items()}
        trials = sorted({r["trials"] for v in rows.values() for r in v})
        peers = [m for m in PEERS if m in final]
        best_peer = min(peers, key=lambda m: statistics.median(final[m])) if peers else None
        lines.append(f"\n**{problem}**: hypervolume regret (lower is better) after {'/'.join(map(str, trials))} "
                     f"trials and after half of them; p: one-sided Mann-Whitney U against {best_peer} (the best peer)")
        lines.append("| method | seeds | median | q25 | q75 | median at half | s/run | p better | p worse |")
        lines.append("|---|---|---|---|---|---|---|---|---|")

        def pvalue(m, alternative):
            if best_peer is None or m == best_peer:
                return ""
            return one_sided_p(final[m], final[best_peer], alternative)

        for m, v in rows.items():
            q1, med, q3 = quartiles(final[m])
            lines.append(f"| {m} | {len(v)} | {med:.4g} | {q1:.4g} | {q3:.4g} | "
                         f"{statistics.median(r['half'] for r in v):.4g} | "
                         f"{statistics.mean(r['seconds'] for r in v):.1f} | {pvalue(m, 'less')} | "
                         f"{pvalue(m, 'greater')} |")
        if "gml-nsga2" in final and "gml-motpe" in final:
            nsga, motpe = statistics.median(final["gml-nsga2"]), statistics.median(final["gml-motpe"])
            p = one_sided_p(final["gml-motpe"], final["gml-nsga2"], "less") or "-"
            lines.append(f"gml-motpe / gml-nsga2 median regret: {motpe / nsga:.2f} (one-sided p that MOTPE's is "
                         f"lower: {p})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, PROBLEMS, METHODS, trials=80,
                      out=os.path.join(HERE, "results", "multi_objective_quality.jsonl"))
    parser.add_argument("--table-only", action="store_true", help="print the tables of --out, run nothing")
    a = parser.parse_args(argv)
    problems, methods, results, todo = chosen_runs(parser, a, PROBLEMS, METHODS, range(a.seeds))
    if not a.table_only and todo:
        run_missing(todo, run_one, a.out, a.jobs, results,
                    lambda r: f"hypervolume {r['hv']:.4f} ({r['seconds']:.1f}s)")
    results = [r for r in results if r["trials"] == a.trials and r["seed"] < a.seeds]
    print(table(results, problems, methods))


if __name__ == "__main__":
    main()
