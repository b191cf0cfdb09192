"""The Launcher conformance suite, on real jobs: exit 0 is SUCCEEDED and a non-zero exit or a signal is FAILED with
a reason, the job's environment and log reach it, final states never change, ``cancel`` ends the job and every
process it started, a new launcher (a restarted controller) adopts a running job and reads how a finished one
ended, and a submission the backend refuses raises LaunchError with the backend's reason.

Check your own launcher with one import, in a test file::

    import pytest
    from gml.testing.launchers import LauncherCase, LauncherSuite, Refusal

    from my_package.launchers import MyLauncher


    class TestMyLauncher(LauncherSuite):
        @pytest.fixture
        def launcher_case(self):
            return LauncherCase(MyLauncher, kwargs={"queue": "test"},
                                refusal=Refusal(kwargs={"queue": "no-such-queue"}, match="(?i)unknown queue"))

``LauncherCase`` takes the class (or its name in ``gml.registry.LAUNCHERS``) and its config keys; the suite builds
it as a search config does, once per test, and once more to imitate a restarted controller. ``refusal`` says how
to get a submission refused: the launcher built with ``kwargs`` added, or a job whose working directory is
``cwd``; LaunchError's message must match ``match`` (None: skip that test). ``env`` is added to every job's
environment. ``same_host``: jobs run on this machine, so the suite checks through /proc that a cancelled job's
processes are gone (set False for remote backends). ``sigkill_escalation``: a cancelled job that ignores SIGTERM
is still ended (SIGKILL after a grace); set False for a backend that cannot promise it. ``timeout``: seconds a short job may take from submission to
its end (scheduler latency included). Each test runs a few jobs of at most a few seconds; jobs write their logs and
exit code files under pytest's ``tmp_path``, which the backend must be able to reach (a shared filesystem).
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Union

import pytest

from ..launchers import proctree
from ..launchers.base import JobSpec, JobState, Launcher, LaunchError, Status
from ..registry import LAUNCHERS
from ._registry import registry_for


@dataclass
class Refusal:
    """How to make the launcher refuse a submission: built with ``kwargs`` added to the case's, and/or given a job
    whose working directory is ``cwd``. LaunchError's message must match the regular expression ``match``."""

    kwargs: dict = field(default_factory=dict)
    cwd: Optional[str] = None
    match: str = ".+"


@dataclass
class LauncherCase:
    """One launcher configuration to check (see the module docstring)."""

    launcher: Union[str, type]
    kwargs: dict = field(default_factory=dict)
    refusal: Optional[Refusal] = None
    env: Dict[str, str] = field(default_factory=dict)
    same_host: bool = True
    sigkill_escalation: bool = True
    timeout: float = 60.0

    @property
    def name(self) -> str:
        return self.launcher if isinstance(self.launcher, str) else self.launcher.__name__

    def build(self, **extra) -> Launcher:
        registry, name = registry_for(LAUNCHERS, self.launcher)
        return registry.build({"type": name, **self.kwargs, **extra}, "scheduler.launcher")

    def spec(self, tmp_path, job_id: int, command: str, cwd: Optional[str] = None) -> JobSpec:
        """A job of task ``suite`` with its own directory and log under ``tmp_path``."""
        job_dir = os.path.join(str(tmp_path), f"job{job_id}")
        os.makedirs(job_dir, exist_ok=True)
        env = {"GML_JOB_DIR": job_dir, "GML_JOB_ID": str(job_id), **self.env}
        return JobSpec(job_id, "suite", command, cwd or str(tmp_path), job_dir, os.path.join(job_dir, "log"), env)


def wait_done(launcher: Launcher, ids: Iterable[str], timeout: float) -> Dict[str, Status]:
    """Poll (waiting with ``launcher.wait`` in between) until every job is done; their final statuses."""
    ids = list(ids)
    deadline = time.monotonic() + timeout
    while True:
        states = launcher.poll(ids)
        assert set(states) == set(ids), f"poll answered {sorted(states)} for {ids}"
        if all(s.state.is_done for s in states.values()):
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not done after {timeout:.0f}s: {states}")
        assert isinstance(launcher.wait(launcher.poll_interval), bool)


