"""Every gallery example runs, headless, so that none of them rots.

The examples run in this process (``runpy``): the numba compilation of UMAP is
paid once for all of them, not once per example.
"""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def test_examples_found():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.slow
def test_example_runs(path, tmp_path, monkeypatch):
    # A clean working directory: an example must find its data from its own path
    # and must not depend on (or litter) the folder it is started from.
    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(path), run_name="__main__")
        assert plt.get_fignums(), f"{path.name} made no figure for the gallery"
    finally:
        plt.close("all")
