"""shutdown_distributed ends a gloo group's communication threads even after a DDP model used it (a thread left
running races the interpreter's teardown when a peer exits at the same moment and aborts the process)."""
import json
import os

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="lists threads through /proc")


def test_no_gloo_thread_outlives_shutdown_after_ddp(tmp_path, torchrun):
    torchrun("_shutdown_worker.py", str(tmp_path))
    for rank in (0, 1):
        seen = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert seen["grad"] == [3.0, 3.0]  # the step ran (a batch of 3, the same on both ranks)
        assert any(name.startswith(("gloo", "pt_gloo")) for name in seen["during"])  # the group had its threads
        assert not [name for name in seen["after"] if name.startswith(("gloo", "pt_gloo"))], seen["after"]
