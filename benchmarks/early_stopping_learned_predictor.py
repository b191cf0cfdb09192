"""Does a learnt predictor that also sees each job's hyper-parameters keep the ten best jobs and save more?

An experiment behind docs/early-stopping.md's goal discussion, on the same banks and replay as
benchmarks/early_stopping.py. The rule under test, ``LearnedPredictorRule``:

- At step ``t`` it predicts a running job's final accuracy with a random forest fitted on the completed jobs:
  features are the job's best-so-far values at steps 1..t, its value at t and (``--no-params`` drops these) its
  hyper-parameters from the bank (numbers spanning decades on a log10 scale, categories one-hot).
- Its margin is a quantile (``q``) of the forest's out-of-bag absolute errors at that step over the completed jobs.
- It stops the job when prediction + margin is below the 10th best final value of the completed jobs.
- It acts only once ``min_completed`` jobs have completed (one forest per step, refitted each time the completed
  count has grown by 15%); before that, and with ``with_band``, GuardBandAssessor() decides (``with_band``: either
  rule may stop a job).

Printed per bank and setting: epochs saved (mean over orders), the fewest of the ten best jobs that ran to the end
in any order, and the seconds taken.

    python benchmarks/early_stopping_learned_predictor.py [--orders 5] [--workers 4] [--only SUBSTRING]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from typing import Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from early_stopping import BANKS, TOP, replay  # noqa: E402
from gml.search.assessors import Decision, GuardBandAssessor  # noqa: E402


def encode_params(all_params: List[dict]) -> List[List[float]]:
    """One numeric row per job: booleans as 0/1, positive numbers spanning more than a decade as log10, other
    numbers as they are, lists by their sum (hidden layer sizes), strings one-hot."""
    rows: List[List[float]] = [[] for _ in all_params]
    for key in sorted(all_params[0]):
        values = [p[key] for p in all_params]
        if all(isinstance(v, str) for v in values):
            for category in sorted(set(values)):
                for row, v in zip(rows, values):
                    row.append(float(v == category))
            continue
        numbers = [float(sum(v)) if isinstance(v, list) else float(v) for v in values]
        spans_decades = min(numbers) > 0 and max(numbers) / min(numbers) > 10
        for row, v in zip(rows, numbers):
            row.append(math.log10(v) if spans_decades else v)
    return rows


class LearnedPredictorRule:
    """See the module docstring; gml's assessor calls (``assess_job``/``replay``) as ``replay()`` makes them."""

    def __init__(self, params: List[List[float]], quantile: float, with_band: bool, min_completed: int = 20):
        self.params, self.quantile, self.with_band, self.min_completed = params, quantile, with_band, min_completed
        self.band = GuardBandAssessor()
        self.completed: Dict[int, List[float]] = {}
        self.forests: Dict[int, tuple] = {}       # step -> (forest, margin), for the completed set fitted at
        self.fitted_at = 0

    def features(self, job: int, values: List[float]) -> List[float]:
        return list(np.maximum.accumulate(values)) + [values[-1]] + self.params[job]

    def forest_at(self, step: int):
        from sklearn.ensemble import RandomForestRegressor
        if len(self.completed) >= max(self.min_completed, int(self.fitted_at * 1.15) + 1):
            self.fitted_at, self.forests = len(self.completed), {}
        if step not in self.forests:
            jobs = sorted(self.completed)
            x = np.array([self.features(j, self.completed[j][:step]) for j in jobs])
            y = np.array([self.completed[j][-1] for j in jobs])
            forest = RandomForestRegressor(n_estimators=60, min_samples_leaf=2, max_features=0.5, oob_score=True,
                                           random_state=0).fit(x, y)
            self.forests[step] = (forest, float(np.quantile(np.abs(forest.oob_prediction_ - y), self.quantile)))
        return self.forests[step]

    def assess_job(self, job: int, history) -> Decision:
        band = self.band.assess_job(job, history)
        if len(self.completed) < self.min_completed or (self.with_band and band == Decision.STOP):
            return band
        forest, margin = self.forest_at(len(history))
        finals = sorted((c[-1] for c in self.completed.values()), reverse=True)
        cut = finals[min(TOP, len(finals)) - 1]
        predicted = forest.predict(np.array([self.features(job, [v for _, v in history])]))[0]
        return Decision.STOP if predicted + margin < cut else Decision.CONTINUE

    def replay(self, job: int, history, success: bool) -> None:
        self.band.replay(job, history, success)
        if success:
            self.completed[job] = [v for _, v in history]


SETTINGS = {   # name -> (quantile, with_band, use hyper-parameters)
    "predictor alone, q=1.0": (1.0, False, True),
    "predictor alone, q=0.9": (0.9, False, True),
    "predictor alone, q=0.9, curve only": (0.9, False, False),
    "predictor or GuardBand, q=0.9": (0.9, True, True),
    "predictor or GuardBand, q=0.75": (0.75, True, True),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="run only the settings whose name contains this")
    args = parser.parse_args()
    for path in BANKS:
        with open(path) as f:
            bank = json.load(f)
        curves = [c["val_acc"] for c in bank["curves"]]
        epochs = min(len(c) for c in curves)
        curves = [c[:epochs] for c in curves]
        encoded = encode_params([c["params"] for c in bank["curves"]])
        finals = [c[-1] for c in curves]
        top = set(sorted(range(len(curves)), key=lambda j: -finals[j])[:TOP])
        print(f"\nbank {os.path.basename(path).replace('_curves.json', '')}: {len(curves)} curves x {epochs} epochs, "
              f"{len(encoded[0])} hyper-parameter features; {args.workers} workers, {args.orders} orders")
        for name, (quantile, with_band, use_params) in SETTINGS.items():
            if args.only and args.only not in name:
                continue
            params = encoded if use_params else [[] for _ in encoded]
            saved, kept, started = [], [], time.perf_counter()
            for i in range(args.orders):
                order = list(range(len(curves)))
                random.Random(args.seed + i).shuffle(order)
                run, completed = replay(curves, order, LearnedPredictorRule(params, quantile, with_band),
                                        args.workers)
                saved.append(1 - run / (len(curves) * epochs))
                kept.append(len(top & set(completed)))
            print(f"  {name:38s} {statistics.mean(saved):6.1%} saved, {min(kept)}/{TOP} of the 10 best kept "
                  f"(per order {kept}) {time.perf_counter() - started:5.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
