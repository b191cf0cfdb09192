"""A task's persistent state: one SQLite database (WAL) in the task directory.

Writers: the task's controller is the only writer of jobs, scalars and meta. ``search-ctl`` reads at any time
(WAL lets readers run beside the writer) and writes only rows of the ``requests`` table, which the controller
polls. Every method commits before it returns, so a state change is on disk before the action that depends on it.
A Store object is for one thread.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .jobs import Job, JobStatus
from ..space.dimensions import canonical_key

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    point_key TEXT NOT NULL UNIQUE,
    point TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    command TEXT, run_path TEXT, log_path TEXT, external_id TEXT,
    created_at REAL, start_time REAL, end_time REAL,
    exit_code INTEGER, reward REAL, error TEXT, stopped_step INTEGER,
    scalar_offset INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS scalars (
    job_id INTEGER NOT NULL, name TEXT NOT NULL, step INTEGER NOT NULL, value REAL, time REAL,
    PRIMARY KEY (job_id, name, step)
);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, action TEXT NOT NULL, created_at REAL NOT NULL, done_at REAL
);
"""

_JOB_COLUMNS = ("id", "point", "params", "status", "attempt", "command", "run_path", "log_path", "external_id",
                "created_at", "start_time", "end_time", "exit_code", "reward", "error", "stopped_step",
                "scalar_offset", "extra")
_UPDATABLE = set(_JOB_COLUMNS) - {"id", "point"}


def _float_or_none(value: Any) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class Store:
    def __init__(self, path: str, readonly: bool = False, timeout: float = 30.0):
        """``timeout``: seconds a statement waits for a lock held by another connection before it raises
        ``sqlite3.OperationalError`` (a read-only viewer passes a short one to report a locked store quickly)."""
        self.path = path
        if readonly:
            if not os.path.exists(path):
                raise FileNotFoundError(path)
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
        else:
            self._db = sqlite3.connect(path, timeout=timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self._db.commit()
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    # -- meta ---------------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, **values: Any) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 [(k, json.dumps(v)) for k, v in values.items()])

    # -- jobs ---------------------------------------------------------------------------------------------
    def has_point(self, point: Dict[str, Any]) -> bool:
        row = self._db.execute("SELECT 1 FROM jobs WHERE point_key = ?", (canonical_key(point),)).fetchone()
        return row is not None

    def add_job(self, point: Dict[str, Any], params: Dict[str, Any], status: JobStatus = JobStatus.PENDING,
                **fields: Any) -> Job:
        """Record a new configuration; ids count from 0. ValueError if the configuration exists already."""
        now = time.time()
        try:
            with self._db:
                cur = self._db.execute(
                    "INSERT INTO jobs (id, point_key, point, params, status, created_at) "
                    "VALUES ((SELECT COALESCE(MAX(id) + 1, 0) FROM jobs), ?, ?, ?, ?, ?)",
                    (canonical_key(point), json.dumps(point), json.dumps(params), status.value, now))
        except sqlite3.IntegrityError:
            raise ValueError(f"configuration already in the store: {canonical_key(point)}") from None
        job_id = cur.lastrowid
        if fields:
            self.update_job(job_id, **fields)
        return self.job(job_id)

    def update_job(self, job_id: int, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise KeyError(f"not job columns: {sorted(unknown)}")
        if "status" in fields:
            fields["status"] = JobStatus(fields["status"]).value
        for key in ("extra", "params"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        if "reward" in fields:
            fields["reward"] = _float_or_none(fields["reward"])
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._db:
            self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def _job(self, row: sqlite3.Row) -> Job:
        data = {k: row[k] for k in _JOB_COLUMNS}
        data["point"] = json.loads(data["point"])
        data["params"] = json.loads(data["params"])
        data["extra"] = json.loads(data["extra"] or "{}")
        data["status"] = JobStatus(data["status"])
        return Job(**data)

    def job(self, job_id: int) -> Job:
        row = self._db.execute(f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"no job {job_id}")
        return self._job(row)

    def jobs(self, statuses: Optional[Iterable[JobStatus]] = None, ids: Optional[Sequence[int]] = None) -> List[Job]:
        sql, args = f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs", []
        where = []
        if statuses is not None:
            statuses = [JobStatus(s).value for s in statuses]
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args += statuses
        if ids is not None:
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args += list(ids)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._job(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    def counts(self) -> Dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    # -- scalars ------------------------------------------------------------------------------------------
    def add_scalars(self, job_id: int, rows: Iterable[Tuple[str, int, Optional[float], float]],
                    scalar_offset: Optional[int] = None) -> None:
        """Record ``(name, step, value, time)`` rows (a later value at the same step wins) and, in the same
        transaction, how far the job's scalars file has been read."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO scalars VALUES (?, ?, ?, ?, ?)",
                                 [(job_id, n, s, v, t) for n, s, v, t in rows])
            if scalar_offset is not None:
                self._db.execute("UPDATE jobs SET scalar_offset = ? WHERE id = ?", (scalar_offset, job_id))

    def scalars(self, job_id: int, name: Optional[str] = None) -> List[Tuple[str, int, Optional[float]]]:
        """``(name, step, value)`` rows of a job in step order."""
        sql, args = "SELECT name, step, value FROM scalars WHERE job_id = ?", [job_id]
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        return [tuple(r) for r in self._db.execute(sql + " ORDER BY step, name", args)]

    def clear_scalars(self, job_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM scalars WHERE job_id = ?", (job_id,))
            self._db.execute("UPDATE jobs SET scalar_offset = 0 WHERE id = ?", (job_id,))

    # -- requests from search-ctl -------------------------------------------------------------------------
    def add_request(self, action: str) -> int:
        with self._db:
            return self._db.execute("INSERT INTO requests (action, created_at) VALUES (?, ?)",
                                    (action, time.time())).lastrowid

    def open_requests(self) -> List[Tuple[int, str]]:
        return [tuple(r) for r in self._db.execute("SELECT id, action FROM requests WHERE done_at IS NULL ORDER BY id")]

    def close_request(self, request_id: int) -> None:
        with self._db:
            self._db.execute("UPDATE requests SET done_at = ? WHERE id = ?", (time.time(), request_id))

    # -- copies -------------------------------------------------------------------------------------------
    def backup(self, dest: str) -> None:
        """A consistent copy of the database at ``dest`` (safe while the controller writes)."""
        target = sqlite3.connect(dest)
        try:
            self._db.backup(target)
        finally:
            target.close()

    def relocate(self, old_dir: str, new_dir: str) -> None:
        """Rewrite the task directory prefix in job paths and commands (after an import)."""
        with self._db:
            for column in ("run_path", "log_path", "command"):
                self._db.execute(f"UPDATE jobs SET {column} = replace({column}, ?, ?) WHERE {column} IS NOT NULL",
                                 (old_dir, new_dir))
