"""Doctests of the package (``pytest --doctest-modules hyperspy_manifold``): headless
plots and no progress bars, as in ``tests/conftest.py``, so that the examples in
the docstrings print what they document."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet_progress_bars():
    from hyperspy.defaults_parser import preferences

    old = preferences.General.show_progressbar
    preferences.General.show_progressbar = False
    yield
    preferences.General.show_progressbar = old
