"""``metrics_from``: which metric sources a search reads for every job, parsed into typed specs, and the sources
opened for one job.

YAML (top level of a search config; every entry optional, gml's own ``scalars.jsonl`` is always read)::

    step_attribute: epoch                 # default step axis of every source (see ingest.base)
    metrics_from:
      csv: lightning_logs/*/metrics.csv   # a glob under $GML_JOB_DIR, or {path: ..., step_attribute: ...}
      jsonl: {path: 'logs/*.jsonl', step_attribute: iter}
      mlflow: true                        # or {step_attribute: epoch, tracking_uri: 'http://host:5000'}
      stdout: 'val_acc=([0-9.]+)'         # or {patterns: {name: regex, ...}, step_attribute: ...}
      tensorboard: {step_attribute: epoch}

A stdout pattern given as one string names its scalar by its named groups, or, with one unnamed group, by the
searcher's ``reward_attribute``. Paths are relative to the job's directory ($GML_JOB_DIR) and may not leave it.
"""
from __future__ import annotations

import dataclasses
import enum
import os
import re
from typing import Any, Dict, List, Optional

from ...errors import GmlConfigError
from .csv_file import DEFAULT_PATTERN as CSV_DEFAULT, CsvMetrics
from .json_lines import DEFAULT_PATTERN as JSONL_DEFAULT, JsonLinesMetrics
from .mlflow_rest import check_tracking_uri
from .mlflow_server import MlflowServerMetrics, RUN_CONTEXT_VARIABLE, job_environment_for_server
from .mlflow_store import DB_FILE, MlflowMetrics
from .stdout_regex import StdoutRegexMetrics
from .tensorboard import TensorBoardMetrics


class SourceKind(enum.Enum):
    CSV = "csv"
    JSONL = "jsonl"
    MLFLOW = "mlflow"
    STDOUT = "stdout"
    TENSORBOARD = "tensorboard"


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    kind: SourceKind
    step_attribute: Optional[str] = None
    path: Optional[str] = None                          # csv / jsonl: a glob under the job directory
    patterns: Dict[str, str] = dataclasses.field(default_factory=dict)   # stdout: scalar name -> regex
    tracking_uri: Optional[str] = None                  # mlflow: a tracking server (else the job's own store)


