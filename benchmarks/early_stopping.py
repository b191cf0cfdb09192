"""Early stopping on real learning curves: gml's assessors side by side with Optuna's pruners.

Banks (benchmarks/fixtures/*_curves.json) hold validation-accuracy curves of real training runs with random
hyper-parameters on scikit-learn's digits: scikit-learn MLPs (make_curve_bank.py), a PyTorch CNN under four
learning-rate schedules, a Lightning MLP trained by ``Trainer.fit``, mmcls's ResNet_CIFAR from the repo's config
(make_torch_curve_banks.py) and real mmcls trainings by mmcv's runner on gml's DigitsDataset under four mmcv lr
policies with or without warm-up, SGD or AdamW (make_mm_curve_bank.py). Each curve is replayed as a job of an asynchronous search: ``--workers`` jobs run at
once, each advancing one epoch
per tick, in a random job order (``--orders`` different orders). After every epoch the rule under test sees the
job's curve so far and may stop it; a job that reaches the last epoch completes and informs the rule. gml's
assessors get ``assess_job``/``job_end`` calls exactly as the controller makes them; Optuna's pruners get
``trial.report``/``should_prune``/``study.tell``.

Printed per bank and rule: the fraction of epochs saved against running every job to the end (mean over
orders); the fewest of the bank's ten best jobs (by final accuracy) that ran to the end, over orders ("top-10
kept", the goal is 10/10); the same counting ties as one ("top-10 ties": the fewest of the ten best final values,
as a search's leaderboard shows them, that completed jobs reached; a bank's 10th best value is often shared by
several jobs, and "top-10 kept" counts the ones the sort put first); in how many orders the best job ran to the
end. Each bank also shows a reference that is no rule: stopping a job at the first step at which it is behind
every one of the bank's ten best jobs, known in advance (what a top-10 guard could save if it knew the future).
The goal lines ask, for each rule, at least 62% of epochs saved with all ten best jobs kept in every order, on
every bank, and name the banks that miss it and by how much.

    python benchmarks/early_stopping.py [--bank a.json --bank b.json] [--workers 4] [--orders 5] [--seed 0]
                                        [--skip-curve-fitting] [--only SUBSTRING]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import statistics
import sys
import time
from typing import Callable, Dict, List, NamedTuple, Set, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from gml.search.assessors import (ASHAAssessor, CurveFittingAssessor, Decision,  # noqa: E402
                                  GuardBandAssessor, MedianStopAssessor, TopKGuardAssessor)

BANKS = sorted(glob.glob(os.path.join(HERE, "fixtures", "*_curves.json")))
TOP = 10
GOAL_SAVED = 0.62


class OptunaRule:
    """An Optuna pruner behind the assessor calls: one trial per job, ask/tell in the order jobs run."""

    def __init__(self, pruner):
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.study = optuna.create_study(direction="maximize", pruner=pruner)
        self.trials: Dict[int, object] = {}

    def assess_job(self, job_id, history):
        trial = self.trials.get(job_id)
        if trial is None:
            trial = self.trials[job_id] = self.study.ask()
        step, value = history[-1]
        trial.report(value, step)
        return Decision.STOP if trial.should_prune() else Decision.CONTINUE

    def job_end(self, job_id, success, final=None):
        trial = self.trials.pop(job_id, None)
        if trial is None:
            trial = self.study.ask()
        if success:
            self.study.tell(trial, final)
        else:
            self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)


class MemoCurveFitting(CurveFittingAssessor):
    """CurveFittingAssessor whose predictions are shared across job orders: a prediction is a pure function of
    (job id, points), so caching changes no decision, only the benchmark's run time."""

    cache: Dict[tuple, object] = {}

    def _predict(self, job_id, points):
        key = (self.epoch_num, self.seed, job_id, tuple(points))
        if key not in self.cache:
            self.cache[key] = super()._predict(job_id, points)
        return self.cache[key]


def add_replay_arguments(parser) -> None:
    """The options of a replay: ``--bank`` (repeatable), ``--workers``, ``--orders``, ``--seed``."""
    parser.add_argument("--bank", action="append", help="a curve bank (JSON); default: every bank in fixtures/")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)


def load_bank(path: str) -> Tuple[str, List[List[float]]]:
    """``(name, curves)`` of the bank in ``path``: its file name less ``_curves.json``, and its validation-accuracy
    curves cut to the shortest one's length."""
    with open(path) as f:
        curves = [c["val_acc"] for c in json.load(f)["curves"]]
    epochs = min(len(c) for c in curves)
    return os.path.basename(path).replace("_curves.json", ""), [c[:epochs] for c in curves]


