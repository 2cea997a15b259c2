"""The chunk mapping of ``hyperspy_manifold._chunks``."""

import hyperspy.api as hs
import numpy as np
import pytest

from hyperspy_manifold._chunks import lazy_view, pattern_stack
from hyperspy_manifold.learn._cluster_stats import cluster_statistics


def _traced_peak(func):
    """Peak of the memory allocated (numpy included) while ``func`` runs, after
    a first compute has done its imports."""
    import tracemalloc

    pattern_stack(hs.signals.Signal2D(np.zeros((2, 2, 4, 4)))).max().compute()
    tracemalloc.start()
    try:
        result = func()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_eager_scan_is_read_in_place_not_copied():
    """dask >= 2024.12 copies a numpy array given to ``from_array`` whole: every
    lazy pass over an eager scan would hold it twice.  Only chunk-sized pieces
    may be allocated."""
    data = np.random.default_rng(0).integers(0, 9, (32, 32, 64, 64), np.uint16)
    s = hs.signals.Signal2D(data)
    largest, peak = _traced_peak(lambda: pattern_stack(s).max().compute())
    assert largest == data.max()
    assert peak < data.nbytes / 2
    view = lazy_view(data, (8, 8, 64, 64))
    assert view.dtype == data.dtype and view.chunks[0] == (8, 8, 8, 8)
    np.testing.assert_array_equal(view[1:5, 1].compute(), data[1:5, 1])


def test_cluster_statistics_of_an_eager_scan_hold_no_copy():
    """Traced allocations of a statistics pass stay far below the scan's size."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 50, (32, 32, 64, 64), dtype=np.uint16)  # 8 MB
    s = hs.signals.Signal2D(data)
    labels = rng.integers(0, 3, 32 * 32)
    stats, peak = _traced_peak(lambda: cluster_statistics(s, labels, 3, False))
    assert peak < data.nbytes / 2
    flat = data.reshape(1024, -1).astype(float)
    np.testing.assert_allclose(stats.means[1], flat[labels == 1].mean(axis=0))
    assert stats.counts.tolist() == np.bincount(labels).tolist()


@pytest.mark.parametrize("chunks", ["auto", (4, 4, 8, 8)])
def test_lazy_view_keeps_values_and_dtype(chunks):
    data = np.random.default_rng(1).random((8, 8, 8, 8)).astype(np.float32)
    view = lazy_view(data, chunks)
    assert view.dtype == np.float32
    np.testing.assert_allclose(
        view.sum(axis=(0, 1)).compute(), data.sum((0, 1)), rtol=1e-5
    )
