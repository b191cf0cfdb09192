"""Parse ``task.search_args`` into a SearchSpace, with errors that name the key path.

An arg's path carries its name once it has one, so a user with twenty args need not count:
``task.search_args[3] (lr).data: ...``; ``space.sources`` keeps these paths for later checks.

Accepted shapes (docs/search-config.md): ``{type: Categorical, name, data: [...]}``; ``{type: Int|Real, name,
data: [low, high]}`` or ``lower/upper`` (also ``low/high``) keys, optional ``step`` and ``log``; ``{type: Nested,
data: [{k: v, ...}, ...]}``; ``{type: File, name, file, search_args: [...], allow_new_keys: false}`` (``args`` is
the older key).
``value:`` is accepted wherever ``data:`` is. ``default`` is accepted and ignored by the HPO side.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...errors import GmlConfigError
from ...validation import boolean, invalid, is_number
from .dimensions import Categorical, Dimension, FileArg, Int, Nested, Real, SearchSpace

TYPES = ("Categorical", "Int", "Real", "Nested", "File")
LEAF_TYPES = ("Categorical", "Int", "Real")
_COMMON = {"type", "name", "data", "value", "default"}
_ALLOWED = {
    "Categorical": _COMMON,
    "Int": _COMMON | {"lower", "upper", "low", "high", "step", "log"},
    "Real": _COMMON | {"lower", "upper", "low", "high", "step", "log"},
    "Nested": _COMMON,
    "File": {"type", "name", "file", "search_args", "args", "allow_new_keys"},
}


def _data(arg: Dict[str, Any], path: str) -> Any:
    if "data" in arg and "value" in arg:
        raise GmlConfigError(path, "give either 'data' or 'value', not both")
    key = "data" if "data" in arg else "value"
    if key not in arg:
        raise GmlConfigError(f"{path}.data", "is required")
    return arg[key], f"{path}.{key}"


def _bounds(arg: Dict[str, Any], path: str, kind: str):
    if any(k in arg for k in ("lower", "upper", "low", "high")):
        lo_key = "lower" if "lower" in arg else "low"
        hi_key = "upper" if "upper" in arg else "high"
        for k in (lo_key, hi_key):
            if k not in arg:
                raise GmlConfigError(f"{path}.{k}", "is required with lower/upper bounds")
        low, high, lo_path, hi_path = arg[lo_key], arg[hi_key], f"{path}.{lo_key}", f"{path}.{hi_key}"
        range_path = path
    else:
        data, dpath = _data(arg, path)
        if not isinstance(data, list) or len(data) != 2:
            raise invalid(dpath, data, f"[low, high] for {kind}")
        low, high, lo_path, hi_path = data[0], data[1], f"{dpath}[0]", f"{dpath}[1]"
        range_path = dpath
    for value, vpath in ((low, lo_path), (high, hi_path)):
        if not is_number(value) or (kind == "Int" and float(value) != int(value)):
            raise invalid(vpath, value, "an integer" if kind == "Int" else "a number")
    if low > high:
        raise GmlConfigError(range_path, f"low <= high must hold, but got low={low}, high={high}")
    return low, high


def _parse_range(arg: Dict[str, Any], path: str, kind: str, key: str) -> Dimension:
    low, high = _bounds(arg, path, kind)
    log = arg.get("log", False)
    boolean(f"{path}.log", log)
    if log and low <= 0:
        raise GmlConfigError(path, f"log: true needs low > 0, got low={low}")
    step = arg.get("step")
    if step is not None and (not is_number(step) or step <= 0 or (kind == "Int" and step != int(step))):
        raise invalid(f"{path}.step", step, f"a positive {'integer' if kind == 'Int' else 'number'}")
    if kind == "Int":
        return Int(key, int(low), int(high), int(step or 1), log)
    if log and step is not None:
        raise GmlConfigError(path, "a Real arg takes 'step' or 'log: true', not both")
    return Real(key, float(low), float(high), None if step is None else float(step), log)


def _parse_nested(arg: Dict[str, Any], path: str, key: str, prefix: str) -> Nested:
    data, dpath = _data(arg, path)
    if not isinstance(data, list) or not data:
        raise invalid(dpath, data, "a non-empty list of mappings")
    for i, bundle in enumerate(data):
        if not isinstance(bundle, dict) or not bundle:
            raise invalid(f"{dpath}[{i}]", bundle, "a non-empty mapping of keys set together")
        for k in bundle:
            if not isinstance(k, str):
                raise GmlConfigError(f"{dpath}[{i}]", f"keys must be strings, got {k!r}")
    return Nested(key, tuple(dict(b) for b in data), prefix)


def _parse_leaf(arg: Dict[str, Any], path: str, kind: str, key: str) -> Dimension:
    if kind == "Categorical":
        data, dpath = _data(arg, path)
        if not isinstance(data, (list, tuple)) or not data:
            raise invalid(dpath, data, "a non-empty list of choices")
        return Categorical(key, tuple(data))
    return _parse_range(arg, path, kind, key)


def parse_dimension(arg: Any, path: str, key: str) -> Dimension:
    """One Categorical / Int / Real arg as the dimension ``key``, exactly as in ``search_args`` but with the
    ``name`` optional: the entry point of every other space spelling (a supernet's ``search_space`` leaves, whose
    key is their place in the model). Errors name ``path``."""
    kind = _checked_type(arg, path, LEAF_TYPES, "space type")
    return _parse_leaf(arg, path, kind, key)


def _checked_type(arg: Any, path: str, valid: tuple, what: str) -> str:
    """The ``type`` of ``arg`` once ``arg`` is a mapping whose type is one of ``valid`` and whose keys are all
    allowed for that type; else a GmlConfigError naming ``path`` (``what`` names the type in the message:
    ``unknown arg type 'Choice'``)."""
    if not isinstance(arg, dict):
        raise invalid(path, arg, "a mapping with a 'type' key")
    kind = arg.get("type")
    if kind not in valid:
        raise GmlConfigError(f"{path}.type", f"unknown {what} {kind!r}; valid: {', '.join(valid)}")
    unknown = sorted(set(arg) - _ALLOWED[kind])
    if unknown:
        raise GmlConfigError(f"{path}.{unknown[0]}", f"unknown key for {kind}; valid: {', '.join(sorted(_ALLOWED[kind]))}")
    return kind


def arg_path(base: str, arg: Any) -> str:
    """The key path of an arg at ``base`` (``task.search_args[3]``), with its name when it has a valid one:
    ``task.search_args[3] (lr)``."""
    name = arg.get("name") if isinstance(arg, dict) else None
    return f"{base} ({name})" if isinstance(name, str) and name.strip() else base


def _parse_one(arg: Any, path: str, prefix: str, index: int) -> Any:
    """The Dimension (or FileArg) of one arg; ``path`` is its ``arg_path``."""
    kind = _checked_type(arg, path, TYPES, "arg type")
    name = arg.get("name")
    if kind != "Nested" and (not isinstance(name, str) or not name.strip()):
        raise GmlConfigError(f"{path}.name", f"a {kind} arg needs a non-empty string name, got {name!r}")
    if name is not None and not isinstance(name, str):
        raise invalid(f"{path}.name", name, "a string")
    key = f"{prefix}({name})" if prefix and name else name
    if kind in LEAF_TYPES:
        return _parse_leaf(arg, path, kind, key)
    if kind == "Nested":
        nested_key = key or (f"{prefix}(nested{index})" if prefix else f"nested{index}")
        return _parse_nested(arg, path, nested_key, prefix)
    if prefix:
        raise GmlConfigError(f"{path}.type", "a File arg cannot be nested inside another File arg")
    return _parse_file(arg, path, name)


def _parse_file(arg: Dict[str, Any], path: str, name: str) -> FileArg:
    file = arg.get("file")
    if not isinstance(file, str) or not file:
        raise invalid(f"{path}.file", file, "the path of a .yaml/.yml/.json/.py file")
    if not file.endswith((".yaml", ".yml", ".json", ".py")):
        raise GmlConfigError(f"{path}.file", f"unsupported file type {file!r}; expected .yaml, .yml, .json or .py")
    inner_key = "search_args" if "search_args" in arg else "args"
    inner = arg.get(inner_key)
    if not isinstance(inner, list) or not inner:
        raise invalid(f"{path}.{inner_key}", inner, "a non-empty list of args to set in the file")
    sources = tuple(arg_path(f"{path}.{inner_key}[{i}]", a) for i, a in enumerate(inner))
    dims = [_parse_one(a, where, name, i) for i, (a, where) in enumerate(zip(inner, sources))]
    allow_new = boolean(f"{path}.allow_new_keys", arg.get("allow_new_keys", False))
    return FileArg(name, file, tuple(dims), sources, allow_new)


def parse_search_args(search_args: Any, path: str = "task.search_args") -> SearchSpace:
    """Build the SearchSpace of ``search_args``; raises GmlConfigError naming the key path of any mistake."""
    if not isinstance(search_args, list) or not search_args:
        raise invalid(path, search_args, "a non-empty list of args")
    space = SearchSpace()
    seen: Dict[str, str] = {}

    def claim(name: str, where: str) -> None:
        if name in seen:
            raise GmlConfigError(where, f"{name!r} is set twice (also by {seen[name]})")
        seen[name] = where

    for i, arg in enumerate(search_args):
        where = arg_path(f"{path}[{i}]", arg)
        parsed = _parse_one(arg, where, "", i)
        if isinstance(parsed, FileArg):
            claim(parsed.name, where)
            space.files.append(parsed)
            space.sources[parsed.name] = where
            dims: List[Dimension] = list(parsed.dimensions)
        else:
            dims = [parsed]
        for d in dims:
            for n in d.param_names():
                claim(n, where)
            space.dimensions.append(d)
            space.sources[d.key] = where
    return space


def file_arg_of(space: SearchSpace, name: str) -> Optional[FileArg]:
    return next((f for f in space.files if f.name == name), None)


def dimension_arg(dimension: Dimension) -> Dict[str, Any]:
    """The ``search_args`` entry that parses back to ``dimension`` (Categorical, Int, Real; named by its key)."""
    if isinstance(dimension, Categorical):
        return {"type": "Categorical", "name": dimension.key, "data": list(dimension.choices)}
    if isinstance(dimension, (Int, Real)):
        arg = {"type": type(dimension).__name__, "name": dimension.key, "lower": dimension.low,
               "upper": dimension.high}
        if dimension.step is not None and not (isinstance(dimension, Int) and dimension.step == 1):
            arg["step"] = dimension.step
        if dimension.log:
            arg["log"] = True
        return arg
    raise TypeError(f"{type(dimension).__name__} has no single search_args entry")
