"""Scalars from the MLflow runs jobs log to a tracking server (``metrics_from: {mlflow: {tracking_uri: URL}}``),
read over the server's REST API while the jobs run.

Which runs are a job's: the controller gives each job ``MLFLOW_TRACKING_URI=URL`` and ``MLFLOW_RUN_CONTEXT``
(MLflow's variable of tags added to every run the job creates, by ``mlflow.start_run`` and by Lightning's
``MLFlowLogger`` alike) with the tag ``gml.job_dir`` = the job's directory; the job's code needs neither. A job's
runs are those with its tag that started after its current attempt was submitted (a rerun's earlier runs are
not read again). Any experiment, any number of runs per job.

Reading is shared by all jobs of one task on one server (:class:`ServerPoll`): one round of the controller costs
one ``runs/search`` over the known runs of the running jobs (which returns each metric's latest value: when it is
at the step after the last one read, that is all there is to read), one history call per metric key with more
new values (all runs at once, steps from the last read on), and a search for new runs (two requests) in every
round while a job has no running run (it has not created one yet, or ended one and may create another before it
ends: its last read must find it), else every :data:`DISCOVER_EVERY` seconds. A job's
first read (when its source opens) reads its own runs at once; runs of jobs whose source is not open yet are kept
from the search that found them. A value logged later at a step before the latest one read is not seen.

A server that does not answer is tried again :data:`RETRY_EVERY` seconds after each failed attempt (an attempt
costs the controller at most one request timeout, 2 s); one warning says it is unreachable and one that it
answers again; what was logged meanwhile is read then. No job is failed for it.
"""
from __future__ import annotations

import glob
import json
import os
import time
import weakref
from typing import Callable, Dict, List, Optional, Set, Tuple

from .base import Row, StepAxis, as_number
from .mlflow_rest import (MAX_RUNS_PER_HISTORY_CALL, MAX_VALUES_PER_RUN, ServerUnreachable, TrackingServerClient,
                          like_prefix)

JOB_TAG = "gml.job_dir"
RUN_CONTEXT_VARIABLE = "MLFLOW_RUN_CONTEXT"
DISCOVER_EVERY = 5.0      # seconds between searches for further runs while every job has a running run
RETRY_EVERY = 5.0         # seconds from a failed read of the server to the next attempt
FIRST_STEP = -(2 ** 62)


def job_environment_for_server(tracking_uri: str, job_dir: str, inherited: Optional[str] = None) -> Dict[str, str]:
    """The variables that make a job log to ``tracking_uri`` with runs tagged as its own. ``inherited``: an
    ``MLFLOW_RUN_CONTEXT`` of the controller's environment (JSON tags), kept besides gml's tag."""
    tags: Dict[str, str] = {}
    if inherited:
        try:
            loaded = json.loads(inherited)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            tags.update({str(k): str(v) for k, v in loaded.items()})
    tags[JOB_TAG] = os.path.abspath(job_dir)
    return {"MLFLOW_TRACKING_URI": tracking_uri, RUN_CONTEXT_VARIABLE: json.dumps(tags)}


def attempt_started_ms(job_dir: str) -> int:
    """When the job's current attempt began, as MLflow times runs (ms), for telling its runs from an earlier
    attempt's: an earlier attempt's log was set aside (``log.attempt<N>``, renamed, so its ctime is the moment)
    before this attempt was submitted. 0 for a first attempt."""
    times = []
    for path in glob.glob(os.path.join(glob.escape(job_dir), "log.attempt*")):
        try:
            times.append(os.stat(path).st_ctime)
        except OSError:
            continue
    return int(max(times) * 1000) if times else 0


