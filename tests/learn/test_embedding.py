"""The embedding's neighbour search: exact (scikit-learn) up to EXACT_KNN_MAX
points instead of UMAP's NN-descent, the same graph as UMAP's own exact search."""

import warnings

import numpy as np
import pytest

from hyperspy_manifold.learn import embedding
from hyperspy_manifold.learn.embedding import (
    EXACT_KNN_MAX,
    SHARED_KNN_MIN,
    ExactIndex,
    ManifoldEmbedder,
    exact_neighbours,
)


def blobs(n, d, seed=0, centres=4):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, d)) * 3
    labels = rng.integers(centres, size=n)
    X = (c[labels] + rng.normal(size=(n, d))).astype(np.float32)
    return X, labels


def make_embedder(n_bootstrap=0, seeds=(7, 8), metric="euclidean", k=15):
    return ManifoldEmbedder(
        None, None, k, 0.0, 2, metric, n_bootstrap, "embedding", 2 * k, 0,
        list(seeds), 20,
    )  # fmt: skip


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation"])
def test_exact_graph_equals_umaps_own_below_4096_points(metric):
    """The graph is the one UMAP computes itself below 4096 points (all pairwise
    distances, UMAP's own distance function): the same neighbours in the same
    order, the same float32 distances, the point itself first."""
    import umap.distances
    from sklearn.metrics import pairwise_distances

    X, _ = blobs(400, 12)
    k = 20
    indices, distances, index = exact_neighbours(X, k, metric)
    D = pairwise_distances(X, metric=umap.distances.named_distances[metric])
    own = np.argsort(D, axis=1, kind="stable")[:, :k]  # UMAP's fast_knn_indices
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    assert np.array_equal(indices[:, 0], np.arange(len(X)))
    # same neighbours (random data: no ties); the distances UMAP's own function
    # gives (to float32 rounding: not tied to one release's arithmetic)
    assert np.array_equal(np.sort(indices, axis=1), np.sort(own, axis=1))
    np.testing.assert_allclose(
        distances, np.take_along_axis(D, indices, axis=1), rtol=1e-5, atol=1e-6
    )
    assert isinstance(index, ExactIndex) and index._angular_trees is False


def test_umap_with_the_exact_graph_gives_umaps_own_layout():
    """Passing the exact graph below 4096 points leaves UMAP's answer as it was:
    the same fuzzy graph (to float32 rounding), hence the same layout for a
    fixed seed, and the same transform (both checked to a margin, so that a
    release of umap changing its last bits does not fail it)."""
    import umap

    from hyperspy_manifold._jit_cache import enable_jit_cache

    enable_jit_cache()  # (UMAP's kernels from the disk cache, not compiled)
    X, _ = blobs(300, 10, seed=1)

    def fit(knn):
        extra = {} if knn is None else {"precomputed_knn": knn}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return umap.UMAP(
                n_neighbors=15, min_dist=0.0, n_epochs=30, random_state=3, **extra
            ).fit(X)

    own, exact = fit(None), fit(exact_neighbours(X, 15, "euclidean"))
    difference = abs(own.graph_ - exact.graph_)
    assert difference.max() <= 1e-5 * own.graph_.max()
    assert (own.graph_ != 0).sum() == (exact.graph_ != 0).sum()
    spread = np.ptp(own.embedding_, axis=0).max()
    np.testing.assert_allclose(own.embedding_, exact.embedding_, atol=1e-3 * spread)
    new = X[:20] + 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(
            own.transform(new), exact.transform(new), atol=1e-3 * spread
        )


def test_fit_above_4096_points_never_runs_nn_descent(monkeypatch):
    """Above UMAP's 4096 points (and in the bootstrap round on the embedding) no
    NN-descent index is built, no warning is left over, and new rows are placed
    next to the fitted rows they are copies of."""
    import pynndescent

    def refuse(*args, **kwargs):
        raise AssertionError("NN-descent was run")

    monkeypatch.setattr(pynndescent.NNDescent, "__init__", refuse)
    X, labels = blobs(SHARED_KNN_MIN + 100, 6)
    emb_model = make_embedder(n_bootstrap=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = emb_model.fit_transform(X)
    assert all(isinstance(m._knn_search_index, ExactIndex) for m in emb_model.umaps_)
    rows = np.arange(0, len(X), 97)
    rng = np.random.default_rng(1)
    new = X[rows] + rng.normal(scale=0.01, size=(rows.size, X.shape[1]))
    placed = emb_model.transform(new.astype(np.float32))
    # each new row lands among its source's blob, close to its source
    nearest = np.argmin(((placed[:, None] - emb[None]) ** 2).sum(-1), axis=1)
    assert np.array_equal(labels[nearest], labels[rows])
    spread = np.ptp(emb, axis=0).max()
    assert np.median(np.linalg.norm(placed - emb[rows], axis=1)) < 0.05 * spread


def test_nn_descent_is_kept_above_the_threshold(monkeypatch):
    """Above ``EXACT_KNN_MAX`` points (or for a metric scikit-learn does not
    define alike) the first round's graph comes from NN-descent again (from
    4096 points) or from UMAP itself (below)."""
    import umap.umap_

    assert EXACT_KNN_MAX >= 16384
    calls = []

    def fake_nn_descent(Z, k, metric, *args, **kwargs):
        calls.append((Z.shape[0], k, metric))
        return "nn-descent"

    monkeypatch.setattr(umap.umap_, "nearest_neighbors", fake_nn_descent)
    X, _ = blobs(SHARED_KNN_MIN + 10, 3)
    model = make_embedder()
    assert model.neighbours(X)[0].shape == (len(X), 15)  # exact
    assert not calls
    monkeypatch.setattr(embedding, "EXACT_KNN_MAX", SHARED_KNN_MIN)
    assert exact_neighbours(X, 15, "euclidean") is None
    assert model.neighbours(X) == "nn-descent"
    assert calls == [(len(X), 15, "euclidean")]
    # bootstrap rounds above the threshold: UMAP's own search
    assert model.neighbours(X[:, :2], round_=1) is None
    # a metric scikit-learn does not share: NN-descent from 4096 points, UMAP's
    # own exact search below
    monkeypatch.setattr(embedding, "EXACT_KNN_MAX", EXACT_KNN_MAX)
    hellinger = make_embedder(metric="hellinger")
    assert exact_neighbours(np.abs(X), 15, "hellinger") is None
    assert hellinger.neighbours(np.abs(X)) == "nn-descent"
    assert hellinger.neighbours(np.abs(X[:100])) is None
