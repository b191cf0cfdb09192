"""Conformance suites for gml's extension points, for pytest.

Each module holds a base class of parametrisable tests that checks one contract; a user checks their own class by
subclassing it in a test file and naming the class in a fixture (see each module's docstring and docs/testing.md):

- :mod:`gml.testing.searchers`: the Searcher contract (``SearcherSuite``, fixture ``searcher_case``);
- :mod:`gml.testing.assessors`: the Assessor contract (``AssessorSuite``, fixture ``assessor_case``);
- :mod:`gml.testing.launchers`: the Launcher contract on real processes (``LauncherSuite``, fixture
  ``launcher_case``).

:mod:`gml.testing.mlflow_server` starts a real MLflow tracking server for tests of ``metrics_from.mlflow``.

These modules import pytest and are meant for test code only: ``import gml`` does not import them, and they need
neither torch nor mmcv.
"""
import pytest

# the suites' plain asserts report the values compared, as in a test module
pytest.register_assert_rewrite("gml.testing.searchers", "gml.testing.assessors", "gml.testing.launchers")
