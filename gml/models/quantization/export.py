"""Saving an int8 model so that it can be deployed, and measuring what it weighs.

Two artifacts (written by tools/quantize.py):

- ``int8.pth`` + ``int8_config.py``: an mmcv checkpoint of the converted model and the training config with
  ``algorithm.converted=True`` and ``device='cpu'``. gml rebuilds the int8 structure from the config and loads the
  checkpoint: ``tools/test.py int8_config.py int8.pth`` evaluates it, ``init_model``-style code can serve it.
- ``int8_torchscript.pt``: the int8 classifier traced with TorchScript, ``img (N, C, H, W) float -> class scores
  (N, num_classes)`` (softmax, as mmcls's test loop gives). It needs torch only, not gml, mmcv or mmcls:
  ``torch.backends.quantized.engine = <backend>; torch.jit.load(path)(img)``.
"""
from __future__ import annotations

import io
import warnings
from typing import Dict, Mapping

import torch
from torch import nn

from ._ao import quiet_torch_ao


class ClassScores(nn.Module):
    """``img -> softmax class scores`` of an mm classifier (the traced entry point of the TorchScript artifact)."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.classifier.simple_test(img, post_process=False)


def trace_scores(classifier: nn.Module, example: torch.Tensor):
    """TorchScript of :class:`ClassScores` over ``classifier`` (an int8 model: eval mode, CPU), traced on
    ``example``."""
    with quiet_torch_ao(), torch.no_grad(), warnings.catch_warnings():
        # The input quantizer's scale and zero point become trace constants, which the tracer flags; after
        # conversion they are constants.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        return torch.jit.trace(ClassScores(classifier).eval(), example, check_trace=False)


def save_torchscript(module, path: str) -> None:
    with quiet_torch_ao():
        torch.jit.save(module, path)


def load_torchscript(path: str):
    with quiet_torch_ao():
        return torch.jit.load(path, map_location="cpu")


def save_int8_checkpoint(model: nn.Module, path: str, meta: dict) -> None:
    """Write an mmcv-style checkpoint (``meta`` + ``state_dict``) of an int8 ``model``.

    mmcv's ``save_checkpoint`` collects parameters and buffers only, which misses the packed int8 weights that
    quantized modules serialise themselves; this uses ``model.state_dict()``. mmcv's ``load_checkpoint`` (which calls
    each module's own loader) reads the file back."""
    with quiet_torch_ao():
        torch.save(dict(meta=meta, state_dict=model.state_dict()), path)


def serialized_bytes(state: Mapping[str, torch.Tensor]) -> int:
    """Bytes ``torch.save`` writes for ``state`` (a state dict): the size a checkpoint of those tensors takes."""
    buffer = io.BytesIO()
    with quiet_torch_ao():
        torch.save(dict(state), buffer)
    return buffer.tell()


def float_weights(state: Mapping[str, torch.Tensor], quantization_state) -> Dict[str, torch.Tensor]:
    """``state`` without the quantizer's own tensors: the float model's weights and buffers."""
    skip = set(quantization_state)
    return {k: v for k, v in state.items() if k not in skip}
