"""Manifold learning and clustering of 4D-STEM patterns (Li et al. 2019; Shi et al.).

features -> per-feature scaling -> randomised PCA (when there are more features
than ``pca_components``) -> UMAP (optionally graph bootstrapping: UMAP run again
on the embedding, Li et al., npj Comput Mater 5, 5 (2019)) -> HDBSCAN with the
automatic partition of :mod:`._selection` (several UMAP runs, silhouette in
feature space), HDBSCAN with a fixed ``min_cluster_size``, k-means or spectral
clustering -> cluster mean/std patterns in data space in one lazy pass ->
``learning_results``.

With ``n_fit`` the scaler, PCA, UMAP and clusterer are fitted on a random
subsample; the other patterns are embedded (UMAP ``transform``) and labelled one
feature chunk at a time (automatic partition: a vote of the nearest fitted
patterns in feature space; fixed HDBSCAN: ``approximate_predict``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from hyperspy_manifold import _progress
from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import (
    check_choice,
    check_int,
    check_navigation_mask,
    check_pattern_signal,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold._random import as_generator, integer_seeds
from hyperspy_manifold.learn._cluster_stats import cluster_statistics
from hyperspy_manifold.learn._features import (
    FeatureScaler,
    as_features,
    feature_array,
    feature_matrix,
    feature_rows,
    feature_signal,
    fit_pca,
)
from hyperspy_manifold.learn._kscan import check_k_range
from hyperspy_manifold.learn._labels import canonical_labels
from hyperspy_manifold.learn._learning_results import write_learning_results
from hyperspy_manifold.learn._result import ManifoldResult
from hyperspy_manifold.learn._selection import STRUCTURE_RATIO
from hyperspy_manifold.learn.similarity import (
    MASKED,
    rows_from_label_map,
    similarity_maps,
)

ALGORITHMS = ("hdbscan", "kmeans", "spectral")
LOADINGS = ("membership", "similarity")
BOOTSTRAP_INITS = ("embedding", "spectral")
#: Li et al. use 50 neighbours for a 64 x 64 scan.
MAX_DEFAULT_NEIGHBORS = 50


def default_n_neighbors(n: int) -> int:
    """``min(50, max(15, n // 20))``, and below ``n``.

    UMAP's own 15 up to 300 patterns, a twentieth of the patterns above, Li's 50
    from 1000 patterns up: a domain of a few percent of a small scan then still
    has neighbourhoods of its own, and fewer than 15 neighbours tears clumps of
    pure noise apart (seen on 200-pattern synthetic scans).
    """
    return int(max(2, min(MAX_DEFAULT_NEIGHBORS, max(15, n // 20), n - 1)))


class ManifoldEmbedder:
    """Scaling, PCA, UMAP and its bootstrap rounds, fitted once, applied to new rows."""

    def __init__(
        self,
        scaling,
        pca_components,
        n_neighbors,
        min_dist,
        n_components,
        metric,
        n_bootstrap,
        bootstrap_init,
        bootstrap_neighbors,
        pca_seed=None,
        umap_seeds=None,
    ):
        self.scaling = scaling
        self.pca_components = pca_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_components = n_components
        self.metric = metric
        self.n_bootstrap = n_bootstrap
        self.bootstrap_init = bootstrap_init
        self.bootstrap_neighbors = bootstrap_neighbors
        self.pca_seed = pca_seed
        self.umap_seeds = umap_seeds or [None] * (1 + n_bootstrap)

    def _umap(self, round_, init):
        import umap

        from hyperspy_manifold._jit_cache import enable_jit_cache

        enable_jit_cache()

        seed = self.umap_seeds[round_]
        return umap.UMAP(
            n_neighbors=self.n_neighbors if round_ == 0 else self.bootstrap_neighbors,
            n_components=self.n_components,
            min_dist=self.min_dist,
            metric=self.metric if round_ == 0 else "euclidean",
            init=init,
            random_state=seed,
            transform_seed=42 if seed is None else seed,
            n_jobs=1 if seed is not None else -1,
        )

    def fit_reduce(self, X: np.ndarray) -> np.ndarray:
        """Fit the scaler and PCA; returns the reduced features (UMAP's input)."""
        self.scaler_ = FeatureScaler(self.scaling).fit(X)
        Xs = self.scaler_.transform(X)
        if np.ptp(Xs, axis=0).max() == 0:
            raise ValueError(
                "All patterns have identical features (a constant dataset): there "
                "is nothing to cluster."
            )
        self.pca_ = fit_pca(Xs, self.pca_components, self.pca_seed)
        return self.pca_.transform(Xs) if self.pca_ is not None else Xs

    def reduce(self, X: np.ndarray) -> np.ndarray:
        """Scaled (and PCA-reduced) features of new rows."""
        Z = self.scaler_.transform(X)
        return self.pca_.transform(Z) if self.pca_ is not None else Z

    def fit_transform(self, X: np.ndarray, reduced=None) -> np.ndarray:
        """Fit scaler, PCA and UMAP rounds; ``reduced=(scaler, pca, Z)`` reuses a
        fitted scaler and PCA (runs that differ only in their UMAP seeds)."""
        if reduced is None:
            emb = self.fit_reduce(X)
        else:
            self.scaler_, self.pca_, emb = reduced
        self.umaps_ = []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs.*")
            warnings.filterwarnings(
                "ignore", message=".*Graph is not fully connected.*"
            )
            for round_ in range(1 + self.n_bootstrap):
                if round_ == 0 or self.bootstrap_init == "spectral":
                    # the spectral layout takes n_components + 1 eigenvectors of
                    # the neighbour graph: there are only as many as points
                    tiny = emb.shape[0] <= self.n_components + 1
                    init = "random" if tiny else "spectral"
                else:
                    init = emb
                model = self._umap(round_, init)
                emb = model.fit_transform(emb)
                self.umaps_.append(model)
        return np.asarray(emb, dtype=np.float64)

    def transform(self, X: np.ndarray, reduced=None) -> np.ndarray:
        emb = self.reduce(X) if reduced is None else reduced
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs.*")
            for model in self.umaps_:
                emb = model.transform(emb)
        return np.asarray(emb, dtype=np.float64)


def _check_cluster_count(algorithm, n_clusters, min_cluster_size, n: int) -> None:
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


def _cluster(
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


class _NeighbourVote:
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


def _select(embedders, X, k_range, min_samples, seed):
    """Automatic partition over the runs (see :mod:`._selection`).

    Returns ``(labels, probabilities, embedder of the chosen run, its
    embedding, Z, k_info)``.
    """
    from hyperspy_manifold.learn._kscan import fit_count_decay, k_scan_signal
    from hyperspy_manifold.learn._selection import MIN_SAMPLES, select_partition

    first = embedders[0]
    Z = first.fit_reduce(X)
    reduced = (first.scaler_, first.pca_, Z)
    embeddings = []
    with _progress.steps(len(embedders) + 1, "UMAP", False) as steps:
        steps.reset(total=len(embedders) + 1)
        for run, embedder in enumerate(embedders):
            steps.set_description(f"UMAP run {run + 1}/{len(embedders)}")
            embeddings.append(embedder.fit_transform(X, reduced=reduced))
            steps.update(1)
        steps.set_description("choosing the partition")
    n = Z.shape[0]
    k_values = check_k_range(k_range, n)
    if min_samples is None:
        min_samples = max(1, min(MIN_SAMPLES, n - 1, int(k_values[0])))
    info = select_partition(Z, embeddings, k_values, min_samples, as_generator(seed))
    steps.update(1)
    run = info["run"]
    if not info["structure"]:
        warnings.warn(
            "No cluster structure found: the best partition's silhouette "
            f"({info['silhouette']:.3f}) is not above {STRUCTURE_RATIO:g} x that of structureless "
            f"data with the same variances ({info['reference_silhouette']:.3f}); "
            "every pattern is put in one cluster.",
            UserWarning,
        )
    ks = k_scan_signal(k_values, info["counts"][run])
    model, ok = fit_count_decay(ks)
    info.update(k_scan=ks, k_model=model, fit_ok=ok, min_samples=int(min_samples))
    prob = np.where(info["hdbscan_labels"] >= 0, info["probabilities"], 0.0).astype(
        np.float64
    )
    return info["labels"], prob, embedders[run], embeddings[run], Z, info


def _predictor(clusterer, algorithm, emb_fit, labels_fit):
    """Function labelling new embedded points: ``emb -> (labels, strengths)``.

    HDBSCAN: ``approximate_predict`` (noise stays -1); k-means: nearest centre;
    spectral clustering (no out-of-sample rule): :class:`_NeighbourVote` in the
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
    return _NeighbourVote(emb_fit, labels_fit)


#: With ``n_fit``, the features of every pattern are computed in one pass and
#: kept in memory when they take at most this many bytes (float32); larger
#: feature sets (raw patterns of a big scan) are streamed in two passes.
FEATURES_IN_MEMORY_BYTES = 512 * 2**20


def _rest_rows(f, in_memory, rows: np.ndarray, show_progressbar, block=8192):
    """``(rows, feature block)`` of the patterns outside the fit: from the features
    in memory when they were computed whole, else streamed from ``f``."""
    if in_memory is None:
        yield from _stream_rows(feature_array(f), rows, show_progressbar)
        return
    for start in range(0, rows.size, block):
        sel = rows[start : start + block]
        yield sel, as_features(in_memory[sel])


def _stream_rows(F, rows: np.ndarray, show_progressbar):
    """Yield ``(rows, feature block)`` one row chunk of the lazy features at a time."""
    bounds = np.cumsum((0,) + F.chunks[0])
    for start, stop in zip(bounds[:-1], bounds[1:]):
        sel = rows[(rows >= start) & (rows < stop)]
        if sel.size == 0:
            continue
        block = compute(F[start:stop], show_progressbar)
        yield (
            sel,
            as_features(np.asarray(block)[sel - start]),
        )


def _pattern_stack_signal(s, data, title):
    """Stack of ``(n_rows, P)`` flattened patterns as a signal with ``s``'s detector axes."""
    from hyperspy.io import dict2signal

    sig_axes = [
        dict(ax.get_axis_dictionary(), navigate=False)
        for ax in s.axes_manager.signal_axes
    ][::-1]
    shape = s.data.shape[-2:]
    index_axis = {"name": "Cluster index", "size": data.shape[0], "navigate": True}
    return dict2signal(
        {
            "data": np.asarray(data).reshape((data.shape[0],) + shape),
            "axes": [index_axis] + sig_axes,
            "metadata": {
                "General": {"title": title},
                "Signal": {
                    "signal_type": s.metadata.get_item("Signal.signal_type", "")
                },
            },
        }
    )


def _embedding_signal(s, emb: np.ndarray):
    from hyperspy.io import dict2signal

    nav_axes = [ax.get_axis_dictionary() for ax in s.axes_manager._axes if ax.navigate]
    comp_axis = {"name": "UMAP component", "size": emb.shape[-1], "navigate": False}
    return dict2signal(
        {
            "data": emb.reshape(navigation_shape(s) + (emb.shape[-1],)),
            "axes": nav_axes + [comp_axis],
            "metadata": {"General": {"title": "UMAP embedding"}},
        }
    )


def _navigation_map(s, data, title):
    out = s._get_navigation_signal(data=np.asarray(data).reshape(navigation_shape(s)))
    out.metadata.General.title = title
    return out


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
        ``"angular_average"``, ``"bragg"``, ``"bright_field"`` (the bright-field
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
        :mod:`hyperspy_manifold.learn._selection`). Every pattern gets a
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
    check_pattern_signal(s, "manifold_decomposition")
    check_choice("algorithm", algorithm, ALGORITHMS)
    check_choice("loadings", loadings, LOADINGS)
    check_choice("bootstrap_init", bootstrap_init, BOOTSTRAP_INITS)
    n_components = check_int("n_components", n_components, 1)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 0)
    pca_components = check_int("pca_components", pca_components, 1, allow_none=True)
    n_neighbors = check_int("n_neighbors", n_neighbors, 2, allow_none=True)
    bootstrap_neighbors = check_int(
        "bootstrap_neighbors", bootstrap_neighbors, 2, allow_none=True
    )
    n_fit = check_int("n_fit", n_fit, 3, allow_none=True)
    n_runs = check_int("n_runs", n_runs, 1)
    min_samples = check_int("min_samples", min_samples, 1, allow_none=True)
    if not (isinstance(min_dist, numbers.Real) and min_dist >= 0):
        raise ValueError(f"`min_dist` must be a number >= 0, got {min_dist!r}.")
    if algorithm == "hdbscan":
        if n_clusters is not None:
            warnings.warn(
                "`n_clusters` is ignored by algorithm='hdbscan' (it finds the number "
                "of clusters itself); use 'kmeans' or 'spectral' to fix it.",
                UserWarning,
            )
        if not (isinstance(min_cluster_size, str) and min_cluster_size == "auto"):
            min_cluster_size = check_int("min_cluster_size", min_cluster_size, 2)
    else:
        if n_clusters is None:
            raise ValueError(
                f"`n_clusters` is required by algorithm='{algorithm}': give the "
                "number of clusters, e.g. n_clusters=4, or use algorithm='hdbscan'."
            )
        n_clusters = check_int("n_clusters", n_clusters, 1)
    auto = algorithm == "hdbscan" and min_cluster_size == "auto"
    runs = n_runs if auto else 1
    seeds = integer_seeds(random_state, 3 + runs * (1 + n_bootstrap))
    seed_subsample, seed_pca, seed_cluster = seeds[:3]
    umap_seeds = seeds[3:]

    mask = check_navigation_mask(s, navigation_mask)
    signal_mask = check_signal_mask(s, signal_mask)
    nav_shape = navigation_shape(s)
    n_nav = int(np.prod(nav_shape))
    kept = np.arange(n_nav) if mask is None else np.flatnonzero(~mask.ravel())
    n_fitted = kept.size if n_fit is None else min(n_fit, kept.size)
    if n_fitted < 3:
        raise ValueError(
            "`manifold_decomposition` needs at least 3 unmasked patterns, "
            f"got {n_fitted}."
        )
    if algorithm == "hdbscan" and min_cluster_size == "auto":
        check_k_range(k_range, n_fitted)
    f = feature_signal(s, features, feature_kwargs, show_progressbar, signal_mask, mask)
    features_in_memory = None
    if n_fit is not None and n_fit < kept.size:
        rng = as_generator(seed_subsample)
        fit_rows = np.sort(rng.choice(kept, n_fit, replace=False))
        F = feature_array(f)
        if F.size * 4 <= FEATURES_IN_MEMORY_BYTES:
            # one pass over the data for every feature; the rest is labelled
            # from memory instead of being read (and transformed) again
            features_in_memory = feature_rows(f, None, show_progressbar)
            X = as_features(features_in_memory[fit_rows])
        else:
            X = as_features(feature_rows(f, fit_rows, show_progressbar))
    else:
        fit_rows = kept
        X = feature_matrix(f, mask, show_progressbar)
    n = X.shape[0]
    if n_neighbors is None:
        n_neighbors = default_n_neighbors(n)
    elif n_neighbors >= n:
        warnings.warn(
            f"`n_neighbors`={n_neighbors} is not smaller than the number of fitted "
            f"patterns ({n}); using {n - 1}.",
            UserWarning,
        )
        n_neighbors = n - 1
    if algorithm == "hdbscan" and min_samples is not None and min_samples >= n:
        raise ValueError(
            f"`min_samples` must be smaller than the number of clustered patterns "
            f"({n}), got {min_samples}."
        )
    _check_cluster_count(algorithm, n_clusters, min_cluster_size, n)
    if bootstrap_neighbors is None:
        bootstrap_neighbors = 2 * n_neighbors
    bootstrap_neighbors = min(bootstrap_neighbors, n - 1)

    embedders = [
        ManifoldEmbedder(
            scaling,
            pca_components,
            n_neighbors,
            float(min_dist),
            n_components,
            metric,
            n_bootstrap,
            bootstrap_init,
            bootstrap_neighbors,
            seed_pca,
            umap_seeds[r * (1 + n_bootstrap) : (r + 1) * (1 + n_bootstrap)],
        )
        for r in range(runs)
    ]
    rest = np.setdiff1d(kept, fit_rows)
    k_info = None
    if auto:
        labels_fit, prob_fit, embedder, emb_fit, Z_fit, k_info = _select(
            embedders, X, k_range, min_samples, seed_cluster
        )
        clusterer = _NeighbourVote(Z_fit, labels_fit)
    else:
        embedder = embedders[0]
        emb_fit = embedder.fit_transform(X)
        labels_fit, prob_fit, clusterer = _cluster(
            emb_fit,
            algorithm,
            n_clusters,
            min_cluster_size,
            min_samples,
            seed_cluster,
            predict=rest.size > 0,
        )

    labels = np.full(n_nav, MASKED, dtype=np.int64)
    emb = np.full((n_nav, n_components), np.nan)
    prob = np.full(n_nav, np.nan)
    labels[fit_rows], emb[fit_rows], prob[fit_rows] = labels_fit, emb_fit, prob_fit
    confidence = None
    if k_info is not None:
        confidence = np.full(n_nav, np.nan)
        confidence[fit_rows] = k_info["confidence"]
    if rest.size:
        if auto:
            for rows, block in _rest_rows(
                f, features_in_memory, rest, show_progressbar
            ):
                labels[rows], prob[rows], emb[rows] = clusterer.place(
                    embedder.reduce(block), emb_fit
                )
                confidence[rows] = prob[rows]
        else:
            predict = _predictor(clusterer, algorithm, emb_fit, labels_fit)
            for rows, block in _rest_rows(
                f, features_in_memory, rest, show_progressbar
            ):
                emb[rows] = embedder.transform(block)
                labels[rows], prob[rows] = predict(emb[rows])

    row_index, n_rows, noise_row = rows_from_label_map(labels)
    n_clusters_found = n_rows - (noise_row is not None)
    stats = cluster_statistics(s, row_index, n_rows, show_progressbar)
    one_hot = row_index[None, :] == np.arange(n_rows)[:, None]
    centroids = np.stack([emb[r].mean(axis=0) for r in one_hot])
    distances = np.linalg.norm(emb[None, :, :] - centroids[:, None, :], axis=-1)
    nearest = np.argmin(np.where(one_hot, distances, np.inf), axis=1)
    nearest = np.unravel_index(nearest, nav_shape)
    centroid_signals = compute(pattern_stack(s).vindex[nearest], show_progressbar)
    centroid_signals = centroid_signals.reshape(n_rows, -1)
    if loadings == "similarity":
        load = compute(
            similarity_maps(s, stats.means, signal_mask=signal_mask), show_progressbar
        ).reshape(n_nav, n_rows)
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
        algorithm,
        mask,
        noise_row,
    )
    if not return_info:
        return None

    parameters = {
        # passes over the scan's data so far in this call (or CLI run)
        "data_reads": _progress.reads(),
        "features": features if isinstance(features, str) else "signal",
        "n_features": int(X.shape[1]),
        "scaling": scaling,
        "pca_components": None
        if embedder.pca_ is None
        else int(embedder.pca_.n_components_),
        "n_neighbors": int(n_neighbors),
        "min_dist": float(min_dist),
        "n_components": n_components,
        "metric": metric,
        "n_bootstrap": n_bootstrap,
        "bootstrap_init": bootstrap_init,
        "bootstrap_neighbors": int(bootstrap_neighbors) if n_bootstrap else None,
        "algorithm": algorithm,
        "n_clusters": n_clusters_found,
        "random_state": random_state,
        "n_fit": int(n),
        "loadings": loadings,
    }
    selection = None
    if k_info is not None:
        parameters["min_cluster_size"] = k_info["min_cluster_size"]
        parameters["min_samples"] = k_info["min_samples"]
        parameters["min_cluster_size_rule"] = k_info["rule"]
        parameters["n_runs"] = runs
        selection = {
            key: k_info[key]
            for key in (
                "rule",
                "run",
                "silhouette",
                "best_silhouette",
                "reference_silhouette",
                "structure",
                "refined",
                "k_values",
                "counts",
                "silhouettes",
            )
        }
        selection["structure_ratio"] = STRUCTURE_RATIO
        parameters["selection"] = {
            key: selection[key]
            for key in (
                "rule",
                "run",
                "silhouette",
                "reference_silhouette",
                "structure_ratio",
                "structure",
                "refined",
            )
        }
    elif algorithm == "hdbscan":
        parameters["min_cluster_size"] = int(clusterer.min_cluster_size)
        parameters["min_samples"] = int(
            clusterer.min_samples or clusterer.min_cluster_size
        )
    return cluster_result(
        s,
        labels,
        embedding=emb,
        probabilities=prob,
        parameters=parameters,
        stats=stats,
        features=f,
        k_scan=None if k_info is None else k_info["k_scan"],
        k_model=None if k_info is None else k_info["k_model"],
        confidence=None
        if confidence is None
        else _navigation_map(
            s, confidence, "Cluster confidence (share of runs agreeing)"
        ),
        selection=selection,
        estimators={
            "scaler": embedder.scaler_,
            "pca": embedder.pca_,
            "umap": embedder.umaps_,
            "clusterer": clusterer,
            "embedder": embedder,
            # the fitted patterns in the scaled (PCA-reduced) feature space, their
            # flat navigation indices and labels: what a reusable model predicts from
            "reduced": Z_fit if auto else embedder.reduce(X),
            "fit_rows": fit_rows,
            "fit_labels": labels_fit,
        },
    )


@one_progress_bar("Cluster result")
def cluster_result(
    s,
    labels,
    embedding=None,
    probabilities=None,
    parameters: dict | None = None,
    stats=None,
    show_progressbar=None,
    **extra,
) -> ManifoldResult:
    """A :class:`ManifoldResult` for any label map of the scan ``s``.

    The cluster mean and standard deviation patterns are computed in one lazy
    pass over the data (unless ``stats`` already holds them), so labels from
    another method (NMF maps, HyperSpy's ``cluster_analysis``, a hand-drawn
    mask) get the same outputs, figures and reports as
    :func:`manifold_decomposition`.

    Parameters
    ----------
    s : BaseSignal
        The patterns (eager or lazy).
    labels : array-like
        Navigation-shaped integer labels (see :mod:`~hyperspy_manifold.learn._labels`):
        cluster ids >= 0, -2 masked, any other negative value noise.  The result
        holds them as 0..K-1 (clusters in increasing order of id), -1 and -2; ids
        other than 0..K-1 are kept in ``parameters["cluster_ids"]``.
    embedding : array-like, optional
        ``(*navigation_shape, n)`` coordinates of every position (e.g. NMF
        weights); defaults to the labels themselves.
    probabilities : array-like, optional
        Membership strength of every position; defaults to 1 for members.
    parameters : dict, optional
        Stored in ``result.parameters``.
    **extra
        Further :class:`ManifoldResult` fields (``k_scan``, ``features`` ...).
    """
    labels, ids = canonical_labels(np.asarray(labels).reshape(navigation_shape(s)))
    row_index, n_rows, noise_row = rows_from_label_map(labels)
    if stats is None:
        stats = cluster_statistics(s, row_index, n_rows, show_progressbar)
    parameters = dict(parameters or {})
    if not np.array_equal(ids, np.arange(ids.size)):
        parameters.setdefault("cluster_ids", ids.tolist())
    if embedding is None:
        embedding = labels.astype(np.float64)[..., None]
    embedding = np.asarray(embedding, dtype=np.float64)
    if probabilities is None:
        probabilities = np.where(labels >= 0, 1.0, np.where(labels == -1, 0.0, np.nan))
    return ManifoldResult(
        labels=_navigation_map(s, labels, "Manifold cluster labels"),
        embedding=_embedding_signal(s, embedding.reshape(labels.size, -1)),
        probabilities=_navigation_map(
            s, probabilities, "Cluster membership probability"
        ),
        cluster_means=_pattern_stack_signal(s, stats.means, "Cluster mean patterns"),
        cluster_stds=_pattern_stack_signal(
            s, stats.stds, "Cluster standard deviation patterns"
        ),
        mean_minus_global=_pattern_stack_signal(
            s,
            stats.means - stats.global_mean[None, :],
            "Cluster mean minus global mean",
        ),
        global_mean=_pattern_stack_signal(
            s, stats.global_mean[None, :], "Global mean pattern"
        ).inav[0],
        counts=stats.counts,
        n_clusters=n_rows - (noise_row is not None),
        noise_index=noise_row,
        parameters=parameters,
        **extra,
    )
