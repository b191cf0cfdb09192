"""Scalars from the MLflow runs a job logs (``mlflow.log_metric(key, value, step=...)``), read from the store
files in the job's directory, without an MLflow server or the mlflow package.

Two stores are read, whichever exist under the job's directory:

- an SQLite store (``mlflow.db``, MLflow's default tracking URI ``sqlite:///mlflow.db`` since 3.x; the
  controller points ``MLFLOW_TRACKING_URI`` at ``sqlite:///$GML_JOB_DIR/mlflow.db`` for jobs read this way, so
  parallel jobs never share a store): the ``metrics`` table, rows after the last row id read, in one query, only
  when the store's files changed since the last read. The read-only connection stays open while the job runs
  (opening one parses MLflow's schema of ~200 tables and indexes: milliseconds per read); a store locked by the
  job's writer is not waited for (it is read in the next round, so one busy job never holds up the others);
  uncommitted rows are not visible yet and come with a later read;
- a file store (``mlruns/<experiment>/<run>/metrics/<key>``, lines ``timestamp value step``; MLflow writes it when
  ``MLFLOW_TRACKING_URI=file:...`` and ``MLFLOW_ALLOW_FILE_STORE=true``) in ``mlruns/`` of the job directory or of
  its working directory (``cwd/``): each metric file read as it grows.

A scalar's name is its MLflow key, its step the logged ``step`` (MLflow's default is 0 for every value: log with
``step=``), or, with ``step_attribute``, the value of that MLflow metric logged at the same or an earlier step.
All runs in the store are read (one job, one store).
"""
from __future__ import annotations

import os
import sqlite3
import urllib.request
from typing import Dict, List, Optional

from ..task.workspace import WORK_DIR
from .base import GrowingFile, Row, StepAxis, as_number, matching_files

DB_FILE = "mlflow.db"
FILE_STORE = "mlruns"
BUSY_WAIT = 0.02          # seconds a read waits for the job's writer to release its lock before trying next round


def _stat(path: str):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class MlflowMetrics:
    def __init__(self, job_dir: str, step_attribute: Optional[str] = None, cursor: Optional[dict] = None):
        cursor = cursor or {}
        self.job_dir = job_dir
        self._last_rowid: int = cursor.get("rowid", 0)
        self._files: Dict[str, GrowingFile] = {
            rel: GrowingFile(os.path.join(job_dir, rel), offset) for rel, offset in cursor.get("files", {}).items()}
        self._axis = StepAxis(step_attribute, cursor.get("axis")) if step_attribute else None
        self._db_seen = None            # (size, mtime) of the store and its WAL at the last query: unchanged, skip
        self._connection: Optional[sqlite3.Connection] = None

    def __del__(self):
        if self._connection is not None:
            self._connection.close()

    @property
    def cursor(self) -> dict:
        return {"rowid": self._last_rowid, "files": {rel: f.offset for rel, f in self._files.items()},
                "axis": self._axis.cursor if self._axis else None}

    def read_new(self) -> List[Row]:
        rows = self._read_db() + self._read_file_store()
        return self._axis.convert(rows) if self._axis else rows

    def _read_db(self) -> List[Row]:
        path = os.path.join(self.job_dir, DB_FILE)
        seen = tuple(_stat(p) for p in (path, path + "-wal"))
        if seen[0] is None or seen == self._db_seen:
            return []
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(f"file:{urllib.request.pathname2url(path)}?mode=ro", uri=True,
                                                   timeout=BUSY_WAIT, check_same_thread=False)
            found = self._connection.execute(
                "SELECT rowid, key, value, is_nan, step, timestamp FROM metrics WHERE rowid > ? ORDER BY rowid",
                (self._last_rowid,)).fetchall()
        except sqlite3.Error:          # tables not created yet, or the writer holds a lock: next round
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            return []
        self._db_seen = seen
        rows: List[Row] = []
        for rowid, key, value, is_nan, step, timestamp in found:
            self._last_rowid = max(self._last_rowid, rowid)
            rows.append((str(key), int(step), float("nan") if is_nan else float(value), timestamp / 1000.0))
        return rows

    def _read_file_store(self) -> List[Row]:
        rows: List[Row] = []
        # the job directory's mlruns/, or its working directory's (cwd/mlruns: MLflow's default place); two stats
        # per read when neither exists
        paths = []
        for base in ("", WORK_DIR):
            store = os.path.join(self.job_dir, base, FILE_STORE)
            if os.path.isdir(store) and not os.path.islink(store):
                paths.extend(matching_files(store, "*/*/metrics/**"))
        for path in paths:
            rel = os.path.relpath(path, self.job_dir)
            parts = rel.split(os.sep)
            key = "/".join(parts[parts.index(FILE_STORE) + 4:])   # mlruns/<exp>/<run>/metrics/<key, / for nesting>
            growing = self._files.setdefault(rel, GrowingFile(path))
            lines, _ = growing.read_lines()
            for line in lines:
                parts = line.split()
                if len(parts) < 2:
                    continue
                value, timestamp = as_number(parts[1]), as_number(parts[0])
                step = int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else 0
                if value is not None:
                    rows.append((key, step, value, (timestamp or 0.0) / 1000.0))
        return rows
