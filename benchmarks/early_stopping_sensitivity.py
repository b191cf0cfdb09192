"""GuardBandAssessor's sensitivity to its parameters on the real learning-curve banks of early_stopping.py.

Each parameter is moved alone around the defaults (top_k=10, start_step=1, guard_fraction=0.34, lag=0.5,
tolerance=0.25, min_completed=3, with_median=True); every setting is replayed on every bank in the same job orders as
early_stopping.py (4 workers). Printed per setting and bank: epochs saved (mean over orders) / the fewest of the
bank's 10 best jobs that ran to the end / the same counting tied final values as one; last column: the least saved
and the fewest kept over the banks.

    python benchmarks/early_stopping_sensitivity.py [--orders 5] [--bank a.json ...]
"""
from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from early_stopping import (BANKS, TOP, add_replay_arguments, job_orders, load_bank, replay,  # noqa: E402
                            top_jobs, top_values_reached)

from gml.search.assessors import GuardBandAssessor  # noqa: E402

SWEEP = {
    "with_median": [False],
    "guard_fraction": [0.2, 0.34, 0.5, 0.75, 1.0],
    "lag": [0.0, 0.25, 0.5, 1.0],
    "tolerance": [0.0, 0.25, 0.5, 1.0],
    "start_step": [1, 2, 3],
    "top_k": [5, 10, 15],
    "min_completed": [2, 3, 5],
}


def settings():
    yield "defaults", {}
    for key, values in SWEEP.items():
        default = inspect.signature(GuardBandAssessor).parameters[key].default
        for value in values:
            if value != default:
                yield f"{key}={value}", {key: value}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_replay_arguments(parser)
    args = parser.parse_args()
    banks = dict(load_bank(path) for path in args.bank or BANKS)
    print(f"cells: epochs saved / top-{TOP} kept / top-{TOP} kept counting ties; {args.orders} orders, "
          f"{args.workers} workers")
    print(f"{'setting':22s}" + "".join(f"{name[:18]:>20s}" for name in banks) + f"{'worst':>20s}")
    for label, kwargs in settings():
        cells, worst_saved, worst_kept = [], 1.0, TOP
        for curves in banks.values():
            finals = [c[-1] for c in curves]
            top = top_jobs(finals)
            saved, kept, tied = [], [], []
            for order in job_orders(len(curves), args.orders, args.seed):
                run, completed = replay(curves, order, GuardBandAssessor(**kwargs), args.workers)
                saved.append(1 - run / (len(curves) * len(curves[0])))
                kept.append(len(top & set(completed)))
                tied.append(top_values_reached(finals, completed))
            cells.append(f"{statistics.mean(saved):6.1%} {min(kept):2d} {min(tied):2d}")
            worst_saved, worst_kept = min(worst_saved, statistics.mean(saved)), min(worst_kept, min(kept))
        print(f"{label:22s}" + "".join(f"{cell:>20s}" for cell in cells) + f"{worst_saved:>14.1%} {worst_kept:2d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
