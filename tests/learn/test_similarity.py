"""Cluster statistics and similarity loadings of a lazy scan, chunk by chunk."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import hyperspy_manifold as hm
from hyperspy_manifold import _chunks
from hyperspy_manifold.learn import _cluster_stats
from hyperspy_manifold.learn._cluster_stats import cluster_statistics
from hyperspy_manifold.learn.similarity import MASKED, rows_from_label_map

NAV = (12, 10)
DET = (8, 6)


def known_scan():
    """uint16 scan of three clusters with known means (+/- a fixed spread), one
    noise position and two masked ones, lazy in chunks of 3 x 5 positions."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[: NAV[0], : NAV[1]]
    labels = (xx >= 4).astype(int) + (yy >= 6)
    labels[0, 0] = -1
    labels[5, 7] = labels[11, 2] = MASKED
    means = 1000 * rng.integers(1, 60, size=(3,) + DET)
    # +/- 7 in two halves: each cluster's mean is exactly its pattern
    spread = 7 * np.where(np.arange(NAV[1]) % 2, 1, -1)[None, :, None, None]
    data = means[np.clip(labels, 0, None)] + spread
    data[labels == MASKED] = 65535  # must weigh in no mean
    s = hs.signals.Signal2D(data.astype(np.uint16)).as_lazy()
    s.data = s.data.rechunk((3, 5, -1, -1))
    return s, labels, data, means.reshape(3, -1)


def reference(data, labels):
    """Sums, means, stds and counts of every row (clusters, then noise) in numpy."""
    rows, n_rows, _ = rows_from_label_map(labels.ravel())
    X = data.reshape(rows.size, -1).astype(np.float64)
    members = [X[rows == r] for r in range(n_rows)]
    return (
        np.stack([m.sum(0) for m in members]),
        np.stack([m.mean(0) for m in members]),
        np.stack([m.std(0) for m in members]),
        np.array([len(m) for m in members]),
    )


@pytest.mark.parametrize("batch_elements", [2**19, 5 * np.prod(DET)])
def test_cluster_statistics_of_a_lazy_scan_are_exact(monkeypatch, batch_elements):
    # one batch per chunk, or batches of 5 patterns (a short last batch)
    monkeypatch.setattr(_cluster_stats, "_BATCH_ELEMENTS", int(batch_elements))
    s, labels, data, known = known_scan()
    rows, n_rows, _ = rows_from_label_map(labels.ravel())
    stats = cluster_statistics(s, rows, n_rows, show_progressbar=False)
    sums, means, stds, counts = reference(data, labels)
    np.testing.assert_array_equal(stats.sums, sums)  # integer sums: exact
    np.testing.assert_array_equal(stats.counts, counts)
    np.testing.assert_allclose(stats.means, means, rtol=1e-12)
    np.testing.assert_allclose(stats.stds, stds, rtol=1e-6, atol=1e-6)
    # the clusters' means are the known patterns, members 7 from them
    assert np.abs(stats.means[:3] - known).max() <= 7
    assert 6.9 < stats.stds[:3].min() and stats.stds[:3].max() <= 7
    kept = rows >= 0
    np.testing.assert_allclose(
        stats.global_mean, data.reshape(rows.size, -1)[kept].mean(0), rtol=1e-12
    )


@pytest.mark.parametrize("batch_elements", [2**19, 5 * np.prod(DET)])
def test_similarity_loadings_of_a_lazy_scan(monkeypatch, batch_elements):
    monkeypatch.setattr(_cluster_stats, "_BATCH_ELEMENTS", int(batch_elements))
    s, labels, data, _ = known_scan()
    signal_mask = np.zeros(DET, dtype=bool)
    signal_mask[0, :2] = True
    sim = hm.get_similarity_loadings(
        s, labels, eps=1.0, signal_mask=signal_mask, show_progressbar=False
    )
    assert sim._lazy
    _, means, _, _ = reference(data, labels)
    keep = ~signal_mask.ravel()
    X = data.reshape(labels.size, -1).astype(np.float64)[:, keep]
    d = np.linalg.norm(X[:, None, :] - means[None, :, keep], axis=-1)
    expected = (1 / (1 + d)).T.reshape((4,) + NAV)
    np.testing.assert_allclose(sim.data.compute(), expected, rtol=1e-6)
    # every cluster member is nearer its own mean than the other clusters'
    nearest = expected[:3].argmax(0)
    members = labels >= 0
    np.testing.assert_array_equal(nearest[members], labels[members])


def _blas_threads(block):
    from threadpoolctl import threadpool_info

    n = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return np.full(block.shape[:1], max(n, default=0))


def test_local_compute_runs_one_blas_thread_per_task():
    # dask's threads are the parallelism; BLAS threads inside every task would
    # put several spinning threads on each core.
    from threadpoolctl import threadpool_info, threadpool_limits

    if not any(i["user_api"] == "blas" for i in threadpool_info()):
        pytest.skip("no BLAS library loaded")
    x = da.zeros((8,), chunks=2)
    _chunks.compute(x, show_progressbar=False)  # the limiter exists before
    with threadpool_limits(limits=2, user_api="blas"):
        inside = _chunks.compute(
            x.map_blocks(_blas_threads, dtype=int), show_progressbar=False
        )
        assert (inside == 1).all()
        assert _blas_threads(np.zeros(1))[0] == 2  # restored after the compute
        # a single chunk keeps the BLAS threads
        one = _chunks.compute(
            da.zeros((2,), chunks=2).map_blocks(_blas_threads, dtype=int),
            show_progressbar=False,
        )
        assert (one == 2).all()
