"""gml.QuantizationAwareTraining: train a model with fake-quantization, then convert it to int8 for CPU inference.

    algorithm = dict(type='gml.QuantizationAwareTraining', model=<mm model config>,
                     quantizer=dict(type='gml.TorchDefaultQuantizer', backend='fbgemm', input_layer='backbone',
                                    output_layer='neck', fuse_config={...}),
                     converted=False)

Lifecycle (:class:`~gml.models.quantization.QuantizationStage`):

1. Built, the wrapped model is already prepared by the quantizer (fused, fake-quantized): tools/train.py trains it
   like any model. QAT is normally a fine-tuning: ``--load-from`` a float checkpoint (of the bare model or of an
   algorithm wrapping it) loads into the prepared model; the quantization state (observer ranges, scales) then
   starts fresh. Checkpoints written during training hold the fake-quant model (float weights + quantization state).
   In eval mode the range observers are frozen, so evaluation does not move the quantization parameters.
2. :meth:`QuantizationAwareTraining.convert` turns it into the int8 model (tools/quantize.py does this and saves it).
   ``converted=True`` builds the int8 structure directly, so that an int8 checkpoint written by tools/quantize.py
   loads (tools/test.py evaluates it with the config tools/quantize.py writes beside it). An int8 model runs on CPU
   only and cannot be trained.
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Mapping, Union

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...errors import GmlConfigError
from ...validation import boolean
from ..quantization import BaseQuantizer, QuantizationStage, build_quantizer
from ..registry import ALGORITHMS
from .base import BaseAlgorithm

#: What a BatchNorm scale (gamma) of exactly 0 inside a fused conv+BN becomes for fake-quant training (see
#: :meth:`QuantizationAwareTraining.revive_zero_bn_scales`).
ZERO_BN_SCALE = 1e-4


@ALGORITHMS.register_module()
class QuantizationAwareTraining(BaseAlgorithm):
    """See the module docs. ``quantizer`` is a config dict (``algorithm.quantizer``) or a built quantizer."""

    def __init__(self, model: Union[Mapping, nn.Module], quantizer: Union[Mapping, BaseQuantizer],
                 converted: bool = False, init_cfg=None):
        boolean("algorithm.converted", converted)
        self.stage = QuantizationStage.FAKE_QUANT
        super().__init__(model, init_cfg)
        self.quantizer = build_quantizer(quantizer)
        if converted and not self.quantizer.int8_from_state_dict:
            raise GmlConfigError("algorithm.converted", f"{type(self.quantizer).__name__}'s int8 model cannot be "
                                                        f"rebuilt from a checkpoint (docs/quantization.md)")
        # Tensors are matched by identity: ``float_state`` keeps every float tensor alive until the comparison is
        # done, so no id can be reused by a tensor the quantizer creates.
        float_state = self.model.state_dict(keep_vars=True)
        float_names = {id(t): name for name, t in float_state.items()}
        self.model = self.quantizer.prepare(self.model)
        prepared = self.model.state_dict(keep_vars=True)
        #: prepared name -> float name, for tensors the quantizer kept but renamed (e.g. bn1.* -> conv1.bn.*).
        self._float_name_of: Dict[str, str] = {name: float_names[id(t)] for name, t in prepared.items()
                                               if id(t) in float_names and float_names[id(t)] != name}
        #: names of the tensors the quantizer added (observer ranges, scales, zero points).
        self._quantization_names: List[str] = [name for name, t in prepared.items() if id(t) not in float_names]
        del float_state
        self._register_load_state_dict_pre_hook(self._accept_float_checkpoint)
        if converted:
            self.convert()

    @property
    def quantization_state(self) -> List[str]:
        """Names (in ``self.model``'s state dict) of the tensors the quantizer added: observer ranges, scales."""
        return list(self._quantization_names)

    # --- stages --------------------------------------------------------------------------------------------------
    def convert(self) -> "QuantizationAwareTraining":
        """Turn the fake-quant model into the int8 model, in place (eval mode, CPU); returns self."""
        if self.stage is QuantizationStage.INT8:
            return self
        self.cpu()
        self.model = self.quantizer.convert(self.model)
        self.stage = QuantizationStage.INT8
        self.eval()
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        if self.stage is QuantizationStage.FAKE_QUANT:
            self.quantizer.set_observing(self.model, mode)
        return self

    def init_weights(self) -> None:
        """Initialise the float weights of a fake-quant model as the wrapped model would; an int8 model's weights
        only ever come from a checkpoint (mm initialisers cannot write packed int8 weights), so nothing is done."""
        if self.stage is QuantizationStage.FAKE_QUANT:
            super().init_weights()
            self.revive_zero_bn_scales()

    def _fused_bn_scales(self) -> Dict[str, torch.Tensor]:
        """The BatchNorm scales (gamma) inside fused conv+BN training modules, by state-dict name in ``self.model``."""
        scales = {}
        for name, module in self.model.named_modules():
            bn = getattr(module, "bn", None)
            if hasattr(module, "weight_fake_quant") and isinstance(bn, _BatchNorm) and bn.affine:
                scales[f"{name}.bn.weight"] = bn.weight
        return scales

    def revive_zero_bn_scales(self, state_dict=None, prefix: str = "") -> int:
        """Set the BatchNorm scales (gamma) of exactly 0 inside fused conv+BN modules to :data:`ZERO_BN_SCALE`, in
        the model (``state_dict=None``) or in a state dict about to load into it (this algorithm's keys under
        ``prefix``); return how many there were (a warning names them). Runs at weight init and at every load of
        a checkpoint into the fake-quant model.

        To fake-quantize the BN-folded weight, PyTorch's fused conv+BN training modules scale the weight by
        gamma / std and divide the convolution by it again: a gamma of 0 gives 0 / 0, a NaN loss from the first
        iteration, then a crash in the observers. Float checkpoints do have such scales: a freshly initialised
        mmcls ResNet (``zero_init_residual``, the last BN of every residual block) and pruned channels. At 1e-4
        the channel's output stays its BN shift plus 1e-4 of its normalised value, and its gamma gets gradients
        again (it learns as the float model's would). Nothing happens to an int8 model."""
        if self.stage is not QuantizationStage.FAKE_QUANT:
            return 0
        revived = []
        for name, scale in self._fused_bn_scales().items():
            if state_dict is None:
                zero = scale == 0
                if bool(zero.any()):
                    with torch.no_grad():
                        scale[zero] = ZERO_BN_SCALE
                    revived.append((name, int(zero.sum())))
                continue
            key = f"{prefix}model.{name}"
            value = state_dict.get(key)
            if isinstance(value, torch.Tensor) and bool((value == 0).any()):
                state_dict[key] = torch.where(value == 0, torch.full_like(value, ZERO_BN_SCALE), value)
                revived.append((name, int((value == 0).sum())))
        if revived:
            warnings.warn(f"{sum(n for _, n in revived)} BatchNorm scales of exactly 0 in {len(revived)} fused "
                          f"conv+BN modules (e.g. model.{revived[0][0]}) set to {ZERO_BN_SCALE} for fake-quant "
                          f"training (0 makes the fused module's loss NaN)", UserWarning, stacklevel=2)
        return sum(n for _, n in revived)

    def runner_hooks(self) -> list:
        """(hook, priority) pairs gml's training loop registers: in distributed training, every process gets rank
        0's quantization state after each iteration: after the optimizer hook (ABOVE_NORMAL, 40: the backward pass
        still needs the scales its forward used), before the checkpoint (NORMAL, 50) and evaluation hooks."""
        from ..hooks.quantization_sync import QuantizationStateSyncHook

        return [(QuantizationStateSyncHook(), 45)]

    # --- the runner protocol -------------------------------------------------------------------------------------
    def forward_train(self, img, **kwargs):
        if self.stage is QuantizationStage.INT8:
            raise RuntimeError("an int8 model cannot be trained: train the fake-quant model (converted=False) and "
                               "convert it afterwards (tools/quantize.py)")
        return super().forward_train(img, **kwargs)

    def simple_test(self, img, img_metas=None, **kwargs):
        if self.stage is QuantizationStage.INT8:
            self.quantizer.activate()
        return super().simple_test(img, img_metas, **kwargs)

    # --- checkpoints -----------------------------------------------------------------------------------------------
    def _accept_float_checkpoint(self, state_dict, prefix, *args) -> None:
        """Let a float checkpoint load into the fake-quant model: tensors the quantizer renamed are looked up under
        their float names, and when the checkpoint holds no quantization state at all, that state keeps its current
        (initial) values instead of being reported missing; BatchNorm scales of exactly 0 in fused conv+BN modules
        are revived (:meth:`revive_zero_bn_scales`). Runs after BaseAlgorithm's bare-model key hook."""
        if self.stage is not QuantizationStage.FAKE_QUANT:
            return
        model_prefix = f"{prefix}model."
        for name, float_name in self._float_name_of.items():
            source, target = model_prefix + float_name, model_prefix + name
            if source in state_dict and target not in state_dict:
                state_dict[target] = state_dict.pop(source)
        self.revive_zero_bn_scales(state_dict, prefix)
        if not any(model_prefix + name in state_dict for name in self._quantization_names):
            current = self.model.state_dict()
            for name in self._quantization_names:
                state_dict[model_prefix + name] = current[name]


def is_int8(model: nn.Module) -> bool:
    """Whether ``model`` is a converted (int8) quantization algorithm."""
    return isinstance(model, QuantizationAwareTraining) and model.stage is QuantizationStage.INT8


__all__ = ["QuantizationAwareTraining", "is_int8"]
