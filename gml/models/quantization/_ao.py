"""The one door through which gml calls PyTorch's eager-mode quantization API (``torch.ao.quantization``).

PyTorch 2.x marks that API deprecated in favour of torchao / PT2E and warns on every call (``DeprecationWarning:
torch.ao.quantization is deprecated ...``), on every observer built with ``reduce_range`` (the backends' own default
qconfigs do), and once per process when a quantized tensor is first created. The API still works on this torch and
is the path gml's :class:`~gml.models.quantization.TorchDefaultQuantizer` uses by design (see docs/quantization.md),
so those notices say nothing to a gml user (nor do TorchScript's, the format eager-mode int8 models deploy in): :func:`quiet_torch_ao` silences exactly them, and only around gml's own
calls. Every other warning (from the user's model, from mmcv, other torch modules) passes through unchanged.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

#: Message patterns (regexes, matched at the start) of the notices :func:`quiet_torch_ao` silences.
SILENCED_NOTICES = (
    r"torch\.ao\.quantization is deprecated",
    r"Please use quant_min and quant_max to specify the range for observers",
    r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized tensor creation functions",
    r"must run observer before calling calculate_qparams",
    r"TypedStorage is deprecated",  # torch.load/save of quantized tensors go through typed storages
    r"`torch\.jit\.\w+` is deprecated",  # TorchScript: the deployment format of eager-mode int8 models
)


@contextlib.contextmanager
def quiet_torch_ao() -> Iterator[None]:
    """Run the body with the deprecation notices of ``torch.ao.quantization`` (:data:`SILENCED_NOTICES`) ignored."""
    with warnings.catch_warnings():
        for pattern in SILENCED_NOTICES:
            warnings.filterwarnings("ignore", message=pattern)
        yield


with quiet_torch_ao():
    import torch.ao.nn.quantized as nnq  # noqa: E402
    import torch.ao.quantization as tq  # noqa: E402
    from torch.ao.quantization import observer as observers  # noqa: E402

__all__ = ["SILENCED_NOTICES", "quiet_torch_ao", "tq", "nnq", "observers"]
