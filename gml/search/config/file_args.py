"""Write a File arg's per-job copy of a config file with the searched keys set.

Dotted keys reach into nested mappings (``scheduler.step_size``); missing intermediate mappings are created.

- ``.yaml``/``.yml``/``.json``: the file is loaded, the keys set, and the result written in the same format.
- ``.py`` (mm-style configs): the copy *inherits* the original (``_base_ = [<absolute path>]``) and sets the keys
  as nested dicts, which mmcv's Config merges into the original exactly like ``--cfg-options`` would. The
  original's own relative ``_base_`` paths keep resolving because the original stays where it is.
"""
from __future__ import annotations

import json
import os
import pprint
import subprocess
import sys
from typing import Any, Dict, Iterator, List

import yaml

from ...errors import GmlConfigError


def nest(overrides: Dict[str, Any]) -> Dict[str, Any]:
    """``{'a.b': 1, 'a.c': 2}`` -> ``{'a': {'b': 1, 'c': 2}}``."""
    root: Dict[str, Any] = {}
    for dotted, value in overrides.items():
        set_dotted(root, dotted, value)
    return root


def set_dotted(root: Dict[str, Any], dotted: str, value: Any) -> None:
    node = root
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def _load_structured(path: str) -> Dict[str, Any]:
    with open(path) as f:
        data = json.load(f) if path.endswith(".json") else yaml.safe_load(f)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise GmlConfigError(path, f"a searched config file must hold a mapping at its top, got {type(data).__name__}")
    return data


def write_config_copy(source: str, overrides: Dict[str, Any], dest_dir: str) -> str:
    """Write ``source`` with ``overrides`` set into ``dest_dir``; return the new file's absolute path."""
    source = os.path.abspath(source)
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(os.path.abspath(dest_dir), os.path.basename(source))
    if source.endswith(".py"):
        lines = [f"# Written by gml: {os.path.basename(source)} with the searched keys set.",
                 f"_base_ = [{source!r}]"]
        for key, value in nest(overrides).items():
            lines.append(f"{key} = {pprint.pformat(value, sort_dicts=False)}")
        text = "\n".join(lines) + "\n"
    else:
        data = _load_structured(source)
        for key, value in overrides.items():
            set_dotted(data, key, value)
        if source.endswith(".json"):
            text = json.dumps(data, indent=2) + "\n"
        else:
            text = yaml.safe_dump(data, sort_keys=False)
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, dest)
    return dest


def check_file_exists(path: str, key_path: str) -> None:
    if not os.path.isfile(path):
        raise GmlConfigError(key_path, f"file {path!r} does not exist")
    if not path.endswith(".py"):
        try:
            _load_structured(path)
        except (yaml.YAMLError, json.JSONDecodeError) as err:
            raise GmlConfigError(key_path, f"cannot parse {path!r}: {err}") from None


# Lists every dotted key path of an mm .py config as mmcv resolves it (``_base_`` merged). Run in a child process
# so that the process checking a search config does not import mmcv (and torch with it).
_MM_KEYS = """
import json, sys
from mmcv import Config
def walk(node, prefix):
    for key, value in node.items():
        path = prefix + str(key)
        yield path
        if isinstance(value, dict):
            yield from walk(value, path + '.')
print(json.dumps(list(walk(Config.fromfile(sys.argv[1])._cfg_dict.to_dict(), ''))))
"""


def _dotted_paths(node: Dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from _dotted_paths(value, path + ".")


def existing_keys(path: str, key_path: str, project: str = ".") -> List[str]:
    """Every dotted key of the config file at ``path`` (intermediate mappings included); a ``.py`` mm config is
    read as mmcv resolves it, ``_base_`` files merged, from the ``project`` root (its ``custom_imports`` import
    from there, as in a job)."""
    if not path.endswith(".py"):
        return list(_dotted_paths(_load_structured(path)))
    run = subprocess.run([sys.executable, "-c", _MM_KEYS, os.path.abspath(path)], capture_output=True, text=True,
                         cwd=project)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise GmlConfigError(key_path, f"cannot read {path!r} as an mmcv config to check the searched keys: {last}")
    return json.loads(run.stdout)


def nearest_keys(key: str, keys: List[str], n: int = 3) -> List[str]:
    """The existing keys most like ``key``: by the whole dotted path, then by the last part (a flat ``lr`` finds
    ``optimizer.lr``)."""
    import difflib      # only for a key that is missing: search-run starts without it
    found = difflib.get_close_matches(key, keys, n=n, cutoff=0.6)
    last = key.rsplit(".", 1)[-1]
    by_last = {k.rsplit(".", 1)[-1]: [] for k in keys}
    for k in keys:
        by_last[k.rsplit(".", 1)[-1]].append(k)
    for name in difflib.get_close_matches(last, list(by_last), n=n, cutoff=0.6):
        found.extend(k for k in by_last[name] if k not in found)
    return found[:n]


def check_inner_keys(path: str, file_arg, file_key_path: str, project: str = ".") -> None:
    """Refuse an inner arg of ``file_arg`` whose dotted key is not in the file at ``path`` (a search that cannot
    influence the job), unless the File arg says ``allow_new_keys: true``."""
    if file_arg.allow_new_keys:
        return
    keys = existing_keys(path, file_key_path, project)
    known = set(keys)
    prefix = f"{file_arg.name}("
    for dim, where in zip(file_arg.dimensions, file_arg.sources):
        for name in dim.param_names():
            key = name[len(prefix):-1]
            if key in known:
                continue
            near = nearest_keys(key, keys)
            hint = f"nearest existing keys: {', '.join(near)}" if near else "no similar key exists"
            where_key = where if where.endswith(f"({key})") else f"{where} ({key})"
            raise GmlConfigError(where_key, f"key {key!r} is not in {file_arg.file} ({hint}); a searched key must "
                                            f"exist in the file, or set allow_new_keys: true on the File arg "
                                            f"({file_key_path}) to add it")
