"""Clustering of the embedding, and labelling of new points.

HDBSCAN with a fixed ``min_cluster_size``, k-means or spectral clustering of the
UMAP embedding (:func:`cluster_embedding`); new points are labelled by
HDBSCAN's ``approximate_predict``, the nearest k-means centre or a vote of their
nearest fitted neighbours (:class:`NeighbourVote`, also the rule of the
automatic partition, in feature space).  The automatic partition itself is in
:mod:`hyperspy_manifold.learn.selection`.
"""

from __future__ import annotations

import warnings

import numpy as np

ALGORITHMS = ("hdbscan", "kmeans", "spectral")


def check_cluster_count(algorithm, n_clusters, min_cluster_size, n: int) -> None:
    """Raise a ValueError naming the limit when ``n`` fitted patterns can not hold
    the clusters asked for (sklearn and hdbscan would fail or label every
    pattern noise)."""
    more = "fit more patterns (`n_fit`, `navigation_mask`)"
    if algorithm == "kmeans" and n_clusters > n:
        raise ValueError(
            f"`n_clusters` must be at most the number of fitted patterns ({n}) "
            f"for algorithm='kmeans', got {n_clusters}: lower it or {more}."
        )
    if algorithm == "spectral" and n_clusters >= n:
        raise ValueError(
            f"`n_clusters` must be smaller than the number of fitted patterns ({n}) "
            f"for algorithm='spectral', got {n_clusters}: lower it or {more}."
        )
    if algorithm == "hdbscan" and not isinstance(min_cluster_size, str):
        if min_cluster_size > n:
            raise ValueError(
                f"`min_cluster_size` must be at most the number of fitted patterns "
                f"({n}), got {min_cluster_size}: lower it or {more}."
            )


def cluster_embedding(
    emb,
    algorithm,
    n_clusters,
    min_cluster_size,
    min_samples,
    seed,
    predict,
):
    """Fit the clusterer; returns ``(labels, probabilities, clusterer)``."""
    n = emb.shape[0]
    if algorithm == "kmeans":
        from sklearn.cluster import KMeans

        clusterer = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit(emb)
        return clusterer.labels_.astype(int), np.ones(n), clusterer
    if algorithm == "spectral":
        from sklearn.cluster import SpectralClustering

        clusterer = SpectralClustering(
            n_clusters=n_clusters,
            affinity="nearest_neighbors",
            n_neighbors=min(10, n - 1),
            random_state=seed,
            assign_labels="cluster_qr",
        )
        with warnings.catch_warnings():
            # Well-separated clusters give a disconnected neighbour graph: expected.
            warnings.filterwarnings("ignore", message=".*not fully connected.*")
            clusterer.fit(emb)
        return clusterer.labels_.astype(int), np.ones(n), clusterer
    import hdbscan

    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=int(min_cluster_size),
        min_samples=min_samples,
        prediction_data=predict,
    ).fit(emb)
    if (clusterer.labels_ < 0).all():
        warnings.warn(
            f"HDBSCAN labelled every one of the {n} fitted patterns noise "
            f"(min_cluster_size={int(min_cluster_size)}, min_samples="
            f"{min_samples or int(min_cluster_size)}): lower `min_samples` (e.g. 1) "
            "or `min_cluster_size`, or use min_cluster_size='auto'.",
            UserWarning,
        )
    return (
        clusterer.labels_.astype(int),
        np.asarray(clusterer.probabilities_, dtype=np.float64),
        clusterer,
    )


class NeighbourVote:
    """Labels new points by a vote of their 10 nearest fitted points (fewer when
    the smallest fitted cluster has fewer members); the
    strength is the share of the votes won. The automatic partition votes in the
    scaled (PCA-reduced) feature space, where it was chosen; spectral clustering
    (no out-of-sample rule) in the embedding."""

    def __init__(self, Z, labels, n_neighbors=10):
        from sklearn.neighbors import KNeighborsClassifier

        # more voters than the smallest cluster has members would outvote it
        # everywhere: with 10 fitted patterns, the majority would win every vote
        smallest = int(np.unique(labels, return_counts=True)[1].min())
        self.knn = KNeighborsClassifier(n_neighbors=min(n_neighbors, smallest))
        self.knn.fit(Z, labels)
        self.classes_, self.codes_ = np.unique(labels, return_inverse=True)

    def __call__(self, Z):
        proba = self.knn.predict_proba(Z)
        best = np.argmax(proba, axis=1)
        return self.knn.classes_[best].astype(int), proba[np.arange(len(Z)), best]

    def vote(self, Z):
        """``(labels, share of the votes won, distances, indices)`` of the voters
        of new points ``Z`` (one neighbour search)."""
        dist, index = self.knn.kneighbors(Z)
        votes = self.codes_[index]  # the voters' classes, 0..C-1
        counts = np.stack(
            [(votes == c).sum(axis=1) for c in range(self.classes_.size)], axis=1
        )
        best = np.argmax(counts, axis=1)
        share = counts[np.arange(len(Z)), best] / index.shape[1]
        return self.classes_[best].astype(int), share, dist, index

    def place(self, Z, emb_fit):
        """Labels, strengths and embedding coordinates of new points from one
        neighbour search: the coordinates are the inverse-distance-weighted mean
        of the voters' (the fitted embedding interpolated, as UMAP's own
        ``transform`` initialises new points), about 10x faster than
        ``UMAP.transform`` with its optimisation epochs."""
        labels, share, dist, index = self.vote(Z)
        weights = 1.0 / np.maximum(dist, 1e-12)
        weights /= weights.sum(axis=1, keepdims=True)
        emb = np.einsum("nk,nkc->nc", weights, emb_fit[index])
        return labels, share, emb


def predictor(clusterer, algorithm, emb_fit, labels_fit):
    """Function labelling new embedded points: ``emb -> (labels, strengths)``.

    HDBSCAN: ``approximate_predict`` (noise stays -1); k-means: nearest centre;
    spectral clustering (no out-of-sample rule): :class:`NeighbourVote` in the
    embedding.
    """
    if algorithm == "hdbscan":
        import hdbscan

        def predict(emb):
            labels, strengths = hdbscan.approximate_predict(clusterer, emb)
            return np.asarray(labels, dtype=int), np.asarray(strengths, dtype=float)

        return predict
    if algorithm == "kmeans":
        return lambda emb: (clusterer.predict(emb).astype(int), np.ones(len(emb)))
    return NeighbourVote(emb_fit, labels_fit)
