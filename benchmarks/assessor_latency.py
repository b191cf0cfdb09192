"""How long from a value being written by a running job to the assessor's decision on it, per metric source.

The watching half of gml's controller (``gml.search.controller.watching.Watching``, with a real task store and
the real metric sources) watches ``--jobs`` running jobs, cycling as the controller does (a watch round, then a
wait of the launcher's ``poll_interval``). The jobs are played by writer threads of this process, which append
one value per job every ``--interval`` seconds (staggered) in each source's real format: ``gml.report``, a CSV
file (csv.writer), JSON lines, console lines for a stdout pattern, TensorBoard event files (torch's
SummaryWriter, flushed), an MLflow SQLite store (created by mlflow's own client once, then copied per job;
rows appended with sqlite3 as the client's SQL store does), and a real MLflow tracking server (``mlflow server``
started here, backend SQLite; one run per job created with mlflow's client, tagged as gml tags a job's runs;
values appended to the server's store with sqlite3 as the server's SQL store does, to ``metrics`` and
``latest_metrics``, so that 100 values per second can be written from one thread; gml reads them over the REST API). The launcher reports every job RUNNING (no child
processes: what is timed is reading and judging, not process start-up). A MedianStopAssessor records the time it
is first asked about each (job, step). Latency = that time - the time the value was written and flushed.

The controller's first round (sources opened: for the tracking server, each job's runs read once) is done
before the first value is written; what a controller's first round costs is measured by
``reingest_after_restart.py``. Printed per source: median, 95th percentile and maximum latency, how many of the written steps were judged
(every one is expected), and the mean time of one watch round over all jobs.

    python benchmarks/assessor_latency.py [--jobs 100] [--interval 1.0] [--seconds 12] [--sources csv,stdout]
                                          [--no-fsync]

Every figure depends on the machine's load: print ``uptime`` with it.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from gml.launchers.base import JobState, Launcher, Status  # noqa: E402
from gml.search.assessors import MedianStopAssessor  # noqa: E402
from gml.search.config.search_config import parse_search_config  # noqa: E402
from gml.search.controller.watching import Watching  # noqa: E402
from gml.search.progress import Progress  # noqa: E402
from gml.search.task.jobs import JobStatus  # noqa: E402
from gml.search.task.store import Store  # noqa: E402
from gml.search.task.workspace import TaskPaths  # noqa: E402

SOURCES = {
    "gml.report": None,
    "csv": {"csv": "history.csv"},
    "jsonl": {"jsonl": "history.jsonl"},
    "stdout": {"stdout": r"step=(?P<step>\d+) acc=(?P<acc>[0-9.]+)"},
    "tensorboard": {"tensorboard": True},
    "mlflow": {"mlflow": True},
    "mlflow-server": {"mlflow": {"tracking_uri": None}},    # the URI of the server started in main()
}


class AllRunning(Launcher):
    """Every job is running; nothing is started or cancelled (the writer threads play the jobs)."""

    def submit(self, spec):
        raise NotImplementedError

    def poll(self, external_ids):
        return {e: Status(JobState.RUNNING) for e in external_ids}

    def cancel(self, external_id):
        pass

    def adopt(self, external_id, spec):
        return True


class TimedMedian(MedianStopAssessor):
    def __init__(self):
        super().__init__(start_step=10 ** 9)       # never stops a job here: every step is judged
        self.judged = {}

    def assess_job(self, job_id, history):
        key = (job_id, history[-1][0])
        self.judged.setdefault(key, time.time())
        return super().assess_job(job_id, history)


def mlflow_template(workdir):
    """An empty MLflow SQLite store with one run, made by mlflow's client; returns (path, run id)."""
    import mlflow
    path = os.path.join(workdir, "template.db")
    mlflow.set_tracking_uri(f"sqlite:///{path}")
    with mlflow.start_run() as run:
        pass
    return path, run.info.run_id


