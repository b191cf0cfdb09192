"""Testing a subnet of a trained supernet with tools/test.py: recalibrate its BatchNorm statistics first.

A supernet (``gml.BigNAS``, ``gml.SPOS``, a ``gml.DMCP`` supernet) accumulates its BatchNorm running statistics
over the many subnets it trained, so they fit none of them; the subnet tools (``tools/search_subnet.py``,
``tools/export_subnet.py``, the training-time ``DynamicDistEvalHook``) re-estimate them for the subnet they score
(:func:`gml.models.subnet.calibrate_active`). ``tools/test.py`` does the same before it tests the active subnet
(``algorithm.mutable_cfg``, a DMCP supernet's ``algorithm.channel_cfg``, or the default one) of a checkpoint that
trained a supernet.

Which checkpoints trained a supernet is read from the training config the checkpoint records
(``meta['config']``, written by ``tools/train.py``): one trained with ``algorithm.mutable_cfg`` (a subnet trained
alone on the shared weights) or ``algorithm.retraining=True`` (a pruned network) holds statistics of that network
and is left untouched, as is any model that is not a supernet (a plain config, a retraining DMCP config).
"""
from __future__ import annotations

import ast
import enum
from typing import Mapping, Optional

from torch import nn

from .subnet import build_calib_loader, calibrate_active


class BNCalibration(str, enum.Enum):
    """``tools/test.py --bn-calib``: ``auto`` recalibrates when the checkpoint trained a supernet (or records no
    training config), ``always`` whenever the tested model is a supernet, ``never`` keeps the checkpoint's
    statistics."""
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def trained_one_network(meta: Optional[Mapping]) -> Optional[bool]:
    """Whether the checkpoint's recorded training config trained one fixed network (``algorithm.mutable_cfg`` set,
    or ``algorithm.retraining=True``): True; a supernet (an ``algorithm`` without either): False; None when the
    checkpoint records no readable config. The config text is parsed, never executed."""
    text = (meta or {}).get("config")
    if not isinstance(text, str):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "algorithm" for t in node.targets):
            fields = _dict_fields(node.value)
            if fields is None:
                return None
            retraining = fields.get("retraining")
            return _is_set(fields.get("mutable_cfg")) or (
                isinstance(retraining, ast.Constant) and retraining.value is True)
    return None


def _dict_fields(node: ast.AST) -> Optional[dict]:
    """The key -> value-node map of a ``dict(...)`` call or a ``{...}`` literal with string keys."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {kw.arg: kw.value for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {k.value: v for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return None


def _is_set(node: Optional[ast.AST]) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return bool(node.value)
    fields = _dict_fields(node)
    return bool(fields) if fields is not None else True


def prepare_subnet_for_test(algorithm: nn.Module, cfg, checkpoint_meta: Optional[Mapping],
                            policy: BNCalibration = BNCalibration.AUTO, num_iters: int = -1) -> Optional[str]:
    """Recalibrate the BatchNorm statistics of ``algorithm``'s active subnet on ``cfg``'s training split (as
    ``tools/search_subnet.py --eval-subnet`` does) when ``policy`` and the checkpoint call for it (module
    docstring). Returns the line a tool prints about it, None when the model is not a supernet or ``policy`` is
    ``never``."""
    if not getattr(algorithm, "is_supernet", False) or policy is BNCalibration.NEVER:
        return None
    trained_one = trained_one_network(checkpoint_meta)
    if policy is BNCalibration.AUTO and trained_one:
        return ("BatchNorm statistics kept: the checkpoint trained one network (algorithm.mutable_cfg or "
                "algorithm.retraining in its training config)")
    used = calibrate_active(algorithm, build_calib_loader(cfg), num_iters)
    if policy is BNCalibration.ALWAYS:
        why = "--bn-calib always"
    elif trained_one is False:
        why = "the checkpoint trained a supernet"
    else:
        why = "the checkpoint records no training config"
    return f"recalibrated the tested subnet's BatchNorm statistics on {used} training batches ({why})"
