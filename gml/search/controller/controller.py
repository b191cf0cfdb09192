"""The controller: one task's search loop, and the only writer of its store.

Each cycle: handle `search-ctl` requests, let :class:`Watching` poll, ingest, assess and time-limit running jobs
(the jobs that ended are reported to the searcher, the assessor and the progress line), ask the stop criteria,
then let :class:`Launching` fill free slots. Every state change is committed to the store *before* the action
that depends on it (a job is recorded PENDING before it is submitted; the intent to end a job is recorded before
it is cancelled), so a controller killed at any instant resumes without losing or duplicating work:

- RUNNING jobs are adopted through the launcher if alive, else recorded from the exit code they left; one whose
  end was decided (``end_intent``) is ended now;
- PENDING jobs are found again from their traces (``Launcher.recover``), recorded from the exit code they left
  if they ran to their end unrecorded, or else submitted;
- ERROR jobs are run again first, then the search continues.
"""
from __future__ import annotations

import math
import os
import signal
import sys
from typing import List, Optional, TextIO, Tuple

from ...launchers.wrapper import read_exit_code, status_from_exit
from ..config.build import Components
from ..config.search_config import SearchConfig
from ..constraints import total_violation, violations
from ..criteria import SearchView, Stop
from ..objectives import objective_values
from ..progress import Progress
from ..task.jobs import Job, JobStatus, TaskStatus
from ..task.lock import TaskLock
from ..task.store import RequestAction, Store
from ..task.summary_files import best_job, write_task_yaml
from ..task.workspace import TaskPaths, update_summary
from .clock import SYSTEM_CLOCK, Clock
from .launching import Launching, Queued, job_spec
from .missing_reward import MissingRewardCheck
from .watching import Watching

OBSERVED = (JobStatus.SUCCEEDED, JobStatus.EARLY_STOPPED, JobStatus.TIMEOUT)   # their reward informs the searcher
META_INTERVAL = 2.0   # seconds between two writes of the task's elapsed time and task.yaml


