"""``QuantizationStateSyncHook``: distributed QAT keeps one quantization state on every process.

The observers of a fake-quant model (activation and weight ranges, hence scales and zero points) are buffers, and
mmcv's DDP wrapper does not synchronise buffers (``broadcast_buffers=False``): each process's would follow its own
data (measured on 2 processes after one digits epoch: activation scales 2-8 % apart), validation would score each
process's share of the data with different quantization parameters, and checkpoints would hold rank 0's. After
every training iteration this hook gives every process rank 0's quantization state, which is what PyTorch's DDP
does for all buffers by default (``broadcast_buffers=True``), here for the quantization state only: BatchNorm
statistics are left to mmcv as in every mmcls distributed run (per process while training, rank 0's broadcast
before a distributed evaluation). ``gml.QuantizationAwareTraining`` registers it
itself (``runner_hooks``); it does nothing in a single-process run.
"""
from __future__ import annotations

from mmcv.runner import Hook

from ..dist import broadcast_tensors
from ..evaluation import unwrap
from ..registry import HOOKS


@HOOKS.register_module()
class QuantizationStateSyncHook(Hook):
    def after_train_iter(self, runner) -> None:
        algorithm = unwrap(runner.model)
        buffers = dict(algorithm.model.named_buffers())
        broadcast_tensors([buffers[name] for name in algorithm.quantization_state if name in buffers])
