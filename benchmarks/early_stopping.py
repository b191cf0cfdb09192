"""Early stopping on real learning curves: gml's assessors side by side with Optuna's pruners.

The bank (benchmarks/fixtures/digits_mlp_curves.json, made by benchmarks/fixtures/make_curve_bank.py) holds
validation-accuracy curves of real MLP training runs on scikit-learn's digits with random hyper-parameters. Each
curve is replayed as a job of an asynchronous search: ``--workers`` jobs run at once, each advancing one epoch
per tick, in a random job order (``--orders`` different orders). After every epoch the rule under test sees the
job's curve so far and may stop it; a job that reaches the last epoch completes and informs the rule. gml's
assessors get ``assess_job``/``job_end`` calls exactly as the controller makes them; Optuna's pruners get
``trial.report``/``should_prune``/``study.tell``.

Printed per rule (mean over orders): the fraction of epochs saved against running every job to the end;
in how many orders the job with the best final accuracy was kept (ran to the end); and the rank, in the whole
bank, of the best job that was kept (1 = the best job of the bank; worst case over orders).

    python benchmarks/early_stopping.py [--workers 4] [--orders 5] [--seed 0] [--skip-curve-fitting]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from typing import Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from gml.search.assessors import (ASHAAssessor, CurveFittingAssessor, Decision,  # noqa: E402
                                  MedianStopAssessor)

BANK = os.path.join(HERE, "fixtures", "digits_mlp_curves.json")


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
        trial = self.trials.pop(job_id)
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
                _end(rule, job, True, curves[job][-1])
                completed.append(job)
                del running[slot]
            elif rule.assess_job(job, history) == Decision.STOP:
                _end(rule, job, False, curves[job][done - 1])
                del running[slot]
    return run, completed


def _end(rule, job, success, final):
    if isinstance(rule, OptunaRule):
        rule.job_end(job, success, final)
    else:
        rule.job_end(job, success)


def rules(epochs: int, with_curve_fitting: bool) -> Dict[str, Callable[[], object]]:
    import optuna
    table: Dict[str, Callable[[], object]] = {
        "gml MedianStopAssessor(start_step=3)": lambda: MedianStopAssessor(start_step=3),
        "gml MedianStopAssessor(start_step=6)": lambda: MedianStopAssessor(start_step=6),
        "gml ASHAAssessor(min_step=1, rf=3)": lambda: ASHAAssessor(min_step=1, reduction_factor=3),
        "gml ASHAAssessor(min_step=2, rf=3)": lambda: ASHAAssessor(min_step=2, reduction_factor=3),
    }
    if with_curve_fitting:
        table[f"gml CurveFittingAssessor(epoch_num={epochs}, start_step=6)"] = \
            lambda: MemoCurveFitting(epoch_num=epochs, start_step=6)
    table.update({
        "optuna MedianPruner()": lambda: OptunaRule(optuna.pruners.MedianPruner()),
        "optuna MedianPruner(n_warmup_steps=3)": lambda: OptunaRule(optuna.pruners.MedianPruner(n_warmup_steps=3)),
        "optuna SuccessiveHalvingPruner()": lambda: OptunaRule(optuna.pruners.SuccessiveHalvingPruner()),
    })
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bank", default=BANK)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-curve-fitting", action="store_true", help="leave out the slowest rule")
    args = parser.parse_args()
    with open(args.bank) as f:
        bank = json.load(f)
    curves = [c["val_acc"] for c in bank["curves"]]
    epochs = len(curves[0])
    finals = [c[-1] for c in curves]
    best = max(finals)
    total = len(curves) * epochs
    print(f"bank: {len(curves)} real curves x {epochs} epochs ({os.path.relpath(args.bank)}); best final acc "
          f"{best:.4f}, median {statistics.median(finals):.4f}; {args.workers} workers, {args.orders} job orders")
    orders = []
    for i in range(args.orders):
        order = list(range(len(curves)))
        random.Random(args.seed + i).shuffle(order)
        orders.append(order)
    header = f"{'rule':52s} {'epochs saved':>12s} {'best kept':>10s} {'rank of best kept':>18s} {'time':>7s}"
    print(header)
    print("-" * len(header))
    goal_met = False
    for name, make in rules(epochs, not args.skip_curve_fitting).items():
        saved, kept, ranks, started = [], 0, [], time.perf_counter()
        for order in orders:
            run, completed = replay(curves, order, make(), args.workers)
            saved.append(1 - run / total)
            kept_best = max(finals[j] for j in completed)
            kept += kept_best == best
            ranks.append(1 + sum(f > kept_best for f in finals))
        mean_saved = statistics.mean(saved)
        if name.startswith("gml") and mean_saved >= 0.5 and kept == len(orders):
            goal_met = True
        print(f"{name:52s} {mean_saved:12.1%} {f'{kept}/{len(orders)}':>10s} "
              f"{f'worst {max(ranks)}':>18s} {time.perf_counter() - started:6.1f}s")
    print(f"goal (a gml assessor saves >= 50% of epochs and keeps the best job in every order): "
          f"{'met' if goal_met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
