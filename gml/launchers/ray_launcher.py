"""RayLauncher: every job is a Ray job (job submission API), so it outlives the controller and can be adopted.

The entrypoint is ``bash <job_dir>/job.sh`` (see wrapper.py): the script exports the job's environment, changes to
the task's code copy, appends its output to the job's log and leaves ``<job_dir>/exit_code``; a shared
filesystem is assumed between the controller and Ray's nodes, as on real clusters. Each submission carries
metadata ``gml_task_dir``/``gml_job_dir``, by which ``recover`` finds a job whose id was never recorded.

``address``: None (default) starts a local Ray head on demand for the task (127.0.0.1, files under
``<task dir>/ray``; see ray_local.py) and stops it when the controller ends with none of its jobs running;
``auto`` finds the running cluster as Ray does (RAY_ADDRESS, else the local one); anything else is the
dashboard's address, e.g. ``http://head:8265``. State: the exit code file every cycle, and ONE ``list_jobs``
call for all jobs at most every ``list_interval`` seconds. ``ray`` is imported on first use only.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Dict, List, Optional

from ..registry import LAUNCHERS
from ..validation import Keyword, config_error, invalid, mapping, number
from . import ray_local
from .base import JobSpec, JobState, LaunchError, Status
from .cluster import ClusterLauncher, JobEntry
from .wrapper import clear_exit_code, job_script, read_exit_code, write_job_script

_ACTIVE = ("PENDING", "RUNNING")


def task_dir_of(spec: JobSpec) -> str:
    return spec.env.get("GML_TASK_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(spec.job_dir)))


@LAUNCHERS.register_module(name="ray", aliases=("RayLauncher",))
class RayLauncher(ClusterLauncher):
    """Options (``scheduler.launcher``): ``address`` (None: a local head started on demand; 'auto'; or the
    dashboard URL); ``num_cpus`` / ``num_gpus`` per job (Ray's entrypoint resources, default 1 / 0);
    ``local_num_cpus`` / ``local_num_gpus`` (resources of the on-demand local head; default: Ray's detection);
    ``runtime_env`` (passed to Ray as is); ``list_interval`` (seconds between job listings, default 1)."""

    def __init__(self, address: Optional[str] = None, num_cpus: float = 1, num_gpus: float = 0,
                 local_num_cpus: Optional[int] = None, local_num_gpus: Optional[int] = None,
                 runtime_env: Optional[dict] = None, list_interval: float = 1.0):
        super().__init__("list", "submit")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise invalid(Keyword("address"), address, "'auto' or a Ray dashboard address such as "
                                                       "'http://head:8265'")
        self.address = address.strip() if address else None
        self.num_cpus = number(Keyword("num_cpus"), num_cpus, least=0)
        self.num_gpus = number(Keyword("num_gpus"), num_gpus, least=0)
        self.local_num_cpus = number(Keyword("local_num_cpus"), local_num_cpus, least=1, optional=True)
        self.local_num_gpus = number(Keyword("local_num_gpus"), local_num_gpus, least=0, optional=True)
        self.runtime_env = mapping(Keyword("runtime_env"), runtime_env, optional=True)
        self.list_interval = float(number(Keyword("list_interval"), list_interval, least=0.01, what="seconds"))
        self._client = None
        self._connect_error: Optional[str] = None
        self._task_dir: Optional[str] = None
        self._started_local = False
        if self.address is None:
            self._check_fits_local_head()

    def _check_fits_local_head(self) -> None:
        """The on-demand head's resources are known: a job that can never fit there is a config error (Ray
        itself would keep it PENDING forever). Remote clusters may grow, so they are not checked."""
        cpus = self.local_num_cpus if self.local_num_cpus is not None else (os.cpu_count() or 1)
        gpus = self.local_num_gpus
        if gpus is None and self.num_gpus > 0:
            from .gpus import visible_gpus
            gpus = len(visible_gpus())
        if self.num_cpus > cpus:
            raise config_error(Keyword("num_cpus"), f"each job asks for {self.num_cpus:g} CPUs but the local Ray "
                                                       f"head has {cpus:g} (local_num_cpus)")
        if gpus is not None and self.num_gpus > gpus:
            raise config_error(Keyword("num_gpus"), f"each job asks for {self.num_gpus:g} GPUs but the local Ray "
                                                       f"head has {gpus:g} (CUDA_VISIBLE_DEVICES, nvidia-smi or "
                                                       f"local_num_gpus)")

    # -- connection ---------------------------------------------------------------------------------------
    def _connect(self, spec: Optional[JobSpec]):
        if self._client is not None:
            return self._client
        if self._connect_error is not None:   # do not wait for a broken cluster once per job
            raise LaunchError(self._connect_error)
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError:
            raise LaunchError("the ray launcher needs Ray's job submission: pip install 'gml[ray]'") from None
        address = self.address
        if address is None:
            if spec is None:
                raise LaunchError("no local Ray head is known yet")
            self._task_dir = task_dir_of(spec)
            try:
                state = ray_local.start(self._task_dir, self.local_num_cpus, self.local_num_gpus)
            except ray_local.RayStartError as err:
                self._connect_error = f"cannot start a local Ray head: {err}"
                raise LaunchError(self._connect_error) from None
            self._started_local = True
            address = state["address"]
            headers = ray_local.auth_headers(self._task_dir)
        else:
            headers = None
        try:
            self._client = JobSubmissionClient(address, headers=headers)
        except Exception as err:   # Ray raises ConnectionError, RuntimeError, ValueError ... by situation
            self._connect_error = f"cannot reach the Ray cluster at {address!r}: {err}"
            raise LaunchError(self._connect_error) from None
        return self._client

    # -- submission ---------------------------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> str:
        client = self._connect(spec)
        clear_exit_code(spec.job_dir)
        script = write_job_script(spec.job_dir, job_script(
            spec.command, spec.job_dir, spec.cwd, spec.env, spec.log_path, redirect_output=True,
            header="gml job script, run as a Ray job's entrypoint"))
        submission_id = f"gml-{spec.task}-{spec.job_id}-{uuid.uuid4().hex[:8]}"
        kwargs: Dict[str, Any] = dict(entrypoint=f"bash {script}", submission_id=submission_id,
                                      entrypoint_num_cpus=self.num_cpus, entrypoint_num_gpus=self.num_gpus,
                                      metadata={"gml_task_dir": task_dir_of(spec), "gml_job_dir": spec.job_dir})
        if self.runtime_env is not None:
            kwargs["runtime_env"] = self.runtime_env
        start = time.perf_counter()
        try:
            client.submit_job(**kwargs)
        except Exception as err:
            raise LaunchError(f"Ray refused the job: {err}") from None
        finally:
            self.stats["submit"].append(time.perf_counter() - start)
        self._jobs[submission_id] = JobEntry(spec.job_dir)
        return submission_id

    def _list(self) -> Optional[Dict[str, Any]]:
        start = time.perf_counter()
        try:
            return {job.submission_id: job for job in self._client.list_jobs() if job.submission_id}
        except Exception:
            return None
        finally:
            self.stats["list"].append(time.perf_counter() - start)

    def recover(self, spec: JobSpec) -> Optional[str]:
        try:
            self._connect(spec if self.address is not None or ray_local.read_state(task_dir_of(spec)) else None)
        except LaunchError:
            return None
        for sid, job in (self._list() or {}).items():
            if (job.metadata or {}).get("gml_job_dir") == spec.job_dir and job.status.value in _ACTIVE:
                return sid
        return None

    def adopt(self, external_id: str, spec: JobSpec) -> bool:
        entry = self._jobs.setdefault(external_id, JobEntry(spec.job_dir))
        if read_exit_code(spec.job_dir) is not None:
            return False   # over (Ray may list it as running a moment longer); poll reads how it ended
        if self.address is None and ray_local.read_state(task_dir_of(spec)) is None:
            return False   # the task's head is gone, and its jobs with it
        try:
            self._connect(spec)
            status = self._client.get_job_status(external_id).value
        except Exception:
            return False
        if status not in _ACTIVE:
            return False
        entry.last = Status(JobState.QUEUED if status == "PENDING" else JobState.RUNNING)
        return True

    # -- state --------------------------------------------------------------------------------------------
    @property
    def _refresh_interval(self) -> float:
        return self.list_interval

    def _ended(self, entry: JobEntry, code: Optional[int], ray_status: str = "", message: str = "") -> Status:
        status = entry.exit_status(code)
        if status is not None:
            return status
        if ray_status == "SUCCEEDED":
            return Status(JobState.SUCCEEDED, 0)
        if ray_status == "STOPPED":
            return Status(JobState.FAILED, None, "stopped through Ray (not by gml)")
        return Status(JobState.FAILED, None, f"Ray job {ray_status or 'unknown'}: {message}".strip())

    def _refresh(self, ids: List[str]) -> None:
        if self._client is None:
            for eid in ids:   # no cluster to ask (a local head that is gone): only exit files can tell
                entry = self._jobs[eid]
                entry.final = self._ended(entry, read_exit_code(entry.job_dir) if entry.job_dir else None,
                                          "", "the Ray cluster running it is gone")
            return
        listed = self._list()
        if listed is None:
            return   # the cluster did not answer: keep what was known
        for eid in ids:
            entry, job = self._jobs[eid], listed.get(eid)
            if job is None:
                entry.final = Status(JobState.LOST, message="the Ray cluster does not know this job")
                continue
            status = job.status.value
            if status in _ACTIVE:
                entry.last = Status(JobState.QUEUED if status == "PENDING" else JobState.RUNNING)
                continue
            code = read_exit_code(entry.job_dir) if entry.job_dir else None
            entry.final = self._ended(entry, code, status, job.message or "")

    def _stop(self, external_id: str) -> None:
        if self._client is not None:
            try:
                self._client.stop_job(external_id)
            except Exception:
                pass

    def close(self) -> None:
        """Stop the on-demand local head unless jobs of this task still run on it (a resume adopts them)."""
        if not self._started_local or self._task_dir is None:
            return
        deadline = time.monotonic() + 15.0   # Ray takes a few seconds to stop a job
        while self._client is not None:
            listed = self._list()
            if listed is None:
                break
            active = [sid for sid, job in listed.items() if job.status.value in _ACTIVE
                      and (job.metadata or {}).get("gml_task_dir") == self._task_dir]
            if not active:
                break
            # jobs gml ended or saw end (exit file) may still look active to Ray for a moment: wait for those
            if any(sid not in self._jobs or not (self._jobs[sid].cancelled or self._jobs[sid].final)
                   for sid in active) \
                    or time.monotonic() > deadline:
                return   # still working for this task: a resumed controller adopts them
            time.sleep(0.2)
        self._client = None
        ray_local.stop(self._task_dir)
        self._started_local = False
