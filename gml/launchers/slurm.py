"""SlurmLauncher: every job is one sbatch submission; the controller stays on the login node.

A job's batch script is ``<job_dir>/job.sh`` (see wrapper.py): it exports the job's environment, runs the
rendered template (which may itself start with ``srun``: that becomes a step of the job's allocation) and leaves
``<job_dir>/exit_code``. Output goes to the job's log (``--output``, appended, so a requeued job's runs follow
each other). Slurm's name for the job is ``gml-<task>-<job id>``, which ``recover`` looks for.

State comes from the exit code file (a cheap stat, every cycle) and from ONE ``squeue`` call for all running
jobs at most every ``squeue_interval`` seconds; jobs squeue no longer lists are looked up with ONE ``sacct``
call when the cluster keeps accounting, else judged by their exit code file. All Slurm calls have timeouts;
when Slurm does not answer, the states known before are kept.

``executor()`` is the Python-callable path: a submitit executor configured with the same option names.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Dict, List, Optional

from ..registry import LAUNCHERS
from ..validation import Keyword, integer, invalid, is_number, number, string
from . import slurm_cli as cli
from .base import JobSpec, JobState, LaunchError, Status
from .cluster import ClusterLauncher, JobEntry
from .wrapper import clear_exit_code, describe_exit, job_script, read_exit_code, write_job_script


def _option_text(key: str, value: Any) -> Optional[str]:
    """An sbatch option's value: a non-empty string, or a number YAML read as one (``mem: 16``)."""
    if is_number(value):
        return str(value)
    return string(Keyword(key), value, optional=True)


def slurm_minutes(seconds: float) -> str:
    """Slurm's --time counts whole minutes: round a limit in seconds up."""
    return str(max(1, math.ceil(seconds / 60.0)))


def job_name(spec: JobSpec) -> str:
    return f"gml-{spec.task}-{spec.job_id}"


