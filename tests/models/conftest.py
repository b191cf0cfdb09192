"""Tests of gml's mm side: they need torch + mmcv + mmcls (installed by tools/setup_env.sh)."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("mmcv")
pytest.importorskip("mmcls")

import gml.models  # noqa: E402,F401  (before any mmcv.runner import: installs the torchvision stand-in if needed)


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.mm)


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread():
    """In-process tests run torch with one intra-op thread: their tensors are tiny, and on a shared 2-core machine
    more threads only contend (measured: tests/models ran 2x slower in all, single tests up to 40x, under load).
    Module-scoped, so module-scoped fixtures (trained models) run single-threaded too; restored after each module,
    so library behaviour is unchanged. Child processes get OMP_NUM_THREADS=1 from their own environment."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
