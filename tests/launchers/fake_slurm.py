#!/usr/bin/env python3
"""A fake Slurm for scheduler situations a one-node test cluster cannot produce on demand (preemption, a failed
node, accounting down, OUT_OF_MEMORY, TIMEOUT, a requeue at a chosen moment).

``FakeSlurm(directory)`` installs ``sbatch``, ``squeue``, ``sacct`` and ``scancel`` in ``<directory>/bin`` (put it
first on PATH); they keep the jobs in ``<directory>/jobs.json`` and speak the subset of Slurm's command line that
gml.launchers.slurm_cli uses, with Slurm's output formats and error messages. Jobs are real: sbatch starts the
batch script with bash in its own session (output appended to ``--output``), unless ``hold`` is set; squeue marks
a job COMPLETED or FAILED when its script exits, as slurmctld does. The test plays the cluster's part through the
methods: ``end`` (a job killed by Slurm, e.g. PREEMPTED, with no exit code file), ``requeue``, ``release``,
``purge`` (slurmctld forgot the job), and the switches ``accounting`` ('on', 'disabled', 'down') and
``controller_down``.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Dict, List, Optional

COMMANDS = ("sbatch", "squeue", "sacct", "scancel")
PARTITIONS = ("debug",)


class FakeSlurm:
    def __init__(self, directory: str):
        self.dir = directory
        self.bin = os.path.join(directory, "bin")
        os.makedirs(self.bin, exist_ok=True)
        for name in COMMANDS:
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\nFAKE_SLURM_DIR={_q(directory)} exec {_q(sys.executable)} "
                        f"{_q(os.path.abspath(__file__))} {name} \"$@\"\n")
            os.chmod(path, 0o755)
        with _state(directory) as state:
            state.setdefault("jobs", {})
            state.setdefault("next_id", 1000)
            state.setdefault("control", {"accounting": "on", "controller_down": False, "hold": False})

    # -- switches ---------------------------------------------------------------------------------------
    def set(self, **control) -> None:
        with _state(self.dir) as state:
            state["control"].update(control)

    def job(self, job_id: str) -> dict:
        with _state(self.dir) as state:
            return dict(state["jobs"][job_id])

    # -- the cluster's doings ---------------------------------------------------------------------------
    def end(self, job_id: str, slurm_state: str, exit_code: str = "0:0") -> None:
        """Slurm ends the job (preemption, node failure, memory or time limit): every process of it is killed
        at once, so its script leaves no exit code file; squeue and sacct then say ``slurm_state``."""
        with _state(self.dir) as state:
            job = state["jobs"][job_id]
            _kill(job)
            job.update(state=slurm_state, exit_code=exit_code, reason="None")

    def requeue(self, job_id: str) -> None:
        """The job is requeued (its run killed) and waits until ``release``."""
        with _state(self.dir) as state:
            job = state["jobs"][job_id]
            _kill(job)
            job.update(state="PENDING", reason="BeginTime", restarts=job["restarts"] + 1)

    def release(self, job_id: str) -> None:
        """A pending (held or requeued) job starts."""
        with _state(self.dir) as state:
            _start(self.dir, state["jobs"][job_id])

    def purge(self, job_id: str) -> None:
        """slurmctld forgets the job (MinJobAge passed): squeue no longer lists it; sacct still knows it."""
        with _state(self.dir) as state:
            state["jobs"][job_id]["purged"] = True


def _q(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@contextmanager
def _state(directory: str):
    """The jobs file, locked for the duration (commands run concurrently with the test)."""
    with open(os.path.join(directory, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = os.path.join(directory, "jobs.json")
        try:
            with open(path) as f:
                state = json.load(f)
        except FileNotFoundError:
            state = {}
        yield state
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)


def _rc_file(directory: str, job: dict) -> str:
    return os.path.join(directory, f"{job['id']}.{job['restarts']}.rc")


def _start(directory: str, job: dict) -> None:
    """Run the batch script in its own session; the script's exit status lands in the rc file."""
    env = dict(os.environ, SLURM_JOB_ID=job["id"], SLURM_JOB_NAME=job["name"],
               SLURM_RESTART_COUNT=str(job["restarts"]))
    env.pop("FAKE_SLURM_DIR", None)
    runner = f"bash {_q(job['script'])} >> {_q(job['output'])} 2>&1; echo $? > {_q(_rc_file(directory, job))}"
    proc = subprocess.Popen(["bash", "-c", runner], cwd=job["workdir"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    job.update(state="RUNNING", reason="None", pid=proc.pid)


def _kill(job: dict, sig: int = signal.SIGKILL) -> None:
    """Signal every process of a running job (its session's process group)."""
    if job["state"] == "RUNNING":
        _signal_group(job["pid"], sig)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _settle(directory: str, job: dict) -> None:
    """A running job whose script exited is over: COMPLETED on 0, else FAILED (a death by signal as 0:N)."""
    if job["state"] != "RUNNING":
        return
    try:
        with open(_rc_file(directory, job)) as f:
            rc = int(f.read().strip())
    except (OSError, ValueError):
        return
    job["state"] = "COMPLETED" if rc == 0 else "FAILED"
    job["exit_code"] = f"0:{rc - 128}" if rc > 128 else f"{rc}:0"


def _option(args: List[str], name: str) -> Optional[str]:
    for arg in args:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def _fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def sbatch(directory: str, args: List[str]) -> int:
    script = args[-1]
    partition = _option(args, "partition")
    with _state(directory) as state:
        if state["control"]["controller_down"]:
            return _fail("sbatch: error: Batch job submission failed: Unable to contact slurm controller "
                         "(connect failure)")
        if partition is not None and partition not in PARTITIONS:
            return _fail(f"sbatch: error: invalid partition specified: {partition}\n"
                         "sbatch: error: Batch job submission failed: Invalid partition name specified")
        job_id = str(state["next_id"])
        state["next_id"] += 1
        job = {"id": job_id, "name": _option(args, "job-name") or "sbatch", "workdir": _option(args, "chdir")
               or os.getcwd(), "output": _option(args, "output") or f"slurm-{job_id}.out", "script": script,
               "state": "PENDING", "reason": "Priority", "exit_code": "0:0", "restarts": 0, "pid": None,
               "purged": False}
        state["jobs"][job_id] = job
        if not state["control"]["hold"]:
            _start(directory, job)
    print(job_id)
    return 0


def squeue(directory: str, args: List[str]) -> int:
    wanted = _option(args, "jobs")
    name = _option(args, "name")
    with _state(directory) as state:
        if state["control"]["controller_down"]:
            return _fail("squeue: error: slurm_load_jobs error: Unable to contact slurm controller "
                         "(connect failure)")
        jobs: Dict[str, dict] = {i: j for i, j in state["jobs"].items() if not j["purged"]}
        for job in jobs.values():
            _settle(directory, job)
        ids = wanted.split(",") if wanted else list(jobs)
        if wanted and not any(i in jobs for i in ids):
            return _fail("slurm_load_jobs error: Invalid job id specified")
        for job_id in ids:
            job = jobs.get(job_id)
            if job is not None and (name is None or job["name"] == name):
                print(f"{job_id}|{job['state']}|{job['reason']}|{job['name']}|{job['workdir']}")
    return 0


def sacct(directory: str, args: List[str]) -> int:
    with _state(directory) as state:
        accounting = state["control"]["accounting"]
        if accounting == "disabled":
            return _fail("sacct: error: Slurm accounting storage is disabled")
        if accounting == "down":
            return _fail("sacct: error: Problem talking to the database: Connection refused")
        for job_id in (_option(args, "jobs") or "").split(","):
            job = state["jobs"].get(job_id)
            if job is not None:
                _settle(directory, job)
                print(f"{job_id}|{job['state']}|{job['exit_code']}")
    return 0


def scancel(directory: str, args: List[str]) -> int:
    with _state(directory) as state:
        if state["control"]["controller_down"]:
            return _fail("scancel: error: Unable to contact slurm controller (connect failure)")
        running = []
        for job_id in args:
            job = state["jobs"].get(job_id)
            if job is None or job["state"] not in ("PENDING", "RUNNING"):
                continue
            if job["state"] == "RUNNING":
                _kill(job, signal.SIGTERM)
                running.append(job["pid"])
            job.update(state="CANCELLED", exit_code="0:15")
    if running:   # KillWait: SIGKILL what ignored SIGTERM
        time.sleep(1.0)
        for pgid in running:
            _signal_group(pgid, signal.SIGKILL)
    return 0


def main(argv: List[str]) -> int:
    directory = os.environ["FAKE_SLURM_DIR"]
    command, args = argv[0], argv[1:]
    return {"sbatch": sbatch, "squeue": squeue, "sacct": sacct, "scancel": scancel}[command](directory, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
