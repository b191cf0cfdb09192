"""``DMCPMutator``: the architecture side of DMCP pruning. It owns one Markov chain (architecture parameters
``alpha``) per channel group of the supernet, sets group widths on the slimmable classifier, samples widths by the
training strategies, scales bucket outputs by their keep probability in the architecture pass, and computes the
expected FLOPs (MFLOPs).

Config (``algorithm.mutator``)::

    mutator=dict(type='gml.DMCPMutator',
                 num_sample=None,          # subnets per weight step (default: len(arch_sample_type))
                 sample_width=None,        # width ratios non_uni_random draws from (default: every bucket)
                 arch_sample_type=['max', 'min', 'scheduled_random', 'arch_random'],
                 arch_learning_rate=0.5, arch_weight_decay=1e-3,   # Adam on the alphas
                 input_shape=(3, 224, 224),                        # image of the FLOPs count
                 width=dict(max=1, min=0.1, offset=0.1),           # relative to the configured model
                 seed=None)                                        # own sampling generator (default: global)

A structure ("choice") is a dict channel-group name -> width (see :mod:`gml.models.pruning.channel_space`).
``search_space`` is the same dict of :class:`~gml.models.space.Choices` (each group's bucket widths, an ``Int``
dimension ``min_channels..max_channels`` by ``bucket_size``), so the subnet search (tools/search_subnet.py) and
every gml searcher work on DMCP supernets as on BigNAS ones; :meth:`markov_transitions` hands the learnt chains to
the searcher that walks them (:class:`~gml.models.pruning.markov_search.MarkovChainSearcher`).
"""
from __future__ import annotations

import contextlib
import os
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import torch
import yaml
from torch import nn

from ...errors import GmlConfigError
from ...validation import integer, invalid, number
from ..ops import BatchNorm2dSlice
from ..pruning.channel_space import ChannelGroup, derive_groups, input_groups
from ..pruning.flops import FlopsModel, QuadraticFlops
from ..pruning.markov import (BucketChains, BucketLayout, StackedKeepProbs, channel_scale, expected_width_rounded,
                              walk)
from ..pruning.sampling import SampleType, parse_sample_types, scheduled_random_prob
from ..pruning.supernet import apply_widths, check_channels
from ..registry import MUTATORS
from ..space import Choices, parse_leaf
from .stateless import load_choice

PATH = "algorithm.mutator"


class _GlobalRandom:
    """The draws the mutator makes, from python's global generator (a stand-in for a ``random.Random``)."""

    randint = staticmethod(random.randint)
    choice = staticmethod(random.choice)
    random = staticmethod(random.random)  # last: the name shadows the module inside the class body


_GLOBAL_RANDOM = _GlobalRandom()


def parse_width(width: Any, path: str = f"{PATH}.width") -> Dict[str, float]:
    if not isinstance(width, Mapping):
        raise invalid(path, width, "dict(max=..., min=..., offset=...)")
    unknown = sorted(set(width) - {"max", "min", "offset"})
    if unknown:
        raise GmlConfigError(f"{path}.{unknown[0]}", "unknown key; valid: max, min, offset")
    parsed = {key: float(number(f"{path}.{key}", width.get(key, default), above=0))
              for key, default in (("max", 1.0), ("min", 0.1), ("offset", 0.1))}
    if parsed["min"] >= parsed["max"]:
        raise invalid(f"{path}.min", width.get("min", 0.1), f"a ratio below width.max={parsed['max']:g}")
    if parsed["offset"] > parsed["max"] - parsed["min"] + 1e-9:
        raise invalid(f"{path}.offset", width.get("offset", 0.1),
                      f"a ratio <= max - min = {parsed['max'] - parsed['min']:g} (at least one bucket)")
    return parsed


