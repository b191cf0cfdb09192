"""Backends and qconfigs of the eager-mode quantizer, validated as user input (``algorithm.quantizer.*``).

``custom_qconfig`` adjusts the backend's default QAT qconfig (``get_default_qat_qconfig(backend)``) instead of
replacing it: each of its two optional parts, ``activation`` and ``weight``, overrides some arguments of that side's
fake-quantizer, e.g. ``custom_qconfig=dict(activation=dict(averaging_constant=0.05), weight=dict(
qscheme='per_tensor_symmetric', observer='MovingAverageMinMaxObserver'))``. Torch objects are named by strings so
that configs stay plain data: observers by class name (:data:`OBSERVERS`), ``dtype`` and ``qscheme`` by their torch
attribute names (:data:`DTYPES`, :data:`QSCHEMES`).
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional

import torch

from ...errors import GmlConfigError
from ...validation import boolean, integer, invalid, number, one_of
from ._ao import observers, quiet_torch_ao, tq

#: Arguments of a fake-quantizer that ``custom_qconfig.activation`` / ``.weight`` may set.
QCONFIG_ARGS = ("observer", "quant_min", "quant_max", "dtype", "qscheme", "reduce_range", "averaging_constant")
OBSERVERS = ("MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
             "MovingAveragePerChannelMinMaxObserver", "HistogramObserver")
DTYPES = ("quint8", "qint8")
QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric")


def supported_backends() -> List[str]:
    """The quantized engines this torch build runs (``torch.backends.quantized.supported_engines`` minus 'none')."""
    return [e for e in torch.backends.quantized.supported_engines if e != "none"]


def check_backend(backend: Any, path: str) -> str:
    supported = supported_backends()
    if backend not in supported:
        raise invalid(path, backend, f"a quantized engine of this PyTorch build ({torch.__version__}): "
                                     f"{', '.join(supported)}")
    return backend


def build_qat_qconfig(backend: str, custom: Optional[Mapping], path: str):
    """The backend's default QAT qconfig with ``custom`` (see the module docs) applied; errors name ``path``."""
    with quiet_torch_ao():
        default = tq.get_default_qat_qconfig(backend)
    if custom is None:
        return default
    if not isinstance(custom, Mapping):
        raise invalid(path, custom, "a dict with 'activation' and/or 'weight'")
    unknown = sorted(set(custom) - {"activation", "weight"})
    if unknown:
        raise GmlConfigError(f"{path}.{unknown[0]}", "unknown key; custom_qconfig takes 'activation' and 'weight'")
    sides = {side: _override(getattr(default, side), custom.get(side), f"{path}.{side}")
             for side in ("activation", "weight")}
    qconfig = tq.QConfig(**sides)
    for side, factory in sides.items():  # build each once so that an inconsistent mix fails here, with its path
        try:
            with quiet_torch_ao():
                factory()
        except (AssertionError, ValueError, TypeError, RuntimeError) as err:
            raise GmlConfigError(f"{path}.{side}", f"torch refuses these fake-quantizer arguments: {err}") from None
    return qconfig


def _override(factory, overrides: Optional[Mapping], path: str):
    if overrides is None:
        return factory
    if not isinstance(overrides, Mapping):
        raise invalid(path, overrides, "a dict of fake-quantizer arguments")
    kwargs = dict(factory.p.keywords)
    for key, value in overrides.items():
        if key not in QCONFIG_ARGS:
            raise GmlConfigError(f"{path}.{key}", f"unknown key; allowed: {', '.join(QCONFIG_ARGS)}")
        kwargs[key] = _torch_value(key, value, f"{path}.{key}")
    moving_average = kwargs["observer"].__name__.startswith("MovingAverage")
    # The fused fake-quantizer (the backends' default) only works with moving-average observers.
    fake_quant = tq.FusedMovingAvgObsFakeQuantize if moving_average else tq.FakeQuantize
    if not moving_average:
        kwargs.pop("averaging_constant", None)
    return fake_quant.with_args(**kwargs)


def _torch_value(key: str, value: Any, path: str) -> Any:
    choices = {"observer": OBSERVERS, "dtype": DTYPES, "qscheme": QSCHEMES}.get(key)
    if choices is not None:
        one_of(path, value, choices)
        return getattr(observers, value) if key == "observer" else getattr(torch, value)
    if key == "reduce_range":
        return boolean(path, value)
    if key in ("quant_min", "quant_max"):
        return integer(path, value)
    if key == "averaging_constant":
        return number(path, value, above=0, most=1)
    return value
