"""The launching half of the controller: searcher suggestions and reruns become submitted jobs.

For each free slot: a job to rerun first, else a queued configuration (``searcher.initial_points``, or one added by
``search-ctl enqueue``), else a new configuration from the searcher (duplicates skipped); a new one is recorded
PENDING, passed through the filter criteria (FILTERED if one drops it), rendered (job directory, File
copies, command) and submitted. The store is written before each step that depends on it: the job is recorded
with its command and ``submitted_at`` before ``Launcher.submit`` is called, and RUNNING with its external id
right after, so a controller killed in between finds the job again through ``Launcher.recover``. A job to run
again that was never submitted goes through the filter criteria first: its controller may have died before
they ran.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections import deque
from typing import Callable, Deque, List, NamedTuple, Optional, Sequence

from ...launchers.base import JobSpec, Launcher, LaunchError
from ...launchers.wrapper import clear_exit_code
from ..config.file_args import write_config_copy
from ..config.search_config import SearchConfig
from ..config.template import render
from ..criteria import Candidate, FilterCriterion
from ..ingest.mlflow_store import DB_FILE as MLFLOW_DB_FILE
from ..ingest.sources import SourceSpec, job_environment
from ..progress import Progress
from ..searchers.base import Searcher
from ..task.code_copy import current_code_dir
from ..task.jobs import Job, JobStatus
from ..task.store import Store
from ..task.summary_files import link_job_tree
from ..task.workspace import WORK_DIR, TaskPaths, make_work_dir
from .clock import SYSTEM_CLOCK, Clock

MAX_DUPLICATES = 1000          # consecutive duplicate suggestions before the searcher counts as exhausted
# kept aside as <name>.attempt<N> when a job runs again: what the earlier attempt wrote is never read as this one's
RERUN_FILES = ("log", "scalars.jsonl", WORK_DIR, MLFLOW_DB_FILE)


def job_spec(paths: TaskPaths, job: Job, time_limit: Optional[float],
             metrics_from: Sequence[SourceSpec] = ()) -> JobSpec:
    """What a launcher needs to run (or find again) ``job``: its command, directories and environment (with
    what its metric sources need, e.g. its own MLflow store)."""
    job_dir = paths.job_dir(job.id)
    env = {"GML_TASK": paths.name, "GML_JOB_ID": str(job.id), "GML_JOB_DIR": job_dir,
           "GML_TASK_DIR": paths.dir, "PYTHONUNBUFFERED": "1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    env.update(job_environment(list(metrics_from), job_dir))
    cwd = job.run_path or paths.code     # tasks made before per-job working directories ran in the copy itself
    return JobSpec(job.id, paths.name, job.command or "", cwd, job_dir, job.log_path, env, time_limit)


class Queued(NamedTuple):
    """A configuration to run before the searcher's next one: an initial point (``request_id`` None) or one asked
    for by ``search-ctl enqueue`` (its request, closed once the job is recorded)."""

    point: dict
    request_id: Optional[int] = None

    @property
    def requested(self) -> bool:
        """Asked for explicitly: it runs even after a stop criterion ended new launches (as reruns do)."""
        return self.request_id is not None


class Launching:
    """Fills free slots. ``reruns``: ids of jobs to run again before new configurations (the controller adds
    them on resume); ``queued``: configurations to run before the searcher's (see :class:`Queued`);
    ``exhausted``: the searcher had nothing to propose (the controller clears it when a result arrives, which may
    let the searcher propose again)."""

    def __init__(self, paths: TaskPaths, config: SearchConfig, store: Store, searcher: Searcher,
                 launcher: Launcher, filters: List[FilterCriterion], progress: Progress,
                 parallel_size: int, time_limit: Optional[float], clock: Clock = SYSTEM_CLOCK):
        self.paths, self.config, self.store, self.searcher, self.launcher = paths, config, store, searcher, launcher
        self.filters, self.progress, self.parallel_size, self.time_limit = filters, progress, parallel_size, time_limit
        self.clock = clock
        self.code_dir = current_code_dir(paths, store)     # the code copy new attempts run on
        self.reruns: Deque[int] = deque()
        self.queued: Deque[Queued] = deque()
        self.exhausted = False

    def free_slots(self, running: int) -> int:
        free = self.parallel_size - running
        capacity = self.launcher.capacity()
        return free if capacity is None else min(free, capacity)

    def launch(self, running: int, draining: bool, stop_after_submit: Callable[[], bool]) -> None:
        """Fill the free slots: reruns always, new configurations unless ``draining`` (a stop criterion fired)
        or the searcher is exhausted. ``stop_after_submit`` is asked after each new job; True ends launching."""
        for _ in range(self.free_slots(running)):
            if self.reruns:
                job = self.store.job(self.reruns.popleft())
                # never submitted: a controller killed in `start` may have recorded it before its filters ran
                if job.submitted_at is None and self.filtered_out(job):
                    continue
                # rendered again: a resumed task may have fixed its template (the space cannot change)
                self.submit(self.prepare(job))
                continue
            queued = self.next_queued(draining)
            if queued is not None:
                if self.start(queued.point, queued.request_id) and stop_after_submit():
                    return
                continue
            if draining or self.exhausted:
                return
            point = self.next_point()
            if point is None:
                self.exhausted = True
                return
            if self.start(point) and stop_after_submit():
                return

    def has_queued(self, draining: bool) -> bool:
        """Whether a queued configuration may still launch (only requested ones while ``draining``)."""
        return any(q.requested or not draining for q in self.queued)

    def next_queued(self, draining: bool) -> Optional[Queued]:
        """The first queued configuration that may launch and is not in the store yet (one that is, because the
        searcher proposed it meanwhile, is dropped and its request closed); None when there is none."""
        for queued in list(self.queued):
            if draining and not queued.requested:
                continue
            self.queued.remove(queued)
            if not self.store.has_point(queued.point):
                self.searcher.mark_issued(queued.point)
                return queued
            if queued.request_id is not None:
                self.store.close_request(queued.request_id)
            self.progress.event(f"enqueued configuration already run: {self.config.space.params(queued.point)}")
        return None

    def start(self, point: dict, request_id: Optional[int] = None) -> bool:
        """Record a new configuration (closing the request that asked for it, if any), pass it through the filter
        criteria and submit it; False when a filter dropped it."""
        job = self.store.add_job(point, self.config.space.params(point))
        if request_id is not None:
            self.store.close_request(request_id)
            self.progress.event(f"job {job.id}: enqueued by search-ctl")
        if self.filtered_out(job):
            return False
        self.submit(self.prepare(job))
        return True

    def filtered_out(self, job: Job) -> bool:
        """Pass ``job`` through the filter criteria; when one drops it, record it FILTERED (and tell the searcher
        it will never have a reward) and return True."""
        candidate = Candidate(job.id, job.point, job.params)
        if all(f.filter(candidate) for f in self.filters):
            return False
        self.store.update_job(job.id, status=JobStatus.FILTERED)
        self.searcher.observe(job.point, None)
        return True

    def next_point(self) -> Optional[dict]:
        """The searcher's next configuration not in the store yet; None when it has none."""
        for _ in range(MAX_DUPLICATES):
            point = self.searcher.suggest()
            if point is None:
                return None
            self.searcher.mark_issued(point)
            if not self.store.has_point(point):
                return point
        return None

    def prepare(self, job: Job) -> Job:
        """Write the job's directory, its File copies and its command; link it in jobs/tree. Its working
        directory is made when it is submitted."""
        job_dir = self.paths.job_dir(job.id)
        os.makedirs(job_dir, exist_ok=True)
        params = dict(self.config.space.params(job.point))
        for file_arg in self.config.space.files:
            source = os.path.join(self.code_dir, file_arg.file)
            params[file_arg.name] = write_config_copy(source, file_arg.overrides(params), job_dir)
        command = render(self.config.template, params)
        log_path = os.path.join(job_dir, "log") if self.config.generate_log else None
        self.store.update_job(job.id, params=params, command=command, run_path=self.paths.job_work_dir(job.id),
                              log_path=log_path)
        job = self.store.job(job.id)
        link_job_tree(self.paths, job)
        return job

    def submit(self, job: Job) -> None:
        """Record a new attempt of ``job`` (PENDING, submitted now), then hand it to the launcher; RUNNING with
        its external id when accepted, ERROR when refused. Each attempt starts in a fresh working directory."""
        clear_exit_code(self.paths.job_dir(job.id))   # an exit code found on resume must be this attempt's
        if job.attempt > 0:   # a rerun: keep the earlier attempt's log, scalars and working directory aside
            job_dir = self.paths.job_dir(job.id)
            for name in RERUN_FILES:
                old = os.path.join(job_dir, name)
                if os.path.lexists(old):
                    aside = f"{old}.attempt{job.attempt}"
                    if os.path.isdir(aside) and not os.path.islink(aside):
                        shutil.rmtree(aside)     # left by a controller killed between this and the submission
                    os.replace(old, aside)
            self.store.clear_scalars(job.id)
        make_work_dir(self.code_dir, self.paths.job_work_dir(job.id))
        self.store.update_job(job.id, status=JobStatus.PENDING, attempt=job.attempt + 1, external_id=None,
                              submitted_at=self.clock.time(), start_time=None, end_time=None, exit_code=None,
                              reward=None, error=None, stopped_step=None, end_intent=None, end_reason=None,
                              violation=None)
        try:
            external_id = self.launcher.submit(job_spec(self.paths, job, self.time_limit, self.config.metrics_from))
        except LaunchError as err:
            self.store.update_job(job.id, status=JobStatus.ERROR, end_time=self.clock.time(), error=str(err))
            self.searcher.observe(job.point, None)
            self.progress.event(f"job {job.id} refused: {err}")
            return
        self.store.update_job(job.id, status=JobStatus.RUNNING, external_id=external_id)