class Controller:
    def __init__(self, paths: TaskPaths, config: SearchConfig, parts: Components, store: Store,
                 lock: TaskLock, out: TextIO = sys.stderr, show_progress: bool = True, clock: Clock = SYSTEM_CLOCK):
        self.paths, self.config, self.parts, self.store, self.lock = paths, config, parts, store, lock
        self.searcher, self.launcher, self.assessor = parts.searcher, parts.launcher, parts.assessor
        self.mode = config.searcher.optimize_mode
        self.clock = clock
        self.progress = Progress(paths.name, config.searcher.reward_attribute, out, enabled=show_progress)
        collect = None if ("scalars" not in config.raw and "pavi" not in config.raw) else config.collected_scalars
        self.launching = Launching(paths, config, store, self.searcher, self.launcher, parts.filters, self.progress,
                                   config.scheduler.parallel_size, parts.job_time_limit, clock)
        self.watching = Watching(paths, config, store, self.launcher, self.assessor, self.progress,
                                 parts.job_time_limit, collect, clock)
        self._drain: Optional[str] = None      # why launching stopped
        self._interrupted: Optional[int] = None
        self._session_start = clock.monotonic()
        self._elapsed_before = float(store.get_meta("elapsed", 0.0))
        self._changed = False      # the launcher said a job changed state: poll now
        self._last_meta = -math.inf
        self._best: Optional[float] = None
        self._seen_requests: set = set()    # enqueue requests already queued (closed once their job is recorded)
        self.reward_check = MissingRewardCheck(store, config.searcher.reward_attribute,
                                               config.searcher.on_missing_reward, collect, out)
        self._failure: Optional[str] = None    # why the search must end FAILED

    # -- bookkeeping -----------------------------------------------------------------------------------------
    def view(self) -> SearchView:
        counts = self.store.counts()
        launched = sum(n for s, n in counts.items() if s != JobStatus.FILTERED.value)
        running = counts.get("RUNNING", 0) + counts.get("PENDING", 0)
        finished = launched - running
        return SearchView(self.elapsed(), launched, finished, running, self._best, self.mode)

    def elapsed(self) -> float:
        return self._elapsed_before + self.clock.monotonic() - self._session_start

    def _save_meta(self, force: bool = False, **extra) -> None:
        now = self.clock.monotonic()
        if force or now - self._last_meta > META_INTERVAL or extra:
            self.store.set_meta(elapsed=self.elapsed(), updated_at=self.clock.time(), **extra)
            write_task_yaml(self.paths, self.store)
            self._last_meta = now

    def _update_best(self, reward: Optional[float]) -> None:
        if reward is None or math.isnan(reward):
            return
        if self._best is None or (reward > self._best if self.mode == "maximize" else reward < self._best):
            self._best = reward

    def _judge(self, job: Job) -> Optional[List[float]]:
        """The violation of each of ``searcher.constraints`` by a job whose reward counts, from the last value it
        reported of each scalar; their sum is recorded on the job. None without constraints."""
        if not self.config.searcher.constraints or job.status not in OBSERVED:
            return None
        last = {name: value for name, _, value in self.store.scalars(job.id)}   # in step order: the last wins
        values = violations(self.config.searcher.constraints, last)
        if job.violation != total_violation(values):
            job.violation = total_violation(values)
            self.store.update_job(job.id, violation=job.violation)
        return values

    def _searcher_reward(self, job: Job, reward: Optional[float], violated: Optional[List[float]]):
        """What the searcher is told of a job: a constraint-aware searcher hears the violations and the reward;
        any other one hears an infeasible job as failed (None). A multi-objective searcher's reward is the list
        of every objective's value (None when one is missing)."""
        if reward is not None and self.searcher.multi_objective:
            curves = {o.name: self.watching.curve_of(job.id, o.name) for o in self.config.searcher.objectives}
            reward = objective_values(curves, self.config.searcher.objectives, self.config.searcher.reward_from)
        if violated is not None and self.searcher.uses_constraints:
            self.searcher.constraints_observed(job.point, violated)
            return reward
        return None if job.infeasible else reward

    def _report(self, job: Job, live: bool = True) -> Optional[float]:
        """Tell the assessor (and the best reward) that ``job`` ended, as recorded; ``live``: it ended in this
        session, so the searcher and the progress line hear of it too (on resume the store is replayed into the
        searcher by ``Searcher.restore`` instead). Returns the reward the searcher is (or, on resume, is to be)
        told."""
        observed = job.reward if job.status in OBSERVED else None
        violated = self._judge(job)
        if not job.infeasible:
            self._update_best(observed)
        if self.assessor is not None:
            self.assessor.replay(job.id, self.watching.curve(job.id), job.status == JobStatus.SUCCEEDED)
        told = self._searcher_reward(job, observed, violated)
        if not live:
            self.reward_check.saw(job)
        elif self._failure is None and self.reward_check.job_ended(job):
            self._failure = (f"no job reports the reward attribute {self.config.searcher.reward_attribute!r} "
                             f"(searcher.on_missing_reward: fail)")
        if live:
            self.launching.exhausted = False    # a result may let the searcher propose again (a new generation)
            self.searcher.observe(job.point, told)
            self.progress.job_done(job.id, job.status, job.reward)
        return told

    # -- resume ----------------------------------------------------------------------------------------------
    def recover(self) -> None:
        """Bring the store in line with reality after a previous controller ended (cleanly or not), then replay
        the store into the searcher and the assessor."""
        reruns = self.launching.reruns
        for job in self.store.jobs([JobStatus.RUNNING, JobStatus.PENDING]):
            spec = job_spec(self.paths, job, self.parts.job_time_limit, self.config.metrics_from)
            if job.status == JobStatus.RUNNING and job.external_id:
                if not self.launcher.adopt(job.external_id, spec):
                    self.watching.finish(job, self.launcher.poll([job.external_id])[job.external_id])
                elif job.end_intent is not None:     # the previous controller died while ending it: finish that
                    self.watching.end(job, job.end_intent, job.end_reason or "")
            else:   # PENDING, or RUNNING without an id (left by a recovery that was itself killed)
                running = {} if job.status == JobStatus.RUNNING else {"status": JobStatus.RUNNING}
                external_id = self.launcher.recover(spec)
                code = read_exit_code(spec.job_dir) if job.submitted_at is not None else None
                if external_id and self.launcher.adopt(external_id, spec):
                    self.store.update_job(job.id, external_id=external_id, **running)
                elif code is not None:
                    # submitted, then ran to its end while no controller knew it: its wrapper left the exit code
                    # (Launching clears it before recording an attempt, so it is this attempt's)
                    self.store.update_job(job.id, **running)
                    self.watching.finish(self.store.job(job.id), status_from_exit(code, cancelled=False))
                else:
                    reruns.append(job.id)
        jobs = self.store.jobs()
        reruns.extend(j.id for j in jobs if j.status == JobStatus.ERROR)
        history = []
        for job in jobs:
            finished = job.status.is_terminal and job.id not in reruns
            told = job.reward if job.status in OBSERVED else None
            if finished and job.status != JobStatus.FILTERED:
                told = self._report(job, live=False)
            history.append((job.point, told, finished))
        self.searcher.restore(history)
        for point in self.config.searcher.initial_points:     # run before the searcher's own (a resume skips done)
            if not self.store.has_point(point):
                self.launching.queued.append(Queued(point))

    # -- stopping --------------------------------------------------------------------------------------------
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
            self._report(self.watching.end(job, status, why))
        self.launching.reruns.clear()
        self.launching.queued.clear()    # enqueue requests stay open: the next --resume runs them

    def _requests(self) -> Optional[str]:
        """Act on search-ctl's requests: a stop ends the task (its reason is returned); an enqueued configuration
        is queued, its request closed only once its job is recorded (so a controller killed before that finds
        the request open again on resume)."""
        for request in self.store.open_requests():
            if request.action == RequestAction.STOP:
                self.store.close_request(request.id)
                return "stopped by search-ctl stop"
            if request.action == RequestAction.ENQUEUE and request.id not in self._seen_requests:
                self._seen_requests.add(request.id)
                if self.config.space.contains(request.payload):
                    self.launching.queued.append(Queued(request.payload, request.id))
                else:     # checked by search-ctl against the same space; refused here all the same
                    self.store.close_request(request.id)
                    self.progress.event(f"enqueued configuration refused: not in the search space: {request.payload}")
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

    def step(self) -> Optional[Tuple[TaskStatus, str]]:
        """One cycle of the loop; the task's final status and why once the search is over, else None."""
        if self._interrupted:
            name = signal.Signals(self._interrupted).name
            return TaskStatus.INTERRUPTED, f"interrupted by {name}; resume with --resume"
        why = self._requests()
        if why:
            self._end_all(JobStatus.KILLED, why)
            return TaskStatus.STOPPED, why
        _, running = self.watching.watch(self._changed, on_end=self._report)
        self._changed = False
        if self._failure:
            self._end_all(JobStatus.KILLED, self._failure)
            return TaskStatus.FAILED, self._failure
        self._ask_criteria("after_iter")
        self._ask_criteria("before_iter")
        self.launching.launch(running, bool(self._drain), lambda: bool(self._ask_criteria("before_iter")))
        counts = self.store.counts()
        self._save_meta()
        self.progress.tick(counts, self._best, self.elapsed())
        if (counts.get("RUNNING", 0) == 0 and not self.launching.reruns and not self.launching.has_queued(bool(self._drain))
                and (self.launching.exhausted or self._drain)):
            return TaskStatus.FINISHED, self._drain or "the searcher has no configuration left"
        return None

    def _loop(self) -> Tuple[TaskStatus, str]:
        while True:
            done = self.step()
            if done is not None:
                return done
            running = self.store.counts().get("RUNNING", 0)
            self._changed = self.launcher.wait(self.launcher.poll_interval if running else 0.05)