class _RunState:
    """How far one metric of one run was read: its last step and the (timestamp, value) pairs read at it."""

    __slots__ = ("last_step", "at_last")

    def __init__(self, last_step: int = FIRST_STEP, at_last=()):
        self.last_step = last_step
        self.at_last: Set[Tuple[int, float]] = {tuple(p) for p in at_last}

    def is_new(self, step: int, timestamp: int, value: float) -> bool:
        return step > self.last_step or (step == self.last_step and (timestamp, value) not in self.at_last)

    def take(self, step: int, timestamp: int, value: float) -> None:
        if step > self.last_step:
            self.last_step, self.at_last = step, set()
        self.at_last.add((timestamp, value))


class _Job:
    def __init__(self, key: str, since_ms: int, runs: Dict[str, Dict[str, _RunState]]):
        self.key, self.since_ms = key, since_ms
        self.runs = runs                    # run id -> metric key -> state
        self.rows: List[Row] = []
        self.took = False                   # took the last read's rows
        self.covered = False                # its first read (of its own runs) happened


class ServerPoll:
    """Reads the runs of the registered jobs of one task on one server; each job takes its own rows."""

    def __init__(self, tracking_uri: str, jobs_prefix: str, warn: Optional[Callable[[str], None]] = None):
        self.client = TrackingServerClient(tracking_uri)
        self.jobs_prefix = jobs_prefix
        self.warn = warn
        self._jobs: Dict[str, _Job] = {}
        self._run_owner: Dict[str, str] = {}        # run id -> job key
        self._run_experiment: Dict[str, str] = {}
        self._running_runs: Set[str] = set()           # runs whose status was RUNNING at the last search
        # runs found under the task's jobs whose job has no source yet: job key -> run id -> (experiment, start)
        self._unclaimed: Dict[str, Dict[str, Tuple[str, int]]] = {}
        self._last_discovery = -float("inf")
        self._down_since: Optional[float] = None
        self._last_failure = -float("inf")

    def register(self, key: str, since_ms: int, runs: Dict[str, Dict[str, _RunState]]) -> None:
        job = self._jobs[key] = _Job(key, since_ms, runs)
        for run_id in runs:
            self._run_owner[run_id] = key
        for run_id, (experiment, started) in self._unclaimed.pop(key, {}).items():
            if started >= since_ms:
                self._run_owner[run_id] = key
                self._run_experiment[run_id] = experiment
                job.runs.setdefault(run_id, {})

    def unregister(self, key: str) -> None:
        job = self._jobs.pop(key, None)
        if job is not None:
            for run_id in job.runs:
                self._run_owner.pop(run_id, None)
                self._run_experiment.pop(run_id, None)
                self._running_runs.discard(run_id)

    def runs_of(self, key: str) -> Dict[str, Dict[str, _RunState]]:
        return self._jobs[key].runs

    def take(self, key: str) -> List[Row]:
        """The rows of job ``key`` read since it last took them. A job's first call reads its own runs at once
        (complete: a job may be read only once, when it ended before the controller saw it running); later, a
        call reads all jobs' runs when this job took the previous read's rows already, so one controller round
        over all jobs reads the server once."""
        job = self._jobs[key]
        if not job.covered:
            if self._attempt(lambda now: self._read_jobs([job], now, discover=not self._known_runs(job))):
                job.covered = True
        elif job.took and self._attempt(lambda now: self._read_jobs(list(self._jobs.values()), now)):
            for other in self._jobs.values():
                other.took = False
        rows, job.rows, job.took = job.rows, [], True
        return rows

    def _known_runs(self, job: _Job) -> List[str]:
        return [r for r in job.runs if r in self._run_experiment]

    def _attempt(self, read) -> bool:
        """``read(now)`` unless the server failed less than RETRY_EVERY ago; says when it fails first and when it
        answers again. True when it read."""
        now = time.monotonic()
        if self._down_since is not None and now - self._last_failure < RETRY_EVERY:
            return False
        try:
            read(now)
        except ServerUnreachable as err:
            self._last_failure = time.monotonic()      # an attempt may take a request timeout: count from its end
            if self._down_since is None and self.warn is not None:
                self.warn(f"MLflow tracking server {self.client.uri} does not answer ({err}); retrying every "
                          f"{RETRY_EVERY:g}s, the jobs go on and what they log meanwhile is read then")
            self._down_since = self._down_since or now
            return False
        if self._down_since is not None and self.warn is not None:
            self.warn(f"MLflow tracking server {self.client.uri} answers again after "
                      f"{now - self._down_since:.0f}s; reading what the jobs logged meanwhile")
        self._down_since = None
        return True

    def _read_jobs(self, jobs: List[_Job], now: float, discover: Optional[bool] = None) -> None:
        """Read the known runs of ``jobs`` and, when due (or ``discover``), look for new runs."""
        known = [r for job in jobs for r in self._known_runs(job)]
        runs = []
        if known:
            experiments = sorted({self._run_experiment[r] for r in known})
            runs.extend(self.client.search_runs(experiments, "attributes.run_id IN (" +
                                                ", ".join(f"'{r}'" for r in known) + ")"))
        if discover is None:
            # a job without a running run (not started one yet, or ended one and may start another before it
            # ends: this may be its last read), or with runs from a cursor whose experiment is not known yet
            waiting = any(not any(r in self._running_runs for r in self._known_runs(job)) for job in jobs)
            discover = bool(jobs) and (waiting or now - self._last_discovery >= DISCOVER_EVERY)
        if discover:
            runs.extend(self._discover())
            self._last_discovery = now
        wanted: Dict[str, List[Tuple[str, int, int]]] = {}     # metric key -> [(run id, from step, to step)]
        for run in runs:
            run_id = run["info"]["run_id"]
            job = self._jobs.get(self._run_owner.get(run_id, ""))
            if job is None:
                continue
            if run["info"].get("status") == "RUNNING":
                self._running_runs.add(run_id)
            else:
                self._running_runs.discard(run_id)
            states = job.runs.setdefault(run_id, {})
            for latest in run.get("data", {}).get("metrics", []):
                state = states.setdefault(latest["key"], _RunState())
                value = as_number(latest.get("value"))
                step, timestamp = int(latest["step"]), int(latest["timestamp"])
                if value is None or not state.is_new(step, timestamp, value):
                    continue
                if state.last_step > FIRST_STEP and step <= state.last_step + 1:
                    # no step between the last one read and this one: the latest value is all there is to read
                    # (earlier values at this step would be replaced by it in the task store anyway)
                    state.take(step, timestamp, value)
                    job.rows.append((latest["key"], step, value, timestamp / 1000.0))
                else:
                    wanted.setdefault(latest["key"], []).append((run_id, state.last_step, step))
        for key, ranges in wanted.items():
            for i in range(0, len(ranges), MAX_RUNS_PER_HISTORY_CALL):
                self._fetch(key, ranges[i:i + MAX_RUNS_PER_HISTORY_CALL])

    def _discover(self) -> List[dict]:
        """Runs under the task's jobs not known yet: those of registered jobs (started since the job's attempt
        began) are returned; those of jobs without a source yet are kept for when their source registers."""
        experiments = self.client.experiment_ids()
        if not experiments:
            return []
        since = min((job.since_ms for job in self._jobs.values()), default=0)
        conditions = [f"tags.`{JOB_TAG}` LIKE {like_prefix(self.jobs_prefix)}"]
        if since:
            conditions.append(f"attributes.start_time >= {since}")
        seen = list(self._run_experiment) + [r for runs in self._unclaimed.values() for r in runs]
        if seen:
            conditions.append("attributes.run_id NOT IN (" + ", ".join(f"'{r}'" for r in seen) + ")")
        found = []
        for run in self.client.search_runs(experiments, " AND ".join(conditions)):
            info = run["info"]
            tags = {t["key"]: t.get("value") for t in run.get("data", {}).get("tags", [])}
            key, started = tags.get(JOB_TAG, ""), int(info.get("start_time") or 0)
            job = self._jobs.get(key)
            if job is None:
                if key.startswith(self.jobs_prefix):
                    self._unclaimed.setdefault(key, {})[info["run_id"]] = (info["experiment_id"], started)
                continue
            if started < job.since_ms:
                continue
            self._run_owner[info["run_id"]] = job.key
            self._run_experiment[info["run_id"]] = info["experiment_id"]
            job.runs.setdefault(info["run_id"], {})
            found.append(run)
        return found

    def _fetch(self, key: str, ranges: List[Tuple[str, int, int]]) -> None:
        start, end = min(r[1] for r in ranges), max(r[2] for r in ranges)
        values = self.client.history_between([r[0] for r in ranges], key, start, end)
        per_run: Dict[str, List[dict]] = {}
        for metric in values:
            per_run.setdefault(metric.get("run_id", ""), []).append(metric)
        for run_id, _first, last in ranges:
            got = per_run.get(run_id, [])
            if len(got) >= MAX_VALUES_PER_RUN:                 # sampled by the server: read all of them
                got = [m for m in self.client.full_history(run_id, key) if int(m["step"]) >= start]
            job = self._jobs.get(self._run_owner.get(run_id, ""))
            if job is None:
                continue
            state = job.runs[run_id].setdefault(key, _RunState())
            for metric in sorted(got, key=lambda m: (int(m["step"]), int(m["timestamp"]))):
                value = as_number(metric.get("value"))
                step, timestamp = int(metric["step"]), int(metric["timestamp"])
                # beyond the run's latest step in the search: read with the next search, which sees the metrics
                # the job logged before it (a step_attribute value logged before the values on its axis)
                if value is None or step > last or not state.is_new(step, timestamp, value):
                    continue
                state.take(step, timestamp, value)
                job.rows.append((key, step, value, timestamp / 1000.0))


