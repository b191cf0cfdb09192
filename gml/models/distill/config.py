"""Checked building of distillation parts from config dicts: every mistake is a GmlConfigError at its key path.

Connectors, losses and heads are built through gml's MODELS registry (so ``'gml.X'`` and unscoped names resolve);
an unknown type lists the closest registered names, an unknown key lists the keys the class takes.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ...errors import GmlConfigError
from ...registry import check_keywords
from ...validation import KeywordError, invalid, nearest_hint
from ..registry import MODELS


def build_part(cfg: Any, path: str, expected: type = object, **defaults: Any):
    """Build ``cfg`` (a dict with ``type``) from gml's MODELS; the result must be an instance of ``expected``.

    ``defaults`` are passed to the class when it takes them and the config does not set them.
    """
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise invalid(path, cfg, "a dict with a 'type' key")
    type_name = cfg["type"]
    cls = MODELS.get(type_name) if isinstance(type_name, str) else type_name
    if not isinstance(cls, type):
        hint = nearest_hint(str(type_name).split(".")[-1], MODELS.module_dict, shown=lambda name: "gml." + name)
        raise GmlConfigError(f"{path}.type", f"unknown type {type_name!r}{hint}")
    if not issubclass(cls, expected):
        raise GmlConfigError(f"{path}.type", f"{type_name!r} is a {cls.__name__}, expected a {expected.__name__}")
    kwargs = {k: v for k, v in cfg.items() if k != "type"}
    check_keywords(cls, kwargs, set(), path)
    for key, value in defaults.items():
        kwargs.setdefault(key, value)
    try:
        return cls(**kwargs)
    except KeywordError as err:
        raise err.under(path) from None
    except GmlConfigError:  # a part's own full key path
        raise
    except (TypeError, ValueError) as err:
        raise GmlConfigError(path, f"{cls.__name__}: {err}") from None


def check_keys(cfg: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """``cfg`` as a dict after checking it is a mapping with every required key and no unknown one."""
    if not isinstance(cfg, Mapping):
        raise invalid(path, cfg, "a dict")
    required, optional = list(required), list(optional)
    for key in cfg:
        if key not in required and key not in optional:
            raise GmlConfigError(f"{path}.{key}", f"unknown key; valid: {', '.join(required + optional)}")
    for key in required:
        if key not in cfg:
            raise GmlConfigError(f"{path}.{key}", "required key is missing")
    return dict(cfg)
