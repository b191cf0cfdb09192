"""Render ``task.template`` into a shell command in which every substituted value is data, never code.

The template is a shell command line (it may use ``&&``, pipes, ``$VARS``, ``srun ...``). Placeholders are
``{name}``; ``${VAR}`` is left to the shell, and ``{{``/``}}`` are literal braces. Each value is quoted for the
quoting context it lands in, found by scanning the template the way a POSIX shell reads quotes:

- unquoted: ``shlex.quote(value)``;
- inside '...': the quote is closed, the value inserted shlex-quoted, and the quote reopened;
- inside "...": ``\\``, ``"``, ``$`` and backquote are backslash-escaped.

So ``--config '{config}'`` and ``--lr {lr}`` both receive exactly the value, whatever characters it holds.
"""
from __future__ import annotations

import json
import re
import shlex
from typing import Any, Dict, List, Tuple

from ...errors import GmlConfigError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|(?<!\$)\{([^{}]+)\}")

UNQUOTED, SINGLE, DOUBLE = "unquoted", "single", "double"


def format_value(value: Any) -> str:
    """How a value appears in a command: strings as they are, other scalars as Python prints them, lists and
    dicts as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _contexts(template: str) -> Tuple[List[str], str]:
    """The quoting context each character of the template is read in, and the context at its end."""
    state, out, escaped = UNQUOTED, [], False
    for ch in template:
        out.append(state)
        if escaped:
            escaped = False
        elif state == UNQUOTED:
            if ch == "\\":
                escaped = True
            elif ch == "'":
                state = SINGLE
            elif ch == '"':
                state = DOUBLE
        elif state == SINGLE:
            if ch == "'":
                state = UNQUOTED
        else:  # DOUBLE
            if ch == "\\":
                escaped = True
            elif ch == '"':
                state = UNQUOTED
    return out, state


def placeholders(template: str) -> List[str]:
    """Placeholder names in order of first appearance."""
    names: List[str] = []
    for m in _PLACEHOLDER.finditer(template):
        if m.group(1) is not None and m.group(1) not in names:
            names.append(m.group(1))
    return names


def check_template(template: Any, path: str = "task.template") -> str:
    if not isinstance(template, str) or not template.strip():
        raise GmlConfigError(path, f"expected a non-empty command string, got {template!r}")
    _, final_state = _contexts(template)
    if final_state != UNQUOTED:
        raise GmlConfigError(path, f"unbalanced {final_state} quote in {template!r}")
    return template


def _quote(text: str, context: str) -> str:
    if context == UNQUOTED:
        return shlex.quote(text)
    if context == SINGLE:
        return "'" + shlex.quote(text) + "'"
    return re.sub(r'([\\"$`])', r"\\\1", text)


def render(template: str, values: Dict[str, Any]) -> str:
    """The command with every ``{name}`` replaced by its safely quoted value. KeyError for a missing name."""
    contexts, _ = _contexts(template)
    pieces, last = [], 0
    for m in _PLACEHOLDER.finditer(template):
        pieces.append(template[last:m.start()])
        if m.group(1) is None:
            pieces.append(m.group(0)[0])
        else:
            pieces.append(_quote(format_value(values[m.group(1)]), contexts[m.start()]))
        last = m.end()
    pieces.append(template[last:])
    return "".join(pieces)
