"""What every metric source gives the controller, and the helper they share for files that grow.

A metric source reads the scalars one running job writes where its training code already logs them (a CSV file,
JSON lines, an MLflow store, its stdout, TensorBoard event files) and hands them over as :data:`Row` tuples
``(name, step, value, wall_time)``. The contract of a source object (one per job and source):

- ``read_new() -> List[Row]`` returns only what was written since the previous call. A record still being
  written (a line without its newline, a row an SQLite writer has not committed) is left for the next call.
  Nothing is returned twice by one object, and a file that is rewritten from its start (a logger that rewrites
  its CSV with a new header, a job that restarts) is followed without losing or repeating rows.
- ``cursor`` is a JSON-serialisable dict that says how far the source has read; a new source built with
  ``cursor=`` continues exactly there (a controller restart). Reading again from the start is also safe: the
  task store keeps one value per (job, name, step), so a repeated row changes nothing.
- ``step`` of a row is the step axis the user chose (``step_attribute``): a column/key/scalar named so, when the
  source has one, else the source's own step (see each source).

Values are floats; NaN/inf are kept (assessors treat NaN as a diverged value); a value that is not a number is
skipped.
"""
from __future__ import annotations

import fnmatch
import math
import os
from typing import Collection, Dict, Iterator, List, Optional, Tuple

from ..task.workspace import WORK_DIR

Row = Tuple[str, int, float, float]   # name, step, value, wall time (seconds since the epoch)


def as_number(raw) -> Optional[float]:
    """``raw`` as a float (numbers, numeric strings, 'nan'/'inf'), or None when it is not a number."""
    if isinstance(raw, bool):
        return float(raw)
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def as_step(raw) -> Optional[int]:
    """A step value as an int (``3``, ``3.0``, ``'3'``), or None when it is not a whole finite number."""
    value = as_number(raw)
    if value is None or not math.isfinite(value) or value != int(value):
        return None
    return int(value)


class GrowingFile:
    """Complete lines appended to one file since the last read, with the byte offset as the cursor.

    ``read_lines()`` returns ``(lines, rewritten)``: the complete lines after the cursor (a last line without its
    newline stays for the next read) and whether the file was found shorter than the cursor or with a different
    first line than before (rewritten from its start: the lines are then the whole file again).
    """

    def __init__(self, path: str, offset: int = 0, first_line: Optional[str] = None):
        self.path = path
        self.offset = offset
        self.first_line = first_line

    def _read_from(self, offset: int) -> Tuple[bytes, int]:
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return b"", offset
        end = data.rfind(b"\n")
        if end < 0:
            return b"", offset
        return data[:end + 1], offset + end + 1

    def _current_first_line(self) -> Optional[str]:
        try:
            with open(self.path, "rb") as f:
                line = f.readline()
        except OSError:
            return None
        return line.decode("utf-8", "replace").rstrip("\r\n") if line.endswith(b"\n") else None

    def read_lines(self) -> Tuple[List[str], bool]:
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return [], False
        rewritten = size < self.offset
        if self.offset and not rewritten and self.first_line is not None:
            rewritten = self._current_first_line() not in (None, self.first_line)
        start = 0 if rewritten else self.offset
        data, end = self._read_from(start)
        if not data and not rewritten:
            return [], False
        self.offset = end
        lines = data.decode("utf-8", "replace").splitlines()
        if start == 0 and lines:
            self.first_line = lines[0]
        return lines, rewritten


class GrowingFiles:
    """The files under a job's directory that match a glob, each followed as a :class:`GrowingFile`, with the count
    of records (rows, lines) its source has taken from it in ``counts``.

    ``cursor`` is ``{"files": {relative path: {"offset": ..., <first_line_key>: ..., <count_key>: ...}}}``, with
    the key names the source passes (each source keeps the names its cursors have always had)."""

    def __init__(self, job_dir: str, pattern: str, cursor: Optional[dict], first_line_key: str, count_key: str):
        self.job_dir, self.pattern = job_dir, pattern
        self._first_line_key, self._count_key = first_line_key, count_key
        self._files: Dict[str, GrowingFile] = {}
        self.counts: Dict[str, int] = {}
        for rel, state in (cursor or {}).get("files", {}).items():
            self._files[rel] = GrowingFile(os.path.join(job_dir, rel), state["offset"], state[first_line_key])
            self.counts[rel] = state[count_key]

    @property
    def cursor(self) -> dict:
        return {"files": {rel: {"offset": f.offset, self._first_line_key: f.first_line,
                                self._count_key: self.counts[rel]} for rel, f in self._files.items()}}

    def current(self, skip: Collection[str] = ()) -> Iterator[Tuple[str, GrowingFile]]:
        """``(relative path, GrowingFile)`` of each file that matches now, in path order, less the relative paths in
        ``skip``; a file met for the first time is read from its start, with a count of 0."""
        for path in matching_files(self.job_dir, self.pattern):
            rel = os.path.relpath(path, self.job_dir)
            if rel in skip:
                continue
            if rel not in self._files:
                self._files[rel] = GrowingFile(path)
                self.counts[rel] = 0
            yield rel, self._files[rel]