@MUTATORS.register_module()
class DMCPMutator(nn.Module):
    """Build from the config above, then attach with :meth:`prepare_from_supernet`."""

    def __init__(self, num_sample: Optional[int] = None, sample_width: Optional[Sequence[float]] = None,
                 arch_sample_type: Sequence[str] = ("max", "min", "scheduled_random", "arch_random"),
                 arch_learning_rate: float = 0.5, arch_weight_decay: float = 1e-3,
                 input_shape: Sequence[int] = (3, 224, 224), width: Optional[dict] = None,
                 seed: Optional[int] = None, **unknown: Any):
        super().__init__()
        if unknown:
            raise GmlConfigError(f"{PATH}.{sorted(unknown)[0]}", "unknown key; valid: num_sample, sample_width, "
                                 "arch_sample_type, arch_learning_rate, arch_weight_decay, input_shape, width, seed")
        self.width = parse_width(width or {})
        self.plan = parse_sample_types(arch_sample_type, num_sample, f"{PATH}")
        self.sample_width = self._parse_sample_width(sample_width)
        self.arch_learning_rate = float(number(f"{PATH}.arch_learning_rate", arch_learning_rate, above=0))
        self.arch_weight_decay = float(number(f"{PATH}.arch_weight_decay", arch_weight_decay, least=0))
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
            raise invalid(f"{PATH}.input_shape", input_shape, "(C, H, W)")
        self.input_shape = tuple(integer(f"{PATH}.input_shape[{i}]", v, least=1) for i, v in enumerate(input_shape))
        integer(f"{PATH}.seed", seed, optional=True)
        self._own_rng = random.Random(seed) if seed is not None else None
        self.alphas = nn.ParameterList()
        self.groups: List[ChannelGroup] = []
        self.layouts: "OrderedDict[str, BucketLayout]" = OrderedDict()
        self.flops_model: Optional[FlopsModel] = None
        self._classifier: Optional[List[nn.Module]] = None  # a list: not a submodule of the mutator
        self.chains: Optional[BucketChains] = None  # every group's chain, evaluated together
        self._flops_form: Optional[QuadraticFlops] = None  # expected FLOPs in the widths of chains.variable
        self._pass: Optional[_ArchPass] = None  # set during arch_scaling()
        self.search_space: Dict[str, Choices] = {}

    def _parse_sample_width(self, sample_width) -> Optional[List[float]]:
        if sample_width is None:
            return None
        path = f"{PATH}.sample_width"
        if not isinstance(sample_width, (list, tuple)) or not sample_width:
            raise invalid(path, sample_width, "a non-empty list of width ratios")
        for i, ratio in enumerate(sample_width):
            value = number(f"{path}[{i}]", ratio, above=0)
            if not self.width["min"] - 1e-9 <= value <= self.width["max"] + 1e-9:
                raise invalid(f"{path}[{i}]", ratio, f"a ratio within width.min..width.max = "
                                                     f"[{self.width['min']}, {self.width['max']}]")
        return [float(v) for v in sample_width]

    # --- attaching ---------------------------------------------------------------------------------------------
    def prepare_from_supernet(self, classifier: nn.Module, kind: str) -> None:
        """Derive the channel groups of ``classifier`` (a slimmable supernet of backbone ``kind``), their bucket
        layouts and architecture parameters, the FLOPs model, and the BatchNorm scaling of the architecture pass."""
        self._classifier = [classifier]
        self.groups = derive_groups(classifier, kind)
        for group in self.groups:
            try:
                self.layouts[group.name] = BucketLayout.of(group.max_channels, self.width["min"],
                                                           self.width["max"], self.width["offset"])
            except ValueError as err:
                raise GmlConfigError(f"{PATH}.width", f"impossible for channel group {group.name}: {err}") from None
        if all(layout.num_buckets == 0 for layout in self.layouts.values()):
            raise GmlConfigError(f"{PATH}.width", "no channel group has a prunable bucket at this offset "
                                                  f"({self.width}); the model is too narrow for it")
        self.alphas = nn.ParameterList([nn.Parameter(torch.zeros(layout.num_buckets))
                                        for layout in self.layouts.values()])
        self.search_space = {name: bucket_choices(name, layout) for name, layout in self.layouts.items()}
        device = next(classifier.parameters()).device
        example = torch.zeros(1, *self.input_shape, device=device)
        owners = input_groups(classifier, self.groups, self._set_widths, example)
        producers = {path: group.name for group in self.groups for path in group.producers}
        self.flops_model = FlopsModel.trace(classifier, example, owners, producers)
        self.chains = BucketChains(list(self.layouts.values()))
        names = self.group_names
        self._flops_form = self.flops_model.quadratic_form(
            [names[i] for i in self.chains.variable],
            {name: layout.min_channels for name, layout in self.layouts.items() if not layout.num_buckets})
        modules = dict(classifier.named_modules())
        for path, group_name in owners.items():
            if isinstance(modules[path], BatchNorm2dSlice):
                modules[path].output_scale = _KeepProbScaling(self, list(self.layouts).index(group_name))

    @property
    def rng(self):
        """The sampling generator: the mutator's own when seeded, else python's global one, which gml's training
        loop re-seeds every epoch (so a resumed run draws what the uninterrupted run drew)."""
        return self._own_rng if self._own_rng is not None else _GLOBAL_RANDOM

    @property
    def classifier(self) -> nn.Module:
        if self._classifier is None:
            raise RuntimeError("DMCPMutator.prepare_from_supernet was not called")
        return self._classifier[0]

    @property
    def group_names(self) -> List[str]:
        return list(self.layouts)

    def alpha_of(self, name: str) -> nn.Parameter:
        return self.alphas[self.group_names.index(name)]

    # --- structures ------------------------------------------------------------------------------------------
    def max_choice(self) -> Dict[str, int]:
        return {name: layout.max_channels for name, layout in self.layouts.items()}

    def min_choice(self) -> Dict[str, int]:
        return {name: layout.min_channels for name, layout in self.layouts.items()}

    def non_uniform_random_choice(self) -> Dict[str, int]:
        """Each group's width drawn on its own: a ratio of ``sample_width`` (rounded to a bucket), or uniformly
        over the group's widths."""
        choice = {}
        for name, layout in self.layouts.items():
            if self.sample_width is None:
                choice[name] = layout.channels(self.rng.randint(0, layout.num_buckets))
            else:
                ratio = self.rng.choice(self.sample_width)
                kept = round((ratio - self.width["min"]) / self.width["offset"])
                choice[name] = layout.channels(min(max(kept, 0), layout.num_buckets))
        return choice

    def markov_choice(self) -> Dict[str, int]:
        """Each group's width drawn from its Markov chain (DMCP's "direct" sampling)."""
        return {name: walk(probs, layout, self.rng)
                for (name, layout), probs in zip(self.layouts.items(), self.chains.transitions(list(self.alphas)))}

    def markov_transitions(self) -> Dict[str, List[float]]:
        """Each group's learnt transition probabilities ``p_1..p_K`` (plain floats; empty for a group without
        buckets), keyed like the flat search space (the group name): what ``MarkovChainSearcher`` walks."""
        return dict(zip(self.layouts, self.chains.transitions(list(self.alphas))))

    def expected_choice(self) -> Dict[str, int]:
        """Each group's expected width, rounded to its nearest width: the expected structure."""
        return {name: expected_width_rounded(alpha, layout)
                for (name, layout), alpha in zip(self.layouts.items(), self.alphas)}

    def sample(self, kind: SampleType, iteration: int, arch_start: int) -> Dict[str, int]:
        """The structure of one weight-step subnet of type ``kind`` at ``iteration``. Before ``arch_start`` the
        chains are untrained, so ``arch_random`` and ``scheduled_random`` draw non-uniform random widths."""
        if kind is SampleType.MAX:
            return self.max_choice()
        if kind is SampleType.MIN:
            return self.min_choice()
        if kind is SampleType.NON_UNI_RANDOM or iteration < arch_start:
            return self.non_uniform_random_choice()
        if kind is SampleType.SCHEDULED_RANDOM:
            if self.rng.random() < scheduled_random_prob(iteration - arch_start):
                return self.non_uniform_random_choice()
        return self.markov_choice()

    def current_choice(self) -> Dict[str, int]:
        modules = dict(self.classifier.named_modules())
        return {group.name: modules[group.producers[0]].active_out_channels for group in self.groups}

    def validate(self, choice: Mapping, path: str = "channel_cfg") -> Dict[str, int]:
        return check_channels(self.groups, choice, path)

    def set_choice(self, choice: Mapping, path: str = "channel_cfg") -> Dict[str, int]:
        choice = self.validate(choice, path)
        self._set_widths(choice)
        return choice

    def _set_widths(self, widths: Mapping[str, int]) -> None:
        apply_widths(self.classifier, self.groups, widths)

    def set_max(self) -> Dict[str, int]:
        return self.set_choice(self.max_choice())

    def set_min(self) -> Dict[str, int]:
        return self.set_choice(self.min_choice())

    # --- keep probabilities and FLOPs ----------------------------------------------------------------------------
    def _keep_probabilities(self) -> StackedKeepProbs:
        """Every group's keep probabilities (see :class:`~gml.models.pruning.markov.BucketChains`), computed once
        per architecture pass (inside :meth:`arch_scaling`), afresh outside."""
        if self._pass is not None and self._pass.keep is not None:
            return self._pass.keep
        keep = self.chains.keep_probs(list(self.alphas))
        if self._pass is not None:
            self._pass.keep = keep
        return keep

    def expected_widths(self) -> Dict[str, torch.Tensor]:
        """Each group's expected width (a 0-dim tensor, differentiable in the alphas)."""
        variable = dict(zip(self._flops_form.names, self.chains.expected_widths(self._keep_probabilities())))
        return {name: variable[name] if name in variable else alpha.new_tensor(float(layout.min_channels))
                for (name, layout), alpha in zip(self.layouts.items(), self.alphas)}

    def expected_flops(self) -> torch.Tensor:
        """DMCP's expected MFLOPs, differentiable in the alphas."""
        return self._flops_form(self.chains.expected_widths(self._keep_probabilities()))

    def flops_of(self, choice: Mapping[str, int]) -> float:
        """MFLOPs of a structure (equals gml's counter on the pruned model)."""
        return float(self.flops_model.flops(choice))

    # --- the architecture pass -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def arch_scaling(self) -> Iterator[None]:
        """Within: every BatchNorm's output is multiplied per channel by its group's keep probabilities (the
        supernet runs at the maximum width). The keep probabilities, the scales and :meth:`expected_flops` share
        one computation for the whole context."""
        self._pass = _ArchPass()
        try:
            yield
        finally:
            self._pass = None

    @property
    def scaling(self) -> bool:
        """Whether an architecture pass (:meth:`arch_scaling`) is running."""
        return self._pass is not None

    def scale_of(self, index: int) -> torch.Tensor:
        """Group ``index``'s per-channel scale of the architecture pass (see
        :func:`~gml.models.pruning.markov.channel_scale`). Inside :meth:`arch_scaling` every group's scale is
        built once, together, on the first call."""
        if self._pass is None:
            return channel_scale(self.alphas[index], list(self.layouts.values())[index],
                                 self._keep_probabilities().per_group[index])
        if self._pass.scales is None:
            self._pass.scales = self.chains.channel_scales(self._keep_probabilities(), list(self.alphas))
        return self._pass.scales[index]

    # --- YAML ------------------------------------------------------------------------------------------------
    def dumps(self, choice: Mapping[str, int], **extra: Any) -> str:
        data = dict(extra)
        data["channels"] = {str(k): int(v) for k, v in choice.items()}
        return yaml.safe_dump(data, sort_keys=False)

    def dump(self, path: str, choice: Mapping[str, int], **extra: Any) -> str:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(self.dumps(choice, **extra))
        return path

    def load(self, source: Union[str, Mapping], path: str = "channel_cfg") -> Dict[str, int]:
        return self.validate(read_structure(source, path), path)


