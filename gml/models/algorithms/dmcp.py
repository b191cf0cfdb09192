"""``DMCP``: Differentiable Markov Channel Pruning (Guo et al., CVPR 2020) of a plain mmcls classifier.

Config (see docs/pruning.md)::

    algorithm = dict(
        type='gml.DMCP',
        model=dict(type='mmcls.ImageClassifier', backbone=dict(type='mmcls.ResNet', ...), neck=..., head=...),
        algorithm_cfg=dict(arch_start_train=..., arch_train_freq=1, arch_sample_num=5, flops_tolerance=0.05),
        mutator=dict(type='gml.DMCPMutator', ...),             # see gml.models.mutators.dmcp
        distill_iter=...,                                      # in-place distillation from this iteration on
        floss_cfg=dict(target_flops=..., floss_type='log_l1', flop_loss_weight=0.1),   # MFLOPs; or on the head:
        # model=dict(..., head=dict(..., floss_cfg=dict(...))) -- taken off the head before it is built
        retraining=False, channel_cfg=None, grad_clip=None)

Supernet training (``retraining=False``), each iteration (``train_step``):

1. weight step: every subnet of the mutator's plan (``arch_sample_type``) runs on the batch; ``max`` learns from
   the labels, the others from the labels before ``distill_iter`` and from the max subnet's softmax after it
   (in-place distillation); gradients accumulate and the weight optimizer steps once;
2. architecture step, from iteration ``arch_start_train`` on, every ``arch_train_freq`` iterations: the max-width
   network runs with every BatchNorm output scaled by its bucket's keep probability; its task loss plus the FLOPs
   loss of the expected FLOPs updates the alphas alone (Adam at ``arch_learning_rate``, constant: the LR schedule
   drives the weight optimizer only). BatchNorm statistics are left as the weight step left them.

Distributed (tools/dist_train.sh, tools/slurm_train.sh): every process runs both steps on its own batch and the
gradients are averaged over the processes (:func:`~gml.models.dist.average_gradients`) before each optimizer
step, the weights' after all the subnets' backward passes and the alphas' after the architecture pass, so weights
and architecture parameters stay identical on every process; the structure export runs on rank 0 alone.

The runner holds two optimizers (``runner.optimizer = dict(weight=<cfg.optimizer on the model>,
architecture=Adam(alphas))``), both in every checkpoint; the iteration count is a buffer of the algorithm, so
``--resume-from`` continues exactly. At the end of training :class:`~gml.models.hooks.DMCPStructureHook` writes
the sampled structures (``work_dir/model_sample``).

Retraining (``retraining=True, channel_cfg=<structure file>``): the model is the plain pruned network
(``gml.PrunedBackbone``), freshly initialised and trained like the plain model. ``retraining=True`` needs
``channel_cfg`` (a GmlConfigError otherwise): a structure file of ``work_dir/model_sample`` or of
tools/search_subnet.py.

Testing a structure inside the supernet (``retraining=False, channel_cfg=<structure file>``, e.g.
``tools/test.py CONFIG SUPERNET_CKPT --cfg-options algorithm.channel_cfg=best_subnet.yaml``): the structure is the
active subnet outside training, instead of the max width (tools/test.py recalibrates its BatchNorm statistics
first, see gml.models.subnet_test). Training such a config is refused: train the structure with
``retraining=True``.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import GmlConfigError
from ...validation import boolean, integer, invalid, number, one_of
from ..builder import build_model, build_mutator
from ..dist import average_gradients
from ..mutators.dmcp import DMCPMutator, read_structure
from ..ops import frozen_running_stats, gradients_into_slices
from ..pruning.flops import FlopsLossType, flops_loss
from ..pruning.sampling import SampleType
from ..pruning.supernet import build_slimmable_classifier, pruned_classifier_cfg
from ..registry import ALGORITHMS
from .base import BaseAlgorithm, host_floats

_ALGORITHM_CFG = dict(arch_start_train=0, arch_train_freq=1, arch_sample_num=5, flops_tolerance=0.05)
_FLOSS_CFG = dict(target_flops=None, floss_type="log_l1", flop_loss_weight=0.1)
_FLOSS_PATH, _HEAD_FLOSS_PATH = "algorithm.floss_cfg", "algorithm.model.head.floss_cfg"


def take_head_floss_cfg(model: Mapping, floss_cfg: Optional[Mapping]) -> "tuple[dict, Optional[Mapping], str]":
    """(model config without ``head.floss_cfg``, the FLOPs-loss config, its key path): the FLOPs loss may be given
    as ``algorithm.floss_cfg`` or on the head (``algorithm.model.head.floss_cfg``, the form of GML's configs), not
    both; mmcls heads do not take it, so it comes off the head config before the head is built."""
    model = dict(model)
    head = model.get("head")
    if not isinstance(head, Mapping) or "floss_cfg" not in head:
        return model, floss_cfg, _FLOSS_PATH
    if floss_cfg is not None:
        raise GmlConfigError(_FLOSS_PATH, f"the FLOPs loss is given twice, as {_FLOSS_PATH} and as "
                                          f"{_HEAD_FLOSS_PATH}; keep one of them")
    head = dict(head)
    floss_cfg = head.pop("floss_cfg")
    model["head"] = head
    return model, floss_cfg, _HEAD_FLOSS_PATH


def _section(given: Optional[Mapping], defaults: dict, path: str) -> dict:
    if given is not None and not isinstance(given, Mapping):
        raise invalid(path, given, f"a dict with keys among {', '.join(defaults)}")
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise GmlConfigError(f"{path}.{unknown[0]}", f"unknown key; valid: {', '.join(defaults)}")
    return {**defaults, **given}


@ALGORITHMS.register_module()
class DMCP(BaseAlgorithm):
    steps_optimizer = True  # steps its optimizers in train_step: configs set optimizer_config = None

    def __init__(self, model: Mapping, mutator: Optional[dict] = None, algorithm_cfg: Optional[dict] = None,
                 distill_iter: int = 0, floss_cfg: Optional[dict] = None, retraining: bool = False,
                 channel_cfg: Optional[Union[str, dict]] = None, grad_clip: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if not isinstance(model, Mapping):
            raise invalid("algorithm.model", model, "a plain mmcls ImageClassifier config")
        model, floss_cfg, self._floss_path = take_head_floss_cfg(model, floss_cfg)
        algo = _section(algorithm_cfg, _ALGORITHM_CFG, "algorithm.algorithm_cfg")
        self.arch_start_train = integer("algorithm.algorithm_cfg.arch_start_train", algo["arch_start_train"], least=0)
        self.arch_train_freq = integer("algorithm.algorithm_cfg.arch_train_freq", algo["arch_train_freq"], least=1)
        self.arch_sample_num = integer("algorithm.algorithm_cfg.arch_sample_num", algo["arch_sample_num"], least=1)
        self.flops_tolerance = float(number("algorithm.algorithm_cfg.flops_tolerance", algo["flops_tolerance"],
                                            above=0))
        self.distill_iter = integer("algorithm.distill_iter", distill_iter, least=0)
        floss = _section(floss_cfg, _FLOSS_CFG, self._floss_path)
        self.floss_type = FlopsLossType(one_of(f"{self._floss_path}.floss_type", floss["floss_type"],
                                               [t.value for t in FlopsLossType]))
        self.flop_loss_weight = float(number(f"{self._floss_path}.flop_loss_weight", floss["flop_loss_weight"],
                                             least=0))
        boolean("algorithm.retraining", retraining)
        mutator_cfg = dict(mutator or dict(type="gml.DMCPMutator"))
        mutator_cfg.setdefault("type", "gml.DMCPMutator")
        built_mutator = build_mutator(mutator_cfg)
        if not isinstance(built_mutator, DMCPMutator):
            raise GmlConfigError("algorithm.mutator.type", f"DMCP needs gml.DMCPMutator, got {mutator_cfg['type']!r}")
        self.retraining = retraining
        self.model_cfg = copy.deepcopy(dict(model))
        width_max = built_mutator.width["max"]
        if retraining:
            if channel_cfg is None:
                raise GmlConfigError("algorithm.channel_cfg", "retraining=True needs the pruned structure: a "
                                                              "file written to work_dir/model_sample by DMCP "
                                                              "training or by tools/search_subnet.py")
            self.channels = read_structure(channel_cfg, "algorithm.channel_cfg")
            pruned_cfg = pruned_classifier_cfg(self.model_cfg, self.channels, width_max, built_mutator.input_shape)
            super().__init__(build_model(pruned_cfg), init_cfg)
            self.pruned_cfg = pruned_cfg
            self.mutator = FixedStructure(self.channels, width_max, built_mutator.input_shape)
        else:
            classifier, kind = build_slimmable_classifier(self.model_cfg, width_max, built_mutator.input_shape)
            super().__init__(classifier, init_cfg)
            self.mutator = built_mutator
            self.mutator.prepare_from_supernet(self.model, kind)
        self.is_supernet = not retraining
        self.test_choice = (self.mutator.load(channel_cfg, "algorithm.channel_cfg")
                            if channel_cfg is not None and not retraining else None)
        self.target_flops = self._check_target(floss["target_flops"])
        self.grad_clip = dict(grad_clip) if grad_clip else None
        self.fixed_choice = self.channels if retraining else None
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))
        self.activate_default()

    def _check_target(self, target: Any) -> Optional[float]:
        path = f"{self._floss_path}.target_flops"
        if self.retraining:
            return None if target is None else float(number(path, target, above=0, what="MFLOPs"))
        if target is None:
            raise GmlConfigError(path, "DMCP needs the target FLOPs of the pruned network, in MFLOPs")
        target = float(number(path, target, above=0, what="MFLOPs"))
        low, high = self.mutator.flops_of(self.mutator.min_choice()), self.mutator.flops_of(self.mutator.max_choice())
        if not low <= target <= high:
            raise GmlConfigError(path, f"{target} MFLOPs is outside what the supernet can reach: [{low:.3f}, "
                                       f"{high:.3f}] MFLOPs (min..max width, input {self.mutator.input_shape})")
        return target

    # --- subnets (the interface DynamicDistEvalHook and the subnet tools use) ----------------------------------------
    def activate_default(self) -> None:
        """The supernet's max width, or the structure ``channel_cfg`` selects for testing (retraining: the one
        structure the network has)."""
        if self.test_choice is not None:
            self.mutator.set_choice(self.test_choice, "algorithm.channel_cfg")
        elif not self.retraining:
            self.mutator.set_max()

    def set_regularization(self, active: bool) -> None:
        """DMCP has no subnet-dependent regularisation (dropout / drop-path run as the model configures them)."""

    def eval_subnets(self) -> "OrderedDict[str, Optional[Dict[str, int]]]":
        """Structures the evaluation hook reports: max, min and the expected one (the pruned network alone when
        retraining)."""
        if self.retraining:
            return OrderedDict(subnet=None)
        return OrderedDict(max=self.mutator.max_choice(), min=self.mutator.min_choice(),
                           expected=self.mutator.expected_choice())

    def plain_model_cfg(self, choice: Mapping[str, int]) -> dict:
        """The plain mmcls classifier config of a structure (tools/export_subnet.py writes it)."""
        width_max = self.mutator.width_max if self.retraining else self.mutator.width["max"]
        return pruned_classifier_cfg(self.model_cfg, dict(choice), width_max, self.mutator.input_shape)

    def runner_hooks(self) -> list:
        """(hook, priority) pairs gml's training loop registers for this algorithm: the structure export at the
        end of supernet training."""
        if self.retraining:
            return []
        from ..hooks.dmcp_structure import DMCPStructureHook

        return [(DMCPStructureHook(), "LOW")]

    # --- optimizers ----------------------------------------------------------------------------------------------
    def build_optimizers(self, optimizer_cfg: Mapping, wrapped=None):
        """The runner's optimizers: ``optimizer_cfg`` over the model's weights, and (supernet training) Adam over
        the architecture parameters. Returns one optimizer when retraining, else ``dict(weight=, architecture=)``."""
        from mmcv.runner import build_optimizer

        weight = build_optimizer(self.model, copy.deepcopy(dict(optimizer_cfg)))
        if self.retraining:
            return weight
        architecture = torch.optim.Adam(self.mutator.parameters(), lr=self.mutator.arch_learning_rate,
                                        weight_decay=self.mutator.arch_weight_decay)
        return dict(weight=weight, architecture=architecture)

    # --- training ------------------------------------------------------------------------------------------------
    def _scores(self, img: torch.Tensor) -> torch.Tensor:
        head = self.model.head
        return head.fc(head.pre_logits(self.model.extract_feat(img)))

    def _task_loss(self, score: torch.Tensor, gt_label: torch.Tensor) -> torch.Tensor:
        return self.model.head.loss(score, gt_label)["loss"]

    def train_step(self, data: dict, optimizer=None) -> dict:
        img, gt_label = data["img"], data["gt_label"]
        if self.retraining:
            return self._plain_step(img, gt_label, optimizer)
        if self.test_choice is not None:
            raise GmlConfigError("algorithm.channel_cfg", "a structure in a supernet config (retraining=False) only "
                                                          "selects the subnet to test; to train it set "
                                                          "algorithm.retraining=True")
        if not isinstance(optimizer, dict) or set(optimizer) != {"weight", "architecture"}:
            raise GmlConfigError("optimizer", "DMCP steps two optimizers (weights, architecture) built by gml's "
                                              "training loop (tools/train.py) and needs optimizer_config=None")
        iteration = int(self.iteration)
        log_vars: "OrderedDict[str, float]" = OrderedDict()
        try:
            log_vars.update(self._weight_step(img, gt_label, optimizer["weight"], iteration))
            if iteration >= self.arch_start_train and (iteration - self.arch_start_train) % self.arch_train_freq == 0:
                log_vars.update(self._arch_step(img, gt_label, optimizer["architecture"]))
        finally:
            self.activate_default()
        self.iteration += 1
        return dict(log_vars=log_vars, num_samples=self._num_samples(data))

    def _plain_step(self, img, gt_label, optimizer) -> dict:
        optimizer.zero_grad()
        loss = self._task_loss(self._scores(img), gt_label)
        loss.backward()
        average_gradients(self.model.parameters())
        log_vars = OrderedDict(loss=float(loss.detach()))
        self._clip(log_vars)
        optimizer.step()
        self.iteration += 1
        return dict(log_vars=log_vars, num_samples=len(img))

    def _clip(self, log_vars: dict) -> None:
        norm = self._clip_norm()
        if norm is not None:
            log_vars["grad_norm"] = float(norm)

    def _clip_norm(self) -> Optional[torch.Tensor]:
        """Clip the model's gradients by ``grad_clip``; their norm before clipping (None without ``grad_clip``)."""
        if not self.grad_clip:
            return None
        params = [p for p in self.model.parameters() if p.grad is not None]
        return nn.utils.clip_grad_norm_(params, **self.grad_clip)

    def _weight_step(self, img, gt_label, optimizer, iteration: int) -> Dict[str, float]:
        optimizer.zero_grad()
        teacher = None
        losses: List[torch.Tensor] = []
        for kind in self.mutator.plan:
            self.mutator.set_choice(self.mutator.sample(kind, iteration, self.arch_start_train))
            with gradients_into_slices():  # the subnet's gradients go into its blocks of the shared weights
                score = self._scores(img)
                if kind is SampleType.MAX or teacher is None or iteration < self.distill_iter:
                    loss = self._task_loss(score, gt_label)
                else:
                    loss = -(teacher * F.log_softmax(score, dim=1)).sum(dim=1).mean()
                loss.backward()
            if kind is SampleType.MAX:
                teacher = F.softmax(score.detach(), dim=1)
            losses.append(loss.detach())
        average_gradients(self.model.parameters())
        norm = self._clip_norm()
        optimizer.step()
        # read once, after the optimizer step is queued: the device never waits for the host within the step
        values = host_floats(losses + ([norm.detach()] if norm is not None else []))
        log_vars: Dict[str, float] = OrderedDict(
            (f"{index}.{kind.value}.loss", value) for index, (kind, value) in enumerate(zip(self.mutator.plan, values)))
        log_vars["loss"] = sum(values[:len(losses)], 0.0)
        if norm is not None:
            log_vars["grad_norm"] = values[-1]
        return log_vars

    def _arch_step(self, img, gt_label, optimizer) -> Dict[str, float]:
        params: List[nn.Parameter] = list(self.mutator.parameters())
        for group in optimizer.param_groups:  # the LR schedule is for the weights
            group["lr"] = self.mutator.arch_learning_rate
        self.mutator.set_max()
        with self.mutator.arch_scaling(), frozen_running_stats(self.model):
            task = self._task_loss(self._scores(img), gt_label)
            expected = self.mutator.expected_flops()  # from the keep probabilities the pass computed
        floss = flops_loss(expected, self.target_flops, self.floss_type, self.flop_loss_weight)
        grads = torch.autograd.grad(task + floss, params, allow_unused=True)
        optimizer.zero_grad()
        for param, grad in zip(params, grads):
            param.grad = torch.zeros_like(param) if grad is None else grad
        average_gradients(params)
        optimizer.step()
        names = ("arch.task_loss", "arch.flops_loss", "arch.expected_mflops")
        return OrderedDict(zip(names, host_floats([task.detach(), floss.detach(), expected.detach()])))

    def forward_train(self, img, gt_label=None, **kwargs):
        """Losses of the active network (used by ``val_step``; training goes through :meth:`train_step`)."""
        return self.model.forward_train(img, gt_label, **kwargs)


class FixedStructure:
    """The "mutator" of a retrained pruned network: it holds the one structure the network has."""

    def __init__(self, channels: Dict[str, int], width_max: float = 1.0, input_shape=(3, 224, 224)):
        self.channels = dict(channels)
        self.width_max = width_max
        self.input_shape = tuple(input_shape)

    def max_choice(self) -> Dict[str, int]:
        return dict(self.channels)

    min_choice = expected_choice = current_choice = max_choice

    def load(self, source, path: str = "channel_cfg") -> Dict[str, int]:
        return self.validate(read_structure(source, path), path)

    def validate(self, choice: Mapping, path: str = "channel_cfg") -> Dict[str, int]:
        if dict(choice) != self.channels:
            raise GmlConfigError(path, "a retrained pruned network has only the structure it was built with "
                                       "(algorithm.channel_cfg)")
        return dict(choice)

    def set_choice(self, choice: Mapping, path: str = "channel_cfg") -> Dict[str, int]:
        return self.validate(choice, path)
