"""The task's copy of the project over its life: what differs from the project at ``--resume``, and
``--refresh-code``.

A task copies the project once, at creation, into ``code/``; jobs run on that copy (their working directories
link to its entries), so editing the project changes no job. At ``--resume`` the project is compared with the
task's current copy under the same rules as the copy (:class:`CopyRules`: same exclusions, ``--symlinks`` paths
left out since they are shared anyway): files whose size differs, or whose modification time differs and whose
bytes differ, are *changed*; files only in the project are *new*, files only in the copy *removed*.

``--refresh-code`` copies the project again into a new directory (``code.2``, ``code.3`` ...) that becomes the
task's current copy (store meta ``code_dir``): jobs that start from then on (new configurations and reruns) run
on it. Jobs already running or ended keep the copy they ran on: their working directories link to it, and it is
never changed or removed.
"""
from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, TextIO, Tuple

from .store import Store
from .workspace import CopyRules, TaskPaths, copy_project

CODE_DIR_META = "code_dir"        # the current copy, relative to the task directory ("code", "code.2", ...)
COPY_RULES_META = "copy_rules"    # {"symlinks": [...], "excludes": [...]}: how the copies are made
LISTED = 15                       # at most this many paths of each kind are named


def current_code_dir(paths: TaskPaths, store: Store) -> str:
    """The absolute path of the copy that jobs starting now run on."""
    return os.path.join(paths.dir, store.get_meta(CODE_DIR_META, "code"))


def remember_copy_rules(store: Store, symlinks: Iterable[str], excludes: Iterable[str]) -> None:
    store.set_meta(**{COPY_RULES_META: {"symlinks": list(symlinks), "excludes": list(excludes)}})


def copy_rules_of(store: Store) -> Tuple[List[str], List[str]]:
    """The ``--symlinks`` and ``--exclude`` the task's copies were made with (none for tasks made before this
    was recorded)."""
    rules = store.get_meta(COPY_RULES_META) or {}
    return list(rules.get("symlinks", [])), list(rules.get("excludes", []))


@dataclass
class CodeDifferences:
    changed: List[str] = field(default_factory=list)
    new: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.new or self.removed)

    def lines(self) -> List[str]:
        out = []
        for kind, names in (("changed", self.changed), ("new", self.new), ("removed", self.removed)):
            if names:
                more = f" (and {len(names) - LISTED} more)" if len(names) > LISTED else ""
                out.append(f"  {kind}: {', '.join(names[:LISTED])}{more}")
        return out


def _entries(top: str, rules: CopyRules) -> Dict[str, str]:
    """Files and symbolic links under ``top`` (the project or a copy of it) that the copy rules keep, by path
    relative to ``top``; the rules are asked about the project's path of each directory."""
    found: Dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        in_project = rules.root if rel_dir == "." else os.path.join(rules.root, rel_dir)
        skipped = rules.ignore(in_project, dirnames + filenames)
        kept_dirs = []
        for name in dirnames + filenames:
            if name in skipped:
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full) or name in filenames:
                found[os.path.normpath(os.path.join(rel_dir, name))] = full
            else:
                kept_dirs.append(name)
        dirnames[:] = sorted(kept_dirs)
    return found


def _same(a: str, b: str) -> bool:
    if os.path.islink(a) or os.path.islink(b):
        return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
    sa, sb = os.stat(a), os.stat(b)
    if sa.st_size != sb.st_size:
        return False
    if sa.st_mtime_ns == sb.st_mtime_ns:      # the copy keeps modification times: same size and time, same file
        return True
    return filecmp.cmp(a, b, shallow=False)


def project_differences(root: str, code_dir: str, symlinks: Iterable[str] = (),
                        excludes: Iterable[str] = ()) -> CodeDifferences:
    """How the project at ``root`` differs from its copy ``code_dir`` (made with ``symlinks``/``excludes``)."""
    rules = CopyRules(root, [s for s in symlinks if os.path.exists(os.path.join(root, s))], excludes)
    project, copy = _entries(rules.root, rules), _entries(code_dir, rules)
    diff = CodeDifferences()
    for rel in sorted(project):
        if rel not in copy:
            diff.new.append(rel)
        elif not _same(project[rel], copy[rel]):
            diff.changed.append(rel)
    diff.removed = sorted(rel for rel in copy if rel not in project)
    return diff


def refresh_code(paths: TaskPaths, store: Store, symlinks: Iterable[str], excludes: Iterable[str]) -> str:
    """Copy the project into the task's next code directory and make it current; returns its path."""
    n = 2
    while os.path.lexists(os.path.join(paths.dir, f"code.{n}")):
        n += 1
    name = f"code.{n}"
    partial = os.path.join(paths.dir, f".{name}.partial")
    if os.path.lexists(partial):           # left by a refresh that was killed
        shutil.rmtree(partial)
    copy_project(paths.root, partial, symlinks, excludes)
    os.replace(partial, os.path.join(paths.dir, name))
    store.set_meta(**{CODE_DIR_META: name})
    remember_copy_rules(store, symlinks, excludes)
    return os.path.join(paths.dir, name)


def check_code_at_resume(paths: TaskPaths, store: Store, refresh: bool, out: TextIO,
                         symlinks: Optional[List[str]] = None, excludes: Optional[List[str]] = None) -> None:
    """Say on ``out`` whether the project differs from the task's current copy; with ``refresh``, copy it again
    for the jobs that start from now on (``symlinks``/``excludes`` given replace the task's own)."""
    old_symlinks, old_excludes = copy_rules_of(store)
    code_dir = current_code_dir(paths, store)
    diff = project_differences(paths.root, code_dir, old_symlinks, old_excludes)
    where = os.path.relpath(code_dir, paths.root)
    if not diff:
        if refresh:
            out.write(f"[{paths.name}] --refresh-code: the project is the same as the task's copy ({where}); "
                      f"nothing to copy\n")
        return
    out.write(f"[{paths.name}] the project differs from the task's copy of it ({where}), which its jobs run on:\n"
              + "\n".join(diff.lines()) + "\n")
    if not refresh:
        out.write(f"[{paths.name}] jobs keep running the copy; `search-run --resume --refresh-code` copies the "
                  f"project again for the jobs that start from now on\n")
        return
    new_dir = refresh_code(paths, store, old_symlinks if symlinks is None else symlinks,
                           old_excludes if excludes is None else excludes)
    out.write(f"[{paths.name}] --refresh-code: copied the project to {os.path.relpath(new_dir, paths.root)}; "
              f"jobs that start from now on (new ones and reruns) run on it; jobs already running or ended keep "
              f"{where} (their working directories link there; it is left as it is)\n")
    out.flush()
