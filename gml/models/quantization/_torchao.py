"""The one door through which gml imports torchao's PT2E quantization (``torchao.quantization.pt2e``).

torchao is optional (``pip install gml[quantization]``): :func:`load_pt2e` imports it on first use and turns its
absence into a GmlConfigError at the quantizer's key path. Importing torchao on a CPU-only torch emits notices
that say nothing to a gml user, and :func:`load_pt2e` silences exactly them, only around that import:

- torchao's loader logs ``Failed to load .../_C_mxfp8...so`` / ``_C_cutlass_90a...so``: CUDA kernels that a CPU
  build cannot load (the CPU path does not use them);
- torch's pytree logs that torchao registers an Enum (``KernelPreference``) with ``register_constant``;
- ``torch.jit.script_method`` deprecation, raised by torchao modules decorated with it.
"""
from __future__ import annotations

import contextlib
import logging
import re
import warnings
from types import SimpleNamespace
from typing import Iterator

from ...errors import GmlConfigError

#: (logger name, message regex) of the log records silenced while torchao is imported.
SILENCED_LOGS = (
    ("torchao", r"Failed to load .*_C_(mxfp8|cutlass_90a)"),
    ("torch.utils._pytree", r".*is an Enum subclass and is now natively supported by torch\.compile"),
)
#: Message regexes of the warnings silenced while torchao is imported.
SILENCED_WARNINGS = (r"`torch\.jit\.script_method` is deprecated",)

_PT2E = None


class _DropMatching(logging.Filter):
    def __init__(self, pattern: str):
        super().__init__()
        self.pattern = re.compile(pattern)

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.match(record.getMessage())


@contextlib.contextmanager
def quiet_torchao_import() -> Iterator[None]:
    """Run the body with :data:`SILENCED_LOGS` and :data:`SILENCED_WARNINGS` dropped; everything else passes."""
    filters = [(logging.getLogger(name), _DropMatching(pattern)) for name, pattern in SILENCED_LOGS]
    for logger, log_filter in filters:
        logger.addFilter(log_filter)
    try:
        with warnings.catch_warnings():
            for pattern in SILENCED_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for logger, log_filter in filters:
            logger.removeFilter(log_filter)


def load_pt2e(path: str) -> SimpleNamespace:
    """torchao's PT2E entry points gml uses (imported once); without torchao, a GmlConfigError at ``path``."""
    global _PT2E
    if _PT2E is None:
        try:
            with quiet_torchao_import():
                import torchao
                from torchao.quantization import pt2e
                from torchao.quantization.pt2e import quantize_pt2e
                from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as x86
        except ImportError as err:
            raise GmlConfigError(path, f"gml.PT2EQuantizer needs the torchao package ({err}); install it with "
                                       f"pip install 'gml[quantization]'") from None
        _PT2E = SimpleNamespace(
            version=torchao.__version__, prepare_qat=quantize_pt2e.prepare_qat_pt2e,
            convert=quantize_pt2e.convert_pt2e,
            to_train=pt2e.move_exported_model_to_train, to_eval=pt2e.move_exported_model_to_eval,
            enable_observer=pt2e.enable_observer, disable_observer=pt2e.disable_observer,
            enable_fake_quant=pt2e.enable_fake_quant, disable_fake_quant=pt2e.disable_fake_quant,
            FakeQuantizeBase=pt2e.FakeQuantizeBase, X86InductorQuantizer=x86.X86InductorQuantizer,
            x86_config=x86.get_default_x86_inductor_quantization_config)
    return _PT2E
