"""gml.models imports without cycles: no module needs another to be half-initialised, so any module can be imported
first and the order of imports inside a package ``__init__`` does not matter.

The graph is read from the source (module-level imports; imports inside functions are deferred and not counted).
Importing ``a.b.c`` also runs the packages ``a.b`` and ``a`` unless the importer already sits inside them; a package
that imports all its modules through ``pkgutil.iter_modules`` (gml.models.hooks) points at each of them.
"""
import ast
import os
from typing import Dict, List, Optional, Set

import gml.models

ROOT = os.path.dirname(gml.models.__file__)
TOP = "gml.models"


def _modules() -> Dict[str, str]:
    """Module name -> file, for every module under gml.models (a package by its ``__init__``)."""
    found = {}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), ROOT)[:-3].replace(os.sep, ".")
                rel = rel[: -len(".__init__")] if rel.endswith(".__init__") else "" if rel == "__init__" else rel
                found[f"{TOP}.{rel}" if rel else TOP] = os.path.join(folder, name)
    return found


def _top_level(tree: ast.Module):
    """Statements run at import time: the module body and the branches of its if/try blocks."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.If, ast.Try)):
            pending.extend(node.body + node.orelse + getattr(node, "finalbody", []))
            pending.extend(h for handler in getattr(node, "handlers", []) for h in handler.body)
        elif isinstance(node, ast.For):
            pending.extend(node.body)
        else:
            yield node


def _imports(name: str, path: str, modules: Dict[str, str]) -> Set[str]:
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    with open(path) as source:
        text = source.read()
    targets: Set[str] = set()
    for node in _top_level(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    if "iter_modules(__path__)" in text:
        targets.update(m for m in modules if m.rpartition(".")[0] == name and not m.rpartition(".")[2].startswith("_"))
    reached = set()
    for target in targets:
        while target.startswith(TOP + "."):  # the target and the packages above it
            if target in modules and not (name + ".").startswith(target + "."):
                reached.add(target)
            target = target.rpartition(".")[0]
    reached.discard(name)
    return reached


def _cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_sees_the_imports():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "gml.models.evaluation" in graph["gml.models.subnet"]
    assert "gml.models.hooks.dynamic_eval" in graph["gml.models.hooks"]  # through pkgutil
    assert "gml.models.mutators" in graph["gml.models.hooks.dynamic_eval"]  # a package: its __init__ runs
    assert "gml.models.ops" not in graph["gml.models.ops.conv"]  # its own package is already running
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_gml_models_has_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items() if name != TOP}
    graph = {name: {t for t in targets if t != TOP} for name, targets in graph.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
