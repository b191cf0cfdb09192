"""Connectors: small trainable modules that map a recorded feature before a distillation loss compares it.

A head's ``stu_connector`` maps the student's feature, ``tea_connector`` the teacher's. Registered in gml's MODELS:

- :class:`ConvBNConnector` - 1x1 convolution + BatchNorm (FitNets' regressor), e.g. student 64 -> teacher 320
  channels; ``stride`` > 1 also matches a larger student map to a smaller teacher map.
- :class:`LinearConnector` - a linear layer on (N, C) vectors (a feature map is flattened first).
- :class:`Paraphraser` / :class:`Translator` - Factor Transfer (Kim et al., 2018): the paraphraser (teacher side)
  is an auto-encoder whose encoder extracts the teacher's "factor"; the translator (student side) maps the
  student's feature to a factor of the same shape.

A connector whose config has ``pretrain_criterion`` (a loss config) is **pretrained** before the student's training:
:meth:`PretrainableConnector.forward_pretrain` returns that loss for a batch of its input feature (the paraphraser:
reconstruction of the teacher's feature from its factor). Such a connector is frozen (no gradient, eval mode) while
the student trains; the algorithm's pretraining is the only thing that updates it (see ``algorithms/distill.py``).
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Optional

import torch
from torch import nn

from ...validation import Keyword, integer
from ..registry import MODELS


def _count(keyword: str, value) -> int:
    """A channel count or stride keyword: an integer >= 1."""
    return integer(Keyword(keyword), value, least=1)


@MODELS.register_module()
class ConvBNConnector(nn.Module):
    """``BN(conv1x1(x))`` (optionally followed by ReLU): (N, in_channels, H, W) -> (N, out_channels, H/s, W/s)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, relu: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(_count("in_channels", in_channels), _count("out_channels", out_channels), 1,
                              stride=_count("stride", stride), bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.relu is None else self.relu(x)


@MODELS.register_module()
class LinearConnector(nn.Module):
    """``Linear(flatten(x))``: (N, in_features, ...) -> (N, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(_count("in_features", in_features), _count("out_features", out_features), bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def _conv_bn_act(in_channels: int, out_channels: int, slope: float, transposed: bool = False) -> nn.Sequential:
    conv_type = nn.ConvTranspose2d if transposed else nn.Conv2d
    return nn.Sequential(conv_type(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.LeakyReLU(slope, inplace=True))


def _factor_encoder(in_channels: int, factor_channels: int, slope: float) -> nn.Sequential:
    return nn.Sequential(_conv_bn_act(in_channels, in_channels, slope),
                         _conv_bn_act(in_channels, factor_channels, slope),
                         _conv_bn_act(factor_channels, factor_channels, slope))


class PretrainableConnector(nn.Module, metaclass=ABCMeta):
    """A connector that can be pretrained on its own input before the student's training.

    ``pretrain_criterion``: a loss config (e.g. ``dict(type='gml.FeatureMSELoss')``) built by the distiller into
    ``self.pretrain_loss``; None means no pretraining (the connector then trains with the student).
    """

    def __init__(self, pretrain_criterion: Optional[dict] = None):
        super().__init__()
        self.pretrain_criterion = pretrain_criterion
        self.pretrain_loss: Optional[nn.Module] = None

    @property
    def needs_pretraining(self) -> bool:
        return self.pretrain_criterion is not None

    def forward_pretrain(self, x: torch.Tensor) -> torch.Tensor:
        """The pretraining loss for a batch of input features ``x``."""
        if self.pretrain_loss is None:
            raise RuntimeError(f"{type(self).__name__} has no pretrain_criterion")
        return self.pretrain_loss(self.reconstruct(x), x)

    @abstractmethod
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """What ``pretrain_loss`` compares with the input ``x``."""


@MODELS.register_module()
class Paraphraser(PretrainableConnector):
    """Factor Transfer's paraphraser: encoder (3 conv-BN-LeakyReLU, in -> factor channels) and a mirrored
    transposed-conv decoder. ``forward`` returns the factor; ``reconstruct`` decodes it back to the input."""

    def __init__(self, in_channels: int, factor_channels: int, negative_slope: float = 0.1,
                 pretrain_criterion: Optional[dict] = None):
        super().__init__(pretrain_criterion)
        in_channels = _count("in_channels", in_channels)
        factor_channels = _count("factor_channels", factor_channels)
        self.encoder = _factor_encoder(in_channels, factor_channels, negative_slope)
        self.decoder = nn.Sequential(_conv_bn_act(factor_channels, factor_channels, negative_slope, True),
                                     _conv_bn_act(factor_channels, in_channels, negative_slope, True),
                                     nn.ConvTranspose2d(in_channels, in_channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@MODELS.register_module()
class Translator(nn.Module):
    """Factor Transfer's translator: 3 conv-BN-LeakyReLU layers, student channels -> factor channels."""

    def __init__(self, in_channels: int, factor_channels: int, negative_slope: float = 0.1):
        super().__init__()
        self.encoder = _factor_encoder(_count("in_channels", in_channels),
                                       _count("factor_channels", factor_channels), negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)
