"""The watching half of the controller: running jobs are polled, their scalars read, judged and ended.

Each :meth:`Watching.watch` call polls the launcher (at most every ``poll_interval`` unless the launcher said a job
changed), records the jobs that ended, starts a job's time-limit clock when the launcher first reports it
running, stores new scalars (``gml.report`` files, TensorBoard event files and the ``metrics_from`` sources), asks
the assessor about every new step of a job's reward curve (one step at a time, so a job is stopped at the step the
rule stops it even when several steps arrived in one read) and ends jobs over their time limit. Ending a job on
purpose records the intent (``end_intent``, ``end_reason``) before the launcher is asked to cancel it. Watching
tells the searcher nothing: it returns the jobs that ended and the controller reports them.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, List, Optional, Tuple

from ...launchers.base import JobState, Launcher, Status
from ..assessors.base import Assessor, Curve, Decision, judge_new_steps
from ..config.search_config import SearchConfig
from ..ingest.report_files import read_new_scalars, reward_of
from ..ingest.base import StepAxis
from ..ingest.sources import SourceKind, open_sources
from ..ingest.tensorboard import TensorBoardScalars
from ..progress import Progress
from ..task.jobs import Job, JobStatus
from ..task.store import Store
from ..task.workspace import TaskPaths
from .clock import SYSTEM_CLOCK, Clock

LOG_TAIL_LINES = 20


def log_tail(path: Optional[str], lines: int = LOG_TAIL_LINES, limit: int = 4000) -> str:
    """The last ``lines`` lines of a job's log (from its last ``limit`` bytes); '' without a readable log."""
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


