"""Fixtures of the distillation tests (helpers: _fixtures.py)."""
import pytest
import torch

from ._fixtures import save_teacher


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory):
    return save_teacher(tmp_path_factory.mktemp("teacher") / "teacher.pth")


@pytest.fixture
def batch():
    torch.manual_seed(0)
    return torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8, ))