@contextlib.contextmanager
def sources_workdir(kinds, prefix):
    """A temporary folder for measuring the sources named in ``kinds``; yields ``(workdir, mlflow_db, server)``:
    the MLflow template store (``mlflow_template``) when ``mlflow`` is measured, else None, and a started MLflow
    tracking server, whose URI ``SOURCES["mlflow-server"]`` then reads from, when ``mlflow-server`` is, else None.
    The server is stopped and the folder removed on the way out."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    server = None
    try:
        mlflow_db = mlflow_template(workdir) if "mlflow" in kinds else None
        if "mlflow-server" in kinds:
            from gml.testing.mlflow_server import MlflowTrackingServer
            server = MlflowTrackingServer(workdir)
            server.start()
            SOURCES["mlflow-server"] = {"mlflow": {"tracking_uri": server.uri}}
        yield workdir, mlflow_db, server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def print_table_start(intro: str, header: str) -> None:
    """Print ``intro`` with the machine's load average and CPU count (every figure here depends on them), then the
    table's ``header`` and a rule under it."""
    print(f"{intro}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(header)
    print("-" * len(header))


def mlflow_server_run(server, job_dir):
    """A run on the tracking server with the tag gml gives the runs of the job in ``job_dir``; its id."""
    import mlflow
    from gml.search.ingest.mlflow_server import JOB_TAG
    return mlflow.MlflowClient(server.uri).create_run("0", tags={JOB_TAG: job_dir}).info.run_id


class Writer:
    """Appends one value per step for one job in one source's format; ``write(step)`` returns when it is on disk."""

    def __init__(self, kind, job_dir, log_path, mlflow_db, server=None, no_fsync=False):
        self.kind, self.job_dir, self.log_path = kind, job_dir, log_path
        if kind == "csv":
            self.file = open(os.path.join(job_dir, "history.csv"), "w", newline="")
            self.csv = csv.writer(self.file)
            self.csv.writerow(["step", "acc"])
            self.file.flush()
        elif kind == "jsonl":
            self.file = open(os.path.join(job_dir, "history.jsonl"), "w")
        elif kind == "stdout":
            self.file = open(log_path, "a")
        elif kind == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter    # its flush() waits for the queued events
            self.tb = SummaryWriter(os.path.join(job_dir, "tb"), flush_secs=3600)
        elif kind == "mlflow":
            import sqlite3
            path, self.run_id = mlflow_db
            shutil.copy(path, os.path.join(job_dir, "mlflow.db"))
            self.db = sqlite3.connect(os.path.join(job_dir, "mlflow.db"), check_same_thread=False)
        elif kind == "mlflow-server":
            import sqlite3
            self.run_id = mlflow_server_run(server, job_dir)
            self.db = sqlite3.connect(server.db, check_same_thread=False, timeout=30)
        # without fsync one writer thread keeps up with 100 jobs. The server's store always: committed with fsync,
        # 100 values per second hold its SQLite write lock almost all the time and the server cannot answer reads
        if kind == "mlflow-server" or (kind == "mlflow" and no_fsync):
            self.db.execute("PRAGMA synchronous=OFF")

    def write(self, step, value):
        if self.kind == "gml.report":
            with open(os.path.join(self.job_dir, "scalars.jsonl"), "a") as f:
                f.write(json.dumps({"step": step, "time": time.time(), "scalars": {"acc": value}}) + "\n")
        elif self.kind == "csv":
            self.csv.writerow([step, value])
            self.file.flush()
        elif self.kind == "jsonl":
            self.file.write(json.dumps({"step": step, "acc": value}) + "\n")
            self.file.flush()
        elif self.kind == "stdout":
            self.file.write(f"step={step} acc={value}\n")
            self.file.flush()
        elif self.kind == "tensorboard":
            self.tb.add_scalar("acc", value, step)
            self.tb.flush()
        elif self.kind == "mlflow":
            with self.db:
                self.db.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                                "VALUES (?, ?, ?, ?, ?, 0)", ("acc", value, int(time.time() * 1000),
                                                              self.run_id, step))
        elif self.kind == "mlflow-server":
            now = int(time.time() * 1000)
            with self.db:
                self.db.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                                "VALUES (?, ?, ?, ?, ?, 0)", ("acc", value, now, self.run_id, step))
                self.db.execute("INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, "
                                "run_uuid) VALUES (?, ?, ?, ?, 0, ?)", ("acc", value, now, step, self.run_id))


