"""umap-learn's numba kernels are compiled once per machine, not once per process
(issue 13, item 16); the timing is measured in benchmarks/bench_first_call.py."""

import os
import subprocess
import sys

import pytest

CHECK = """
import numba.core.caching as caching
from hyperspy_manifold._jit_cache import enable_jit_cache
import umap.umap_, umap.utils
n = enable_jit_cache()
assert enable_jit_cache() == n  # once per process
for f in (umap.utils.fast_knn_indices, umap.umap_.smooth_knn_dist):
    print(type(f._cache).__name__)
print(n)
"""


def _run(**env):
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def enabled():
    return _run()


def test_uncached_umap_kernels_get_a_disk_cache(enabled):
    assert enabled.returncode == 0, enabled.stderr
    *kinds, count = enabled.stdout.split()
    assert kinds == ["FunctionCache", "FunctionCache"]
    assert int(count) >= 4


def test_cache_can_be_switched_off():
    proc = _run(HYPERSPY_MANIFOLD_NO_JIT_CACHE="1")
    assert proc.returncode == 0, proc.stderr
    *kinds, count = proc.stdout.split()
    assert kinds == ["NullCache", "NullCache"] and count == "0"