def _step_attribute(value: Any, where: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise GmlConfigError(where, f"must be the name of a scalar/column (e.g. 'epoch'), got {value!r}")
    return value


def _relative_glob(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GmlConfigError(where, f"must be a glob relative to the job directory (e.g. 'logs/*.csv'), "
                                    f"got {value!r}")
    if os.path.isabs(value) or ".." in value.replace("\\", "/").split("/"):
        raise GmlConfigError(where, f"must stay inside the job directory ($GML_JOB_DIR), got {value!r}")
    return value


def _regex(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise GmlConfigError(where, f"must be a regular expression string, got {value!r}")
    try:
        compiled = re.compile(value)
    except re.error as err:
        raise GmlConfigError(where, f"is not a valid regular expression ({err}): {value!r}") from None
    if compiled.groups == 0:
        raise GmlConfigError(where, f"needs a group around the value, e.g. 'val_acc=([0-9.]+)', got {value!r}")
    return value


def _keys(entry: Dict[str, Any], allowed: tuple, where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise GmlConfigError(f"{where}.{key}", f"unknown key; valid: {', '.join(allowed)}")


def parse_metrics_from(raw: Any, default_step: Any = None, reward_attribute: Optional[str] = None,
                       where: str = "metrics_from") -> List[SourceSpec]:
    """The sources of a ``metrics_from`` mapping (None: none besides gml's own), each with its step axis."""
    default = _step_attribute(default_step, "step_attribute")
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise GmlConfigError(where, f"must be a mapping of source -> settings "
                                    f"({', '.join(k.value for k in SourceKind)}), got {raw!r}")
    specs = []
    for name, value in raw.items():
        at = f"{where}.{name}"
        try:
            kind = SourceKind(name)
        except ValueError:
            raise GmlConfigError(at, f"unknown metric source; valid: "
                                     f"{', '.join(k.value for k in SourceKind)}") from None
        if value is False or value is None:
            continue
        entry = {} if value is True else value
        if kind in (SourceKind.CSV, SourceKind.JSONL) and isinstance(value, str):
            entry = {"path": value}
        if kind is SourceKind.STDOUT and isinstance(value, str):
            entry = {"patterns": value}
        if not isinstance(entry, dict):
            raise GmlConfigError(at, f"must be true, a mapping of settings or (csv/jsonl: a path, stdout: a "
                                     f"pattern), got {value!r}")
        step = _step_attribute(entry.get("step_attribute"), f"{at}.step_attribute") or default
        if kind in (SourceKind.CSV, SourceKind.JSONL):
            _keys(entry, ("path", "step_attribute"), at)
            fallback = CSV_DEFAULT if kind is SourceKind.CSV else JSONL_DEFAULT
            specs.append(SourceSpec(kind, step, _relative_glob(entry.get("path", fallback), f"{at}.path")))
        elif kind is SourceKind.STDOUT:
            _keys(entry, ("patterns", "step_attribute"), at)
            specs.append(SourceSpec(kind, step, patterns=_patterns(entry.get("patterns"), f"{at}.patterns",
                                                                   reward_attribute)))
        elif kind is SourceKind.MLFLOW:
            _keys(entry, ("step_attribute", "tracking_uri"), at)
            uri = entry.get("tracking_uri")
            uri = None if uri is None else check_tracking_uri(uri, f"{at}.tracking_uri")
            specs.append(SourceSpec(kind, step, tracking_uri=uri))
        else:
            _keys(entry, ("step_attribute",), at)
            specs.append(SourceSpec(kind, step))
    return specs


def _patterns(raw: Any, where: str, reward_attribute: Optional[str]) -> Dict[str, str]:
    if isinstance(raw, str):
        compiled = re.compile(_regex(raw, where))
        if compiled.groupindex:
            return {next(iter(compiled.groupindex)): raw}     # the names come from the groups
        if not reward_attribute:
            raise GmlConfigError(where, "a pattern with one unnamed group reports the reward attribute, but "
                                        "searcher.reward_attribute is not set: name the group, (?P<name>...)")
        return {reward_attribute: raw}
    if not isinstance(raw, dict) or not raw:
        raise GmlConfigError(where, f"must be a regex or a mapping of scalar name -> regex, got {raw!r}")
    return {str(name): _regex(regex, f"{where}.{name}") for name, regex in raw.items()}


def open_sources(specs: List[SourceSpec], job_dir: str, log_path: Optional[str],
                 cursors: Optional[Dict[str, dict]] = None, warn=None) -> Dict[str, object]:
    """One source object per spec for one job, keyed by the kind's name, resumed from ``cursors``."""
    cursors = cursors or {}
    opened: Dict[str, object] = {}
    for spec in specs:
        key = spec.kind.value
        cursor = cursors.get(key)
        if spec.kind is SourceKind.CSV:
            opened[key] = CsvMetrics(job_dir, spec.path, spec.step_attribute, cursor)
        elif spec.kind is SourceKind.JSONL:
            opened[key] = JsonLinesMetrics(job_dir, spec.path, spec.step_attribute, cursor)
        elif spec.kind is SourceKind.MLFLOW and spec.tracking_uri:
            opened[key] = MlflowServerMetrics(job_dir, spec.tracking_uri, spec.step_attribute, cursor, warn=warn)
        elif spec.kind is SourceKind.MLFLOW:
            opened[key] = MlflowMetrics(job_dir, spec.step_attribute, cursor)
        elif spec.kind is SourceKind.TENSORBOARD:
            opened[key] = TensorBoardMetrics(job_dir, spec.step_attribute, cursor, warn=warn)
        elif log_path:
            opened[key] = StdoutRegexMetrics(log_path, spec.patterns, spec.step_attribute, cursor)
    return opened


def job_environment(specs: List[SourceSpec], job_dir: str) -> Dict[str, str]:
    """Environment variables a job needs so that its sources land where they are read: its own MLflow store,
    unbuffered Python output for stdout patterns, or its runs on a tracking server tagged as its own."""
    env: Dict[str, str] = {}
    kinds = {s.kind for s in specs}
    for spec in specs:
        if spec.kind is SourceKind.MLFLOW and spec.tracking_uri:
            env.update(job_environment_for_server(spec.tracking_uri, job_dir, os.environ.get(RUN_CONTEXT_VARIABLE)))
        elif spec.kind is SourceKind.MLFLOW:
            env["MLFLOW_TRACKING_URI"] = f"sqlite:///{os.path.join(os.path.abspath(job_dir), DB_FILE)}"
    if SourceKind.STDOUT in kinds:
        env["PYTHONUNBUFFERED"] = "1"
    return env
