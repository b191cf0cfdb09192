"""The launcher conformance suite (gml.testing.launchers) over RayLauncher on a real local Ray head, started once
for the module (every job names the same task directory) and stopped at its end."""
import pytest

from gml.launchers import ray_local
from gml.launchers.ray_launcher import RayLauncher
from gml.testing.launchers import LauncherCase, LauncherSuite, Refusal

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_task_dir(tmp_path_factory):
    pytest.importorskip("ray")
    task_dir = str(tmp_path_factory.mktemp("ray-task"))
    yield task_dir
    ray_local.stop(task_dir)


class TestRayLauncher(LauncherSuite):
    @pytest.fixture
    def launcher_case(self, ray_task_dir):
        return LauncherCase(RayLauncher, {"local_num_cpus": 4, "list_interval": 0.3},
                            env={"GML_TASK_DIR": ray_task_dir}, timeout=120,
                            refusal=Refusal(kwargs={"address": "http://127.0.0.1:9"},
                                            match="cannot reach the Ray cluster"))
