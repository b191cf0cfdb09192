"""search-init: make the current directory a gml project (creates ``.search-run/``)."""
from __future__ import annotations

import argparse
import os

from ..search.task.workspace import SEARCH_DIR, init_workspace
from .common import user_errors


@user_errors("search-init")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="search-init", description="Create .search-run/ in the project root "
                                     "(the current directory); every search keeps its state under it.")
    parser.add_argument("root", nargs="?", default=".", help="project root (default: the current directory)")
    args = parser.parse_args(argv)
    existed = os.path.isdir(os.path.join(args.root, SEARCH_DIR))
    path = init_workspace(args.root)
    print(f"{'already initialised' if existed else 'initialised'}: {path}")
    return 0
