import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


def slurm_reachable() -> str:
    """'' when sinfo reaches a cluster with a usable node, else why not."""
    try:
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return "sinfo is not installed (tools/ci/start_slurm.sh installs and starts a test cluster as root)"
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 10s"
    if out.returncode != 0:
        return f"sinfo cannot reach a Slurm cluster: {out.stderr.strip()}"
    if not any(s.strip().rstrip("*") in ("idle", "mix", "alloc") for s in out.stdout.split()):
        return f"no usable Slurm node: {out.stdout.strip()!r}"
    return ""


@pytest.fixture(scope="session")
def slurm_cluster():
    why = slurm_reachable()
    if why:
        pytest.skip(f"Slurm unavailable: {why}")
    yield


def pytest_terminal_summary(terminalreporter):
    """Say loudly when cluster tests were skipped (pytest -q alone would only print an 's')."""
    for report in terminalreporter.stats.get("skipped", []):
        if "launchers" in report.nodeid and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
            if "unavailable" in reason:
                terminalreporter.write_line(f"SKIPPED {report.nodeid}: {reason}", yellow=True, bold=True)


@pytest.fixture
def fake_slurm(tmp_path_factory, monkeypatch):
    """A fake Slurm (fake_slurm.FakeSlurm) whose sbatch/squeue/sacct/scancel come first on PATH for the test."""
    from fake_slurm import FakeSlurm
    fake = FakeSlurm(str(tmp_path_factory.mktemp("fake-slurm")))
    monkeypatch.setenv("PATH", fake.bin + os.pathsep + os.environ.get("PATH", ""))
    return fake
