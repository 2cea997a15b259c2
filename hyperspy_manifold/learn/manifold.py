"""Manifold learning and clustering of 4D-STEM patterns (Li et al. 2019; Shi et al.).

:func:`manifold_decomposition` is the signal-level entry point: it fits a
:class:`~hyperspy_manifold.learn.estimator.ManifoldClustering` (features ->
scaling -> PCA -> UMAP -> automatic partition, HDBSCAN, k-means or spectral
clustering -> cluster mean/std patterns in one lazy pass) and writes the result
to ``s.learning_results``, like HyperSpy's ``decomposition``.  The learning
itself lives in one small module per concern: :mod:`.embedding`,
:mod:`.clustering`, :mod:`.selection` and :mod:`.estimator`.
"""

from __future__ import annotations

import numpy as np

from hyperspy_manifold import _progress
from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import check_choice
from hyperspy_manifold._chunks import compute, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.learn._labels import MASKED
from hyperspy_manifold.learn._learning_results import write_learning_results
from hyperspy_manifold.learn._make_result import cluster_result
from hyperspy_manifold.learn._result import ManifoldResult
from hyperspy_manifold.learn.estimator import ManifoldClustering
from hyperspy_manifold.learn.similarity import rows_from_label_map, similarity_maps

__all__ = ["ManifoldResult", "cluster_result", "manifold_decomposition"]

LOADINGS = ("membership", "similarity")


