"""Many k-means clusters merged by Ward's criterion: a hierarchy cut anywhere.

Jesse et al. (2016) and Shi et al. cluster 4D-STEM scans with k-means and read
the structure at several levels.  :func:`hierarchical_clustering` runs k-means
with many clusters (``n_initial``) on the scaled, PCA-reduced features, then
merges the clusters pairwise with Ward's criterion -- the increase of the
within-cluster sum of squares, ``n_a n_b / (n_a + n_b) |c_a - c_b|**2`` for
clusters of sizes ``n`` and centroids ``c`` -- until one is left.  Every cut of
that tree (a number of clusters or a merge height) is a labelling of the scan,
given by :meth:`Hierarchy.labels` without refitting.

The automatic cut is at the largest jump of the merge heights (in log): the
merge that joins two clusters far more distinct than any joined before.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import check_navigation_mask
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold._random import integer_seeds
from hyperspy_manifold.learn._labels import MASKED


def ward_tree(centroids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Ward merging of weighted centroids: a scipy-style linkage matrix
    ``(K - 1, 4)`` (the two merged ids, the merge height ``sqrt(2 * cost)``, the
    size of the new cluster); new clusters get ids K, K+1, ..."""
    c = [np.asarray(v, dtype=np.float64) for v in centroids]
    n = [float(v) for v in sizes]
    active = list(range(len(c)))
    tree = []
    while len(active) > 1:
        best = None
        for i, a in enumerate(active):
            for b in active[i + 1 :]:
                cost = n[a] * n[b] / (n[a] + n[b]) * np.sum((c[a] - c[b]) ** 2)
                if best is None or cost < best[0]:
                    best = (cost, a, b)
        cost, a, b = best
        size = n[a] + n[b]
        c.append((n[a] * c[a] + n[b] * c[b]) / size)
        n.append(size)
        active = [k for k in active if k not in (a, b)] + [len(c) - 1]
        tree.append([a, b, np.sqrt(2 * cost), size])
    return np.asarray(tree, dtype=np.float64).reshape(-1, 4)


