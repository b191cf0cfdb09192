"""The one exit-code-to-status mapping that the local and cluster launchers share."""
from gml.launchers.base import JobState
from gml.launchers.cluster import JobEntry
from gml.launchers.wrapper import status_from_exit


def test_exit_codes_map_to_end_states():
    assert status_from_exit(0, cancelled=False).state == JobState.SUCCEEDED
    failed = status_from_exit(3, cancelled=False)
    assert (failed.state, failed.exit_code, failed.message) == (JobState.FAILED, 3, "exited with code 3")
    assert status_from_exit(137, cancelled=False).message == "killed by signal 9 (SIGKILL)"
    assert status_from_exit(1, cancelled=False, reason="NODE_FAIL").message == "NODE_FAIL"
    cancelled = status_from_exit(143, cancelled=True)
    assert (cancelled.state, cancelled.exit_code) == (JobState.CANCELLED, 143)
    assert status_from_exit(None, cancelled=True).state == JobState.CANCELLED
    assert status_from_exit(None, cancelled=False) is None


def test_cluster_entries_use_the_shared_mapping():
    entry = JobEntry("/nonexistent")
    assert entry.exit_status(2).message == "exited with code 2"
    entry.cancelled = True
    assert entry.exit_status(0).state == JobState.CANCELLED
