"""Loading mmcv checkpoints safely under PyTorch >= 2.6.

Since PyTorch 2.6 ``torch.load`` defaults to ``weights_only=True``: it unpickles only tensors, containers and
primitive values. mmcv's checkpoints add a ``meta`` dict that can hold numpy scalars and arrays (a seed drawn by
numpy, a best score from an EvalHook), which that loader refuses, so ``--resume-from`` and ``--load-from`` fail.

Importing this module (``gml.models`` does) replaces mmcv's loader for local paths with :func:`load_from_local`,
which keeps ``weights_only=True`` and allows exactly the numpy globals needed to rebuild numeric scalars and arrays
(:data:`NUMPY_SAFE_GLOBALS`), only for the duration of that load. Nothing is ever loaded with
``weights_only=False``: a checkpoint that pickles other objects still fails, with a message saying why.
"""
from __future__ import annotations

import os.path as osp
import warnings
from typing import Callable, List, Optional, Union

import numpy as np
import torch
from mmcv.runner import CheckpointLoader


def _numpy_safe_globals() -> List:
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    dtype_classes = [type(np.dtype(code)) for code in "?bBhHiIlLqQefdgFDGUSMm"]
    return [multiarray.scalar, multiarray._reconstruct, np.ndarray, np.dtype, *dtype_classes]


#: The globals a weights-only load may use besides torch's defaults: numpy scalars/arrays of plain dtypes.
NUMPY_SAFE_GLOBALS = _numpy_safe_globals()


def safe_torch_load(filename: str, map_location: Union[str, Callable, None] = None):
    """``torch.load(filename, weights_only=True)`` that also accepts numpy scalars/arrays in the pickle."""
    with torch.serialization.safe_globals(NUMPY_SAFE_GLOBALS), warnings.catch_warnings():
        # torch rebuilds quantized tensors (int8 checkpoints, tools/quantize.py) through its deprecated typed
        # storages and says so on every load; the notice is about torch internals, not the user's checkpoint.
        warnings.filterwarnings("ignore", message=r"TypedStorage is deprecated")
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except Exception as err:  # torch raises pickle.UnpicklingError for a refused global
            if "Weights only load failed" not in str(err):
                raise
            raise RuntimeError(
                f"cannot load checkpoint {filename!r} safely: it pickles objects other than tensors, containers, "
                f"numbers and numpy scalars/arrays, and gml loads checkpoints with weights_only=True. If you trust the "
                f"file, allow the class named below with torch.serialization.add_safe_globals([...]) before loading."
                f"\n{err}") from None


@CheckpointLoader.register_scheme(prefixes="", force=True)
def load_from_local(filename: str, map_location: Union[str, Callable, None] = None):
    """mmcv's loader for local paths (prefix ''), made to work with weights-only loading. See the module docs."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f"{filename} can not be found.")
    return safe_torch_load(filename, map_location=map_location)


def is_installed() -> bool:
    """Whether mmcv's local-path loader is gml's (tools check this before resuming)."""
    return CheckpointLoader._schemes.get("") is load_from_local


__all__ = ["NUMPY_SAFE_GLOBALS", "safe_torch_load", "load_from_local", "is_installed"]
