"""Quantization-ready forms of mmcls's residual blocks.

Eager-mode quantization swaps modules, not operators: a residual ``out += identity`` written with ``+`` cannot
become an int8 add. :func:`make_blocks_quantizable` therefore turns every mmcls residual block of a model into a
subclass whose ``forward`` routes the add through a ``FloatFunctional`` (observed during QAT, an int8 add after
conversion). The change is done in place by switching the instance's class to a subclass and adding parameter-free
children, so parameter names, and with them checkpoints, stay as they were.

Supported blocks (and so backbones): mmcls ``BasicBlock`` and ``Bottleneck`` (ResNet, ResNet_CIFAR, ResNetV1c/V1d,
and every backbone built from those blocks) and ``mobilenet_v2.InvertedResidual`` (MobileNetV2). Other blocks are
left as they are: a float ``+`` between int8 tensors then fails at the first int8 forward with PyTorch's own error.

Names for ``fuse_config`` inside the adapted blocks (mmcls's own child names):
``BasicBlock``: ``[['conv1', 'bn1', 'relu'], ['conv2', 'bn2']]`` (the ReLU after the add is fused into the add);
``Bottleneck``: ``[['conv1', 'bn1', 'relu'], ['conv2', 'bn2', 'relu2'], ['conv3', 'bn3']]`` (``relu2`` is added
here because mmcls shares one ReLU module between three places, and a module can be fused only once);
``downsample``: ``['0', '1']``; mmcv ``ConvModule`` (MobileNetV2): ``['conv', 'bn']``.

:func:`make_blocks_exportable` is the PT2E counterpart (:mod:`.pt2e`): a captured graph quantizes operators, so
the ``+`` needs no change, but the graph quantizer groups operators by the module that ran them, and mmcls calls
one ReLU module in several places; each place then gets its own parameter-free ReLU (``relu_out`` after the add,
``relu2`` after ``conv2`` of a Bottleneck).
"""
from __future__ import annotations

from typing import List

from mmcls.models.backbones.mobilenet_v2 import InvertedResidual
from mmcls.models.backbones.resnet import BasicBlock, Bottleneck
from torch import nn

from ._ao import nnq


class QuantizableBasicBlock(BasicBlock):
    """mmcls ``BasicBlock`` whose residual add (and the ReLU after it) is one ``FloatFunctional.add_relu``."""

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.drop_path(self.norm2(self.conv2(out)))
        return self.residual_add.add_relu(out, identity)


class QuantizableBottleneck(Bottleneck):
    """mmcls ``Bottleneck`` with the add as ``FloatFunctional.add_relu`` and its own ReLU after ``conv2``."""

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu2(self.norm2(self.conv2(out)))
        out = self.drop_path(self.norm3(self.conv3(out)))
        return self.residual_add.add_relu(out, identity)


class QuantizableInvertedResidual(InvertedResidual):
    """mmcls MobileNetV2 ``InvertedResidual`` with the residual add as ``FloatFunctional.add``."""

    def forward(self, x):
        if self.use_res_connect:
            return self.residual_add.add(x, self.conv(x))
        return self.conv(x)


#: mmcls block class -> its quantization-ready subclass. Exact classes only: a user's subclass of a block may have
#: its own forward, which the swap would silently drop.
QUANTIZABLE_BLOCKS = {
    BasicBlock: QuantizableBasicBlock,
    Bottleneck: QuantizableBottleneck,
    InvertedResidual: QuantizableInvertedResidual,
}


class ExportableBasicBlock(BasicBlock):
    """mmcls ``BasicBlock`` with its own ReLU (``relu_out``) after the residual add."""

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.drop_path(self.norm2(self.conv2(out)))
        return self.relu_out(out + identity)


class ExportableBottleneck(Bottleneck):
    """mmcls ``Bottleneck`` with its own ReLUs after ``conv2`` (``relu2``) and after the add (``relu_out``)."""

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu2(self.norm2(self.conv2(out)))
        out = self.drop_path(self.norm3(self.conv3(out)))
        return self.relu_out(out + identity)


#: mmcls block class -> its export-ready subclass (exact classes only, as above) and the ReLUs it adds.
EXPORTABLE_BLOCKS = {
    BasicBlock: (ExportableBasicBlock, ("relu_out", )),
    Bottleneck: (ExportableBottleneck, ("relu2", "relu_out")),
}


def make_blocks_exportable(model: nn.Module) -> List[str]:
    """Give every mmcls residual block of ``model`` one ReLU module per call site, in place (parameter names
    unchanged); returns the adapted blocks' names. Gradient checkpointing is dropped, as in
    :func:`make_blocks_quantizable`."""
    adapted = []
    for name, module in model.named_modules():
        target = EXPORTABLE_BLOCKS.get(type(module))
        if target is None:
            continue
        module.__class__, relus = target
        for relu in relus:
            module.add_module(relu, nn.ReLU(inplace=True))
        adapted.append(name)
    return adapted


def make_blocks_quantizable(model: nn.Module) -> List[str]:
    """Adapt every supported mmcls residual block of ``model`` in place; returns the adapted blocks' names.

    Gradient checkpointing (``with_cp=True``) is dropped by the adapted forwards: QAT modules keep observer state
    that re-running a forward segment would update twice.
    """
    adapted = []
    for name, module in model.named_modules():
        target = QUANTIZABLE_BLOCKS.get(type(module))
        if target is None:
            continue
        module.__class__ = target
        module.residual_add = nnq.FloatFunctional()
        if target is QuantizableBottleneck:
            module.relu2 = nn.ReLU(inplace=True)
        adapted.append(name)
    return adapted