@one_progress_bar("Manifold decomposition")
@fill_docstring
def manifold_decomposition(
    s,
    features="cepstrum",
    feature_kwargs: dict | None = None,
    scaling: str | None = "minmax",
    pca_components: int | None = 50,
    n_neighbors: int | None = None,
    min_dist: float = 0.0,
    n_components: int = 2,
    metric: str = "euclidean",
    n_epochs: int | None = None,
    n_bootstrap: int = 0,
    bootstrap_init: str = "embedding",
    bootstrap_neighbors: int | None = None,
    algorithm: str = "hdbscan",
    n_clusters: int | None = None,
    min_cluster_size="auto",
    min_samples: int | None = None,
    k_range=None,
    n_runs: int = 3,
    navigation_mask=None,
    signal_mask=None,
    loadings: str = "membership",
    random_state=None,
    n_fit: int | None = None,
    return_info: bool = False,
    show_progressbar: bool | None = None,
):
    """Cluster the patterns of a scan on a UMAP embedding of their features.

    features -> scaling -> PCA -> UMAP (several runs) -> HDBSCAN with the number
    of clusters chosen automatically, k-means or spectral clustering (Li et al.
    2019; Shi et al.).  The input data are not modified; the results are written to
    ``s.learning_results`` (like HyperSpy's ``decomposition``), so
    ``s.get_cluster_labels()``, ``s.get_cluster_signals()``,
    ``s.plot_cluster_results()``, ``s.get_decomposition_factors()`` (cluster mean
    patterns), ``s.get_decomposition_loadings()`` and
    ``s.plot_decomposition_results()`` work unchanged.

    Parameters
    ----------
    s : BaseSignal
        4D-STEM data (two signal axes, at least one navigation axis), eager or lazy.
    features : str or BaseSignal
        ``"cepstrum"`` (ring of the exit-wave power cepstrum), ``"radial_variance"``,
        ``"angular_average"``, ``"radial_profile"`` (azimuthal means with the
        Bragg spots clipped), ``"bragg"``, ``"bright_field"`` (the bright-field
        disk and its first moments), ``"raw"`` (the patterns themselves) or a
        feature signal with the navigation shape of ``s``. The default, the
        cepstrum, was measured to work on nanobeam spot patterns, on
        amorphous/crystalline mixtures and on atomic-resolution ronchigram scans
        (``benchmarks/accuracy``, :func:`~hyperspy_manifold.data.ronchigram_scan`):
        it follows lattice spacings and directions, not spot intensities or
        where fringes sit. ``"bright_field"`` suits regions that differ by the
        disk's shift or intensity rather than by lattice.
    feature_kwargs : dict, optional
        Keywords of the feature transform.
    scaling : {"minmax", "standard", None}
        Per-feature scaling over all patterns.
    pca_components : int or None
        Randomised PCA to this many components before UMAP, only when there are
        more features; None = never.
    n_neighbors : int, optional
        UMAP neighbours; default ``min(50, max(15, n // 20))`` for n fitted
        patterns (UMAP's 15 for small scans, Li's 50 from 1000 patterns up).
        Reduced to n - 1 with a warning when not smaller than n.
    min_dist : float
        UMAP ``min_dist``; 0 packs clusters tightly for HDBSCAN (Li).
    n_components : int
        Embedding dimension (Li: 2).
    metric : str
        UMAP metric of the first round (bootstrap rounds are Euclidean).
    n_epochs : int, optional
        UMAP optimisation epochs of every run; default 200 from 1000 fitted
        patterns up (UMAP's own choice above 10 000), 500 below (see
        :func:`~hyperspy_manifold.learn.embedding.default_n_epochs`: on the
        accuracy benchmark the same partitions as UMAP's 500 in 0.70-0.78x the
        time).
    n_bootstrap : int
        Graph bootstrapping rounds (Li et al.): UMAP re-run on the embedding this
        many times. Default 0: with the automatic choice judged in feature space
        a round changed no answer on the tuning scenarios of the accuracy
        benchmark and doubled the time; 1 reproduces Li et al.
    bootstrap_init : {"embedding", "spectral"}
        Initial layout of every bootstrap round.
    bootstrap_neighbors : int, optional
        UMAP neighbours of the bootstrap rounds; default ``2 * n_neighbors`` (at
        most n - 1).  In the embedding a domain is one compact clump; with only
        ``n_neighbors`` the re-embedding can tear a clump whose spread is pure
        noise into pieces (seen on small synthetic scans), a wider neighbourhood
        keeps it whole while the round still tightens it.
    algorithm : {"hdbscan", "kmeans", "spectral"}
        Clustering of the embedding.
    n_clusters : int, optional
        Number of clusters; required by ``"kmeans"`` and ``"spectral"``.
    min_cluster_size : "auto" or int
        HDBSCAN minimum cluster size. ``"auto"`` (the default) chooses the
        partition itself: in each of ``n_runs`` UMAP runs the HDBSCAN tree is
        cut at every k of ``k_range``, noise is given its nearest cluster, and
        every candidate partition and its k-means refinement in the scaled,
        PCA-reduced feature space are scored by their silhouette there, and the
        finest partition within 95 % of the best silhouette over all runs and k
        is kept; when the best silhouette is not
        above 1.2 times that of structureless (Gaussian) data with the same
        variances, every pattern is put in one cluster with a warning (see
        :mod:`hyperspy_manifold.learn.selection`). Every pattern gets a
        cluster; ``result.confidence`` maps the share of runs agreeing. An
        integer runs HDBSCAN once with that size and keeps its noise (-1).
    min_samples : int, optional
        HDBSCAN ``min_samples``; default 5 with ``"auto"`` (fixed over the scan
        so one tree serves every k), else HDBSCAN's default.
    k_range : range or sequence of int, optional
        The k scanned by ``"auto"``; default 40 values spaced geometrically from
        5 to a quarter of the fitted patterns.
    n_runs : int
        Independent UMAP runs (seeds) searched by ``"auto"``; more runs are
        slower and make the choice and the confidence map steadier.
    navigation_mask : array or BaseSignal of bool, optional
        Navigation-shaped, True = excluded from the fit and from every cluster.
        Excluded patterns are never transformed (they may hold NaN); their
        features in ``result.features`` are NaN.
    signal_mask : array or BaseSignal of bool, optional
        Detector-shaped, True = excluded from the features (given to the feature
        transform; with ``features="raw"`` the pixels are left out) and from
        the similarity loadings. The cluster mean patterns still show every
        pixel.
    loadings : {"membership", "similarity"}
        Decomposition loadings written to ``learning_results``: the one-hot
        membership (so ``get_decomposition_model`` gives each pattern its cluster
        mean) or the similarity loadings of :func:`get_similarity_loadings` (one
        more pass over the data).
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds every random step (subsample, PCA, UMAP, k-means, spectral, the
        automatic partition) through independent seeds derived from it (see
        :mod:`hyperspy_manifold._random`): the same int gives the same labels.
        A fixed seed makes UMAP single-threaded, so slower.
    n_fit : int, optional
        Fit on this many randomly chosen patterns, then embed and label the others
        chunk by chunk. With the automatic partition: a vote of the 10 nearest
        fitted patterns in the scaled, PCA-reduced feature space, the embedding
        interpolated from the same neighbours (one neighbour search; measured
        1.4-1.6x faster end to end than ``UMAP.transform`` with 1024 of 4096
        patterns fitted, the same labels); otherwise ``UMAP.transform`` and
        ``hdbscan.approximate_predict`` (or the vote, for spectral clustering).
    return_info : bool
        Return a :class:`ManifoldResult`.
    %(show_progressbar)s

    Returns
    -------
    None or ManifoldResult
        With ``return_info=True``; see :class:`ManifoldResult` (labels: -1 =
        noise, -2 = masked).

    Notes
    -----
    In ``learning_results`` the rows are our clusters in label order, plus one
    last row for the HDBSCAN noise when there is noise
    (``learning_results.cluster_noise_row``); masked positions are in no row, so
    ``get_cluster_labels(merged=True)`` shows masked as -1 and noise as K.

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> res = hm.manifold_decomposition(s, random_state=0, return_info=True)  # doctest: +SKIP
    >>> res.labels.plot()  # doctest: +SKIP
    """
    check_choice("loadings", loadings, LOADINGS)
    model = ManifoldClustering(
        features=features,
        feature_kwargs=feature_kwargs,
        scaling=scaling,
        pca_components=pca_components,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        n_components=n_components,
        metric=metric,
        n_epochs=n_epochs,
        n_bootstrap=n_bootstrap,
        bootstrap_init=bootstrap_init,
        bootstrap_neighbors=bootstrap_neighbors,
        algorithm=algorithm,
        n_clusters=n_clusters,
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        k_range=k_range,
        n_runs=n_runs,
        n_fit=n_fit,
        random_state=random_state,
    )
    model._fit(s, navigation_mask, signal_mask, show_progressbar)
    result = model.result_
    _write_learning_results(s, model, loadings, show_progressbar)
    if not return_info:
        return None
    result.parameters["loadings"] = loadings
    # passes over the scan's data in this call (or CLI run), all written
    result.parameters["data_reads"] = _progress.reads()
    return result


