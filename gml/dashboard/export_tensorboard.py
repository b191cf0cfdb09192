"""``search-ctl export --tensorboard DIR``: a task as TensorBoard runs that the HParams dashboard reads.

Written with TensorBoard's own protos and event-file writer (``tensorboard`` package; no TensorFlow):

- ``DIR/`` (the root run): the experiment config (``hparams_config_pb``): one hparam per parameter with its
  domain as seen in the task (numbers: the observed interval; anything else: the observed values) and one metric
  per scalar the jobs reported, the reward first.
- ``DIR/job-<id>/`` per job that has parameters: its hparams (``hparams_pb``, trial id ``job-<id>``), every scalar
  curve it reported (``simple_value`` per step, so the Scalars dashboard shows them too) and the session's end
  status (succeeded, failed or still running).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List

from ..errors import GmlConfigError
from ..search.task.jobs import JobStatus
from ..search.task.workspace import TaskPaths
from .extras import require
from .labels import display_value
from .task_data import read_store

_FAILED = (JobStatus.ERROR, JobStatus.KILLED, JobStatus.TIMEOUT, JobStatus.FILTERED)


def _hparam_value(value: Any) -> Any:
    shown = display_value(value)
    return shown if not isinstance(value, bool) else value


def _domain(hp, values: List[Any]):
    if all(isinstance(v, bool) for v in values):
        return hp.Discrete([False, True])
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        if all(isinstance(v, int) for v in values):
            return hp.IntInterval(min(values), max(values))
        return hp.RealInterval(float(min(values)), float(max(values)))
    return hp.Discrete(sorted({str(v) for v in values}))


def export_tensorboard(root: str, name: str, out_dir: str) -> int:
    """Write the runs; returns how many job runs were written. ``out_dir`` must be new or empty."""
    require("tensorboard", "search-ctl export --tensorboard", extra="tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise GmlConfigError("--tensorboard", f"{out_dir} exists and is not an empty directory; give a new one")
    with read_store(TaskPaths(root, name)) as store:
        jobs = [j for j in store.jobs() if j.params]
        reward_name = store.get_meta("reward_attribute") or "reward"
        scalars = {j.id: store.scalars(j.id) for j in jobs}
    names: List[str] = []
    for job in jobs:
        names.extend(n for n in job.params if n not in names)
    values: Dict[str, List[Any]] = {n: [_hparam_value(j.params[n]) for j in jobs if n in j.params] for n in names}
    discrete_as_text = {n for n in names if isinstance(_domain(hp, values[n]), hp.Discrete)
                        and not all(isinstance(v, bool) for v in values[n])}
    hparams = {n: hp.HParam(n, _domain(hp, values[n])) for n in names}
    metric_names = [reward_name] + sorted({n for rows in scalars.values() for n, _, _ in rows} - {reward_name})
    metrics = [hp.Metric(n, display_name=n) for n in metric_names]

    def write(run_dir: str, events) -> None:
        os.makedirs(run_dir, exist_ok=True)
        writer = EventFileWriter(run_dir)
        for event in events:
            writer.add_event(event)
        writer.close()

    created = min((j.created_at for j in jobs if j.created_at), default=None)
    write(out_dir, [event_pb2.Event(wall_time=created or 0.0, step=0,
                                    summary=hp.hparams_config_pb(list(hparams.values()), metrics, created))])
    for job in jobs:
        start = job.start_time or job.created_at or 0.0
        chosen = {hparams[n]: (str(v) if n in discrete_as_text else v)
                  for n, v in ((n, _hparam_value(job.params[n])) for n in job.params)}
        events = [event_pb2.Event(wall_time=start, step=0,
                                  summary=hp.hparams_pb(chosen, trial_id=f"job-{job.id}", start_time_secs=start))]
        for scalar, step, value in scalars[job.id]:
            if value is not None:
                events.append(event_pb2.Event(wall_time=start, step=step, summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag=scalar, simple_value=value)])))
        if job.status.is_terminal:
            status = api_pb2.STATUS_FAILURE if job.status in _FAILED or job.reward is None else api_pb2.STATUS_SUCCESS
            end_info = plugin_data_pb2.HParamsPluginData(session_end_info=plugin_data_pb2.SessionEndInfo(
                status=status, end_time_secs=job.end_time or start))
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
                tag=metadata.SESSION_END_INFO_TAG, metadata=metadata.create_summary_metadata(end_info),
                tensor=metadata.NULL_TENSOR)])
            events.append(event_pb2.Event(wall_time=job.end_time or start, step=0, summary=summary))
        write(os.path.join(out_dir, f"job-{job.id}"), events)
    return len(jobs)
