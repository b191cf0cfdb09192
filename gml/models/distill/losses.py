"""Distillation losses: ``loss(student, teacher) -> scalar tensor``, each scaled by ``loss_weight``.

Registered in gml's MODELS (``type='gml.<Name>'`` in a distillation head's ``loss``). The teacher argument never
needs a gradient: the distiller computes it under ``torch.no_grad()``.

- :class:`KLDivergenceLoss` - soft labels (Hinton et al., 2015): ``tau**2 * KL(softmax(t/tau) || softmax(s/tau))``.
- :class:`FeatureMSELoss` - FitNets' hint loss: mean squared error between (connected) feature maps.
- :class:`AttentionTransferLoss` - Zagoruyko & Komodakis (2017): distance of normalised spatial attention maps.
- :class:`RKDLoss` - relational KD (Park et al., 2019): distance and angle relations between the batch's samples.
- :class:`FactorTransferLoss` - Factor Transfer (Kim et al., 2018): p-norm between L2-normalised factors.
- :class:`ActivationBoundaryLoss` - Heo et al. (2019): squared hinge that puts the student's responses on the
  teacher's side of each neuron's activation boundary (active iff the teacher's response is > 0), with a margin.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import GmlConfigError
from ...validation import Keyword, integer, number
from ..registry import MODELS


def soft_label_kl(student_logits: torch.Tensor, target_probs: torch.Tensor, tau: float) -> torch.Tensor:
    """``tau**2 * KL(target || softmax(student/tau))`` averaged over the batch (the target is already a
    distribution, e.g. softened teacher probabilities or MEAL's ensemble average)."""
    log_probs = F.log_softmax(student_logits / tau, dim=1)
    loss = F.kl_div(log_probs, target_probs, reduction="batchmean")
    # one multiply by tau**2 (the same as two by tau when tau is a power of 2, e.g. 4; within a rounding step
    # otherwise); dividing and multiplying by 1 would change nothing
    return loss if tau == 1.0 else loss * (tau * tau)


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """``F.normalize(x, dim=1)`` (L2, eps 1e-12), bit for bit in value and gradient, without materialising the
    norm expanded to ``x``'s shape (broadcasting divides by the same numbers)."""
    return x / torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp_min(1e-12)


def mean_square(x: torch.Tensor) -> torch.Tensor:
    """``x.pow(2).mean()`` as ``(x * x).mean()``: the same values (torch squares by ``x * x``) and the same
    gradient (``g*x + g*x`` is ``g*(2*x)``: both double one rounded product), with one operator forward and a
    multiply instead of ``pow``'s backward."""
    return (x * x).mean()


class DistillLoss(nn.Module, metaclass=ABCMeta):
    """Base of the losses above: holds ``loss_weight`` and checks that both sides have the same shape."""

    #: Whether student and teacher tensors must have exactly the same shape.
    same_shape = True

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(number(Keyword("loss_weight"), loss_weight, least=0))

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if self.same_shape and student.shape != teacher.shape:
            raise GmlConfigError("loss", f"{type(self).__name__} needs student and teacher tensors of one shape, got "
                                 f"{tuple(student.shape)} and {tuple(teacher.shape)}: add a connector")
        loss = self.compute(student, teacher)
        # a weight of 1 leaves the loss and its gradient as they are: no multiply forward and backward
        return loss if self.loss_weight == 1.0 else self.loss_weight * loss

    @abstractmethod
    def compute(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """The unweighted loss of same-batch student and teacher tensors."""


@MODELS.register_module()
class KLDivergenceLoss(DistillLoss):
    """Soft-label distillation on logits of shape (N, C) with temperature ``tau``."""

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.tau = float(number(Keyword("tau"), tau, above=0))

    def compute(self, student, teacher):
        return soft_label_kl(student, F.softmax(teacher / self.tau, dim=1), self.tau)


@MODELS.register_module()
class FeatureMSELoss(DistillLoss):
    """FitNets' hint loss; with ``normalize=True`` both sides are L2-normalised per sample first."""

    def __init__(self, normalize: bool = False, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.normalize = bool(normalize)

    def compute(self, student, teacher):
        if self.normalize:
            student = unit_rows(student.flatten(1))
            teacher = unit_rows(teacher.flatten(1))
        return F.mse_loss(student, teacher)


@MODELS.register_module()
class AttentionTransferLoss(DistillLoss):
    """Attention maps ``normalize(mean_c |f|**p)`` of (N, C, H, W) features; channel counts may differ. Maps of
    different spatial sizes are average-pooled to the smaller one."""

    same_shape = False

    def __init__(self, p: float = 2.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.p = float(number(Keyword("p"), p, above=0))

    def attention(self, feat: torch.Tensor) -> torch.Tensor:
        """``mean_c |feat|**p``; for p=2 as ``feat * feat`` (the same values and gradient as ``abs`` + ``pow``,
        with 1 operator instead of 2 forward and a multiply instead of 2 backward)."""
        powered = feat * feat if self.p == 2.0 else feat.abs().pow(self.p)
        return powered.mean(dim=1)

    def compute(self, student, teacher):
        if student.dim() != 4 or teacher.dim() != 4 or student.shape[0] != teacher.shape[0]:
            raise GmlConfigError("loss", f"AttentionTransferLoss needs (N, C, H, W) feature maps of one batch, got "
                                 f"{tuple(student.shape)} and {tuple(teacher.shape)}")
        s_map, t_map = self.attention(student), self.attention(teacher)
        size = min(s_map.shape[-2:], t_map.shape[-2:])
        if s_map.shape[-2:] != size:
            s_map = F.adaptive_avg_pool2d(s_map.unsqueeze(1), size).squeeze(1)
        if t_map.shape[-2:] != size:
            t_map = F.adaptive_avg_pool2d(t_map.unsqueeze(1), size).squeeze(1)
        return mean_square(unit_rows(s_map.flatten(1)) - unit_rows(t_map.flatten(1)))


@MODELS.register_module()
class RKDLoss(DistillLoss):
    """Relational KD: Huber distance between the batch's normalised pairwise distances (``distance_weight``) and
    between the angles of sample triplets (``angle_weight``). Features are flattened per sample, so the student
    and teacher dimensions may differ; needs a batch of at least 3."""

    same_shape = False

    def __init__(self, distance_weight: float = 25.0, angle_weight: float = 50.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.distance_weight = float(number(Keyword("distance_weight"), distance_weight, least=0))
        self.angle_weight = float(number(Keyword("angle_weight"), angle_weight, least=0))

    @staticmethod
    def _distances(x: torch.Tensor) -> torch.Tensor:
        dist = torch.cdist(x, x)
        mean = dist[dist > 0].mean() if (dist > 0).any() else dist.new_tensor(1.0)
        return dist / mean

    @staticmethod
    def _angles(x: torch.Tensor) -> torch.Tensor:
        diff = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
        return torch.bmm(diff, diff.transpose(1, 2)).flatten()

    def compute(self, student, teacher):
        s, t = student.flatten(1), teacher.flatten(1)
        if s.shape[0] != t.shape[0]:
            raise GmlConfigError("loss", f"RKDLoss needs one batch on both sides, got {s.shape[0]} and {t.shape[0]}")
        loss = s.new_zeros(())
        if self.distance_weight:
            with torch.no_grad():
                t_dist = self._distances(t)
            loss = loss + self.distance_weight * F.smooth_l1_loss(self._distances(s), t_dist)
        if self.angle_weight:
            with torch.no_grad():
                t_angle = self._angles(t)
            loss = loss + self.angle_weight * F.smooth_l1_loss(self._angles(s), t_angle)
        return loss


@MODELS.register_module()
class FactorTransferLoss(DistillLoss):
    """``mean_n || s_n/||s_n|| - t_n/||t_n|| ||_p`` over factors flattened per sample (Factor Transfer uses p=1)."""

    def __init__(self, p: int = 1, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.p = integer(Keyword("p"), p, least=1, most=2)

    def compute(self, student, teacher):
        diff = unit_rows(student.flatten(1)) - unit_rows(teacher.flatten(1))
        return mean_square(diff) if self.p == 2 else diff.abs().sum(dim=1).mean()


@MODELS.register_module()
class ActivationBoundaryLoss(DistillLoss):
    """Squared hinge with ``margin`` on the student's (connected, pre-activation) responses: where the teacher's
    response is > 0 the student's must exceed ``+margin``, elsewhere stay below ``-margin``. Works on the teacher's
    post-ReLU outputs (only their sign is used). Averaged over the batch, summed over the rest, scaled by 1e-3."""

    def __init__(self, margin: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.margin = float(number(Keyword("margin"), margin, least=0))

    def compute(self, student, teacher):
        active = (teacher > 0).to(student.dtype)
        m = self.margin
        on = (student - m).pow(2) * ((student < m).to(student.dtype) * active)
        off = (student + m).pow(2) * ((student > -m).to(student.dtype) * (1 - active))
        return (on + off).sum() / student.shape[0] * 1e-3