_POLLS: "weakref.WeakValueDictionary[Tuple[str, str], ServerPoll]" = weakref.WeakValueDictionary()


def _shared_poll(tracking_uri: str, jobs_prefix: str, warn) -> ServerPoll:
    poll = _POLLS.get((tracking_uri, jobs_prefix))
    if poll is None:
        poll = _POLLS[(tracking_uri, jobs_prefix)] = ServerPoll(tracking_uri, jobs_prefix, warn)
    return poll


class MlflowServerMetrics:
    """One job's runs on a tracking server as a metric source (the contract of ``ingest.base``). A scalar's name
    is its MLflow key, its step the logged step or, with ``step_attribute``, the value of that MLflow metric at
    the same or an earlier step. All sources of jobs under one parent directory share one :class:`ServerPoll`."""

    def __init__(self, job_dir: str, tracking_uri: str, step_attribute: Optional[str] = None,
                 cursor: Optional[dict] = None, warn: Optional[Callable[[str], None]] = None):
        cursor = cursor or {}
        self.key = os.path.abspath(job_dir)
        self._poll = _shared_poll(tracking_uri, os.path.dirname(self.key) + os.sep, warn)
        runs = {run_id: {metric: _RunState(last, at) for metric, (last, at) in metrics.items()}
                for run_id, metrics in cursor.get("runs", {}).items()}
        self._poll.register(self.key, attempt_started_ms(job_dir), runs)
        weakref.finalize(self, self._poll.unregister, self.key)
        self._axis = StepAxis(step_attribute, cursor.get("axis")) if step_attribute else None

    @property
    def cursor(self) -> dict:
        runs = {run_id: {metric: [s.last_step, sorted(s.at_last)] for metric, s in metrics.items()}
                for run_id, metrics in self._poll.runs_of(self.key).items()}
        return {"runs": runs, "axis": self._axis.cursor if self._axis else None}

    def read_new(self) -> List[Row]:
        rows = self._poll.take(self.key)
        return self._axis.convert(rows) if self._axis else rows
