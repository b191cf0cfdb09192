"""The store's schema version: a store written by gml at abe4629 (schema 1, lifecycle in a JSON ``extra`` column)
is migrated on open in one transaction; a store of a newer gml is refused with a message that says what to do."""
import os
import sqlite3
import tarfile

import pytest

from gml.search.task.jobs import JobStatus
from gml.search.task.store import SCHEMA_VERSION, Store, StoreVersionError

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "task_store_v1.tar.gz")


@pytest.fixture
def v1_db(tmp_path):
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return str(tmp_path / "legacy" / "state.db")


def raw_rows(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_version_1_store_is_migrated_with_the_same_jobs_and_typed_lifecycle_fields(v1_db):
    before = raw_rows(v1_db, "SELECT id, status, attempt, reward, error, exit_code, scalar_offset FROM jobs ORDER BY id")
    scalars_before = raw_rows(v1_db, "SELECT * FROM scalars ORDER BY job_id, name, step")
    assert raw_rows(v1_db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    store = Store(v1_db)
    jobs = store.jobs()
    assert [(j.id, j.status.value, j.attempt, j.reward, j.error, j.exit_code, j.scalar_offset) for j in jobs] == before
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.TIMEOUT, JobStatus.ERROR, JobStatus.FILTERED,
                                        JobStatus.SUCCEEDED, JobStatus.ERROR, JobStatus.ERROR]
    assert [j.reward for j in jobs] == [0.2, None, 0.2, None, 0.4, None, None]
    # extra {"ending", "why"} became end_intent / end_reason; "submitted_at" a column; start_time only once running
    assert (jobs[1].end_intent, jobs[1].end_reason) == (JobStatus.TIMEOUT, "over time_limits_per_job (2s)")
    assert (jobs[5].end_intent, jobs[5].end_reason) == (JobStatus.ERROR, "the controller was interrupted")
    assert jobs[0].end_intent is None and jobs[3].submitted_at is None and jobs[3].start_time is None
    assert all(j.submitted_at < j.start_time for j in jobs if j.status != JobStatus.FILTERED)
    assert store.get_meta("schema_version") == SCHEMA_VERSION == 3
    assert store.get_meta("status") == "INTERRUPTED" and store.get_meta("reward_attribute") == "acc"
    store.close()
    columns = [row[1] for row in raw_rows(v1_db, "PRAGMA table_info(jobs)")]
    assert "extra" not in columns and {"submitted_at", "end_intent", "end_reason"} <= set(columns)
    assert "payload" in [row[1] for row in raw_rows(v1_db, "PRAGMA table_info(requests)")]   # version 3
    assert raw_rows(v1_db, "SELECT * FROM scalars ORDER BY job_id, name, step") == scalars_before
    assert len(Store(v1_db).jobs()) == 7, "opening a migrated store again changes nothing"


def test_a_migration_that_fails_leaves_the_version_1_store_untouched(v1_db):
    db = sqlite3.connect(v1_db)
    db.execute("UPDATE jobs SET extra = '{\"ending\": \"NOT_A_STATUS\"}' WHERE id = 6")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="NOT_A_STATUS"):
        Store(v1_db)
    assert raw_rows(v1_db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    assert "extra" in [row[1] for row in raw_rows(v1_db, "PRAGMA table_info(jobs)")]
    assert raw_rows(v1_db, "SELECT COUNT(*) FROM jobs") == [(7,)]


def test_a_store_of_a_newer_gml_is_refused_and_left_as_it_is(tmp_path):
    path = str(tmp_path / "state.db")
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    for readonly in (False, True):
        with pytest.raises(StoreVersionError) as err:
            Store(path, readonly=readonly)
        message = str(err.value)
        assert "store schema version 4" in message and "reads versions up to 3" in message
        assert "upgrade gml" in message and err.value.exit_code == 2
    assert raw_rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("4",)]


def test_a_read_only_open_does_not_migrate(v1_db):
    with pytest.raises(StoreVersionError, match="schema version 1 and is opened read-only"):
        Store(v1_db, readonly=True)
    assert raw_rows(v1_db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