def matching_files(job_dir: str, pattern: str) -> List[str]:
    """Files under ``job_dir`` matching the glob ``pattern`` (``**`` spans directories), sorted. The pattern is
    relative to the job directory or to the job's working directory in it (``cwd/``, where the training runs and
    writes ``lightning_logs/``, ``mlruns/`` ...).

    Links are not followed: a job's working directory links to the task's code copy (and ``--symlinks`` data),
    whose files are the project's, not the job's output, and may be large trees."""
    pattern_parts = [p for p in pattern.split("/") if p]
    found = []
    for folder, _dirs, files in os.walk(job_dir):          # os.walk does not descend into linked directories
        rel_folder = os.path.relpath(folder, job_dir)
        base = [] if rel_folder == "." else rel_folder.split(os.sep)
        for name in files:
            path = os.path.join(folder, name)
            parts = base + [name]
            in_work_dir = parts[0] == WORK_DIR and _glob_match(pattern_parts, parts[1:])
            if not os.path.islink(path) and (_glob_match(pattern_parts, parts) or in_work_dir):
                found.append(path)
    return sorted(found)


def _glob_match(pattern_parts: List[str], path_parts: List[str]) -> bool:
    """Whether a relative path (as parts) matches a glob (as parts); ``**`` matches zero or more parts."""
    if not pattern_parts:
        return not path_parts
    head, rest = pattern_parts[0], pattern_parts[1:]
    if head == "**":
        return any(_glob_match(rest, path_parts[k:]) for k in range(len(path_parts) + 1))
    return bool(path_parts) and fnmatch.fnmatchcase(path_parts[0], head) and _glob_match(rest, path_parts[1:])


def pick_step_key(keys, step_attribute: Optional[str], defaults=("step", "epoch", "iteration", "iter")):
    """The key holding the step: ``step_attribute`` when given, else the first of ``defaults`` among ``keys``,
    else None (the source then numbers records 1, 2, ...)."""
    if step_attribute is not None:
        return step_attribute
    for name in defaults:
        if name in keys:
            return name
    return None


class StepAxis:
    """Re-expresses rows on the axis of one of their own scalars (``step_attribute: epoch`` for a logger whose
    native step is the global batch step, as Lightning's TensorBoard logger and MLflow runs log it).

    The step scalar's rows define native step -> step; any other row takes the step scalar's value logged at the
    largest native step <= its own. Rows that arrive before any step value are held until one arrives. The step
    scalar's rows themselves are reported too (on their own axis). State is in ``cursor`` (JSON)."""

    def __init__(self, step_scalar: str, cursor: Optional[dict] = None):
        self.step_scalar = step_scalar
        cursor = cursor or {}
        self._marks: List[Tuple[int, int]] = [tuple(m) for m in cursor.get("marks", [])]   # (native, step) sorted
        self._pending: List[Row] = [tuple(r) for r in cursor.get("pending", [])]

    @property
    def cursor(self) -> dict:
        return {"marks": [list(m) for m in self._marks[-1:]], "pending": [list(r) for r in self._pending]}

    def _step_at(self, native: int) -> Optional[int]:
        import bisect
        i = bisect.bisect_right(self._marks, (native, float("inf"))) - 1
        return self._marks[i][1] if i >= 0 else None

    def convert(self, rows: List[Row]) -> List[Row]:
        import bisect
        for name, native, value, when in rows:
            step = as_step(value)
            if name == self.step_scalar and step is not None:
                bisect.insort(self._marks, (native, step))
        out: List[Row] = []
        waiting: List[Row] = []
        for row in self._pending + list(rows):
            step = self._step_at(row[1])
            if step is None:
                waiting.append(row)
            else:
                out.append((row[0], step, row[2], row[3]))
        self._pending = waiting
        return out
