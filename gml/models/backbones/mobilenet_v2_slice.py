"""``MobileNetV2Slice``: mmcls's MobileNetV2 under gml's name, the backbone gml prunes with DMCP.

It takes exactly mmcls ``MobileNetV2``'s keys (``widen_factor``, ``out_indices``, ``frozen_stages``, ``conv_cfg``,
``norm_cfg``, ``act_cfg``, ``norm_eval``, ``with_cp``, ``init_cfg``) and builds the same module (same layers, same
state-dict keys), so:

- on its own (a plain ``mmcls.ImageClassifier`` config) it is the full-width MobileNetV2 and trains as one;
- as the backbone of ``gml.DMCP``'s model, DMCP treats it as ``mmcls.MobileNetV2`` (see
  :mod:`gml.models.pruning.channel_space`): the same channel groups, the same supernet widening by
  ``mutator.width.max``, the same export to ``gml.PrunedBackbone``.

Its slimmable form is the one DMCP makes of any supported mmcls backbone (its convs / BatchNorms swapped for gml's
slice ops); it has no ``search_space`` of its own (no BigNAS-style search of depth, kernel or expansion).

Unlike mmcls's class, bad keys are :class:`GmlConfigError` naming the key path (``<path>.<key>``).
"""
from __future__ import annotations

from typing import Any, Mapping

from mmcls.models.backbones.mobilenet_v2 import MobileNetV2

from ...registry import check_keywords
from ...validation import boolean, integer, invalid, mapping, number
from ..registry import BACKBONES

NUM_STAGES = 8  # mmcls MobileNetV2's out_indices / frozen_stages: layer1..layer7 are 0..6, the last 1x1 conv is 7


def check_mobilenet_v2_kwargs(kwargs: Mapping[str, Any], path: str) -> None:
    """Raise a GmlConfigError naming ``path.<key>`` for a key mmcls ``MobileNetV2`` does not take or a value it
    would refuse (or misread: a bool for an int, a non-positive width)."""
    check_keywords(MobileNetV2, dict(kwargs), set(), path)
    if "widen_factor" in kwargs:
        number(f"{path}.widen_factor", kwargs["widen_factor"], above=0)
    if "out_indices" in kwargs:
        indices = kwargs["out_indices"]
        if not isinstance(indices, (list, tuple)) or not indices:
            raise invalid(f"{path}.out_indices", indices, f"a non-empty list of stage indices in [0, {NUM_STAGES - 1}]")
        for i, index in enumerate(indices):
            integer(f"{path}.out_indices[{i}]", index, least=0, most=NUM_STAGES - 1)
    if "frozen_stages" in kwargs:
        integer(f"{path}.frozen_stages", kwargs["frozen_stages"], least=-1, most=NUM_STAGES - 1)
    for key in ("norm_eval", "with_cp"):
        if key in kwargs:
            boolean(f"{path}.{key}", kwargs[key])
    for key in ("conv_cfg", "norm_cfg", "act_cfg"):
        if key in kwargs:
            mapping(f"{path}.{key}", kwargs[key], optional=True)


@BACKBONES.register_module()
class MobileNetV2Slice(MobileNetV2):
    """mmcls ``MobileNetV2`` (same keys, same module) that gml's DMCP prunes; see the module docs."""

    def __init__(self, **kwargs: Any):
        check_mobilenet_v2_kwargs(kwargs, "backbone")
        super().__init__(**kwargs)