def job_orders(jobs: int, count: int, seed: int) -> List[List[int]]:
    """``count`` random orders of the job ids ``0 .. jobs - 1``, the i-th shuffled by ``random.Random(seed + i)``."""
    orders = []
    for i in range(count):
        order = list(range(jobs))
        random.Random(seed + i).shuffle(order)
        orders.append(order)
    return orders


def top_jobs(finals: List[float]) -> Set[int]:
    """The ids of the TOP jobs with the best final values (ties broken by the lower id)."""
    return set(sorted(range(len(finals)), key=lambda j: -finals[j])[:TOP])


def replay(curves: List[List[float]], order: List[int], rule, workers: int):
    """Run the jobs of ``order`` on ``workers`` slots; returns (epochs run, ids of jobs that completed)."""
    epochs = len(curves[0])
    queue = list(order)
    running: Dict[int, int] = {}           # slot -> job id
    progress: Dict[int, int] = {}          # job id -> epochs done
    run, completed = 0, []
    while queue or running:
        for slot in range(workers):
            if slot not in running and queue:
                running[slot] = queue.pop(0)
                progress[running[slot]] = 0
        for slot in sorted(running):
            job = running[slot]
            progress[job] += 1
            run += 1
            done = progress[job]
            history = [(s + 1, curves[job][s]) for s in range(done)]
            if done == epochs:
                _end(rule, job, True, history)
                completed.append(job)
                del running[slot]
            elif rule.assess_job(job, history) == Decision.STOP:
                _end(rule, job, False, history)
                del running[slot]
    return run, completed


def _end(rule, job, success, history):
    """The end of a job as the controller tells it: gml rules get ``replay`` with the complete curve."""
    if isinstance(rule, OptunaRule):
        rule.job_end(job, success, history[-1][1])
    else:
        rule.replay(job, history, success)


def rules(epochs: int, with_curve_fitting: bool) -> Dict[str, Callable[[], object]]:
    import warnings

    import optuna
    pruners = optuna.pruners
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)   # PatientPruner
    table: Dict[str, Callable[[], object]] = {
        "gml GuardBandAssessor()": lambda: GuardBandAssessor(),
        "gml GuardBandAssessor(no median, fraction .75, lag .25)": lambda: GuardBandAssessor(
            with_median=False, guard_fraction=0.75, lag=0.25),
        "gml TopKGuardAssessor()": lambda: TopKGuardAssessor(),
        "gml TopKGuardAssessor(margin=0.5)": lambda: TopKGuardAssessor(margin=0.5),
        "gml MedianStopAssessor(start_step=3)": lambda: MedianStopAssessor(start_step=3),
        "gml MedianStopAssessor(start_step=6)": lambda: MedianStopAssessor(start_step=6),
        "gml ASHAAssessor() (defaults)": lambda: ASHAAssessor(),
        "gml ASHAAssessor(min_step=4)": lambda: ASHAAssessor(min_step=4),
        "gml ASHAAssessor(min_jobs_per_rung=20)": lambda: ASHAAssessor(min_jobs_per_rung=20),
        "gml ASHAAssessor(min_step=1, rf=3, grace=0)": lambda: ASHAAssessor(min_step=1, reduction_factor=3,
                                                                            min_jobs_per_rung=0),
    }
    if with_curve_fitting:
        table["gml CurveFittingAssessor(epoch_num=E, start_step=6)"] = \
            lambda: MemoCurveFitting(epoch_num=epochs, start_step=6)
    table.update({
        "optuna MedianPruner()": lambda: OptunaRule(pruners.MedianPruner()),
        "optuna MedianPruner(n_warmup_steps=5)": lambda: OptunaRule(pruners.MedianPruner(n_warmup_steps=5)),
        "optuna PercentilePruner(25, n_warmup_steps=5)": lambda: OptunaRule(
            pruners.PercentilePruner(25.0, n_warmup_steps=5)),
        "optuna SuccessiveHalvingPruner()": lambda: OptunaRule(pruners.SuccessiveHalvingPruner()),
        "optuna HyperbandPruner(max_resource=E)": lambda: OptunaRule(pruners.HyperbandPruner(
            min_resource=1, max_resource=epochs)),
        "optuna PatientPruner(Median(warmup 5), patience=2)": lambda: OptunaRule(pruners.PatientPruner(
            pruners.MedianPruner(n_warmup_steps=5), patience=2)),
    })
    return table


class Result(NamedTuple):
    bank: str
    rule: str
    saved: float          # mean over orders
    top_kept: int         # fewest over orders of the bank's TOP best jobs that completed
    top_values_kept: int  # the same counting tied final values as one (the leaderboard a search shows)
    best_kept: int        # orders in which the best job completed


