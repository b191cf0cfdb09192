"""The quantizer interface: how a float model becomes a fake-quant model (trained) and then an int8 model.

A quantizer is what ``algorithm.quantizer`` builds (``type`` in :data:`~gml.models.registry.QUANTIZERS`). The
algorithm (:class:`~gml.models.algorithms.qat.QuantizationAwareTraining`) owns the model and the training loop; the
quantizer owns the model's transformation and nothing else, through four narrow hooks:

- :meth:`BaseQuantizer.prepare`: float model (train mode) -> model with fake-quantization, trainable;
- :meth:`BaseQuantizer.set_observing`: start/stop the observers that track activation ranges (the algorithm stops
  them in eval mode, so evaluating a model does not move its quantization parameters);
- :meth:`BaseQuantizer.convert`: fake-quant model -> int8 model for CPU inference;
- :meth:`BaseQuantizer.activate`: make the quantizer's kernel library (``torch.backends.quantized.engine``) the
  active one, before int8 weights are packed or run.

``prepare`` and ``convert`` may transform in place or return a new module (a PT2E quantizer returns a captured graph
module); the caller always continues with the returned module. Parameters and buffers that survive ``prepare`` as
the same tensor objects keep their float checkpoint names mapped by the algorithm, so a float checkpoint loads into a
prepared model whatever the quantizer renames.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import Any, Mapping

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid
from ...registry import check_keywords
from ..registry import QUANTIZERS


class QuantizationStage(enum.Enum):
    """Where a quantized algorithm's model stands."""

    FAKE_QUANT = "fake_quant"  # float weights and activations, rounded as int8 would be: trainable
    INT8 = "int8"  # converted: int8 weights and kernels, CPU inference only


class BaseQuantizer(ABC):
    """See the module docs. ``backend`` names the int8 kernel library the converted model runs on."""

    backend: str
    #: Whether an int8 model can be rebuilt as ``convert(prepare(float model))`` and then loaded from an int8 state
    #: dict (``algorithm.converted=True``); False where the int8 form keeps values outside its state dict.
    int8_from_state_dict: bool = True

    @abstractmethod
    def prepare(self, model: nn.Module) -> nn.Module:
        """Insert fake-quantization (and fuse what the backend fuses) into the float ``model``, in train mode."""

    @abstractmethod
    def set_observing(self, model: nn.Module, enabled: bool) -> None:
        """Enable or freeze the range observers of a prepared ``model``."""

    @abstractmethod
    def convert(self, model: nn.Module) -> nn.Module:
        """Turn a prepared ``model`` into its int8 form (eval mode, CPU)."""

    def activate(self) -> None:
        """Make :attr:`backend` the process's quantized engine (packing and running int8 weights use it)."""
        if torch.backends.quantized.engine != self.backend:
            torch.backends.quantized.engine = self.backend


def build_quantizer(cfg: Any, path: str = "algorithm.quantizer") -> BaseQuantizer:
    """Build a quantizer from ``dict(type=..., **kwargs)``; an unknown type or key is a GmlConfigError at ``path``."""
    if isinstance(cfg, BaseQuantizer):
        return cfg
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise invalid(path, cfg, "a dict with a 'type' key")
    kwargs = dict(cfg)
    type_name = kwargs.pop("type")
    cls = QUANTIZERS.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        known = ", ".join(f"gml.{name}" for name in sorted(QUANTIZERS.module_dict))
        raise GmlConfigError(f"{path}.type", f"unknown quantizer {type_name!r}; known: {known}")
    check_keywords(cls, kwargs, {"config_path"}, path)
    return cls(**kwargs, config_path=path)
