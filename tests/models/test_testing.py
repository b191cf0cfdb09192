"""gml.models.testing: the result order of CPU multi-process testing and its refusal of --gpu-collect."""
import pytest

from gml.errors import GmlConfigError
from gml.models.testing import interleave, run_test


def test_interleave_restores_dataset_order_and_drops_padding():
    # 5 samples over 2 ranks: rank 0 holds 0, 2, 4; rank 1 holds 1, 3 and the padding sample 0 again.
    assert interleave([["s0", "s2", "s4"], ["s1", "s3", "s0"]], 5) == ["s0", "s1", "s2", "s3", "s4"]
    assert interleave([["a", "d"], ["b", "e"], ["c", "a"]], 5) == ["a", "b", "c", "d", "e"]
    assert interleave([[1, 2, 3]], 3) == [1, 2, 3]
    assert interleave([[], []], 0) == []


def test_interleave_with_unequal_parts_keeps_every_sample():
    # A sampler without round-up padding: rank 1 has one sample fewer.
    assert interleave([[0, 2, 4], [1, 3]], 5) == [0, 1, 2, 3, 4]


def test_gpu_collect_on_cpu_is_a_config_error():
    with pytest.raises(GmlConfigError, match=r"--gpu-collect.*needs CUDA"):
        run_test(model=None, loader=None, device="cpu", distributed=True, gpu_collect=True)
