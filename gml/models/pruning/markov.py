"""DMCP's Markov chain over the channel buckets of one group (Guo et al., "DMCP: Differentiable Markov Channel
Pruning", CVPR 2020).

A group of ``C`` channels (its supernet width) with ``width=dict(min, max, offset)`` is cut into
``num_buckets = int((max - min) / offset + 1e-4)`` buckets of ``bucket_size = int(offset * C / max)`` channels
after ``min_channels = C - bucket_size * num_buckets`` channels that are always kept. Bucket ``k`` is kept only if
bucket ``k - 1`` is: the transition probability ``p_k = P(keep k | keep k-1)`` comes from the group's architecture
parameter ``alpha_k`` as ``p_k = exp(-max(alpha_k, 0))`` (1 at ``alpha = 0``: training starts from the full
width, and a growing ``alpha_k`` prunes), the keep probability of bucket ``k`` is ``prod_{j<=k} p_j`` and the
expected width is ``min_channels + bucket_size * sum_k keep_k``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch

from ..ops import DeviceConstants


@dataclass(frozen=True)
class BucketLayout:
    """How one group's channels split into always-kept channels and prunable buckets."""

    max_channels: int
    min_channels: int
    bucket_size: int
    num_buckets: int

    @classmethod
    def of(cls, channels: int, width_min: float, width_max: float, offset: float) -> "BucketLayout":
        bucket_size = int(offset * channels / width_max)
        num_buckets = int((width_max - width_min) / offset + 1e-4) if bucket_size > 0 else 0
        min_channels = channels - bucket_size * num_buckets
        if min_channels < 1:
            raise ValueError(f"{channels} channels leave no channel at the minimum width "
                             f"(bucket size {bucket_size}, {num_buckets} buckets)")
        return cls(channels, min_channels, bucket_size, num_buckets)

    def channels(self, kept_buckets: int) -> int:
        return self.min_channels + self.bucket_size * kept_buckets

    def buckets_of(self, channels: int) -> int:
        """The number of kept buckets giving exactly ``channels``; ValueError when none does."""
        kept, rest = divmod(channels - self.min_channels, self.bucket_size or 1)
        if rest or not 0 <= kept <= self.num_buckets or (self.bucket_size == 0 and channels != self.min_channels):
            raise ValueError(f"{channels} is not a width of this group: {self.min_channels} + k * "
                             f"{self.bucket_size} for k in 0..{self.num_buckets}")
        return kept

    @property
    def widths(self) -> list:
        return [self.channels(k) for k in range(self.num_buckets + 1)]


def transition_probs(alpha: torch.Tensor) -> torch.Tensor:
    """``p_k = exp(-max(alpha_k, 0))``: in (0, 1], decreasing in ``alpha_k``."""
    return torch.exp(-alpha.clamp(min=0))


def keep_probs(alpha: torch.Tensor) -> torch.Tensor:
    """Marginal probability that each bucket is kept: the cumulative product of the transition probabilities
    (along the last dim: ``alpha`` may stack the parameters of several groups with as many buckets, one a row)."""
    return torch.cumprod(transition_probs(alpha), dim=-1)


def expected_channels(alpha: torch.Tensor, layout: BucketLayout) -> torch.Tensor:
    """``min_channels + bucket_size * sum(keep_probs)``, differentiable in ``alpha``."""
    if layout.num_buckets == 0:
        return alpha.new_tensor(float(layout.min_channels))
    return layout.min_channels + layout.bucket_size * keep_probs(alpha).sum()


