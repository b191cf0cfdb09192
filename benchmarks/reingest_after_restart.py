"""What reading every job's metrics again costs after a controller restart, per metric source.

Sources keep their read position (a cursor) in memory only: a restarted controller reads each running job's
logs from their start, and the task store keeps one value per (job, scalar, step), so nothing is counted twice.
This measures that first round: ``--jobs`` running jobs, each with ``--steps`` values already written in each
source's real format (the writers of ``assessor_latency.py``), then a fresh watching half of the controller
(``Watching``, real task store, real sources, a MedianStopAssessor) does its first round (everything read and
stored again) and a second one (nothing new). Printed per source: the first round, the second, the values
stored after the restart (they must equal the values before it: none twice, none lost).

    python benchmarks/reingest_after_restart.py [--jobs 100] [--steps 300] [--sources csv,mlflow]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import assessor_latency as latency  # noqa: E402
from gml.search.assessors import MedianStopAssessor  # noqa: E402
from gml.search.controller.watching import Watching  # noqa: E402
from gml.search.progress import Progress  # noqa: E402


def stored_values(store, jobs):
    return sum(len(store.scalars(job_id, "acc")) for job_id in range(jobs))


def watch_round(paths, config, store, kind):
    watching = Watching(paths, config, store, latency.AllRunning(), MedianStopAssessor(start_step=10 ** 9),
                        Progress(kind, "acc", sys.stderr, False), None, None)
    began = time.perf_counter()
    watching.watch()
    return watching, time.perf_counter() - began


def measure(kind, args, workdir, mlflow_db, server):
    paths, config, store, writers = latency.running_jobs(kind, args, workdir, mlflow_db, server)
    for step in range(1, args.steps + 1):
        for writer in writers:
            writer.write(step, 0.5 + step / 10000)
    time.sleep(1.0)                       # the MLflow server's latest values, event files: all on disk
    before, _ = watch_round(paths, config, store, kind)       # the controller before the restart reads it all
    stored_before = stored_values(store, args.jobs)
    restarted, first = watch_round(paths, config, store, kind)   # a new controller: sources start from zero
    began = time.perf_counter()
    restarted.watch()
    second = time.perf_counter() - began
    stored_after = stored_values(store, args.jobs)
    store.close()
    return first, second, stored_before, stored_after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--sources", default=",".join(latency.SOURCES))
    args = parser.parse_args()
    args.no_fsync = True                  # the writing is not what is measured here
    kinds = args.sources.split(",")
    with latency.sources_workdir(kinds, "gml-reingest-") as (workdir, mlflow_db, server):
        latency.print_table_start(
            f"{args.jobs} running jobs with {args.steps} values each; a controller restart reads them all again",
            f"{'source':14s} {'first round':>12s} {'next round':>11s} {'values before/after restart':>28s}")
        for kind in kinds:
            first, second, before, after = measure(kind, args, workdir, mlflow_db, server)
            print(f"{kind:14s} {first:11.2f}s {second:10.3f}s {f'{before}/{after}':>28s}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