def bucket_choices(name: str, layout: BucketLayout) -> Choices:
    """The search dimension of one channel group: its bucket widths ``min_channels + k * bucket_size``
    (k = 0..num_buckets) as an ``Int`` with that step, or the fixed width of a group without buckets."""
    if layout.num_buckets == 0:
        return parse_leaf(layout.max_channels, name)
    return parse_leaf(dict(type="Int", lower=layout.min_channels, upper=layout.max_channels,
                           step=layout.bucket_size, default=layout.max_channels), name)


def read_structure(source: Union[str, Mapping], path: str = "channel_cfg") -> Dict[str, int]:
    """The ``channels`` mapping of a structure file written by DMCP (or a bare group -> width mapping)."""
    data = load_choice(dict(source) if isinstance(source, Mapping) else source, path)
    channels = data.get("channels", data)
    if not isinstance(channels, Mapping):
        raise invalid(f"{path}.channels", channels, "a mapping of channel group -> width")
    return dict(channels)


class _KeepProbScaling:
    """A BatchNorm's ``output_scale``: during the architecture pass, the keep probabilities of its channel group
    (per channel), else None."""

    def __init__(self, mutator: DMCPMutator, index: int):
        self.mutator = mutator
        self.index = index

    def __call__(self):
        return self.mutator.scale_of(self.index) if self.mutator.scaling else None


