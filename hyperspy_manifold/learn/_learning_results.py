"""Write manifold clustering results into HyperSpy's ``learning_results``.

HyperSpy's own ``cluster_analysis`` cannot be used as is (see the traps in
ARCHITECTURE.md): it sorts rows by size instead of our label order, turns HDBSCAN
noise into "no cluster" (the value HyperSpy uses for masked positions), crashes
when every point is noise and never sets ``cluster_centers``.  So the attributes
read by ``get_cluster_labels``, ``get_cluster_signals``, ``get_cluster_distances``,
``plot_cluster_results``, ``export_cluster_results``,
``get_decomposition_factors``/``loadings`` and ``plot_decomposition_results`` are
written here, all as numpy arrays, strings and ints so ``s.save`` keeps them.

Rows (HyperSpy "clusters" and decomposition "components") are our clusters
0..K-1 in label order, then one extra row holding the HDBSCAN noise patterns when
there is noise (``learning_results.cluster_noise_row``, else None).  Masked scan
positions belong to no row: ``get_cluster_labels(merged=True)`` shows them as -1
and the noise as K.
"""

from __future__ import annotations

import numpy as np
from hyperspy.learn import LearningResults


def decomposition_results(
    factors: np.ndarray,
    loadings: np.ndarray,
    algorithm: str,
    navigation_mask: np.ndarray | None,
) -> LearningResults:
    """A fresh ``LearningResults`` holding a decomposition with ``k`` components.

    The one place that fills the attributes HyperSpy's decomposition readers
    (``get_decomposition_factors``/``loadings``, ``plot_decomposition_results``)
    and ``s.save`` rely on; clustering and NMF add their own on top.

    Parameters
    ----------
    factors : (P, k)
        Flattened signal-space component of every row.
    loadings : (n_navigation, k)
    navigation_mask : array of bool, optional
        True = position left out (stored as given).
    """
    lr = LearningResults()
    lr.factors = np.asarray(factors)
    lr.loadings = np.asarray(loadings, dtype=np.float64)
    lr.decomposition_algorithm = algorithm
    lr.output_dimension = int(lr.factors.shape[1])
    lr.poissonian_noise_normalized = False
    lr.unfolded = False
    lr.navigation_mask = navigation_mask
    return lr


def write_learning_results(
    s,
    one_hot: np.ndarray,
    stats,
    centroid_signals: np.ndarray,
    centroids: np.ndarray,
    distances: np.ndarray,
    loadings: np.ndarray,
    algorithm: str,
    navigation_mask: np.ndarray | None,
    noise_row: int | None,
) -> None:
    """Replace ``s.learning_results`` with the clustering (the documented side effect).

    Parameters
    ----------
    one_hot : (n_rows, n_navigation) bool
    stats : ClusterStatistics
        Sums and means of the patterns of every row, flattened ``(n_rows, P)``.
    centroid_signals : (n_rows, P)
        Pattern of the member closest to the row's centroid in the embedding.
    centroids : (n_rows, n_components)
        Mean embedding coordinates of every row.
    distances : (n_rows, n_navigation)
        Embedding distance of every position to every centroid (NaN = masked).
    loadings : (n_navigation, n_rows)
        Decomposition loadings (membership or similarity).
    """
    lr = decomposition_results(
        stats.means.T.copy(),
        loadings,
        "manifold_decomposition",
        None if navigation_mask is None else navigation_mask.ravel(),
    )
    n_rows = one_hot.shape[0]
    lr.cluster_labels = np.asarray(one_hot, dtype=bool)
    lr.number_of_clusters = int(n_rows)
    lr.cluster_algorithm = f"manifold_decomposition ({algorithm})"
    lr.cluster_sum_signals = stats.sums
    lr.cluster_centers = stats.means
    lr.cluster_centroid_signals = np.asarray(centroid_signals, dtype=np.float64)
    lr.cluster_centroids = np.asarray(centroids, dtype=np.float64)
    lr.cluster_distances = np.asarray(distances, dtype=np.float64)
    lr.cluster_noise_row = None if noise_row is None else int(noise_row)
    s.learning_results = lr
