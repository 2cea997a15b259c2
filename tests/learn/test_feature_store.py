"""The features of every pattern computed once, kept in memory or spilled to a
temporary file (``FeatureStore``), and the routes of ``n_fit`` built on it."""

import collections

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from test_manifold import DET, three_domain_scan

from hyperspy_manifold import _progress
from hyperspy_manifold.learn import _features, estimator
from hyperspy_manifold.learn._features import (
    FeatureStore,
    row_groups,
    store_features,
)
from hyperspy_manifold.learn.manifold import manifold_decomposition


@pytest.mark.parametrize("spill", [False, True])
def test_store_writes_blocks_and_reads_windows(spill):
    rng = np.random.default_rng(0)
    values = rng.random((6, 8, 5)).astype(np.float32)
    store = FeatureStore((6, 8), 5, np.float32, spill=spill)
    assert store.spilled == spill
    for y in (0, 3):  # 2-D navigation blocks: rows not contiguous in C order
        for x in (0, 4):
            store.write_block(
                (slice(y, y + 3), slice(x, x + 4)), values[y : y + 3, x : x + 4]
            )
    flat = values.reshape(48, 5)
    rows = np.array([0, 1, 7, 8, 20, 21, 22, 40, 47])
    np.testing.assert_array_equal(store.take(rows), flat[rows])
    seen = list(store.blocks(rows, window=7))
    assert len(seen) == 6  # the windows of 7 stored rows that hold a chosen row
    np.testing.assert_array_equal(np.concatenate([r for r, _ in seen]), rows)
    np.testing.assert_array_equal(np.concatenate([v for _, v in seen]), flat[rows])
    np.testing.assert_array_equal(store.read(0, 48), flat)
    store.close()


def test_groups_cover_every_chunk_once():
    data = da.zeros((10, 4, 3), chunks=((3, 3, 3, 1), 4, 3), dtype=np.float32)
    per_index = 4 * 3 * 4  # bytes of one index along the first axis
    groups = row_groups(data, 2 * 3 * per_index)
    assert groups == [((0, 6), (0, 2)), ((6, 10), (2, 4))]
    assert row_groups(data, 1) == [
        ((0, 3), (0, 1)),
        ((3, 6), (1, 2)),
        ((6, 9), (2, 3)),
        ((9, 10), (3, 4)),
    ]


@pytest.mark.parametrize("features", ["cepstrum", "radial_variance"])
def test_store_features_in_groups_equal_one_compute(monkeypatch, features):
    """One read of the data whatever the number of groups (the cepstrum's chunk
    minima come with the features of their group)."""
    s = three_domain_scan()[0].as_lazy()
    s.data = s.data.rechunk((5, 10) + DET)
    kwargs = {"center": (15.5, 15.5)} if features == "radial_variance" else None
    expected = _features.feature_rows(
        _features.feature_signal(s, features, kwargs), None, False
    )
    monkeypatch.setattr(_features, "GROUP_BYTES", 1)  # one chunk row per group
    for spill in (False, True):
        with _progress.count_data_reads() as counter:
            f = _features.feature_signal(s, features, kwargs)
            store = store_features(f, spill, False)
        assert counter.reads == pytest.approx(1.0)
        np.testing.assert_allclose(store.read(0, 400), expected, rtol=1e-6)


def _fit(s, **kwargs):
    return manifold_decomposition(
        s,
        algorithm="kmeans",
        n_clusters=3,
        n_fit=200,
        n_bootstrap=0,
        random_state=0,
        return_info=True,
        show_progressbar=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def lazy_scan():
    s = three_domain_scan()[0].as_lazy()
    s.data = s.data.rechunk((4, 20) + DET)
    return s


@pytest.mark.parametrize("features", ["cepstrum", "raw"])
def test_n_fit_routes_give_the_same_answer(monkeypatch, lazy_scan, features):
    """Features in memory, spilled to a file (raw patterns: read again, one
    group of chunks per compute) and, without free disk space, computed again:
    the same labels, embedding and cluster means."""
    kept = _fit(lazy_scan, features=features)
    monkeypatch.setattr(estimator, "FEATURES_IN_MEMORY_BYTES", 0)
    spilled = _fit(lazy_scan, features=features)
    Usage = collections.namedtuple("Usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: Usage(1, 1, 0))
    if features == "raw":
        again = _fit(lazy_scan, features=features)  # raw patterns never spill
    else:
        with pytest.warns(UserWarning, match="TMPDIR"):
            again = _fit(lazy_scan, features=features)
    for other in (spilled, again):
        np.testing.assert_array_equal(other.labels.data, kept.labels.data)
        np.testing.assert_allclose(other.embedding.data, kept.embedding.data)
        np.testing.assert_allclose(
            other.cluster_means.data, kept.cluster_means.data, rtol=1e-12
        )
    # a spilled store is read back, not computed again: the passes of memory
    assert spilled.parameters["data_reads"] == kept.parameters["data_reads"]
    if features != "raw":
        assert again.parameters["data_reads"] > kept.parameters["data_reads"]


def test_eager_features_signal_is_used_in_place():
    s = three_domain_scan()[0]
    X = np.random.default_rng(0).random((20, 20, 3))
    f = hs.signals.Signal1D(X)
    store = store_features(f)
    assert np.shares_memory(store.array, X)
    np.testing.assert_array_equal(store.take(np.arange(5)), X.reshape(400, 3)[:5])
    result = _fit(s, features=f)
    assert result.parameters["n_fit"] == 200


def test_predict_and_transform_read_spilled_features_block_by_block(
    monkeypatch, lazy_scan
):
    """A new scan's features are computed once and voted on a block at a time:
    spilled, in windows of 64 positions, the labels, novelty scores and
    embedding of the whole-matrix route."""
    from hyperspy_manifold.learn.estimator import ManifoldClustering

    model = ManifoldClustering(
        algorithm="kmeans", n_clusters=3, n_bootstrap=0, random_state=0
    ).fit(lazy_scan, show_progressbar=False)
    mask = np.zeros((20, 20), bool)
    mask[3, :5] = True
    labels, novelty = model.predict(
        lazy_scan, navigation_mask=mask, return_novelty=True, show_progressbar=False
    )
    monkeypatch.setattr(estimator, "FEATURES_IN_MEMORY_BYTES", 0)
    monkeypatch.setattr(_features, "STORE_WINDOW", 64)
    spilled, spilled_novelty = model.predict(
        lazy_scan, navigation_mask=mask, return_novelty=True, show_progressbar=False
    )
    np.testing.assert_array_equal(spilled.data, labels.data)
    np.testing.assert_allclose(spilled_novelty.data, novelty.data)
    assert (labels.data[mask] == -2).all() and np.isnan(novelty.data[mask]).all()
    emb = model.transform(lazy_scan, navigation_mask=mask, show_progressbar=False)
    assert np.isnan(emb[mask.ravel()]).all() and np.isfinite(emb[~mask.ravel()]).all()
