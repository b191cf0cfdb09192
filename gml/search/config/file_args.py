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
from typing import Any, Dict

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