def _write_learning_results(s, model, loadings, show_progressbar) -> None:
    """``s.learning_results`` from a fitted model: the cluster means as factors,
    membership or similarity loadings, and the embedding centroids."""
    result, stats = model.result_, model.cluster_statistics_
    labels = result.labels.data.ravel()
    emb = result.embedding.data.reshape(labels.size, -1)
    row_index, n_rows, noise_row = rows_from_label_map(labels)
    one_hot = row_index[None, :] == np.arange(n_rows)[:, None]
    centroids = np.stack([emb[r].mean(axis=0) for r in one_hot])
    distances = np.linalg.norm(emb[None, :, :] - centroids[:, None, :], axis=-1)
    nearest = np.argmin(np.where(one_hot, distances, np.inf), axis=1)
    nearest = np.unravel_index(nearest, navigation_shape(s))
    centroid_signals = compute(pattern_stack(s).vindex[nearest], show_progressbar)
    centroid_signals = centroid_signals.reshape(n_rows, -1)
    if loadings == "similarity":
        load = compute(
            similarity_maps(s, stats.means, signal_mask=model.signal_mask_),
            show_progressbar,
        ).reshape(labels.size, n_rows)
    else:
        load = one_hot.T.astype(np.float64)
    write_learning_results(
        s,
        one_hot,
        stats,
        centroid_signals,
        centroids,
        distances,
        load,
        model.algorithm,
        None
        if (labels != MASKED).all()
        else labels.reshape(result.labels.data.shape) == MASKED,
        noise_row,
    )
