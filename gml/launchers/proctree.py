"""Process facts from /proc (Linux): identity across pid reuse, descendants, and ending a whole tree."""
from __future__ import annotations

import os
import signal
import time
from typing import Callable, Iterable, List, Optional, Set


def start_time(pid: int) -> Optional[int]:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing parenthesis
    fields = data[data.rindex(b")") + 2:].split()
    if fields[0] == b"Z":   # a zombie has finished
        return None
    return int(fields[19])


def is_alive(pid: int, started: Optional[int]) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (guards against pid reuse)."""
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def _children_map() -> dict:
    children: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> List[int]:
    """Every living descendant of ``pid`` (children that left the process group included)."""
    children, out, stack = _children_map(), [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def group_members(pgid: int) -> Set[int]:
    members = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid and start_time(int(entry)) is not None:
                    members.add(int(entry))
            except OSError:
                pass
    return members


def signal_tree(pgid: int, extra_pids: Iterable[int], sig: int) -> None:
    """Send ``sig`` to the process group and to ``extra_pids`` (descendants that may have left the group)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in extra_pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def end_tree(pgid: int, grace: float, reap: Callable[[], None] = lambda: None) -> None:
    """SIGTERM the group and all descendants of its leader, wait up to ``grace`` seconds, then SIGKILL what is
    left. ``reap`` is called while waiting so the caller can collect its own zombie children."""
    pids = set(descendants(pgid)) | group_members(pgid)
    signal_tree(pgid, pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        reap()
        if not any(start_time(p) is not None for p in pids) and not group_members(pgid):
            return
        time.sleep(0.02)
    pids |= set(descendants(pgid)) | group_members(pgid)
    signal_tree(pgid, pids, signal.SIGKILL)
    reap()
