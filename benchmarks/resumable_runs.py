"""Runs of a benchmark kept one JSON line each, so an interrupted benchmark goes on where it stopped.

A run is identified by ``(problem, method, seed, trials)``; ``run_one`` computes one and returns its record (a
dict with those four keys). Used by search_quality.py and multi_objective_quality.py, which share the
command-line options that choose the runs (``add_run_arguments``, ``chosen_runs``).
"""
from __future__ import annotations

import json
import os
import time
from typing import Callable, Iterable, List, Sequence, Tuple

RunKey = Tuple[str, str, int, int]


def load_runs(path: str) -> List[dict]:
    """The records already in ``path`` (none when it does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def done_keys(results: Iterable[dict]) -> set:
    return {(r["problem"], r["method"], r["seed"], r["trials"]) for r in results}


def run_missing(todo: List[RunKey], run_one: Callable[[RunKey], dict], out_path: str, jobs: int,
                results: List[dict], describe: Callable[[dict], str]) -> None:
    """Run each key of ``todo`` (in ``jobs`` spawned processes when > 1), append its record to ``out_path`` as it
    finishes (flushed, so a kill loses at most the runs in flight) and to ``results``; print progress with
    ``describe(record)``."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    print(f"{len(todo)} runs to do ({len(results)} already in {out_path}), {jobs} process(es)", flush=True)
    t0 = time.time()
    with open(out_path, "a") as out:
        if jobs > 1:
            import multiprocessing
            pool = multiprocessing.get_context("spawn").Pool(jobs)
            finished = pool.imap_unordered(run_one, todo)
        else:
            pool, finished = None, map(run_one, todo)
        for i, r in enumerate(finished, 1):
            out.write(json.dumps(r) + "\n")
            out.flush()
            results.append(r)
            print(f"[{i}/{len(todo)} {time.time() - t0:.0f}s] {r['problem']} {r['method']} seed {r['seed']}: "
                  f"{describe(r)}", flush=True)
        if pool is not None:
            pool.close()
            pool.join()


def add_run_arguments(parser, problems: Sequence[str], methods: Sequence[str], trials: int, out: str) -> None:
    """The options that choose the runs: ``--seeds``, ``--trials``, ``--problems``, ``--methods`` (comma-separated,
    default all), ``-j/--jobs`` and ``--out`` (the results file)."""
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=trials)
    parser.add_argument("--problems", default=",".join(problems))
    parser.add_argument("--methods", default=",".join(methods))
    parser.add_argument("-j", "--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--out", default=out)


def chosen_runs(parser, a, problems: Sequence[str], methods: Sequence[str], seeds: range):
    """``(problems, methods, results, todo)`` for the parsed options ``a``: the problems and methods asked for
    (``parser.error`` on an unknown name), the records already in ``a.out`` and the keys of the runs still to do
    (every seed of ``seeds`` x problem x method at ``a.trials``, in that order, less those done)."""
    chosen_problems, chosen_methods = a.problems.split(","), a.methods.split(",")
    for names, valid in ((chosen_problems, problems), (chosen_methods, methods)):
        unknown = [x for x in names if x not in valid]
        if unknown:
            parser.error(f"unknown {unknown}; valid: {', '.join(valid)}")
    results = load_runs(a.out)
    done = done_keys(results)
    todo = [(p, m, s, a.trials) for s in seeds for p in chosen_problems for m in chosen_methods
            if (p, m, s, a.trials) not in done]
    return chosen_problems, chosen_methods, results, todo
