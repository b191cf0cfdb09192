"""Collect scalars from the TensorBoard event files a running job writes under its directory.

Jobs that log with mmcv's ``TensorboardLoggerHook``, PyTorch Lightning's TensorBoard logger or a plain
``SummaryWriter`` need no code change: every ``*tfevents*`` file below the job's directory (any depth) is read
with TensorBoard's own loader (``tensorboard.backend.event_processing.event_file_loader.EventFileLoader``), which
also migrates old-style ``simple_value`` scalars and TF2 tensor scalars to one form. A scalar's name is its
TensorBoard tag exactly (``val/accuracy_top-1``, ``train/loss``), its step the event's step.

Reading is incremental: one loader per file stays open in memory while the job runs and yields only events
appended since the previous read (a record still being written is left for the next read). That state is not
persisted: after a controller restart files are read again from their start, which is harmless because the
store keeps one row per (job, name, step). Event files last modified before the job's current attempt started
(``since``) belong to an earlier attempt and are skipped.

TensorBoard is optional and imported lazily (the controller imports without it): when event files are found
but TensorBoard is not installed, one warning is given and TensorBoard scalars are not collected.

One ``TensorBoardScalars`` object per controller; not thread-safe.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, Iterable, List, Optional, Tuple

Row = Tuple[str, int, Optional[float], float]   # name, step, value, wall time

EVENT_FILE_MARK = "tfevents"
MTIME_SLACK = 2.0          # seconds of clock/filesystem skew tolerated when comparing mtimes with ``since``
FORGET_AFTER = 600.0       # drop a job's open loaders when it was not read for this long (it has ended)


def _load_tensorboard():
    """(EventFileLoader, make_ndarray), or None when TensorBoard is not installed."""
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util.tensor_util import make_ndarray
    except ImportError:
        return None
    return EventFileLoader, make_ndarray


def find_event_files(job_dir: str, since: Optional[float] = None) -> List[str]:
    """Event files below ``job_dir`` (sorted), without those last modified before ``since``."""
    found = []
    for root, dirs, files in os.walk(job_dir):
        dirs.sort()
        for name in files:
            if EVENT_FILE_MARK not in name:
                continue
            path = os.path.join(root, name)
            try:
                if since is not None and os.path.getmtime(path) < since - MTIME_SLACK:
                    continue
            except OSError:
                continue
            found.append(path)
    return sorted(found)


class _FileState:
    def __init__(self, loader):
        self.loader = loader
        self.scalar_tags: Dict[str, bool] = {}   # tag -> is a scalar (metadata comes with a tag's first value)


class TensorBoardScalars:
    """Incremental reader of the event files under jobs' directories."""

    def __init__(self, warn: Optional[Callable[[str], None]] = None):
        self._warn = warn
        self._warned = False
        self._tb = None                 # (EventFileLoader, make_ndarray) once imported
        self._unavailable = False
        self._files: Dict[int, Dict[str, _FileState]] = {}
        self._last_read: Dict[int, float] = {}
        self._last_sweep = -float("inf")

    def _tensorboard(self):
        if self._tb is None and not self._unavailable:
            self._tb = _load_tensorboard()
            self._unavailable = self._tb is None
        return self._tb

    def _warn_once(self, message: str) -> None:
        if not self._warned and self._warn is not None:
            self._warn(message)
        self._warned = True

    def forget(self, job_id: int) -> None:
        """Close a job's loaders (its files will be read from the start if asked again)."""
        self._files.pop(job_id, None)
        self._last_read.pop(job_id, None)

    def _forget_idle(self, now: float) -> None:
        if now - self._last_sweep < FORGET_AFTER / 10:     # a sweep looks at every job: not at every read
            return
        self._last_sweep = now
        for job_id in [j for j, t in self._last_read.items() if now - t > FORGET_AFTER]:
            self.forget(job_id)

    def read_new(self, job_id: int, job_dir: str, names: Optional[Iterable[str]] = None,
                 since: Optional[float] = None) -> List[Row]:
        """Scalar rows appended to the job's event files since the previous call (only ``names`` if given)."""
        now = time.monotonic()
        self._forget_idle(now)
        self._last_read[job_id] = now
        paths = find_event_files(job_dir, since)
        if not paths:
            return []
        tb = self._tensorboard()
        if tb is None:
            self._warn_once(f"TensorBoard event files found in {job_dir} but tensorboard is not installed: "
                            f"their scalars are not collected (pip install tensorboard)")
            return []
        loader_cls, make_ndarray = tb
        files = self._files.setdefault(job_id, {})
        wanted = None if names is None else set(names)
        rows: List[Row] = []
        for path in paths:
            state = files.get(path)
            if state is None:
                try:
                    state = files[path] = _FileState(loader_cls(path))
                except Exception as err:   # unreadable or vanished file: try again next time  # noqa: BLE001
                    self._warn_once(f"cannot read TensorBoard event file {path}: {err}")
                    continue
            try:
                for event in state.loader.Load():
                    rows.extend(self._scalars(event, state, wanted, make_ndarray))
            except Exception as err:       # a corrupt record: keep what was read, warn once  # noqa: BLE001
                self._warn_once(f"error reading TensorBoard event file {path}: {err}")
        return rows

    @staticmethod
    def _scalars(event, state: _FileState, wanted, make_ndarray) -> List[Row]:
        if event.WhichOneof("what") != "summary":
            return []
        rows = []
        for value in event.summary.value:
            tag = value.tag
            metadata = value.metadata
            if metadata.plugin_data.plugin_name or metadata.data_class:
                state.scalar_tags[tag] = (metadata.plugin_data.plugin_name == "scalars"
                                          or metadata.data_class == 1)   # 1: DATA_CLASS_SCALAR
            if not state.scalar_tags.get(tag) or (wanted is not None and tag not in wanted):
                continue
            which = value.WhichOneof("value")
            if which == "simple_value":
                number = float(value.simple_value)
            elif which == "tensor":
                array = make_ndarray(value.tensor)
                if array.size != 1:
                    continue
                item = array.reshape(-1)[0]
                # float32 (what writers store) read back at its shortest repr: 0.1, not 0.10000000149
                number = float(str(item)) if array.dtype.itemsize == 4 else float(item)
            else:
                continue
            rows.append((tag, int(event.step), number, float(event.wall_time)))
        return rows


class TensorBoardMetrics:
    """One job's event files as a metric source (the contract of ``ingest.base``): TensorBoard steps, or with
    ``step_attribute`` the value of that scalar at the same or an earlier step (Lightning logs ``epoch`` as a
    scalar next to every metric, so ``step_attribute: epoch`` puts its global-step curves on an epoch axis).
    Its cursor holds only the step axis: event files are read again from their start after a restart."""

    def __init__(self, job_dir: str, step_attribute: Optional[str] = None, cursor: Optional[dict] = None,
                 warn: Optional[Callable[[str], None]] = None):
        from .base import StepAxis
        self.job_dir = job_dir
        self._reader = TensorBoardScalars(warn=warn)
        self._axis = StepAxis(step_attribute, (cursor or {}).get("axis")) if step_attribute else None

    @property
    def cursor(self) -> dict:
        return {"axis": self._axis.cursor if self._axis else None}

    def read_new(self) -> List[Row]:
        rows = self._reader.read_new(0, self.job_dir)
        return self._axis.convert(rows) if self._axis else rows
