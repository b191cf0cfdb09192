"""The launcher conformance suite (gml.testing.launchers) over SlurmLauncher: on the real cluster that
tools/ci/start_slurm.sh starts, and on the fake Slurm of fake_slurm.py (no cluster needed)."""
import pytest

from gml.launchers.slurm import SlurmLauncher
from gml.testing.launchers import LauncherCase, LauncherSuite, Refusal


REFUSAL = Refusal(kwargs={"partition": "no-such-partition"}, match="(?i)Slurm refused the job: .*invalid partition")


@pytest.mark.slurm
class TestSlurmLauncherOnTheCluster(LauncherSuite):
    @pytest.fixture
    def launcher_case(self, slurm_cluster):
        # the test cluster tracks a job's processes by parentage (proctrack/linuxproc, no cgroups in a container):
        # children orphaned when SIGTERM ends the batch script escape Slurm's SIGKILL. Clusters with
        # proctrack/cgroup end them; here the suite checks only jobs that let SIGTERM end them.
        return LauncherCase(SlurmLauncher, {"squeue_interval": 0.5}, refusal=REFUSAL, timeout=60,
                            sigkill_escalation=False)


class TestSlurmLauncherOnFakeSlurm(LauncherSuite):
    @pytest.fixture
    def launcher_case(self, fake_slurm):
        return LauncherCase(SlurmLauncher, {"squeue_interval": 0.2}, refusal=REFUSAL, timeout=30)