def cut_tree(tree: np.ndarray, n_leaves: int, n_clusters: int) -> np.ndarray:
    """Cluster (0..n_clusters-1, in the order of the tree's node ids) of every
    leaf after all but the last ``n_clusters - 1`` merges."""
    parent = np.arange(n_leaves + len(tree))
    for row, (a, b, _, _) in enumerate(tree[: n_leaves - n_clusters]):
        parent[int(a)] = parent[int(b)] = n_leaves + row

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    roots = np.array([root(i) for i in range(n_leaves)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def automatic_cut(tree: np.ndarray, max_clusters: int) -> int:
    """The number of clusters before the largest jump of the (log) merge heights."""
    heights = np.maximum(tree[:, 2], np.finfo(float).tiny)
    n_leaves = len(tree) + 1
    if n_leaves < 3:
        return 1 if n_leaves == 1 else 2
    jumps = np.diff(np.log(heights))  # jump into merge m + 1
    # merge m + 1 (0-based) leaves n_leaves - (m + 1) clusters before it happens
    k = n_leaves - (np.arange(jumps.size) + 1)
    allowed = (k >= 2) & (k <= max_clusters)
    if not allowed.any():
        return 2
    best = np.argmax(np.where(allowed, jumps, -np.inf))
    return int(k[best])


@dataclass
class Hierarchy:
    """A Ward tree over k-means clusters of one scan.

    Attributes
    ----------
    leaves : numpy.ndarray
        k-means cluster (leaf) of every scan position, navigation-shaped,
        ``MASKED`` (-2) where masked.
    tree : numpy.ndarray
        scipy-style linkage matrix of the leaves (``scipy.cluster.hierarchy``
        can draw and cut it).
    n_clusters : int
        The automatic cut.
    signal : BaseSignal
        The clustered scan (for calibrated label maps).
    """

    leaves: np.ndarray
    tree: np.ndarray
    n_clusters: int
    signal: object = field(repr=False, default=None)

    @property
    def n_leaves(self) -> int:
        return len(self.tree) + 1

    def labels(self, n_clusters: int | None = None, distance: float | None = None):
        """Label map (a signal with the scan's axes) at a cut: ``n_clusters``,
        or the merge ``distance`` (clusters joined below it), or the automatic
        cut.  No refitting."""
        if n_clusters is not None and distance is not None:
            raise ValueError("give `n_clusters` or `distance`, not both")
        if distance is not None:
            n_clusters = self.n_leaves - int(np.sum(self.tree[:, 2] <= distance))
        elif n_clusters is None:
            n_clusters = self.n_clusters
        if (
            not isinstance(n_clusters, numbers.Integral)
            or not 1 <= n_clusters <= self.n_leaves
        ):
            raise ValueError(
                f"`n_clusters` must be an int in 1..{self.n_leaves} (the leaves), "
                f"got {n_clusters!r}."
            )
        mapping = cut_tree(self.tree, self.n_leaves, int(n_clusters))
        out = np.where(self.leaves >= 0, mapping[np.maximum(self.leaves, 0)], MASKED)
        from hyperspy_manifold.learn._make_result import navigation_map

        return navigation_map(self.signal, out.astype(np.int64), "Cluster labels")

    def plot_dendrogram(self, ax=None):
        """The tree as a dendrogram (scipy), the automatic cut marked; on ``ax``
        if given.  Returns the matplotlib figure."""
        from hyperspy_manifold.plot.report import figure_dendrogram

        return figure_dendrogram(self, ax=ax)


@one_progress_bar("Hierarchical clustering")
def hierarchical_clustering(
    s,
    features="cepstrum",
    feature_kwargs=None,
    n_initial: int = 50,
    max_clusters: int = 20,
    scaling="minmax",
    pca_components: int | None = 50,
    navigation_mask=None,
    random_state=None,
    show_progressbar: bool | None = None,
) -> Hierarchy:
    """k-means with ``n_initial`` clusters merged by Ward's criterion.

    Parameters
    ----------
    s : BaseSignal
        The scan (patterns, or anything ``features`` accepts); not modified.
    features, feature_kwargs, scaling, pca_components
        As in :func:`~hyperspy_manifold.manifold_decomposition`.
    n_initial : int
        k-means clusters (the leaves of the tree); at most the number of
        unmasked patterns.
    max_clusters : int
        Largest number of clusters the automatic cut may choose.
    navigation_mask : array of bool, optional
        Positions left out (True).
    random_state : None, int, RandomState or Generator
        Seeds k-means and the PCA.

    Returns
    -------
    Hierarchy
        ``labels(n_clusters=None, distance=None)`` at any cut,
        ``plot_dendrogram()``.
    """
    from sklearn.cluster import KMeans

    from hyperspy_manifold.learn._features import (
        FeatureScaler,
        feature_matrix,
        feature_signal,
        fit_pca,
    )
    from hyperspy_manifold.learn.selection import single_thread

    for name, value, low in (
        ("n_initial", n_initial, 2),
        ("max_clusters", max_clusters, 2),
    ):
        if (
            not isinstance(value, numbers.Integral)
            or isinstance(value, bool)
            or value < low
        ):
            raise ValueError(f"`{name}` must be an int >= {low}, got {value!r}.")
    mask = check_navigation_mask(s, navigation_mask)
    seed_pca, seed_kmeans = integer_seeds(random_state, 2)
    f = feature_signal(s, features, feature_kwargs, show_progressbar)
    X = feature_matrix(f, mask, show_progressbar)
    if X.shape[0] < n_initial:
        raise ValueError(
            f"`n_initial`={n_initial} is more than the {X.shape[0]} unmasked "
            "patterns: give at most that many."
        )
    Xs = FeatureScaler(scaling).fit(X).transform(X) if scaling else X
    pca = fit_pca(Xs, pca_components, seed_pca)
    Z = pca.transform(Xs) if pca is not None else np.asarray(Xs)
    with single_thread():
        km = KMeans(n_initial, n_init=3, random_state=seed_kmeans).fit(Z)
    sizes = np.bincount(km.labels_, minlength=n_initial)
    tree = ward_tree(km.cluster_centers_, sizes)
    shape = navigation_shape(s)
    leaves = np.full(int(np.prod(shape)), MASKED, dtype=np.int64)
    keep = np.ones(leaves.size, bool) if mask is None else ~mask.ravel()
    leaves[keep] = km.labels_
    k = automatic_cut(tree, min(max_clusters, n_initial))
    return Hierarchy(leaves.reshape(shape), tree, k, s)