@dataclass
class _ArchPass:
    """What one architecture pass computes once: the keep probabilities and each group's channel scale."""

    keep: Optional[StackedKeepProbs] = None
    scales: Optional[List[torch.Tensor]] = None  # one a group


def build_supernet_mutator(model_cfg: Mapping, mutator_cfg: Optional[Mapping] = None) -> DMCPMutator:
    """A ``DMCPMutator`` attached to a freshly built supernet of ``model_cfg`` (its ``classifier``), without the
    algorithm: for tools that only need the channel groups and the FLOPs model."""
    from ..builder import build_mutator
    from ..pruning.supernet import build_slimmable_classifier

    mutator = build_mutator(dict(mutator_cfg or {}, type="gml.DMCPMutator"))
    classifier, kind = build_slimmable_classifier(model_cfg, mutator.width["max"], mutator.input_shape)
    mutator.prepare_from_supernet(classifier, kind)
    return mutator


def supernet_flops_range(model_cfg: Mapping, mutator_cfg: Optional[Mapping] = None) -> "tuple[float, float]":
    """(min, max) MFLOPs of the DMCP supernet of ``model_cfg`` under ``mutator_cfg``: the range a
    ``floss_cfg.target_flops`` must lie in."""
    mutator = build_supernet_mutator(model_cfg, mutator_cfg)
    return mutator.flops_of(mutator.min_choice()), mutator.flops_of(mutator.max_choice())


def uniform_choice(mutator: DMCPMutator, target_mflops: float) -> Dict[str, int]:
    """Every group at the same fraction ``r`` of its channels (``round(r * C)``, at least 1), ``r`` chosen so the
    structure's MFLOPs are closest to ``target_mflops``: uniform width scaling, the baseline DMCP is compared to."""
    def at(ratio: float) -> Dict[str, int]:
        return {name: max(1, min(layout.max_channels, int(round(ratio * layout.max_channels))))
                for name, layout in mutator.layouts.items()}

    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if mutator.flops_of(at(middle)) < target_mflops else (low, middle)
    candidates = [at(low), at(high)]
    return min(candidates, key=lambda choice: abs(mutator.flops_of(choice) - target_mflops))