def wait_for_file(path: str, timeout: float) -> str:
    """The text of ``path`` once a job wrote it (a job signals that it runs by writing a file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if text.endswith("\n"):
                return text
        time.sleep(0.1)
    raise AssertionError(f"no {path} after {timeout:.0f}s: the job did not start")


def living(pids: Iterable[int]) -> List[int]:
    return [p for p in pids if proctree.start_time(p) is not None]


def read_log(spec: JobSpec) -> str:
    with open(spec.log_path) as f:
        return f.read()


class LauncherSuite:
    """The Launcher contract (gml.launchers.base). Subclass it as ``Test...`` and define the fixture
    ``launcher_case`` returning a :class:`LauncherCase` (see the module docstring)."""

    def test_exit_codes_become_states_with_reasons(self, launcher_case, tmp_path):
        launcher = launcher_case.build()
        ok = launcher_case.spec(tmp_path, 0, 'echo "hello from $GML_JOB_ID at $GML_JOB_DIR"')
        bad = launcher_case.spec(tmp_path, 1, "echo failing; exit 7")
        killed = launcher_case.spec(tmp_path, 2, "sh -c 'kill -TERM $$'")
        ids = [launcher.submit(s) for s in (ok, bad, killed)]
        assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 3, ids
        states = wait_done(launcher, ids, launcher_case.timeout)
        assert (states[ids[0]].state, states[ids[0]].exit_code) == (JobState.SUCCEEDED, 0), states[ids[0]]
        assert f"hello from 0 at {ok.job_dir}" in read_log(ok)
        failed = states[ids[1]]
        assert (failed.state, failed.exit_code) == (JobState.FAILED, 7), failed
        assert failed.message and "7" in failed.message, failed
        assert "failing" in read_log(bad)
        signalled = states[ids[2]]
        assert signalled.state == JobState.FAILED and signalled.message and "SIGTERM" in signalled.message, \
            signalled
        # final states stay as they are, also when asked to cancel a job that is over
        launcher.cancel(ids[0])
        assert launcher.poll(ids) == states

    def test_cancel_ends_the_job_and_every_process_it_started(self, launcher_case, tmp_path):
        launcher = launcher_case.build()
        # two background children; with sigkill_escalation the job ignores SIGTERM (as do its children), so the
        # launcher or its backend must follow up with SIGKILL
        ignore = "trap '' TERM; " if launcher_case.sigkill_escalation else ""
        s = launcher_case.spec(tmp_path, 0, f"cd \"$GML_JOB_DIR\"; {ignore}sleep 300 & echo $! > pids; "
                                            "sleep 301 & echo $! >> pids; echo started >> pids; wait")
        eid = launcher.submit(s)
        pids: List[int] = []
        try:
            text = wait_for_file(os.path.join(s.job_dir, "pids"), launcher_case.timeout)
            pids = [int(line) for line in text.split() if line.isdigit()]
            assert launcher.poll([eid])[eid].state in (JobState.QUEUED, JobState.RUNNING)
            launcher.cancel(eid)
            assert wait_done(launcher, [eid], launcher_case.timeout)[eid].state == JobState.CANCELLED
            if launcher_case.same_host:
                deadline = time.monotonic() + 30
                while living(pids) and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert living(pids) == [], "processes of the cancelled job are still running"
        finally:   # whatever failed, leave nothing behind
            launcher.cancel(eid)
            for pid in living(pids):
                os.kill(pid, signal.SIGKILL)

    def test_a_restarted_controller_adopts_running_jobs_and_reads_finished_ones(self, launcher_case, tmp_path):
        first = launcher_case.build()
        running = launcher_case.spec(tmp_path, 0, "echo up > \"$GML_JOB_DIR/started\"; sleep 3; exit 3")
        done = launcher_case.spec(tmp_path, 1, "echo done")
        eid_running, eid_done = first.submit(running), first.submit(done)
        wait_done(first, [eid_done], launcher_case.timeout)
        wait_for_file(os.path.join(running.job_dir, "started"), launcher_case.timeout)
        assert not first.poll([eid_running])[eid_running].state.is_done, "the job ended before the restart"
        second = launcher_case.build()          # the controller died (kill -9) and came back
        assert second.adopt(eid_running, running) is True, "a running job was not adopted"
        assert second.adopt(eid_done, done) is False, "a job that had ended was adopted as running"
        assert second.poll([eid_done])[eid_done].state == JobState.SUCCEEDED, second.poll([eid_done])
        status = wait_done(second, [eid_running], launcher_case.timeout)[eid_running]
        assert (status.state, status.exit_code) == (JobState.FAILED, 3), status

    def test_a_refused_submission_raises_launch_error_with_the_reason(self, launcher_case, tmp_path):
        refusal = launcher_case.refusal
        if refusal is None:
            pytest.skip(f"{launcher_case.name}: the case names no way to get a submission refused")
        launcher = launcher_case.build(**refusal.kwargs)
        with pytest.raises(LaunchError, match=refusal.match) as err:
            launcher.submit(launcher_case.spec(tmp_path, 0, "echo never", cwd=refusal.cwd))
        assert str(err.value).strip()
