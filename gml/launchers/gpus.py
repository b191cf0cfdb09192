"""GPU discovery and slot accounting for the local launcher."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Dict, List, Optional

from ..validation import Keyword, config_error, invalid, number


def visible_gpus(environ: Optional[Dict[str, str]] = None) -> List[str]:
    """The GPUs this controller may hand out: CUDA_VISIBLE_DEVICES when set (even empty), else nvidia-smi's list."""
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        return [g.strip() for g in environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


class GpuSlots:
    """Packs jobs onto GPUs. ``gpus_per_job`` >= 1 takes whole GPUs; a fraction (0.5, 0.25) packs 1/f jobs on
    one GPU; 0 leaves CUDA_VISIBLE_DEVICES alone (CPU jobs, or jobs that choose their own devices)."""

    def __init__(self, gpus: List[str], gpus_per_job: float, path: str = Keyword("gpus_per_job")):
        number(path, gpus_per_job, least=0, what="a number of GPUs")
        if gpus_per_job >= 1 and gpus_per_job != int(gpus_per_job):
            raise invalid(path, gpus_per_job, "a whole number of GPUs above 1")
        if 0 < gpus_per_job < 1 and abs(1 / gpus_per_job - round(1 / gpus_per_job)) > 1e-6:
            raise invalid(path, gpus_per_job, "a fraction 1/k (0.5, 0.25, ...) below 1")
        if gpus_per_job > 0 and len(gpus) < max(1, gpus_per_job):
            raise config_error(path, f"{gpus_per_job} GPU(s) per job requested but {len(gpus)} visible "
                                     f"({', '.join(gpus) or 'none'}); set CUDA_VISIBLE_DEVICES or gpus_per_job: 0")
        self.gpus = list(gpus)
        self.gpus_per_job = gpus_per_job
        self.per_gpu = round(1 / gpus_per_job) if 0 < gpus_per_job < 1 else 1
        self.used: Dict[str, int] = {g: 0 for g in self.gpus}

    @property
    def enabled(self) -> bool:
        return self.gpus_per_job > 0

    def free_jobs(self) -> Optional[int]:
        if not self.enabled:
            return None
        if self.gpus_per_job < 1:
            return sum(self.per_gpu - n for n in self.used.values())
        return sum(1 for n in self.used.values() if n == 0) // int(self.gpus_per_job)

    def take(self) -> List[str]:
        """GPUs for one job (fills partly used GPUs first); raises RuntimeError when none are free."""
        if not self.enabled:
            return []
        if self.gpus_per_job < 1:
            candidates = sorted((g for g in self.gpus if self.used[g] < self.per_gpu), key=lambda g: -self.used[g])
            chosen = candidates[:1]
        else:
            chosen = [g for g in self.gpus if self.used[g] == 0][:int(self.gpus_per_job)]
            if len(chosen) < self.gpus_per_job:
                chosen = []
        if not chosen:
            raise RuntimeError("no free GPU slot")
        for g in chosen:
            self.used[g] += 1
        return chosen

    def hold(self, gpus: List[str]) -> None:
        """Mark GPUs of an adopted job as used."""
        for g in gpus:
            if g in self.used:
                self.used[g] += 1

    def release(self, gpus: List[str]) -> None:
        for g in gpus:
            if self.used.get(g, 0) > 0:
                self.used[g] -= 1
