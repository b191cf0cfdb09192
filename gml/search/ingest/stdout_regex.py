"""Scalars from a job's console output, by regular expressions (``metrics_from: {stdout: 'val_acc=([0-9.]+)'}``).

The job's stdout/stderr log (the file the launcher writes) is read as it grows, complete lines only. Patterns are
``{scalar name: regex}``; every match in a line gives one value:

- a regex with one unnamed group reports that group as the scalar of its name;
- a regex with named groups (``epoch (?P<epoch>\\d+) .* acc (?P<val_acc>[0-9.]+)``) reports each named group as the
  scalar of that group's name.

The step of a match is, in this order: the ``step_attribute`` named group of the same match; a named group
``step`` or ``epoch`` of the same match; the latest value of the ``step_attribute`` scalar matched on an earlier
line or earlier in the line (e.g. an ``Epoch (\\d+)`` header pattern named ``epoch``); else the number of matches
of that scalar so far (1, 2, ...). A group that does not parse as a number is skipped.

Python buffers a child's stdout when it is not a terminal: ``print(..., flush=True)`` or ``PYTHONUNBUFFERED=1``
(which gml sets for jobs read this way) makes values visible while the job runs.
"""
from __future__ import annotations

import re
import time
from typing import Dict, List, Optional, Pattern

from .base import GrowingFile, Row, as_number, as_step

STEP_GROUPS = ("step", "epoch")


class StdoutRegexMetrics:
    def __init__(self, log_path: str, patterns: Dict[str, str], step_attribute: Optional[str] = None,
                 cursor: Optional[dict] = None):
        """``patterns`` must be valid regexes (the config layer reports bad ones with their key path)."""
        self.patterns: Dict[str, Pattern] = {name: re.compile(regex) for name, regex in patterns.items()}
        self.step_attribute = step_attribute
        cursor = cursor or {}
        self._file = GrowingFile(log_path, cursor.get("offset", 0), cursor.get("first_line"))
        self._counts: Dict[str, int] = dict(cursor.get("counts", {}))
        self._current_step: Optional[int] = cursor.get("current_step")

    @property
    def cursor(self) -> dict:
        return {"offset": self._file.offset, "first_line": self._file.first_line, "counts": dict(self._counts),
                "current_step": self._current_step}

    def read_new(self) -> List[Row]:
        lines, rewritten = self._file.read_lines()
        if rewritten:
            self._counts, self._current_step = {}, None
        now = time.time()
        rows: List[Row] = []
        for line in lines:
            for name, pattern in self.patterns.items():
                for match in pattern.finditer(line):
                    rows.extend(self._match_rows(name, match, now))
        return rows

    def _match_rows(self, name: str, match, now: float) -> List[Row]:
        named = {k: v for k, v in match.groupdict().items() if v is not None}
        values = named if named else ({name: match.group(1)} if match.re.groups >= 1 else {})
        step = None
        for key in ((self.step_attribute,) if self.step_attribute else ()) + STEP_GROUPS:
            if key in named:
                step = as_step(named[key])
                break
        rows: List[Row] = []
        for scalar, raw in values.items():
            value = as_number(raw)
            if value is None:
                continue
            if scalar == self.step_attribute and as_step(raw) is not None:
                self._current_step = as_step(raw)
            self._counts[scalar] = self._counts.get(scalar, 0) + 1
            at = step if step is not None else (
                self._current_step if self.step_attribute and self._current_step is not None
                else self._counts[scalar])
            rows.append((scalar, at, value, now))
        return rows
