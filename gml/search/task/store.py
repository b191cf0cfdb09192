"""A task's persistent state: one SQLite database (WAL) in the task directory.

Writers: the task's controller is the only writer of jobs, scalars and meta. ``search-ctl`` reads at any time
(WAL lets readers run beside the writer) and writes only rows of the ``requests`` table, which the controller
polls. Every method commits before it returns, so a state change is on disk before the action that depends on it.
A Store object is for one thread.
"""
from __future__ import annotations

import enum
import json
import math
import os
import sqlite3
import time
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ...errors import GmlError
from ...version import __version__
from ..space.dimensions import canonical_key
from .jobs import END_INTENTS, Job, JobStatus, check_transition

#: the layout of the database. 1: job lifecycle in a JSON ``extra`` column; 2: typed columns ``submitted_at``,
#: ``end_intent``, ``end_reason`` (``start_time`` is None until the job runs); 3: a ``payload`` column on requests
#: (what ``search-ctl enqueue`` asks to run) and the jobs' ``violation`` (of ``searcher.constraints``). Older stores
#: are migrated on open.
SCHEMA_VERSION = 3

_JOBS_TABLE = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    point_key TEXT NOT NULL UNIQUE,
    point TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    command TEXT, run_path TEXT, log_path TEXT, external_id TEXT,
    created_at REAL, submitted_at REAL, start_time REAL, end_time REAL,
    exit_code INTEGER, reward REAL, error TEXT, stopped_step INTEGER,
    scalar_offset INTEGER NOT NULL DEFAULT 0,
    end_intent TEXT, end_reason TEXT, violation REAL
);
"""

_OTHER_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scalars (
    job_id INTEGER NOT NULL, name TEXT NOT NULL, step INTEGER NOT NULL, value REAL, time REAL,
    PRIMARY KEY (job_id, name, step)
);
CREATE TABLE requests (
    id INTEGER PRIMARY KEY, action TEXT NOT NULL, created_at REAL NOT NULL, done_at REAL, payload TEXT
);
"""

_JOB_COLUMNS = ("id", "point", "params", "status", "attempt", "command", "run_path", "log_path", "external_id",
                "created_at", "submitted_at", "start_time", "end_time", "exit_code", "reward", "error",
                "stopped_step", "scalar_offset", "end_intent", "end_reason", "violation")
_UPDATABLE = set(_JOB_COLUMNS) - {"id", "point"}


class RequestAction(str, enum.Enum):
    """What ``search-ctl`` asks a task's controller to do (a row of the requests table)."""

    STOP = "stop"          # end the task (no payload)
    ENQUEUE = "enqueue"    # run one configuration next (payload: the point)


class Request(NamedTuple):
    """An open request: its id, action and JSON-decoded payload (None when it has none)."""

    id: int
    action: RequestAction
    payload: Any


class StoreVersionError(GmlError):
    """The task store was written by a gml with another store layout than this one reads."""

    exit_code = 2


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Version 1 kept the lifecycle in ``extra``: {"submitted_at", "running", "ending", "why"}; ``start_time`` was
    the submission time until the job ran (``running``), and only the submission time in stores written before
    ``running`` existed."""
    db.execute("ALTER TABLE jobs RENAME TO jobs_v1")
    db.execute(_JOBS_TABLE)
    kept = ("id", "point_key", "point", "params", "status", "attempt", "command", "run_path", "log_path",
            "external_id", "created_at", "end_time", "exit_code", "reward", "error", "stopped_step", "scalar_offset")
    rows = db.execute(f"SELECT {', '.join(kept)}, start_time, extra FROM jobs_v1").fetchall()
    for row in rows:
        *values, start_time, extra = row
        extra = json.loads(extra or "{}")
        submitted_at = extra.get("submitted_at", start_time)
        started = extra.get("running", "submitted_at" not in extra)
        ending = extra.get("ending")
        db.execute(f"INSERT INTO jobs ({', '.join(kept)}, submitted_at, start_time, end_intent, end_reason) "
                   f"VALUES ({', '.join('?' * (len(kept) + 4))})",
                   (*values, submitted_at, start_time if started else None,
                    JobStatus(ending).value if ending else None, extra.get("why") if ending else None))
    db.execute("DROP TABLE jobs_v1")


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Version 3 adds the requests' JSON ``payload`` (None for a stop request) and the jobs' ``violation`` (None:
    not judged). A version 1 store migrated a step ago has the jobs table of this version already."""
    db.execute("ALTER TABLE requests ADD COLUMN payload TEXT")
    if "violation" not in [row[1] for row in db.execute("PRAGMA table_info(jobs)")]:
        db.execute("ALTER TABLE jobs ADD COLUMN violation REAL")


_MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}   # version -> the step to version + 1


def _float_or_none(value: Any) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class Store:
    """The store of one task. Opening checks the schema version: a store of a newer gml is refused
    (StoreVersionError); an older one is migrated to :data:`SCHEMA_VERSION` in one transaction (a read-only
    store is refused instead: it cannot be migrated in place)."""

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
        try:
            self._open_schema(readonly)
        except BaseException:
            self._db.close()
            raise
        self._db.row_factory = sqlite3.Row

    def _stored_version(self) -> Optional[int]:
        """The schema version written in the store; None for a new (empty) database."""
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
            return None
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            raise StoreVersionError(f"{self.path} has no schema version: it is not a gml task store")
        return int(json.loads(row[0]))

    def _open_schema(self, readonly: bool) -> None:
        self._db.execute("BEGIN IMMEDIATE" if not readonly else "BEGIN")
        try:
            version = self._stored_version()
            if version is not None and version > SCHEMA_VERSION:
                raise StoreVersionError(
                    f"{self.path} has store schema version {version}, but gml {__version__} reads versions up to "
                    f"{SCHEMA_VERSION}: open this task with the newer gml that wrote it, or upgrade gml "
                    f"(pip install -U gml)")
            if version is not None and version < SCHEMA_VERSION and readonly:
                raise StoreVersionError(f"{self.path} has store schema version {version} and is opened read-only; "
                                        f"open it once with search-ctl or search-run to migrate it to version "
                                        f"{SCHEMA_VERSION}")
            if not readonly:
                if version is None:
                    # one statement at a time: executescript would commit in the middle of the transaction
                    for statement in (_OTHER_TABLES + _JOBS_TABLE).split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                else:
                    for step in range(version, SCHEMA_VERSION):
                        _MIGRATIONS[step](self._db)
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                 (json.dumps(SCHEMA_VERSION),))
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

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
        """Write job columns. A new ``status`` must follow the job's stored one in the lifecycle
        (``jobs.TRANSITIONS``), else IllegalTransition and nothing is written."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise KeyError(f"not job columns: {sorted(unknown)}")
        for key in ("status", "end_intent"):
            if fields.get(key) is not None:
                fields[key] = JobStatus(fields[key]).value
        if "params" in fields:
            fields["params"] = json.dumps(fields["params"])
        if "reward" in fields:
            fields["reward"] = _float_or_none(fields["reward"])
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._db:
            if "status" in fields:
                row = self._db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    raise KeyError(f"no job {job_id}")
                check_transition(job_id, JobStatus(row[0]), JobStatus(fields["status"]))
            self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def record_end_intent(self, job_id: int, status: JobStatus, reason: str) -> None:
        """Record that the controller is ending an active job with ``status`` (before the launcher cancels it)."""
        if status not in END_INTENTS:
            raise ValueError(f"a job is not ended on purpose as {status.value}")
        with self._db:
            row = self._db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise KeyError(f"no job {job_id}")
            check_transition(job_id, JobStatus(row[0]), status)
            self._db.execute("UPDATE jobs SET end_intent = ?, end_reason = ? WHERE id = ?",
                             (status.value, reason, job_id))

    def _job(self, row: sqlite3.Row) -> Job:
        data = {k: row[k] for k in _JOB_COLUMNS}
        data["point"] = json.loads(data["point"])
        data["params"] = json.loads(data["params"])
        data["status"] = JobStatus(data["status"])
        data["end_intent"] = JobStatus(data["end_intent"]) if data["end_intent"] else None
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
    def add_request(self, action: RequestAction, payload: Any = None) -> int:
        """Record a request for the controller (``payload``: any JSON value); its id."""
        with self._db:
            return self._db.execute("INSERT INTO requests (action, created_at, payload) VALUES (?, ?, ?)",
                                    (RequestAction(action).value, time.time(),
                                     None if payload is None else json.dumps(payload))).lastrowid

    def open_requests(self) -> List[Request]:
        """The requests not closed yet, oldest first."""
        rows = self._db.execute("SELECT id, action, payload FROM requests WHERE done_at IS NULL ORDER BY id")
        return [Request(i, RequestAction(a), None if p is None else json.loads(p)) for i, a, p in rows]

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
