"""Builders for gml's mm side: algorithms, models, mutators.

``tools/train.py`` builds ``cfg.algorithm`` when a config has one and ``cfg.model`` otherwise
(:func:`build_model_from_config`), so an existing mm config runs unchanged and an ``algorithm`` field wraps its model.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ..errors import GmlConfigError
from ..registry import check_keywords
from .registry import ALGORITHMS, MODELS, MUTATORS


def _check_cfg(cfg: Any, path: str) -> None:
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise GmlConfigError(path, f"expected a dict with a 'type' key, got {cfg!r}")


def _unwrapped(err: GmlConfigError) -> GmlConfigError:
    """The error a class raised, without the ``<ClassName>: `` prefixes mmcv's ``build_from_cfg`` adds at each level
    of nesting (it re-raises ``type(e)(f'{cls}: {e}')``, the original being the new error's ``__context__``), so the
    message starts with the key path. Errors that gml code re-raised with more context are kept as they are."""
    while isinstance(err.__context__, GmlConfigError):
        prefix, sep, rest = str(err).partition(": ")
        if not (sep and prefix.isidentifier() and rest == str(err.__context__)):
            break
        err = err.__context__
    return err


def _build(registry, cfg: Mapping, default_args: Optional[dict]):
    try:
        return registry.build(cfg, default_args=default_args)
    except GmlConfigError as err:
        raise _unwrapped(err) from None


#: The algorithm an ``algorithm`` dict without a ``type`` means, by the key that marks it: the QAT form
#: ``algorithm=dict(model=..., quantizer=dict(...))``. Any other type-less algorithm dict is an error.
IMPLIED_ALGORITHM_TYPES = (("quantizer", "gml.QuantizationAwareTraining"),)


def _known_algorithms() -> str:
    return ", ".join(f"gml.{name}" for name in sorted(ALGORITHMS.module_dict))


def algorithm_type(cfg: Any) -> str:
    """The ``type`` of the ``algorithm`` config ``cfg``: its own, or the one :data:`IMPLIED_ALGORITHM_TYPES` gives
    a type-less dict; a GmlConfigError at ``algorithm.type`` naming the known types otherwise."""
    if not isinstance(cfg, Mapping):
        raise GmlConfigError("algorithm", f"expected a dict with a 'type' key, got {cfg!r}")
    if "type" in cfg:
        return cfg["type"]
    for key, implied in IMPLIED_ALGORITHM_TYPES:
        if key in cfg:
            return implied
    implied = "; ".join(f"a dict with '{key}' and no type means {name}" for key, name in IMPLIED_ALGORITHM_TYPES)
    raise GmlConfigError("algorithm.type", f"missing; expected one of {_known_algorithms()} ({implied})")


def build_algorithm(cfg: Mapping, default_args: Optional[dict] = None):
    """Build an algorithm (``cfg['type']`` in :data:`ALGORITHMS`, e.g. ``'gml.BigNAS'``; see :func:`algorithm_type`
    for a dict without one) from its config dict; a key its class does not take is a GmlConfigError naming
    ``algorithm.<key>``, an unknown type one naming ``algorithm.type``."""
    type_name = algorithm_type(cfg)
    cls = ALGORITHMS.get(type_name) if isinstance(type_name, str) else None
    if cls is None and not isinstance(type_name, type):
        raise GmlConfigError("algorithm.type", f"unknown algorithm {type_name!r}; expected one of "
                                               f"{_known_algorithms()}")
    if cls is not None:
        check_keywords(cls, {k: v for k, v in cfg.items() if k != "type"}, set(), "algorithm")
    return _build(ALGORITHMS, {**cfg, "type": type_name}, default_args)


def build_model(cfg: Mapping, default_args: Optional[dict] = None):
    """Build a model through gml's MODELS: ``'gml.X'``, ``'mmcls.X'`` and unscoped mmcls names all resolve."""
    _check_cfg(cfg, "model")
    return _build(MODELS, cfg, default_args)


def build_mutator(cfg: Mapping, default_args: Optional[dict] = None):
    _check_cfg(cfg, "mutator")
    return _build(MUTATORS, cfg, default_args)


def load_config(path: str, cfg_options: Optional[Mapping] = None):
    """The ``mmcv.Config`` of the config file ``path`` with ``cfg_options`` (a tool's ``--cfg-options``, dotted key
    paths to values, as mmcv's ``DictAction`` parses them) merged in when given."""
    from mmcv import Config

    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model_from_config(cfg) -> Any:
    """The module a training/testing tool runs: ``cfg.algorithm`` when present (not None), else ``cfg.model``.

    ``cfg`` is an ``mmcv.Config`` (or mapping). Raises :class:`GmlConfigError` when neither key is set.
    """
    algorithm = cfg.get("algorithm")
    if algorithm is not None:
        return build_algorithm(algorithm)
    model = cfg.get("model")
    if model is None:
        raise GmlConfigError("model", "the config has neither an 'algorithm' nor a 'model' field")
    return build_model(model)
