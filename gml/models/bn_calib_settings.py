"""The BatchNorm recalibration settings of a supernet config, read and checked in one place.

A supernet config states how a subnet's BatchNorm statistics are re-estimated before it is scored::

    search_eval_cfg = dict(..., bn_stats_calib_kwargs=dict(num_iters=-1, sync_params=True))

- ``num_iters``: training batches to recalibrate on, ``-1`` for the whole training split, else a count >= 1;
- ``sync_params``: average the recalibrated statistics across processes in distributed training.

The training-time ``DynamicDistEvalHook`` reads both; the subnet tools (``tools/test.py``,
``tools/search_subnet.py``, ``tools/export_subnet.py``) take ``num_iters`` as their default number of batches,
which their ``--calib-iters`` overrides when given (:func:`resolve_calib_iters`). Any other key, or a value of the
wrong kind, is a :class:`~gml.errors.GmlConfigError` naming its key path.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from ..errors import GmlConfigError

KWARGS_PATH = "search_eval_cfg.bn_stats_calib_kwargs"
WHOLE_SPLIT = -1  # ``num_iters``/``--calib-iters`` value that recalibrates on every training batch


@dataclasses.dataclass(frozen=True)
class BNCalibSettings:
    """``search_eval_cfg.bn_stats_calib_kwargs`` once checked; the defaults are those of an unset key."""
    num_iters: int = WHOLE_SPLIT
    sync_params: bool = True


def check_num_iters(value: Any, path: str) -> int:
    """``value`` when it is a batch count the recalibration accepts (``-1``: the whole split, or an int >= 1);
    a GmlConfigError naming ``path`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or (value != WHOLE_SPLIT and value < 1):
        raise GmlConfigError(path, f"expected -1 (the whole split) or a count >= 1, got {value!r}")
    return value


def parse_calib_kwargs(kwargs: Optional[Mapping], path: str = KWARGS_PATH) -> BNCalibSettings:
    """The checked settings of a ``bn_stats_calib_kwargs`` dict (None: the defaults)."""
    if kwargs is None:
        return BNCalibSettings()
    if not isinstance(kwargs, Mapping):
        raise GmlConfigError(path, f"expected a dict such as dict(num_iters=-1, sync_params=True), got {kwargs!r}")
    known = [field.name for field in dataclasses.fields(BNCalibSettings)]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise GmlConfigError(f"{path}.{unknown[0]}", f"unknown key (value {kwargs[unknown[0]]!r}); valid keys: "
                                                     f"{', '.join(known)}")
    settings = BNCalibSettings()
    if "num_iters" in kwargs:
        settings = dataclasses.replace(settings, num_iters=check_num_iters(kwargs["num_iters"], f"{path}.num_iters"))
    if "sync_params" in kwargs:
        sync = kwargs["sync_params"]
        if not isinstance(sync, bool):
            raise GmlConfigError(f"{path}.sync_params", f"expected True or False, got {sync!r}")
        settings = dataclasses.replace(settings, sync_params=sync)
    return settings


def calib_settings(cfg: Mapping) -> BNCalibSettings:
    """The settings of a loaded config's ``search_eval_cfg.bn_stats_calib_kwargs`` (defaults when unset, or when
    ``search_eval_cfg`` is None)."""
    search_eval = cfg.get("search_eval_cfg")
    if search_eval is None:
        return BNCalibSettings()
    if not isinstance(search_eval, Mapping):
        raise GmlConfigError("search_eval_cfg", f"expected a dict (or None), got {search_eval!r}")
    return parse_calib_kwargs(search_eval.get("bn_stats_calib_kwargs"))


def resolve_calib_iters(cfg: Mapping, cli_value: Optional[int]) -> int:
    """The number of batches a subnet tool recalibrates on: ``--calib-iters`` when given (``cli_value`` not None),
    else the config's ``search_eval_cfg.bn_stats_calib_kwargs.num_iters``, else the whole split. Both are
    checked, whichever applies."""
    settings = calib_settings(cfg)  # checked even when the command line wins: a config error is one anywhere
    if cli_value is not None:
        return check_num_iters(cli_value, "--calib-iters")
    return settings.num_iters
