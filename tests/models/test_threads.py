"""tests/models/conftest.py runs in-process tests, and module-scoped fixtures, with one torch thread."""
import pytest
import torch


@pytest.fixture(scope="module")
def threads_in_module_fixture():
    return torch.get_num_threads()


def test_tests_and_module_fixtures_run_single_threaded(threads_in_module_fixture):
    assert threads_in_module_fixture == 1
    assert torch.get_num_threads() == 1
