"""Tests of gml's mm side: they need torch + mmcv + mmcls (installed by tools/setup_env.sh)."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("mmcv")
pytest.importorskip("mmcls")

import gml.models  # noqa: E402,F401  (before any mmcv.runner import: installs the torchvision stand-in if needed)


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.mm)
