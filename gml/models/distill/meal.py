"""MEAL V2 (Shen & Savvides, 2020): distil an ensemble of teachers through its averaged soft labels only.

The student's target is the mean of the teachers' ``softmax(logits / tau)``; its loss is the soft-label KL to that
target (no hard-label loss). With ``discriminator=True`` (or a dict of its options) a small MLP on logits learns to
tell the teachers' (averaged) logits from the student's, and the student learns to make them indistinguishable: the
student's logits reach the discriminator through a gradient-reversal layer, so ONE backward pass trains the
discriminator to separate and the student to fool it, with the runner's single optimizer (the discriminator's
parameters are part of the algorithm and therefore of the optimizer and the checkpoint).
"""
from __future__ import annotations

from typing import Dict, List, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...validation import integer, invalid, number
from .config import check_keys
from .losses import soft_label_kl, soft_labels


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class LogitDiscriminator(nn.Module):
    """MLP ``num_classes -> hidden -> hidden -> 1`` with LeakyReLU (1x1 convs on logit vectors); output: the
    probability logit that the input came from the teachers."""

    def __init__(self, num_classes: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(num_classes, hidden), nn.LeakyReLU(0.2, inplace=True),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, 1))

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.net(logits).squeeze(1)


class MealV2Loss(nn.Module):
    """``loss_meal_kd`` (and ``loss_meal_adv`` with a discriminator) of student logits against teachers' logits.

    Config (``algorithm.meal``): ``tau`` (1.0), ``loss_weight`` (1.0), ``discriminator`` (False, True or
    ``dict(hidden=128, loss_weight=1.0)``). ``num_classes`` comes from the student's head.
    """

    def __init__(self, num_classes: int, cfg: Union[dict, None], path: str = "algorithm.meal"):
        super().__init__()
        cfg = check_keys(cfg or {}, path, required=(), optional=("tau", "loss_weight", "discriminator"))
        self.tau = float(number(f"{path}.tau", cfg.get("tau", 1.0), above=0))
        self.loss_weight = float(number(f"{path}.loss_weight", cfg.get("loss_weight", 1.0), least=0))
        disc = cfg.get("discriminator", False)
        if disc is True:
            disc = {}
        if disc is False or disc is None:
            self.discriminator = None
            self.adv_weight = 0.0
        elif isinstance(disc, dict):
            disc = check_keys(disc, f"{path}.discriminator", required=(), optional=("hidden", "loss_weight"))
            hidden = integer(f"{path}.discriminator.hidden", disc.get("hidden", 128), least=1)
            self.discriminator = LogitDiscriminator(num_classes, hidden)
            self.adv_weight = float(number(f"{path}.discriminator.loss_weight", disc.get("loss_weight", 1.0), least=0))
        else:
            raise invalid(f"{path}.discriminator", disc, "true, false or a dict")

    def ensemble_target(self, teacher_logits: List[torch.Tensor]) -> torch.Tensor:
        """The mean of the teachers' softened probabilities."""
        return torch.stack([soft_labels(t, self.tau) for t in teacher_logits]).mean(dim=0)

    def forward(self, student_logits: torch.Tensor, teacher_logits: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        losses = {"loss_meal_kd": soft_label_kl(student_logits, self.ensemble_target(teacher_logits), self.tau,
                                                self.loss_weight)}
        if self.discriminator is not None:
            real = self.discriminator(torch.stack(teacher_logits).mean(dim=0))
            fake = self.discriminator(_ReverseGradient.apply(student_logits))
            adv = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                   + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
            losses["loss_meal_adv"] = self.adv_weight * adv
        return losses
