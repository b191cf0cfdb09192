"""The launcher conformance suite (gml.testing.launchers) over LocalLauncher."""
import pytest

from gml.launchers.local import LocalLauncher
from gml.testing.launchers import LauncherCase, LauncherSuite, Refusal


class TestLocalLauncher(LauncherSuite):
    @pytest.fixture
    def launcher_case(self):
        # a working directory that does not exist: the process cannot start
        return LauncherCase(LocalLauncher, {"kill_grace": 1.0}, timeout=30,
                            refusal=Refusal(cwd="/nonexistent/gml-suite", match="cannot start the job"))