def running_jobs(kind, args, workdir, mlflow_db, server=None):
    """A task with ``args.jobs`` jobs recorded RUNNING, reading ``kind``; returns (paths, config, store, writers)."""
    raw = {"task": {"template": "python train.py {x}", "search_args": [
        {"type": "Categorical", "name": "x", "data": list(range(args.jobs))}]},
        "searcher": {"type": "GridSearcher", "reward_attribute": "acc"}}
    if SOURCES[kind]:
        raw["metrics_from"] = SOURCES[kind]
    config = parse_search_config(raw, workdir)
    paths = TaskPaths(workdir, kind.replace(".", "_"))
    os.makedirs(paths.jobs_all, exist_ok=True)
    store = Store(paths.db)
    writers = []
    for i in range(args.jobs):
        job_dir = paths.job_dir(i)
        os.makedirs(job_dir, exist_ok=True)
        log_path = os.path.join(job_dir, "log")
        job = store.add_job({"x": i}, {"x": i})
        store.update_job(job.id, status=JobStatus.RUNNING, external_id=str(i), log_path=log_path,
                         start_time=time.time(), submitted_at=time.time() - 5)
        writers.append(Writer(kind, job_dir, log_path, mlflow_db, server, args.no_fsync))
    return paths, config, store, writers


def measure(kind, args, workdir, mlflow_db, server=None):
    paths, config, store, writers = running_jobs(kind, args, workdir, mlflow_db, server)
    assessor = TimedMedian()
    launcher = AllRunning()
    watching = Watching(paths, config, store, launcher, assessor, Progress(kind, "acc", sys.stderr, False),
                        None, None)
    watching.watch()         # the controller's first round opens every job's sources (a steady state is measured)
    written, stop = {}, threading.Event()

    def play():
        step = 0
        started = time.time()
        while not stop.is_set():
            step += 1
            for i, writer in enumerate(writers):
                due = started + (step - 1) * args.interval + i * args.interval / len(writers)
                delay = due - time.time()
                if delay > 0 and stop.wait(delay):
                    return
                writer.write(step, 0.5 + step / 1000)
                written[(i, step)] = time.time()

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    rounds, end = [], time.time() + args.seconds
    while time.time() < end:
        began = time.perf_counter()
        watching.watch()
        rounds.append(time.perf_counter() - began)
        time.sleep(launcher.poll_interval)
    stop.set()
    thread.join()
    for _ in range(3):                       # what was written last is judged in the rounds that follow
        watching.watch()
        time.sleep(launcher.poll_interval)
    judged_keys = [k for k in written if k in assessor.judged]
    latencies = sorted(assessor.judged[k] - written[k] for k in judged_keys)
    store.close()
    return latencies, len(judged_keys), len(written), statistics.mean(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a job's steps")
    parser.add_argument("--seconds", type=float, default=12.0, help="how long each source is measured")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--no-fsync", action="store_true",
                        help="the jobs' MLflow SQLite stores committed without fsync (PRAGMA synchronous=OFF): by "
                             "default each value is committed as MLflow's SQL store commits it, and one writer thread "
                             "for all jobs then writes fewer than 100 values per second on a slow disk")
    args = parser.parse_args()
    kinds = args.sources.split(",")
    with sources_workdir(kinds, "gml-latency-") as (workdir, mlflow_db, server):
        print_table_start(f"{args.jobs} running jobs, one value per job every {args.interval:g}s, {args.seconds:g}s per "
                          f"source; latency = first assess_job call on a step - the time the step was written",
                          f"{'source':14s} {'median':>8s} {'p95':>8s} {'max':>8s} {'judged':>13s} {'watch round':>12s}")
        for kind in kinds:
            latencies, judged, written, round_time = measure(kind, args, workdir, mlflow_db, server)
            p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
            print(f"{kind:14s} {statistics.median(latencies):7.3f}s {p95:7.3f}s {max(latencies):7.3f}s "
                  f"{f'{judged}/{written}':>13s} {round_time:11.3f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
