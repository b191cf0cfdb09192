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


def weighted_total(total: torch.Tensor, count: int, scale: float) -> torch.Tensor:
    """``scale * total / count`` (e.g. a summed loss averaged over ``count`` samples and weighted) as ONE scalar
    operator: ``total / count`` when ``scale`` is 1, else ``total * (scale / count)``. Folding the average into the
    weight saves a scalar operator forward and backward; it gives the same number as dividing and then multiplying
    when ``count`` is a power of 2 (and within a rounding step otherwise)."""
    return total / count if scale == 1.0 else total * (scale / count)


def weighted_mean(values: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale * values.mean()``: the mean itself when ``scale`` is 1, else one multiply of the sum
    (:func:`weighted_total`)."""
    return values.mean() if scale == 1.0 else weighted_total(values.sum(), values.numel(), scale)


def soft_label_kl(student_logits: torch.Tensor, target_probs: torch.Tensor, tau: float,
                  weight: float = 1.0) -> torch.Tensor:
    """``weight * tau**2 * KL(target || softmax(student/tau))`` averaged over the batch (the target is already a
    distribution, e.g. softened teacher probabilities or MEAL's ensemble average). ``weight * tau**2 / batch``
    scales the summed divergence in one multiply (:func:`weighted_total`); with ``weight * tau**2 == 1`` it is
    exactly ``F.kl_div(..., reduction='batchmean')``, and ``tau == 1`` divides nothing."""
    log_probs = F.log_softmax(student_logits if tau == 1.0 else student_logits / tau, dim=1)
    summed = F.kl_div(log_probs, target_probs, reduction="sum")
    return weighted_total(summed, student_logits.shape[0], weight * tau * tau)


def soft_labels(logits: torch.Tensor, tau: float) -> torch.Tensor:
    """``softmax(logits / tau)`` over dim 1 (no division when ``tau`` is 1)."""
    return F.softmax(logits if tau == 1.0 else logits / tau, dim=1)


def unit_samples(x: torch.Tensor) -> torch.Tensor:
    """Each sample (slice along dim 0) of a contiguous ``x`` divided by its L2 norm (at least 1e-12): bit for bit
    ``F.normalize(x.flatten(1), dim=1)`` in value and gradient, shaped as ``x``, without the flatten views and
    without materialising the norm expanded to ``x``'s shape (broadcasting divides by the same numbers)."""
    return x / torch.linalg.vector_norm(x, dim=tuple(range(1, x.dim())), keepdim=True).clamp_min(1e-12)


def square(x: torch.Tensor) -> torch.Tensor:
    """``x.pow(2)`` (or ``x.abs().pow(2)``) as ``x * x``: the same values (torch squares by ``x * x``) and the same
    gradient (``g*x + g*x`` is ``g*(2*x)``: both double one rounded product), with one operator forward and a
    multiply backward instead of ``pow``'s (and ``abs``'s)."""
    return x * x


class DistillLoss(nn.Module, metaclass=ABCMeta):
    """Base of the losses above: holds ``loss_weight`` and checks that both sides have the same shape.

    A subclass's :meth:`compute` returns the loss already multiplied by ``loss_weight``: a formula that ends in a
    scalar factor (an average, a temperature) folds the weight into it (:func:`weighted_total`,
    :func:`weighted_mean`), one host operator forward and backward instead of two or three; a weight of 1
    multiplies nothing."""

    #: Whether student and teacher tensors must have exactly the same shape.
    same_shape = True

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(number(Keyword("loss_weight"), loss_weight, least=0))

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if self.same_shape and student.shape != teacher.shape:
            raise GmlConfigError("loss", f"{type(self).__name__} needs student and teacher tensors of one shape, got "
                                 f"{tuple(student.shape)} and {tuple(teacher.shape)}: add a connector")
        return self.compute(student, teacher)

    @abstractmethod
    def compute(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """``loss_weight`` times the loss of same-batch student and teacher tensors."""


@MODELS.register_module()
class KLDivergenceLoss(DistillLoss):
    """Soft-label distillation on logits of shape (N, C) with temperature ``tau``."""

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.tau = float(number(Keyword("tau"), tau, above=0))

    def compute(self, student, teacher):
        return soft_label_kl(student, soft_labels(teacher, self.tau), self.tau, self.loss_weight)


@MODELS.register_module()
class FeatureMSELoss(DistillLoss):
    """FitNets' hint loss; with ``normalize=True`` both sides are L2-normalised per sample first."""

    def __init__(self, normalize: bool = False, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.normalize = bool(normalize)

    def compute(self, student, teacher):
        if self.normalize:
            student = unit_samples(student.flatten(1))
            teacher = unit_samples(teacher.flatten(1))
        if self.loss_weight == 1.0:
            return F.mse_loss(student, teacher)
        return weighted_total(F.mse_loss(student, teacher, reduction="sum"), student.numel(), self.loss_weight)


@MODELS.register_module()
class AttentionTransferLoss(DistillLoss):
    """Attention maps ``normalize(mean_c |f|**p)`` of (N, C, H, W) features; channel counts may differ. Maps of
    different spatial sizes are average-pooled to the smaller one. The loss is the mean squared difference of the
    student's and the teacher's normalised maps."""

    same_shape = False

    def __init__(self, p: float = 2.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.p = float(number(Keyword("p"), p, above=0))

    def attention(self, feat: torch.Tensor) -> torch.Tensor:
        """``sum_c |feat|**p``: the map ``mean_c |feat|**p`` times C, which the normalisation cancels (exactly when
        C is a power of 2, within rounding otherwise; only a map whose norm is below 1e-12 (all but zero) comes
        out differently, as ``normalize`` then no longer divides by the norm), so no division by C forward and
        backward."""
        return (square(feat) if self.p == 2.0 else feat.abs().pow(self.p)).sum(dim=1)

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
        return weighted_mean(square(unit_samples(s_map) - unit_samples(t_map)), self.loss_weight)


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
        """Pairwise distances over their mean over the distinct pairs (the positive distances; 1 when there is
        none). The positive distances' sum is the sum of all (the others are 0), so no boolean indexing and no
        ``any()``: nothing is read to the host (on a GPU, no synchronisation)."""
        dist = torch.cdist(x, x)
        positive = (dist > 0).sum()
        return dist / torch.where(positive > 0, dist.sum() / positive.clamp_min(1), 1.0)

    @staticmethod
    def _angles(x: torch.Tensor) -> torch.Tensor:
        diff = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
        return torch.bmm(diff, diff.transpose(1, 2)).flatten()

    def compute(self, student, teacher):
        s, t = student.flatten(1), teacher.flatten(1)
        if s.shape[0] != t.shape[0]:
            raise GmlConfigError("loss", f"RKDLoss needs one batch on both sides, got {s.shape[0]} and {t.shape[0]}")
        terms = []
        if self.distance_weight:
            with torch.no_grad():
                t_dist = self._distances(t)
            terms.append(self._weighted_huber(self._distances(s), t_dist, self.distance_weight))
        if self.angle_weight:
            with torch.no_grad():
                t_angle = self._angles(t)
            terms.append(self._weighted_huber(self._angles(s), t_angle, self.angle_weight))
        if not terms:
            return s.new_zeros(())
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def _weighted_huber(self, student: torch.Tensor, teacher: torch.Tensor, weight: float) -> torch.Tensor:
        """``loss_weight * weight * smooth_l1(student, teacher)`` (mean) in one multiply."""
        summed = F.smooth_l1_loss(student, teacher, reduction="sum")
        return weighted_total(summed, student.numel(), self.loss_weight * weight)


@MODELS.register_module()
class FactorTransferLoss(DistillLoss):
    """``mean_n || s_n/||s_n|| - t_n/||t_n|| ||_p`` over factors flattened per sample (Factor Transfer uses p=1)."""

    def __init__(self, p: int = 1, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.p = integer(Keyword("p"), p, least=1, most=2)

    def compute(self, student, teacher):
        diff = unit_samples(student.flatten(1)) - unit_samples(teacher.flatten(1))
        return weighted_mean(square(diff) if self.p == 2 else diff.abs().sum(dim=1), self.loss_weight)


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
        on = square(student - m) * ((student < m).to(student.dtype) * active)
        off = square(student + m) * ((student > -m).to(student.dtype) * (1 - active))
        return weighted_total((on + off).sum(), student.shape[0], 1e-3 * self.loss_weight)