def top_values_reached(finals: List[float], completed: List[int]) -> int:
    """How many of the bank's TOP best final values completed jobs reached: jobs above the TOP-th best value count
    one each, jobs tied at it fill the places left (which of the tied jobs completed does not matter)."""
    cut = sorted(finals)[-TOP]
    above = sum(f > cut for f in finals)
    return sum(finals[j] > cut for j in completed) + min(sum(finals[j] == cut for j in completed), TOP - above)


def known_top_bound(curves: List[List[float]]) -> float:
    """Epochs saved by stopping each job at the first step at which its best value so far is behind every one of
    the bank's TOP best jobs (known in advance; ties at the TOP-th value included): no rule, a reference for what a
    top-10 guard could save if it knew the future."""
    finals = [c[-1] for c in curves]
    cut = sorted(finals)[-TOP]
    best_so_far = [[max(c[:t + 1]) for t in range(len(c))] for c in curves]
    top = [j for j, f in enumerate(finals) if f >= cut]
    bar = [min(best_so_far[j][t] for j in top) for t in range(len(curves[0]))]
    run = sum(next((t + 1 for t, v in enumerate(best) if v < bar[t]), len(best)) for best in best_so_far)
    return 1 - run / (len(curves) * len(curves[0]))


def run_bank(path: str, args, table) -> List[Result]:
    name, curves = load_bank(path)
    epochs = len(curves[0])
    finals = [c[-1] for c in curves]
    top = top_jobs(finals)
    best = max(finals)
    total = len(curves) * epochs
    cut = sorted(finals)[-TOP]
    print(f"\nbank {name}: {len(curves)} real curves x {epochs} epochs; best final acc {best:.4f}, 10th "
          f"{cut:.4f} (reached by {sum(f == cut for f in finals)} jobs), median {statistics.median(finals):.4f}; "
          f"{args.workers} workers, {args.orders} job orders")
    orders = job_orders(len(curves), args.orders, args.seed)
    header = (f"{'rule':56s} {'epochs saved':>12s} {'top-10 kept':>11s} {'top-10 ties':>11s} {'best kept':>10s} "
              f"{'time':>7s}")
    print(header)
    print("-" * len(header))
    print(f"{'(reference) behind all 10 best, known in advance':56s} {known_top_bound(curves):12.1%} "
          f"{f'{TOP}/{TOP}':>11s} {f'{TOP}/{TOP}':>11s} {'-':>10s}")
    results = []
    for rule, make in table(epochs).items():
        saved, top_kept, values_kept, kept, started = [], [], [], 0, time.perf_counter()
        for order in orders:
            run, completed = replay(curves, order, make(), args.workers)
            saved.append(1 - run / total)
            top_kept.append(len(top & set(completed)))
            values_kept.append(top_values_reached(finals, completed))
            kept += max(finals[j] for j in completed) == best
        result = Result(name, rule, statistics.mean(saved), min(top_kept), min(values_kept), kept)
        results.append(result)
        print(f"{rule:56s} {result.saved:12.1%} {f'{result.top_kept}/{TOP}':>11s} "
              f"{f'{result.top_values_kept}/{TOP}':>11s} {f'{kept}/{len(orders)}':>10s} "
              f"{time.perf_counter() - started:6.1f}s", flush=True)
    return results


def goal_lines(results: List[Result]) -> List[str]:
    """Per rule: MET, or the banks that miss the goal and by how much."""
    lines = []
    for rule in dict.fromkeys(r.rule for r in results):
        misses = []
        for r in (r for r in results if r.rule == rule):
            short = []
            if r.saved < GOAL_SAVED:
                short.append(f"saves {r.saved:.1%} ({(GOAL_SAVED - r.saved) * 100:.1f} points short)")
            if r.top_kept < TOP:
                short.append(f"keeps {r.top_kept}/{TOP} ({r.top_values_kept}/{TOP} counting ties)")
            if short:
                misses.append(f"{r.bank}: {', '.join(short)}")
        lines.append(f"  {rule}: " + ("MET on every bank" if not misses else "not met; " + "; ".join(misses)))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_replay_arguments(parser)
    parser.add_argument("--skip-curve-fitting", action="store_true", help="leave out the slowest rule")
    parser.add_argument("--only", help="run only the rules whose name contains this")
    args = parser.parse_args()

    def table(epochs):
        every = rules(epochs, not args.skip_curve_fitting)
        return {k: v for k, v in every.items() if not args.only or args.only in k}

    results = []
    for path in args.bank or BANKS:
        results.extend(run_bank(path, args, table))
    print(f"\ngoal: a rule saves >= {GOAL_SAVED:.0%} of epochs and runs all {TOP} best jobs to the end in every "
          f"order, on every bank")
    print("\n".join(goal_lines(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
