"""pytest setup shared by the doctests of the package (``--doctest-modules``) and
``tests/``: headless plots and no progress bars, so that the examples in the
docstrings print what they document. (Shipped in the package, as scikit-learn
does, so the doctests of an installed copy run the same way.)"""

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