@LAUNCHERS.register_module(name="slurm", aliases=("SlurmLauncher",))
class SlurmLauncher(ClusterLauncher):
    """Options (``scheduler.launcher``): ``partition``; ``gpus_per_job`` (--gres=gpu:N, 0 = none);
    ``cpus_per_job`` (--cpus-per-task); ``ntasks`` (--ntasks, default 1; a template starting with ``srun`` runs
    that many tasks); ``mem`` (--mem, e.g. '16G'); ``time`` (--time in Slurm's format, for jobs without
    time_limits_per_job, which otherwise sets it); ``extra_args`` (more sbatch options, e.g. ['--qos=low']);
    ``squeue_interval`` (seconds between squeue calls, default 2)."""

    def __init__(self, partition: Optional[str] = None, gpus_per_job: int = 0, cpus_per_job: Optional[int] = None,
                 ntasks: int = 1, mem: Optional[str] = None, time: Optional[str] = None,
                 extra_args: Optional[List[str]] = None, squeue_interval: float = 2.0):
        super().__init__("squeue", "sacct", "sbatch")
        self.partition = _option_text("partition", partition)
        self.gpus_per_job = integer(Keyword("gpus_per_job"), gpus_per_job, least=0)
        self.cpus_per_job = integer(Keyword("cpus_per_job"), cpus_per_job, least=1, optional=True)
        self.ntasks = integer(Keyword("ntasks"), ntasks, least=1)
        self.mem = _option_text("mem", mem)
        self.time = _option_text("time", time)
        if extra_args is None:
            extra_args = []
        if not isinstance(extra_args, (list, tuple)) or not all(isinstance(a, str) for a in extra_args):
            raise invalid(Keyword("extra_args"), extra_args, "a list of sbatch options such as ['--qos=low']")
        self.extra_args = list(extra_args)
        self.squeue_interval = float(number(Keyword("squeue_interval"), squeue_interval, above=0, what="seconds"))
        self._accounting: Optional[bool] = None     # learned from the first sacct call

    # -- submission ---------------------------------------------------------------------------------------
    def sbatch_options(self, spec: JobSpec) -> List[str]:
        opts = [f"--job-name={job_name(spec)}", f"--output={spec.log_path or '/dev/null'}", "--open-mode=append",
                f"--chdir={spec.cwd}", "--requeue", f"--ntasks={self.ntasks}", "--export=ALL"]
        optional = (("--partition", self.partition), ("--cpus-per-task", self.cpus_per_job),
                    ("--gres", f"gpu:{self.gpus_per_job}" if self.gpus_per_job else None), ("--mem", self.mem))
        opts += [f"{flag}={value}" for flag, value in optional if value]
        if spec.time_limit:
            opts.append(f"--time={slurm_minutes(spec.time_limit)}")
        elif self.time:
            opts.append(f"--time={self.time}")
        return opts + self.extra_args

    def submit(self, spec: JobSpec) -> str:
        opts = self.sbatch_options(spec)
        header = "gml job script, submitted as:\nsbatch " + " ".join(opts) + " job.sh"
        clear_exit_code(spec.job_dir)
        script = write_job_script(spec.job_dir, job_script(spec.command, spec.job_dir, spec.cwd, spec.env,
                                                           header=header))
        start = time.perf_counter()
        try:
            external_id = cli.sbatch(opts, script)
        except cli.RefusedError as err:
            raise LaunchError(f"Slurm refused the job: {err}") from None
        except cli.SlurmUnavailable as err:
            found = self.recover(spec)   # it may have been accepted before the call gave up
            if found is None:
                raise LaunchError(str(err)) from None
            external_id = found
        finally:
            self.stats["sbatch"].append(time.perf_counter() - start)
        self._jobs[external_id] = JobEntry(spec.job_dir)
        return external_id

    def recover(self, spec: JobSpec) -> Optional[str]:
        try:
            listed = cli.squeue(name=job_name(spec))
        except cli.SlurmUnavailable:
            return None
        for entry in listed.values():
            if cli.phase(entry.state) != cli.Phase.DONE and os.path.realpath(entry.workdir) == \
                    os.path.realpath(spec.cwd):
                return entry.job_id
        return None

    def adopt(self, external_id: str, spec: JobSpec) -> bool:
        entry = self._jobs.setdefault(external_id, JobEntry(spec.job_dir))
        if read_exit_code(spec.job_dir) is not None:
            return False   # over (squeue may list it as COMPLETING a moment longer); poll reads how it ended
        try:
            listed = cli.squeue([external_id])
        except cli.SlurmUnavailable:
            return True   # cannot tell now: keep following it; later polls decide
        found = listed.get(external_id)
        if found is None or found.name != job_name(spec) or cli.phase(found.state) == cli.Phase.DONE:
            return False
        entry.last = Status(JobState.QUEUED if cli.phase(found.state) == cli.Phase.QUEUED else JobState.RUNNING)
        return True

    # -- state --------------------------------------------------------------------------------------------
    @property
    def _refresh_interval(self) -> float:
        return self.squeue_interval

    def _from_slurm(self, entry: JobEntry, state: str, code: Optional[int]) -> Status:
        if entry.cancelled:
            return Status(JobState.CANCELLED, code)
        if state == "COMPLETED":
            return Status(JobState.SUCCEEDED, 0 if code is None else code)
        message = cli.REASONS.get(state) or describe_exit(code) or f"Slurm state {state}"
        return Status(JobState.FAILED, code, message)

    def _refresh(self, ids: List[str]) -> None:
        """ONE squeue for all ``ids``, then ONE sacct for those it no longer lists (or lists as over)."""
        t0 = time.perf_counter()
        try:
            listed = cli.squeue(ids)
        except cli.SlurmUnavailable:
            return
        finally:
            self.stats["squeue"].append(time.perf_counter() - t0)
        unresolved, uncancelled = [], []
        for eid in ids:
            entry, found = self._jobs[eid], listed.get(eid)
            if found is not None and cli.phase(found.state) != cli.Phase.DONE:
                if entry.cancelled and found.state != "COMPLETING":
                    uncancelled.append(eid)   # gml's scancel did not reach slurmctld: ask again
                queued = cli.phase(found.state) == cli.Phase.QUEUED
                entry.last = Status(JobState.QUEUED if queued else JobState.RUNNING,
                                    message=f"pending: {found.reason}" if queued else None)
                continue
            code = read_exit_code(entry.job_dir) if entry.job_dir else None
            status = entry.exit_status(code, cli.REASONS.get(found.state if found else ""))
            if status is None and found is not None and found.state == "COMPLETED":
                status = Status(JobState.SUCCEEDED, 0)
            if status is not None:
                entry.final = status
            else:
                unresolved.append((eid, found.state if found else None))
        if uncancelled:
            self._stop_all(uncancelled)
        if unresolved:
            self._settle(unresolved)

    def _settle(self, unresolved) -> None:
        """Jobs squeue lists as over (``queue_state``) or no longer lists (None): ONE sacct call says how they
        ended. While accounting does not answer, squeue's final state is enough; jobs it forgot wait."""
        acct = None
        accounting_down = False
        if self._accounting is not False:
            t0 = time.perf_counter()
            try:
                acct = cli.sacct([eid for eid, _ in unresolved])
                self._accounting = acct is not None
            except cli.SlurmUnavailable:
                accounting_down = True
            finally:
                self.stats["sacct"].append(time.perf_counter() - t0)
        for eid, queue_state in unresolved:
            entry = self._jobs[eid]
            record = (acct or {}).get(eid)
            if record is not None and cli.phase(record.state) == cli.Phase.DONE:
                entry.final = self._from_slurm(entry, record.state, record.exit_code)
            elif queue_state is not None:
                entry.final = self._from_slurm(entry, queue_state, None)
            elif record is None and not accounting_down:
                # neither squeue nor sacct (nor the exit file) know it: slurmctld forgot it long ago
                entry.final = Status(JobState.CANCELLED) if entry.cancelled else Status(
                    JobState.LOST, message="Slurm no longer knows the job and it left no exit code")

    def _stop(self, external_id: str) -> None:
        self._stop_all([external_id])

    @staticmethod
    def _stop_all(external_ids: List[str]) -> None:
        """ONE scancel; when slurmctld does not answer, the next squeue refresh that still lists a cancelled job
        as queued or running asks again."""
        try:
            cli.scancel(external_ids)
        except cli.SlurmUnavailable:
            pass


