"""The controller: one task's search loop, and the only writer of its store.

Each cycle: handle `search-ctl` requests, poll running jobs and record the ended ones, read new scalars and ask
the assessor, end jobs over their time limit, ask the stop criteria, then fill free slots with configurations
from the searcher (filters first). Every state change is committed to the store *before* the action that
depends on it (a job is recorded PENDING before it is submitted; the intent to end a job is recorded before it
is cancelled), so a controller killed at any instant resumes without losing or duplicating work:

- RUNNING jobs are adopted through the launcher if alive, else recorded from the exit code they left;
- PENDING jobs are found again from their traces (``Launcher.recover``) or submitted;
- ERROR jobs are run again first (GML's behaviour), then the search continues.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections import deque
from typing import Optional, TextIO

from ..launchers.base import JobSpec, JobState, LaunchError, Status
from .config.build import Components
from .config.search_config import SearchConfig
from .criteria import Candidate, SearchView, Stop
from .assessors.base import Decision, finish_job
from .config.file_args import write_config_copy
from .ingest.report_files import read_new_scalars, reward_of
from .task.jobs import Job, JobStatus, TaskStatus
from .task.lock import TaskLock
from .progress import Progress
from .task.store import Store
from .task.summary_files import best_job, link_job_tree, write_task_yaml
from .ingest.tensorboard import TensorBoardScalars
from .config.template import render
from .task.workspace import TaskPaths, update_summary

LOG_TAIL_LINES = 20
MAX_DUPLICATES = 1000          # consecutive duplicate suggestions before the searcher counts as exhausted
_OBSERVED = (JobStatus.SUCCEEDED, JobStatus.EARLY_STOPPED, JobStatus.TIMEOUT)   # their reward informs the searcher


def log_tail(path: Optional[str], lines: int = LOG_TAIL_LINES, limit: int = 4000) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            data = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


class Controller:
    def __init__(self, paths: TaskPaths, config: SearchConfig, parts: Components, store: Store,
                 lock: TaskLock, out: TextIO = sys.stderr, show_progress: bool = True):
        self.paths, self.config, self.parts, self.store, self.lock = paths, config, parts, store, lock
        self.searcher, self.launcher, self.assessor = parts.searcher, parts.launcher, parts.assessor
        self.reward_name = config.searcher.reward_attribute
        self.mode = config.searcher.optimize_mode
        self.collect = None if ("scalars" not in config.raw and "pavi" not in config.raw) \
            else config.collected_scalars
        self.progress = Progress(paths.name, self.reward_name, out, enabled=show_progress)
        self._reruns: deque = deque()
        self._exhausted = False
        self._drain: Optional[str] = None      # why launching stopped
        self._interrupted: Optional[int] = None
        self._session_start = time.monotonic()
        self._elapsed_before = float(store.get_meta("elapsed", 0.0))
        self._last_poll = 0.0
        self._changed = False      # the launcher said a job changed state: poll now
        self._last_meta = 0.0
        self._best: Optional[float] = None
        self._recovering = False   # while True, ended jobs are recorded but not yet shown to searcher/assessor
        self._tensorboard = TensorBoardScalars(warn=self.progress.event)   # tensorboard loads only if files exist

    # -- bookkeeping -----------------------------------------------------------------------------------------
    def view(self) -> SearchView:
        counts = self.store.counts()
        launched = sum(n for s, n in counts.items() if s != JobStatus.FILTERED.value)
        running = counts.get("RUNNING", 0) + counts.get("PENDING", 0)
        finished = launched - running
        return SearchView(self.elapsed(), launched, finished, running, self._best, self.mode)

    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._session_start

    def _save_meta(self, force: bool = False, **extra) -> None:
        now = time.monotonic()
        if force or now - self._last_meta > 2.0 or extra:
            self.store.set_meta(elapsed=self.elapsed(), updated_at=time.time(), **extra)
            write_task_yaml(self.paths, self.store)
            self._last_meta = now

    def _update_best(self, reward: Optional[float]) -> None:
        if reward is None or math.isnan(reward):
            return
        if self._best is None or (reward > self._best if self.mode == "maximize" else reward < self._best):
            self._best = reward

    def _spec(self, job: Job) -> JobSpec:
        job_dir = self.paths.job_dir(job.id)
        env = {"GML_TASK": self.paths.name, "GML_JOB_ID": str(job.id), "GML_JOB_DIR": job_dir,
               "GML_TASK_DIR": self.paths.dir, "PYTHONUNBUFFERED": "1",
               "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
        return JobSpec(job.id, self.paths.name, job.command or "", self.paths.code, job_dir, job.log_path, env,
                       self.parts.job_time_limit)

    # -- resume ----------------------------------------------------------------------------------------------
    def recover(self) -> None:
        """Bring the store in line with reality after a previous controller ended (cleanly or not), then replay
        the store into the searcher and the assessor."""
        self._recovering = True
        jobs = self.store.jobs()
        for job in jobs:
            if job.status == JobStatus.RUNNING and job.external_id:
                if not self.launcher.adopt(job.external_id, self._spec(job)):
                    self._finish(job, self.launcher.poll([job.external_id])[job.external_id])
                elif job.extra.get("ending"):     # the previous controller died while ending it: finish that
                    self._end(job, JobStatus(job.extra["ending"]), job.extra.get("why", ""))
            elif job.status in (JobStatus.RUNNING, JobStatus.PENDING):
                external_id = self.launcher.recover(self._spec(job))
                if external_id and self.launcher.adopt(external_id, self._spec(job)):
                    self.store.update_job(job.id, status=JobStatus.RUNNING, external_id=external_id)
                else:
                    self._reruns.append(job.id)
        self._recovering = False
        jobs = self.store.jobs()
        self._reruns.extend(j.id for j in jobs if j.status == JobStatus.ERROR)
        history = []
        for job in jobs:
            finished = job.status.is_terminal and job.id not in self._reruns
            history.append((job.point, job.reward if job.status in _OBSERVED else None, finished))
            if finished and job.status != JobStatus.FILTERED:
                self._update_best(job.reward if job.status in _OBSERVED else None)
                if self.assessor is not None:
                    finish_job(self.assessor, job.id, self._curve(job.id), job.status == JobStatus.SUCCEEDED)
        self.searcher.restore(history)

    # -- launching -------------------------------------------------------------------------------------------
    def _free_slots(self, running: int) -> int:
        free = self.config.scheduler.parallel_size - running
        capacity = self.launcher.capacity()
        return free if capacity is None else min(free, capacity)

    def _next_point(self) -> Optional[dict]:
        for _ in range(MAX_DUPLICATES):
            point = self.searcher.suggest()
            if point is None:
                return None
            self.searcher.mark_issued(point)
            if not self.store.has_point(point):
                return point
        return None

    def _prepare(self, job: Job) -> Job:
        """Write the job's directory, its File copies and its command; link it in jobs/tree."""
        job_dir = self.paths.job_dir(job.id)
        os.makedirs(job_dir, exist_ok=True)
        params = dict(self.config.space.params(job.point))
        for file_arg in self.config.space.files:
            source = os.path.join(self.paths.code, file_arg.file)
            params[file_arg.name] = write_config_copy(source, file_arg.overrides(params), job_dir)
        command = render(self.config.template, params)
        log_path = os.path.join(job_dir, "log") if self.config.generate_log else None
        self.store.update_job(job.id, params=params, command=command, run_path=self.paths.code, log_path=log_path)
        job = self.store.job(job.id)
        link_job_tree(self.paths, job)
        return job

    def _submit(self, job: Job) -> None:
        if job.attempt > 0:   # a rerun: keep the earlier attempt's log and scalars aside
            job_dir = self.paths.job_dir(job.id)
            for name in ("log", "scalars.jsonl"):
                old = os.path.join(job_dir, name)
                if os.path.exists(old):
                    os.replace(old, f"{old}.attempt{job.attempt}")
            self.store.clear_scalars(job.id)
        self.store.update_job(job.id, status=JobStatus.PENDING, attempt=job.attempt + 1, external_id=None,
                              start_time=time.time(), end_time=None, exit_code=None, reward=None, error=None,
                              stopped_step=None, extra={"submitted_at": time.time()})
        try:
            external_id = self.launcher.submit(self._spec(job))
        except LaunchError as err:
            self.store.update_job(job.id, status=JobStatus.ERROR, end_time=time.time(), error=str(err))
            self.searcher.observe(job.point, None)
            self.progress.event(f"job {job.id} refused: {err}")
            return
        self.store.update_job(job.id, status=JobStatus.RUNNING, external_id=external_id)

    def _launch(self, running: int) -> None:
        for _ in range(self._free_slots(running)):
            if self._reruns:
                # rendered again: a resumed task may have fixed its template (the space cannot change)
                self._submit(self._prepare(self.store.job(self._reruns.popleft())))
                continue
            if self._drain or self._exhausted:
                return
            point = self._next_point()
            if point is None:
                self._exhausted = True
                return
            job = self.store.add_job(point, self.config.space.params(point))
            candidate = Candidate(job.id, point, job.params)
            if not all(f.filter(candidate) for f in self.parts.filters):
                self.store.update_job(job.id, status=JobStatus.FILTERED)
                self.searcher.observe(point, None)      # it will never have a reward
                continue
            self._submit(self._prepare(job))
            stop = self._ask_criteria("before_iter")
            if stop:
                return

    # -- watching --------------------------------------------------------------------------------------------
    def _curve(self, job_id: int):
        return [(step, value) for _, step, value in self.store.scalars(job_id, self.reward_name)]

    def _ingest(self, job: Job) -> bool:
        """Store new scalars of a job, from ``gml.report``'s file and from the TensorBoard event files under its
        directory (``ingest.tensorboard``, read incrementally); True when new reward values arrived."""
        job_dir = self.paths.job_dir(job.id)
        rows, offset = read_new_scalars(job_dir, job.scalar_offset, self.collect)
        # event files older than this attempt's submission belong to an earlier attempt
        since = job.extra.get("submitted_at", job.start_time)
        rows = self._tensorboard.read_new(job.id, job_dir, self.collect, since=since) + rows
        if rows or offset != job.scalar_offset:
            self.store.add_scalars(job.id, rows, offset)
            job.scalar_offset = offset
        return any(name == self.reward_name for name, *_ in rows)

    def _finish(self, job: Job, status: Status, ending: Optional[JobStatus] = None) -> None:
        self._ingest(job)
        curve = self._curve(job.id)
        reward = reward_of(curve, self.config.searcher.reward_from, self.mode)
        ending = ending or (JobStatus(job.extra["ending"]) if job.extra.get("ending") else None)
        error = None
        if ending is not None:
            final = ending
            error = job.extra.get("why")
        elif status.state == JobState.SUCCEEDED:
            final = JobStatus.SUCCEEDED
            if reward is None:
                error = f"finished without reporting {self.reward_name!r}"
        else:
            final = JobStatus.ERROR
            tail = log_tail(job.log_path)
            error = (status.message or status.state.value) + (f"\n--- last lines of {job.log_path} ---\n{tail}"
                                                               if tail else "")
        stopped_step = curve[-1][0] if final == JobStatus.EARLY_STOPPED and curve else None
        self.store.update_job(job.id, status=final, end_time=time.time(), exit_code=status.exit_code,
                              reward=reward, error=error, stopped_step=stopped_step)
        if self._recovering:
            return
        self._exhausted = False    # a result may let the searcher propose again (e.g. a new generation)
        observed = reward if final in _OBSERVED else None
        self.searcher.observe(job.point, observed)
        self._update_best(observed)
        if self.assessor is not None:
            finish_job(self.assessor, job.id, curve, final == JobStatus.SUCCEEDED)
        self.progress.job_done(job.id, final, reward)

    def _end(self, job: Job, status: JobStatus, why: str) -> None:
        """End a running job on purpose; the intent is recorded before the launcher acts."""
        extra = dict(job.extra, ending=status.value, why=why)
        self.store.update_job(job.id, extra=extra)
        job.extra = extra
        if job.external_id:
            self.launcher.cancel(job.external_id)
        self._finish(job, Status(JobState.CANCELLED), ending=status)

    def _watch(self) -> int:
        """Poll, ingest, assess and time-limit running jobs; return how many are still running."""
        running = self.store.jobs([JobStatus.RUNNING])
        now = time.monotonic()
        if running and (self._changed or now - self._last_poll >= self.launcher.poll_interval):
            self._last_poll, self._changed = now, False
            states = self.launcher.poll([j.external_id for j in running])
            still = []
            for job in running:
                status = states.get(job.external_id)
                if status is not None and status.state.is_done:
                    self._finish(job, status)
                    continue
                if status is not None and status.state == JobState.RUNNING and not job.extra.get("running"):
                    # the clock of time_limits_per_job starts here, not while the job waits in a queue
                    job.extra, job.start_time = dict(job.extra, running=True), time.time()
                    self.store.update_job(job.id, start_time=job.start_time, extra=job.extra)
                still.append(job)
            running = still
        limit = self.parts.job_time_limit
        left = []
        for job in running:
            if self._ingest(job) and self.assessor is not None:
                if self.assessor.assess_job(job.id, self._curve(job.id)) == Decision.STOP:
                    self._end(job, JobStatus.EARLY_STOPPED, "stopped by the assessor")
                    continue
            if limit is not None and job.extra.get("running") and time.time() - job.start_time > limit:
                self._end(job, JobStatus.TIMEOUT, f"over time_limits_per_job ({limit:.0f}s)")
                continue
            left.append(job)
        return len(left)

    def _ask_criteria(self, hook: str) -> Optional[Stop]:
        view = self.view()
        for criterion in self.parts.stop_criteria:
            answer = getattr(criterion, hook)(view)
            if answer:
                stop = answer if isinstance(answer, Stop) else Stop.DRAIN
                if not self._drain:
                    self._drain = criterion.describe()
                    self.progress.event(f"stopping: {self._drain}")
                if stop == Stop.END:
                    self._end_all(JobStatus.KILLED, self._drain)
                return stop
        return None

    def _end_all(self, status: JobStatus, why: str) -> None:
        for job in self.store.jobs([JobStatus.RUNNING, JobStatus.PENDING]):
            self._end(job, status, why)
        self._reruns.clear()

    def _requests(self) -> Optional[str]:
        for request_id, action in self.store.open_requests():
            self.store.close_request(request_id)
            if action == "stop":
                return "stopped by search-ctl stop"
        return None

    # -- the loop --------------------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self._interrupted = signum

    def run(self) -> TaskStatus:
        """Run the search until it ends; returns the task's final status."""
        handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        status, reason = TaskStatus.FAILED, "controller error"
        try:
            self._save_meta(force=True, status=TaskStatus.RUNNING.value, pid=os.getpid(), reason=None)
            self.recover()
            self._ask_criteria("before_run")
            status, reason = self._loop()
        finally:
            # Interrupted: end the jobs (recorded ERROR, rerun on --resume). A controller that crashed leaves
            # them running, to be adopted on resume, as after kill -9.
            if self._interrupted:
                self._end_all(JobStatus.ERROR, "the controller was interrupted")
            for criterion in self.parts.stop_criteria:
                criterion.after_run(self.view())
            self._save_meta(force=True, status=status.value, reason=reason)
            self.launcher.close()
            for s, h in handlers.items():
                signal.signal(s, h)
            summary = write_task_yaml(self.paths, self.store)
            update_summary(self.paths.root, self.paths.name, {
                "status": status.value, "updated": summary["updated"], "jobs": summary["jobs"],
                "best": summary["best"], "config": summary["config"]})
            self.progress.close(status, reason, best_job(self.store.jobs(), self.mode))
        return status

    def _loop(self):
        while True:
            if self._interrupted:
                name = signal.Signals(self._interrupted).name
                return TaskStatus.INTERRUPTED, f"interrupted by {name}; resume with --resume"
            why = self._requests()
            if why:
                self._end_all(JobStatus.KILLED, why)
                return TaskStatus.STOPPED, why
            running = self._watch()
            self._ask_criteria("after_iter")
            self._ask_criteria("before_iter")
            self._launch(running)
            running = self.store.counts().get("RUNNING", 0)
            self._save_meta()
            self.progress.tick(self.store.counts(), self._best, self.elapsed())
            if running == 0 and not self._reruns and (self._exhausted or self._drain):
                reason = self._drain or "the searcher has no configuration left"
                return TaskStatus.FINISHED, reason
            self._changed = self.launcher.wait(self.launcher.poll_interval if running else 0.05)
