"""Segmentation methods scored by the accuracy benchmark.

Every method is a function ``(signal, seed, true_k) -> labels`` returning an int
array of the navigation shape (numpy order), -1 for noise. Methods that do not
need the true number of labels ignore ``true_k``. Add one to :data:`METHODS`, or
name any importable function as ``"module:function"`` on the command line.
"""

from __future__ import annotations

import importlib

import numpy as np


def _nav_shape(signal) -> tuple[int, ...]:
    return tuple(signal.axes_manager.navigation_shape[::-1])


def default(signal, seed, true_k=None):
    """The package pipeline with every parameter at its default."""
    import hyperspy_manifold as hm

    result = hm.manifold_decomposition(signal, random_state=seed, return_info=True)
    return np.asarray(result.labels.data)


def default_epochs_umap(signal, seed, true_k=None):
    """The default pipeline with UMAP's own number of epochs (500 below 10 000
    patterns, 200 above; the package's default is 200 from 1000 patterns up)."""
    import hyperspy_manifold as hm

    n = int(np.prod(_nav_shape(signal)))
    result = hm.manifold_decomposition(
        signal, random_state=seed, n_epochs=500 if n < 10000 else 200, return_info=True
    )
    return np.asarray(result.labels.data)


def _pca(X, seed, n_components=50):
    from sklearn.decomposition import PCA

    n = min(n_components, X.shape[0] - 1, X.shape[1])
    if n < 1 or n == X.shape[1]:
        return X
    pca = PCA(n_components=n, svd_solver="randomized", random_state=seed)
    return pca.fit_transform(X)


def _kmeans(X, k, seed):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=int(k), n_init=10, random_state=seed).fit_predict(X)


def _minmax(X):
    X = np.asarray(X, dtype=np.float32)
    low = X.min(axis=0)
    span = X.max(axis=0) - low
    span[span == 0] = 1
    return (X - low) / span


def ewpc_features(signal):
    """EWPC cepstrum ring features as the package computes them, min-max scaled."""
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    return _minmax(feature_matrix(feature_signal(signal, "cepstrum")))


def raw_pca_kmeans_truek(signal, seed, true_k):
    """Raw patterns, PCA(50) and k-means with the true number of labels."""
    data = np.asarray(signal.data)
    nav = _nav_shape(signal)
    X = data.reshape(int(np.prod(nav)), -1).astype(np.float32)
    return _kmeans(_pca(X, seed), true_k, seed).reshape(nav)


def ewpc_pca_kmeans_truek(signal, seed, true_k):
    """EWPC features, PCA(50) and k-means with the true number of labels."""
    nav = _nav_shape(signal)
    return _kmeans(_pca(ewpc_features(signal), seed), true_k, seed).reshape(nav)


def ewpc_umap_hdbscan_5pct(signal, seed, true_k=None):
    """EWPC features, PCA(50), UMAP (2D, min_dist 0) and HDBSCAN with a minimum
    cluster size of 5 % of the scan (no k given)."""
    import hdbscan
    import umap

    nav = _nav_shape(signal)
    Z = _pca(ewpc_features(signal), seed)
    n = Z.shape[0]
    neighbours = min(max(15, min(50, n // 20)), n - 1)
    embedding = umap.UMAP(
        n_neighbors=neighbours, min_dist=0.0, n_components=2, random_state=seed
    ).fit_transform(Z)
    size = max(2, round(0.05 * n))
    labels = hdbscan.HDBSCAN(min_cluster_size=size).fit_predict(embedding)
    return np.asarray(labels).reshape(nav)


def _nmf_labels(signal, seed, **kwargs):
    import hyperspy_manifold as hm

    info = hm.bragg_nmf(
        signal,
        features="angular_average",
        random_state=seed,
        return_info=True,
        show_progressbar=False,
        **kwargs,
    )
    W = np.nan_to_num(np.asarray(info.W))
    return np.argmax(W, axis=1).reshape(_nav_shape(signal))


def nmf_aa_default(signal, seed, true_k=None):
    """``bragg_nmf`` on angular-average features, package defaults; every
    position labelled by its strongest component."""
    return _nmf_labels(signal, seed)


def nmf_aa_average(signal, seed, true_k=None):
    """As :func:`nmf_aa_default` with average linkage of the merge step."""
    return _nmf_labels(signal, seed, linkage="average")


def nmf_aa_single(signal, seed, true_k=None):
    """As :func:`nmf_aa_default` with single linkage of the merge step."""
    return _nmf_labels(signal, seed, linkage="single")


def aa_kmeans_truek(signal, seed, true_k):
    """Angular-average features, min-max scaled, k-means with the true k."""
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    X = _minmax(feature_matrix(feature_signal(signal, "angular_average")))
    return _kmeans(X, true_k, seed).reshape(_nav_shape(signal))


#: Methods compared against ``default`` in the summary.
BASELINES = ("raw_pca_kmeans_truek", "ewpc_pca_kmeans_truek", "ewpc_umap_hdbscan_5pct")

METHODS = {
    "default": default,
    "default_epochs_umap": default_epochs_umap,
    "raw_pca_kmeans_truek": raw_pca_kmeans_truek,
    "ewpc_pca_kmeans_truek": ewpc_pca_kmeans_truek,
    "ewpc_umap_hdbscan_5pct": ewpc_umap_hdbscan_5pct,
    "nmf_aa_default": nmf_aa_default,
    "nmf_aa_single": nmf_aa_single,
    "nmf_aa_average": nmf_aa_average,
    "aa_kmeans_truek": aa_kmeans_truek,
}
#: Methods run when ``--methods`` is not given (the NMF ones are run on request:
#: ``--methods nmf_aa_single nmf_aa_average aa_kmeans_truek``).
DEFAULT_METHODS = ("default",) + BASELINES


def resolve(name: str):
    """A method by registry name or as ``"package.module:function"``."""
    if name in METHODS:
        return METHODS[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        return getattr(importlib.import_module(module), attr)
    raise KeyError(
        f"unknown method {name!r}: one of {sorted(METHODS)} or 'module:function'"
    )
