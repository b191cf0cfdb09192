"""The child side of a search: how a training job tells gml its scalars.

The job environment is the contract. gml's launchers set, for every job:

- ``GML_TASK``: the task name; ``GML_JOB_ID``: the job's number in the task;
- ``GML_JOB_DIR``: the job's directory (``.search-run/tasks/<task>/jobs/all/<id>``), where ``report`` appends to
  ``scalars.jsonl``;
- ``CUDA_VISIBLE_DEVICES``: the GPUs granted to the job (local launcher).

``report`` appends one JSON line per call and closes the file again, so that a controller tailing the file sees
each call as soon as it returns, on a local disk as on a cluster's shared filesystem. Outside a search (no
``GML_JOB_DIR``) it does nothing, so training code can call it unconditionally.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import time
from typing import Optional

SCALARS_FILE = "scalars.jsonl"

_auto_step = {"next": 0}


def job_dir() -> Optional[str]:
    """The current job's directory, or None outside a gml search."""
    return os.environ.get("GML_JOB_DIR") or None


def in_search() -> bool:
    return job_dir() is not None


def _as_float(name: str, value) -> float:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars, without importing either
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"gml.report: scalar {name!r} must be a real number, got {value!r}")
    return float(value)


def report(step: Optional[int] = None, **scalars) -> bool:
    """Record ``scalars`` (name -> number) at ``step`` for the running job.

    ``step`` is the epoch or iteration the values belong to; when omitted, calls are numbered 0, 1, 2, ... in this
    process. Names may contain spaces (``report(**{"Test Acc": 0.9})``). Returns True when the values were
    recorded, False outside a search. Raises TypeError for non-numeric values.
    """
    directory = job_dir()
    if step is None:
        step = _auto_step["next"]
    elif isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(f"gml.report: step must be an integer, got {step!r}")
    values = {name: _as_float(name, value) for name, value in scalars.items()}
    _auto_step["next"] = int(step) + 1
    if directory is None or not values:
        return False
    line = json.dumps({"step": int(step), "time": time.time(),
                       "scalars": {k: (v if math.isfinite(v) else repr(v)) for k, v in values.items()}})
    # One write() of one line with O_APPEND: concurrent writers from the same job never interleave lines.
    fd = os.open(os.path.join(directory, SCALARS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    return True