def channel_scale(alpha: torch.Tensor, layout: BucketLayout, keep: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Per-channel multiplier of the architecture pass (all channels at the maximum width): 1 for the always-kept
    channels, the bucket's keep probability for each channel of a bucket. ``keep``: ``keep_probs(alpha)`` when
    the caller has it already."""
    ones = alpha.new_ones(layout.min_channels)
    if layout.num_buckets == 0:
        return ones
    keep = keep_probs(alpha) if keep is None else keep
    return torch.cat([ones, keep.repeat_interleave(layout.bucket_size)])


def markov_walk(alpha: torch.Tensor, layout: BucketLayout, rng: random.Random) -> int:
    """A width drawn from the chain: keep bucket after bucket while a uniform draw is below its transition
    probability."""
    return walk(transition_probs(alpha.detach()).tolist() if layout.num_buckets else [], layout, rng)


def walk(probs: Sequence[float], layout: BucketLayout, rng: random.Random) -> int:
    """:func:`markov_walk` on the chain's transition probabilities ``probs`` (plain floats)."""
    kept = 0
    for p in probs:
        if rng.random() >= p:
            break
        kept += 1
    return layout.channels(kept)


def expected_width_rounded(alpha: torch.Tensor, layout: BucketLayout) -> int:
    """The expected width rounded to the nearest width of the group (the "expected structure")."""
    if layout.num_buckets == 0:
        return layout.min_channels
    kept = int(round(float(keep_probs(alpha.detach()).sum())))
    return layout.channels(kept)


@dataclass
class StackedKeepProbs:
    """Keep probabilities of many groups: ``rows`` one matrix per bucket count (the order of
    :attr:`BucketChains.stacks`), ``per_group`` each group's row (None for a group without buckets)."""

    rows: List[torch.Tensor]
    per_group: List[Optional[torch.Tensor]]


class BucketChains:
    """The chains of all channel groups, evaluated together: the parameters of the groups with as many buckets are
    stacked, so one cumulative product serves them all (in backward one op, and on a GPU one device sync, instead
    of one per group). Each row computes exactly what :func:`keep_probs` computes for its group alone."""

    def __init__(self, layouts: Sequence[BucketLayout]):
        self.layouts = list(layouts)
        #: bucket count -> indices of the groups with that many buckets (groups without buckets are in none)
        self.stacks: Dict[int, List[int]] = {}
        for index, layout in enumerate(self.layouts):
            if layout.num_buckets:
                self.stacks.setdefault(layout.num_buckets, []).append(index)
        self._constants = DeviceConstants()

    @property
    def variable(self) -> List[int]:
        """Indices of the groups with buckets, in the order of :meth:`expected_widths`."""
        return [index for indices in self.stacks.values() for index in indices]

    def transitions(self, alphas: Sequence[torch.Tensor]) -> List[List[float]]:
        """Each group's transition probabilities as plain floats (empty for a group without buckets), read in one
        device->host transfer for all groups."""
        flat = transition_probs(torch.cat([alpha.detach().reshape(-1) for alpha in alphas])).tolist()
        lists, start = [], 0
        for layout in self.layouts:
            lists.append(flat[start:start + layout.num_buckets])
            start += layout.num_buckets
        return lists

    def keep_probs(self, alphas: Sequence[torch.Tensor]) -> StackedKeepProbs:
        """The keep probabilities of every group (``alphas`` one parameter per group, in layout order)."""
        rows = [keep_probs(torch.stack([alphas[i] for i in indices])) for indices in self.stacks.values()]
        per_group: List[Optional[torch.Tensor]] = [None] * len(self.layouts)
        for indices, keep in zip(self.stacks.values(), rows):
            for index, group_keep in zip(indices, keep.unbind(0)):
                per_group[index] = group_keep
        return StackedKeepProbs(rows, per_group)

    def channel_scales(self, keep: StackedKeepProbs, alphas: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Every group's :func:`channel_scale` (the same values), built once per bucket layout: the groups of one
        layout (same channel count) share one repeat of their stacked keep probabilities."""
        scales: List[Optional[torch.Tensor]] = [None] * len(self.layouts)
        same_layout: Dict[BucketLayout, List[int]] = {}
        for index, layout in enumerate(self.layouts):
            if layout.num_buckets:
                same_layout.setdefault(layout, []).append(index)
            else:
                scales[index] = alphas[index].new_ones(layout.min_channels)
        for layout, indices in same_layout.items():
            rows = torch.stack([keep.per_group[i] for i in indices])
            ones = rows.new_ones(len(indices), layout.min_channels)
            stacked = torch.cat([ones, rows.repeat_interleave(layout.bucket_size, dim=1)], dim=1)
            for index, scale in zip(indices, stacked.unbind(0)):
                scales[index] = scale
        return scales

    def expected_widths(self, keep: StackedKeepProbs) -> torch.Tensor:
        """The expected widths ``min_channels + bucket_size * sum(keep)`` of the groups :attr:`variable`, as one
        vector (what :func:`expected_channels` gives each group)."""
        parts = []
        for (count, indices), rows in zip(self.stacks.items(), keep.rows):
            sizes = self._constants.get(f"bucket_size.{count}", [self.layouts[i].bucket_size for i in indices], rows)
            mins = self._constants.get(f"min_channels.{count}", [self.layouts[i].min_channels for i in indices],
                                       rows)
            parts.append(sizes * rows.sum(dim=-1) + mins)
        return parts[0] if len(parts) == 1 else torch.cat(parts)
