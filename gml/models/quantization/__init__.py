"""Quantization of mm models: the quantizer interface, PyTorch's eager-mode quantizer, quantization-ready blocks,
torchao's PT2E quantizer (gml.PT2EQuantizer).

Used by :class:`gml.models.algorithms.qat.QuantizationAwareTraining` (``algorithm=dict(type=
'gml.QuantizationAwareTraining', model=..., quantizer=dict(type='gml.TorchDefaultQuantizer', ...))``).
Reference: docs/quantization.md.
"""
from ._ao import quiet_torch_ao
from .base import BaseQuantizer, QuantizationStage, build_quantizer
from .blocks import make_blocks_quantizable
from .qconfig import supported_backends
from .pt2e import PT2EQuantizer
from .torch_default import TorchDefaultQuantizer

__all__ = ["BaseQuantizer", "QuantizationStage", "build_quantizer", "TorchDefaultQuantizer", "PT2EQuantizer",
           "make_blocks_quantizable", "supported_backends", "quiet_torch_ao"]
