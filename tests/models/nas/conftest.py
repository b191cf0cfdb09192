"""NAS tests run torch single-threaded: their tensors are tiny, and on a shared 2-core machine intra-op threads
only contend with each other (measured: a sandwich step ran ~10x slower with 2 threads under load)."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
