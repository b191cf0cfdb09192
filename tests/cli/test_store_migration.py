"""A task written by gml at abe4629 (store schema 1) works with this gml: imported, shown and resumed."""
import os
import sqlite3
import tarfile

from gml.search.task.store import SCHEMA_VERSION

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "search", "data",
                       "task_store_v1.tar.gz")


def test_a_version_1_task_is_shown_and_resumed(project):
    project.cli("search-ctl", "import", "--tar-path", FIXTURE, "-t", "legacy", check=0)
    shown = project.jobs("legacy")
    assert shown["task"]["status"] == "INTERRUPTED"
    assert [(j["id"], j["status"], j["reward"]) for j in shown["jobs"]] == [
        (0, "SUCCEEDED", 0.2), (1, "TIMEOUT", None), (2, "ERROR", 0.2), (3, "FILTERED", None),
        (4, "SUCCEEDED", 0.4), (5, "ERROR", None), (6, "ERROR", None)]
    assert shown["jobs"][0]["scalars"]["acc"] == {0: 0.1, 1: 0.2}
    # the same config as the one the task was made with (its copy is in the archive)
    with tarfile.open(FIXTURE) as tar:
        config = tar.extractfile("legacy/code/search.yaml").read()
    (project.root / "search.yaml").write_bytes(config)
    run = project.cli("search-run", "search.yaml", "-t", "legacy", "--resume", check=0, timeout=180)
    assert "FINISHED" in run.stderr
    jobs = {j["id"]: j for j in project.jobs("legacy")["jobs"]}
    assert len(jobs) == 12
    # untouched: the jobs that ended before; run again: the ERROR ones; then the rest of the grid
    assert [(jobs[i]["status"], jobs[i].get("attempt", 1)) for i in (0, 1, 3, 4)] == \
        [("SUCCEEDED", 1), ("TIMEOUT", 1), ("FILTERED", 1), ("SUCCEEDED", 1)]
    assert [(jobs[i]["status"], jobs[i]["attempt"]) for i in (2, 5, 6)] == [("ERROR", 2), ("TIMEOUT", 2),
                                                                            ("ERROR", 2)]
    assert [jobs[i]["status"] for i in range(7, 12)] == ["FILTERED", "SUCCEEDED", "TIMEOUT", "ERROR", "FILTERED"]
    assert abs(jobs[8]["reward"] - 0.6) < 1e-9
    db = sqlite3.connect(project.task_dir("legacy") / "state.db")
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()


def test_a_task_of_a_newer_gml_is_refused_with_what_to_do(project):
    project.cli("search-ctl", "import", "--tar-path", FIXTURE, "-t", "future", check=0)
    db = sqlite3.connect(project.task_dir("future") / "state.db")
    db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    shown = project.cli("search-ctl", "show", "-t", "future", check=2)
    assert "has store schema version 7, but gml" in shown.stderr and f"reads versions up to {SCHEMA_VERSION}" in shown.stderr
    assert "upgrade gml" in shown.stderr and "Traceback" not in shown.stderr