def executor(folder: str, partition: Optional[str] = None, gpus_per_job: int = 0,
             cpus_per_job: Optional[int] = None, mem: Optional[str] = None, time: Optional[str] = None,
             extra_args: Optional[List[str]] = None, **submitit_parameters: Any):
    """A ``submitit.SlurmExecutor`` for running Python callables on Slurm, configured with gml's option names
    (``time`` in Slurm's format or minutes). ``executor(folder).submit(fn, *args)`` returns a submitit Job;
    ``.map_array(fn, xs)`` submits one job array. Needs ``pip install gml[slurm]``."""
    try:
        import submitit
    except ImportError:
        raise ImportError("gml.launchers.slurm.executor needs submitit: pip install 'gml[slurm]'") from None
    ex = submitit.SlurmExecutor(folder=folder)
    params: Dict[str, Any] = {}
    if partition:
        params["partition"] = partition
    if gpus_per_job:
        params["gres"] = f"gpu:{gpus_per_job}"
    if cpus_per_job:
        params["cpus_per_task"] = cpus_per_job
    if mem:
        params["mem"] = mem
    if time is not None:
        params["time"] = time
    extra: Dict[str, Any] = {}
    for arg in extra_args or []:
        key, _, value = arg.lstrip("-").partition("=")
        extra[key.replace("-", "_")] = value or True
    if extra:
        params["additional_parameters"] = extra
    params.update(submitit_parameters)
    ex.update_parameters(**params)
    return ex