class Watching:
    """Watches the task's RUNNING jobs. ``time_limit``: seconds a job may run once started (None: no limit);
    ``collect``: the scalar names to store (None: all)."""

    def __init__(self, paths: TaskPaths, config: SearchConfig, store: Store, launcher: Launcher,
                 assessor: Optional[Assessor], progress: Progress, time_limit: Optional[float],
                 collect: Optional[List[str]], clock: Clock = SYSTEM_CLOCK):
        self.paths, self.store, self.launcher, self.assessor = paths, store, launcher, assessor
        self.reward_name = config.searcher.reward_attribute
        self.reward_from = config.searcher.reward_from
        self.mode = config.searcher.optimize_mode
        self.time_limit, self.collect, self.clock = time_limit, collect, clock
        self._last_poll = -float("inf")
        self._tensorboard = TensorBoardScalars(warn=progress.event)   # tensorboard loads only if files exist
        self._warn = progress.event
        self.metrics_from = config.metrics_from
        self._auto_tensorboard = all(s.kind is not SourceKind.TENSORBOARD for s in self.metrics_from)
        step_attribute = config.raw.get("step_attribute")
        self._tb_step = step_attribute if self._auto_tensorboard else None
        self._tb_axes: Dict[int, StepAxis] = {}
        # per job: its open metric sources (read from the start again after a controller restart: the store
        # keeps one value per (job, name, step), so nothing is counted twice) and the last step judged
        self._sources: Dict[int, Dict[str, object]] = {}
        self._judged: Dict[int, Optional[int]] = {}

    def curve(self, job_id: int) -> Curve:
        """The job's reward attribute as ``[(step, value), ...]`` in step order."""
        return self.curve_of(job_id, self.reward_name)

    def curve_of(self, job_id: int, name: str) -> Curve:
        """The job's scalar ``name`` as ``[(step, value), ...]`` in step order."""
        return [(step, value) for _, step, value in self.store.scalars(job_id, name)]

    def watch(self, changed: bool = False, on_end: Optional[Callable[[Job], None]] = None) -> Tuple[List[Job], int]:
        """One round over the RUNNING jobs; ``changed``: the launcher said a job changed state (poll now).
        ``on_end`` is called with each job as soon as its end is recorded (before the next job is looked at).
        Returns the jobs that ended in this round (as recorded) and how many are still running."""
        running = self.store.jobs([JobStatus.RUNNING])
        ended: List[Job] = []

        def record(job: Job) -> None:
            ended.append(job)
            if on_end is not None:
                on_end(job)

        now = self.clock.monotonic()
        if running and (changed or now - self._last_poll >= self.launcher.poll_interval):
            self._last_poll = now
            states = self.launcher.poll([j.external_id for j in running])
            still = []
            for job in running:
                status = states.get(job.external_id)
                if status is not None and status.state.is_done:
                    record(self.finish(job, status))
                    continue
                if status is not None and status.state == JobState.RUNNING and not job.has_started:
                    # the clock of time_limits_per_job starts here, not while the job waits in a queue
                    job.start_time = self.clock.time()
                    self.store.update_job(job.id, start_time=job.start_time)
                still.append(job)
            running = still
        left = 0
        for job in running:
            if self.ingest(job) and self.assessor is not None:
                decision, step = judge_new_steps(self.assessor, job.id, self.curve(job.id), self._judged.get(job.id))
                self._judged[job.id] = step
                if decision == Decision.STOP:
                    record(self.end(job, JobStatus.EARLY_STOPPED, f"stopped by the assessor at step {step}",
                                    stopped_step=step))
                    continue
            if self.over_time_limit(job):
                record(self.end(job, JobStatus.TIMEOUT, f"over time_limits_per_job ({self.time_limit:.0f}s)"))
                continue
            left += 1
        return ended, left

    def over_time_limit(self, job: Job) -> bool:
        return (self.time_limit is not None and job.has_started
                and self.clock.time() - job.start_time > self.time_limit)

    def ingest(self, job: Job) -> bool:
        """Store new scalars of a job, from ``gml.report``'s file and from the TensorBoard event files under its
        directory (read incrementally); True when new reward values arrived."""
        job_dir = self.paths.job_dir(job.id)
        rows, offset = read_new_scalars(job_dir, job.scalar_offset, self.collect)
        # event files older than this attempt's submission belong to an earlier attempt
        since = job.submitted_at if job.submitted_at is not None else job.start_time
        if self._auto_tensorboard:
            found = self._tensorboard.read_new(job.id, job_dir, None if self._tb_step else self.collect, since=since)
            if self._tb_step:
                axis = self._tb_axes.setdefault(job.id, StepAxis(self._tb_step))
                found = self._wanted(axis.convert(found))
            rows = found + rows
        sources = self._sources.get(job.id)
        if sources is None:
            sources = self._sources[job.id] = open_sources(self.metrics_from, job_dir, job.log_path, warn=self._warn)
        for source in sources.values():
            rows.extend(self._wanted(source.read_new()))
        if rows or offset != job.scalar_offset:
            self.store.add_scalars(job.id, rows, offset)
            job.scalar_offset = offset
        return any(name == self.reward_name for name, *_ in rows)

    def _wanted(self, rows):
        return rows if self.collect is None else [r for r in rows if r[0] in self.collect]

    def forget(self, job_id: int) -> None:
        """Drop what is kept in memory for an ended job."""
        for kept in (self._sources, self._judged, self._tb_axes):
            kept.pop(job_id, None)
        self._tensorboard.forget(job_id)

    def finish(self, job: Job, status: Status, stopped_step: Optional[int] = None) -> Job:
        """Record how an active job ended: its ``end_intent`` if the controller ended it on purpose, else what the
        launcher's ``status`` tells (ERROR with the log's last lines). ``stopped_step``: the step an assessor stopped
        it at (default: its last step). Returns the job as recorded."""
        self.ingest(job)
        self.forget(job.id)
        curve = self.curve(job.id)
        reward = reward_of(curve, self.reward_from, self.mode)
        error = None
        if job.end_intent is not None:
            final, error = job.end_intent, job.end_reason
        elif status.state == JobState.SUCCEEDED:
            final = JobStatus.SUCCEEDED
            if reward is None:
                error = f"finished without reporting {self.reward_name!r}"
        else:
            final = JobStatus.ERROR
            tail = log_tail(job.log_path)
            error = (status.message or status.state.value) + (f"\n--- last lines of {job.log_path} ---\n{tail}"
                                                               if tail else "")
        if final != JobStatus.EARLY_STOPPED:
            stopped_step = None
        elif stopped_step is None and curve:
            stopped_step = curve[-1][0]
        # a job that ran and ended between two polls never showed RUNNING: it started after its submission
        ran_unseen = not job.has_started and status.state in (JobState.SUCCEEDED, JobState.FAILED)
        start_time = job.submitted_at if ran_unseen else job.start_time
        self.store.update_job(job.id, status=final, start_time=start_time, end_time=self.clock.time(),
                              exit_code=status.exit_code, reward=reward, error=error, stopped_step=stopped_step)
        return self.store.job(job.id)

    def end(self, job: Job, status: JobStatus, why: str, stopped_step: Optional[int] = None) -> Job:
        """End an active job on purpose: the intent is recorded before the launcher is asked to cancel it."""
        self.store.record_end_intent(job.id, status, why)
        job = dataclasses.replace(job, end_intent=status, end_reason=why)
        if job.external_id:
            self.launcher.cancel(job.external_id)
        return self.finish(job, Status(JobState.CANCELLED), stopped_step)
