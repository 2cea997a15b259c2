"""A manifold clustering fitted once and reused on new scans.

:class:`ManifoldClustering` follows scikit-learn's estimator conventions
(parameters in ``__init__``, ``get_params``/``set_params``, fitted attributes
ending in ``_``) on HyperSpy signals.  ``fit`` holds
the whole learning: features -> per-feature scaling -> randomised PCA -> UMAP
(:mod:`~hyperspy_manifold.learn.embedding`) -> the automatic partition
(:mod:`~hyperspy_manifold.learn.selection`), HDBSCAN with a fixed
``min_cluster_size``, k-means or spectral clustering
(:mod:`~hyperspy_manifold.learn.clustering`) -> labels of the patterns outside
``n_fit`` -> cluster mean/std patterns in one lazy pass (``result_``).
:func:`~hyperspy_manifold.manifold_decomposition` is a thin wrapper: it fits
this model and writes its result to the signal's ``learning_results``.  The
model keeps what labelling needs: the feature scaling and PCA, the fitted
patterns in that reduced feature space and their labels.

``predict`` on a new scan computes the same features, maps them with the fitted
scaling and PCA, and labels every position by a vote of its ``n_vote`` nearest
fitted patterns (the rule ``manifold_decomposition`` itself uses for the patterns
outside ``n_fit``).  Its **novelty score** is the distance to the ``n_vote``-th
nearest fitted pattern divided by :attr:`ManifoldClustering.novelty_`, the
``novelty_quantile`` of the same distance among the fitted patterns (each
measured without itself).  A score above 1 lies further from every known
structure than almost all fitted patterns lie from their own: it is labelled
:data:`NOVEL` instead of being forced into a known cluster.

``save``/``load`` use a ``.npz`` of plain arrays and a JSON text (loaded with
``allow_pickle=False``: loading never runs code from the file).  The UMAP model
is not saved: a loaded model predicts and scores, ``transform`` needs a fit.
"""

from __future__ import annotations

import json
import numbers
import warnings

import dask.array as da
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from hyperspy_manifold import _progress
from hyperspy_manifold._axes import detector_description, navigation_shape
from hyperspy_manifold._checks import (
    check_choice,
    check_int,
    check_navigation_mask,
    check_pattern_signal,
    check_same_detector,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold._random import as_generator, integer_seeds
from hyperspy_manifold.learn._cluster_stats import cluster_statistics
from hyperspy_manifold.learn._features import (
    GROUP_BYTES,
    as_features,
    feature_array,
    feature_matrix,
    feature_rows,
    feature_signal,
    row_groups,
    store_features,
)
from hyperspy_manifold.learn._kscan import check_k_range
from hyperspy_manifold.learn._labels import MASKED
from hyperspy_manifold.learn._make_result import cluster_result, navigation_map
from hyperspy_manifold.learn.clustering import (
    ALGORITHMS,
    NeighbourVote,
    check_cluster_count,
    cluster_embedding,
    predictor,
)
from hyperspy_manifold.learn.embedding import (
    BOOTSTRAP_INITS,
    ManifoldEmbedder,
    default_n_epochs,
    default_n_neighbors,
)
from hyperspy_manifold.learn.selection import STRUCTURE_RATIO, choose_partition
from hyperspy_manifold.learn.similarity import rows_from_label_map

#: Label of positions that match none of the fitted structures.
NOVEL = -3

#: Version of the saved format.
FORMAT = 1

#: What ``result_.selection`` keeps of the automatic choice, and the summary
#: of it in ``result_.parameters["selection"]``.
_SELECTION_KEYS = (
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
_SELECTION_SUMMARY = (
    "rule",
    "run",
    "silhouette",
    "reference_silhouette",
    "structure_ratio",
    "structure",
    "refined",
)

#: With ``n_fit``, the features of every pattern are computed in one pass and
#: kept in memory when they take at most this many bytes; larger feature sets
#: are spilled to a temporary file (:class:`~hyperspy_manifold.learn._features.
#: FeatureStore`), raw patterns are read again.
FEATURES_IN_MEMORY_BYTES = 512 * 2**20
#: Free space left on the temporary file's disk after spilling features.
SPILL_MARGIN_BYTES = 2**30


def _feature_store(f, features, n_nav, show_progressbar):
    """Every row of ``f`` in a :class:`FeatureStore` (in memory within
    :data:`FEATURES_IN_MEMORY_BYTES`, else spilled), or None when the rows are
    better read again: raw patterns, or too little free temporary space."""
    if not isinstance(f.data, da.Array):
        return store_features(f)
    nbytes = f.data.size * f.data.dtype.itemsize
    if nbytes <= FEATURES_IN_MEMORY_BYTES:
        return store_features(f, False, show_progressbar)
    if isinstance(features, str) and features == "raw":
        return None
    import shutil
    import tempfile

    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < nbytes + SPILL_MARGIN_BYTES:
        warnings.warn(
            f"The features of the {n_nav} patterns take {nbytes / 2**30:.1f} GB, "
            f"more than memory keeps, and {tempfile.gettempdir()} has "
            f"{free / 2**30:.1f} GB free: they are computed again for the "
            "patterns outside `n_fit` (slower). Point TMPDIR to a disk with room.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return store_features(f, True, show_progressbar)


def _stream_rows(F, rows: np.ndarray, show_progressbar):
    """Yield ``(rows, feature block)`` of the lazy ``(n, n_features)`` features,
    one group of chunks (:data:`GROUP_BYTES` of features) per compute."""
    for (i0, i1), _ in row_groups(F, GROUP_BYTES):
        sel = rows[(rows >= i0) & (rows < i1)]
        if sel.size:
            yield (
                sel,
                as_features(np.asarray(compute(F[i0:i1], show_progressbar))[sel - i0]),
            )


def _row_blocks(f, store, rows: np.ndarray, show_progressbar):
    """``(rows, feature block)`` of the sorted flat indices ``rows``: read from the
    ``store`` (memory or file), or computed again group by group without one."""
    if store is None:
        yield from _stream_rows(feature_array(f), rows, show_progressbar)
        return
    for sel, values in store.blocks(rows):
        yield sel, as_features(values)


class ManifoldClustering(BaseEstimator):
    """Manifold clustering of 4D-STEM scans as a reusable, savable model.

    Parameters
    ----------
    features, feature_kwargs, scaling, pca_components, n_neighbors, min_dist,
    n_components, metric, n_epochs, n_bootstrap, bootstrap_init, bootstrap_neighbors,
    algorithm, n_clusters, min_cluster_size, min_samples, k_range, n_runs,
    n_fit, random_state
        As in :func:`~hyperspy_manifold.manifold_decomposition` (same defaults).
    n_vote : int
        Fitted neighbours that vote on the label of a new pattern.
    novelty_quantile : float
        Quantile (0-1) of the fitted patterns' own neighbour distance above which
        a new pattern is novel.

    Attributes
    ----------
    result_ : ManifoldResult
        The result of the fit (labels, embedding, cluster means ...); None after
        :meth:`load`.
    cluster_statistics_ : ClusterStatistics
        The sums, means and standard deviations of the patterns of every cluster
        of the fitted scan (flattened), behind ``result_``'s cluster means.
    labels_ : numpy.ndarray
        Labels of the fitted patterns (rows of ``reduced_``).
    reduced_ : numpy.ndarray
        The fitted patterns in the scaled, PCA-reduced feature space.
    novelty_ : float
        The distance that scores 1.
    n_clusters_ : int

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> from hyperspy_manifold.data import polycrystalline_film
    >>> s, truth = polycrystalline_film(shape=(16, 16), random_state=0)  # doctest: +SKIP
    >>> model = hm.ManifoldClustering(random_state=0).fit(s)  # doctest: +SKIP
    >>> labels = model.predict(other_scan)  # doctest: +SKIP
    >>> novelty = model.score_samples(other_scan)  # doctest: +SKIP
    """

    def __init__(
        self,
        features="cepstrum",
        feature_kwargs=None,
        scaling="minmax",
        pca_components=50,
        n_neighbors=None,
        min_dist=0.0,
        n_components=2,
        metric="euclidean",
        n_epochs=None,
        n_bootstrap=0,
        bootstrap_init="embedding",
        bootstrap_neighbors=None,
        algorithm="hdbscan",
        n_clusters=None,
        min_cluster_size="auto",
        min_samples=None,
        k_range=None,
        n_runs=3,
        n_fit=None,
        random_state=None,
        n_vote=10,
        novelty_quantile=0.99,
    ):
        self.features = features
        self.feature_kwargs = feature_kwargs
        self.scaling = scaling
        self.pca_components = pca_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_components = n_components
        self.metric = metric
        self.n_epochs = n_epochs
        self.n_bootstrap = n_bootstrap
        self.bootstrap_init = bootstrap_init
        self.bootstrap_neighbors = bootstrap_neighbors
        self.algorithm = algorithm
        self.n_clusters = n_clusters
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.k_range = k_range
        self.n_runs = n_runs
        self.n_fit = n_fit
        self.random_state = random_state
        self.n_vote = n_vote
        self.novelty_quantile = novelty_quantile

    # ------------------------------------------------------------------ checks

    def _check_own_params(self):
        if not isinstance(self.features, str):
            raise TypeError(
                "ManifoldClustering needs `features` by name (a feature signal "
                "can not be recomputed on a new scan); got "
                f"{type(self.features).__name__}."
            )
        check_int("n_vote", self.n_vote, 1)
        q = self.novelty_quantile
        if not isinstance(q, numbers.Real) or isinstance(q, bool) or not 0 < q <= 1:
            raise ValueError(f"`novelty_quantile` must be in (0, 1], got {q!r}.")

    def _check_fitted(self):
        if not hasattr(self, "reduced_"):
            raise NotFittedError(
                "This ManifoldClustering is not fitted yet: call fit(s) (or load a "
                "saved model) first."
            )

    def _check_scan(self, s):
        check_same_detector(s, self.detector_)

    # --------------------------------------------------------------------- fit

    @one_progress_bar("Fit")
    def fit(self, s, navigation_mask=None, signal_mask=None, show_progressbar=None):
        """Fit on the scan ``s`` (not modified); returns the model.

        ``navigation_mask`` and ``signal_mask`` are as in
        :func:`~hyperspy_manifold.manifold_decomposition`; the signal mask is
        kept and applied to every scan the model predicts.
        """
        self._check_own_params()
        return self._fit(s, navigation_mask, signal_mask, show_progressbar)

    def _check_fit_params(self):
        """Validated fit parameters (``dict``); raises ``ValueError`` naming the
        argument and the fix."""
        check_choice("algorithm", self.algorithm, ALGORITHMS)
        check_choice("bootstrap_init", self.bootstrap_init, BOOTSTRAP_INITS)
        p = {
            "n_components": check_int("n_components", self.n_components, 1),
            "n_bootstrap": check_int("n_bootstrap", self.n_bootstrap, 0),
            "pca_components": check_int(
                "pca_components", self.pca_components, 1, allow_none=True
            ),
            "n_neighbors": check_int(
                "n_neighbors", self.n_neighbors, 2, allow_none=True
            ),
            "bootstrap_neighbors": check_int(
                "bootstrap_neighbors", self.bootstrap_neighbors, 2, allow_none=True
            ),
            "n_fit": check_int("n_fit", self.n_fit, 3, allow_none=True),
            "n_epochs": check_int("n_epochs", self.n_epochs, 1, allow_none=True),
            "n_runs": check_int("n_runs", self.n_runs, 1),
            "min_samples": check_int(
                "min_samples", self.min_samples, 1, allow_none=True
            ),
            "n_clusters": self.n_clusters,
            "min_cluster_size": self.min_cluster_size,
        }
        min_dist = self.min_dist
        if not (isinstance(min_dist, numbers.Real) and min_dist >= 0):
            raise ValueError(f"`min_dist` must be a number >= 0, got {min_dist!r}.")
        p["min_dist"] = float(min_dist)
        if self.algorithm == "hdbscan":
            if self.n_clusters is not None:
                warnings.warn(
                    "`n_clusters` is ignored by algorithm='hdbscan' (it finds the "
                    "number of clusters itself); use 'kmeans' or 'spectral' to "
                    "fix it.",
                    UserWarning,
                    stacklevel=4,
                )
            size = self.min_cluster_size
            if not (isinstance(size, str) and size == "auto"):
                p["min_cluster_size"] = check_int("min_cluster_size", size, 2)
        else:
            if self.n_clusters is None:
                raise ValueError(
                    f"`n_clusters` is required by algorithm='{self.algorithm}': give "
                    "the number of clusters, e.g. n_clusters=4, or use "
                    "algorithm='hdbscan'."
                )
            p["n_clusters"] = check_int("n_clusters", self.n_clusters, 1)
        p["auto"] = self.algorithm == "hdbscan" and p["min_cluster_size"] == "auto"
        return p

    def _fit(self, s, navigation_mask, signal_mask, show_progressbar):
        """The learning (any ``features``, also a feature signal)."""
        check_pattern_signal(s, "manifold_decomposition")
        p = self._check_fit_params()
        algorithm, auto = self.algorithm, p["auto"]
        n_bootstrap = p["n_bootstrap"]
        runs = p["n_runs"] if auto else 1
        seeds = integer_seeds(self.random_state, 3 + runs * (1 + n_bootstrap))
        seed_subsample, seed_pca, seed_cluster = seeds[:3]
        umap_seeds = seeds[3:]

        mask = check_navigation_mask(s, navigation_mask)
        signal_mask = check_signal_mask(s, signal_mask)
        nav_shape = navigation_shape(s)
        n_nav = int(np.prod(nav_shape))
        kept = np.arange(n_nav) if mask is None else np.flatnonzero(~mask.ravel())
        n_fit = p["n_fit"]
        n_fitted = kept.size if n_fit is None else min(n_fit, kept.size)
        if n_fitted < 3:
            raise ValueError(
                "`manifold_decomposition` needs at least 3 unmasked patterns, "
                f"got {n_fitted}."
            )
        if auto:
            check_k_range(self.k_range, n_fitted)
        f = feature_signal(
            s, self.features, self.feature_kwargs, show_progressbar, signal_mask, mask
        )
        store = None
        if n_fit is not None and n_fit < kept.size:
            rng = as_generator(seed_subsample)
            fit_rows = np.sort(rng.choice(kept, n_fit, replace=False))
            # one pass over the data for every feature, kept in memory or
            # spilled to a file: the rest is labelled from there instead of
            # being read (and transformed) again
            store = _feature_store(f, self.features, n_nav, show_progressbar)
            if store is not None:
                X = as_features(store.take(fit_rows))
            else:
                X = as_features(feature_rows(f, fit_rows, show_progressbar))
        else:
            fit_rows = kept
            X = feature_matrix(f, mask, show_progressbar)
        n = X.shape[0]
        n_neighbors = p["n_neighbors"]
        if n_neighbors is None:
            n_neighbors = default_n_neighbors(n)
        elif n_neighbors >= n:
            warnings.warn(
                f"`n_neighbors`={n_neighbors} is not smaller than the number of "
                f"fitted patterns ({n}); using {n - 1}.",
                UserWarning,
                stacklevel=4,
            )
            n_neighbors = n - 1
        min_samples = p["min_samples"]
        if algorithm == "hdbscan" and min_samples is not None and min_samples >= n:
            raise ValueError(
                "`min_samples` must be smaller than the number of clustered "
                f"patterns ({n}), got {min_samples}."
            )
        check_cluster_count(algorithm, p["n_clusters"], p["min_cluster_size"], n)
        bootstrap_neighbors = p["bootstrap_neighbors"]
        if bootstrap_neighbors is None:
            bootstrap_neighbors = 2 * n_neighbors
        bootstrap_neighbors = min(bootstrap_neighbors, n - 1)

        embedders = [
            ManifoldEmbedder(
                self.scaling,
                p["pca_components"],
                n_neighbors,
                p["min_dist"],
                p["n_components"],
                self.metric,
                n_bootstrap,
                self.bootstrap_init,
                bootstrap_neighbors,
                seed_pca,
                umap_seeds[r * (1 + n_bootstrap) : (r + 1) * (1 + n_bootstrap)],
                default_n_epochs(n) if p["n_epochs"] is None else p["n_epochs"],
            )
            for r in range(runs)
        ]
        rest = np.setdiff1d(kept, fit_rows)
        k_info = None
        if auto:
            labels_fit, prob_fit, embedder, emb_fit, Z_fit, k_info = choose_partition(
                embedders, X, self.k_range, min_samples, seed_cluster
            )
            clusterer = NeighbourVote(Z_fit, labels_fit)
        else:
            embedder = embedders[0]
            emb_fit = embedder.fit_transform(X)
            labels_fit, prob_fit, clusterer = cluster_embedding(
                emb_fit,
                algorithm,
                p["n_clusters"],
                p["min_cluster_size"],
                min_samples,
                seed_cluster,
                predict=rest.size > 0,
            )
            Z_fit = embedder.reduce(X)

        labels = np.full(n_nav, MASKED, dtype=np.int64)
        emb = np.full((n_nav, p["n_components"]), np.nan)
        prob = np.full(n_nav, np.nan)
        labels[fit_rows], emb[fit_rows], prob[fit_rows] = labels_fit, emb_fit, prob_fit
        confidence = None
        if k_info is not None:
            confidence = np.full(n_nav, np.nan)
            confidence[fit_rows] = k_info["confidence"]
        if rest.size:
            blocks = _row_blocks(f, store, rest, show_progressbar)
            if auto:
                for rows, block in blocks:
                    labels[rows], prob[rows], emb[rows] = clusterer.place(
                        embedder.reduce(block), emb_fit
                    )
                    confidence[rows] = prob[rows]
            else:
                predict = predictor(clusterer, algorithm, emb_fit, labels_fit)
                for rows, block in blocks:
                    emb[rows] = embedder.transform(block)
                    labels[rows], prob[rows] = predict(emb[rows])
        if store is not None:
            store.close()

        row_index, n_rows, noise_row = rows_from_label_map(labels)
        stats = cluster_statistics(s, row_index, n_rows, show_progressbar)
        parameters = self._parameters(
            X,
            embedder,
            n_neighbors,
            bootstrap_neighbors,
            n_rows - (noise_row is not None),
        )
        parameters["n_fit"] = int(n)
        selection = None
        if k_info is not None:
            parameters["min_cluster_size"] = k_info["min_cluster_size"]
            parameters["min_samples"] = k_info["min_samples"]
            parameters["min_cluster_size_rule"] = k_info["rule"]
            parameters["n_runs"] = runs
            selection = {key: k_info[key] for key in _SELECTION_KEYS}
            selection["structure_ratio"] = STRUCTURE_RATIO
            parameters["selection"] = {
                key: selection[key] for key in _SELECTION_SUMMARY
            }
        elif algorithm == "hdbscan":
            parameters["min_cluster_size"] = int(clusterer.min_cluster_size)
            parameters["min_samples"] = int(
                clusterer.min_samples or clusterer.min_cluster_size
            )
        self.result_ = cluster_result(
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
            else navigation_map(
                s, confidence, "Cluster confidence (share of runs agreeing)"
            ),
            selection=selection,
            estimators={
                "scaler": embedder.scaler_,
                "pca": embedder.pca_,
                "umap": embedder.umaps_,
                "clusterer": clusterer,
                "embedder": embedder,
                # the fitted patterns in the scaled (PCA-reduced) feature space,
                # their flat navigation indices and labels: what predict votes from
                "reduced": Z_fit,
                "fit_rows": fit_rows,
                "fit_labels": labels_fit,
            },
        )
        self.cluster_statistics_ = stats
        self.signal_mask_ = signal_mask
        self.detector_ = detector_description(s)
        self.embedder_ = embedder
        self._set_reducer(embedder.scaler_, embedder.pca_)
        self.reduced_ = np.asarray(Z_fit, dtype=np.float64)
        self.labels_ = np.asarray(labels_fit, dtype=np.int64)
        self.n_features_ = int(X.shape[1])
        self.n_clusters_ = int(self.result_.n_clusters)
        self._fit_neighbours()
        return self

    def _parameters(self, X, embedder, n_neighbors, bootstrap_neighbors, n_clusters):
        """``result_.parameters`` (what was used, defaults resolved)."""
        return {
            # passes over the scan's data so far in this call (or CLI run)
            "data_reads": _progress.reads(),
            "features": self.features if isinstance(self.features, str) else "signal",
            "n_features": int(X.shape[1]),
            "scaling": self.scaling,
            "pca_components": None
            if embedder.pca_ is None
            else int(embedder.pca_.n_components_),
            "n_neighbors": int(n_neighbors),
            "min_dist": float(self.min_dist),
            "n_components": int(self.n_components),
            "metric": self.metric,
            "n_epochs": int(embedder.n_epochs),
            "n_bootstrap": int(self.n_bootstrap),
            "bootstrap_init": self.bootstrap_init,
            "bootstrap_neighbors": int(bootstrap_neighbors)
            if self.n_bootstrap
            else None,
            "algorithm": self.algorithm,
            "n_clusters": int(n_clusters),
            "random_state": self.random_state,
        }

    def _set_reducer(self, scaler, pca):
        self.scaling_offset_ = getattr(scaler, "offset_", None)
        self.scaling_span_ = getattr(scaler, "span_", None)
        if pca is None:
            self.pca_mean_ = self.pca_components_ = None
        else:
            if getattr(pca, "whiten", False):  # never set by the package
                raise NotImplementedError("whitened PCA is not supported")
            self.pca_mean_ = np.asarray(pca.mean_, dtype=np.float64)
            self.pca_components_ = np.asarray(pca.components_, dtype=np.float64)

    def _fit_neighbours(self):
        """The vote and the novelty distance, from ``reduced_`` and ``labels_``
        (the vote of ``manifold_decomposition``'s ``n_fit`` route)."""
        self.vote_ = NeighbourVote(self.reduced_, self.labels_, self.n_vote)
        k = self.vote_.knn.n_neighbors
        own, _ = self.vote_.knn.kneighbors(
            self.reduced_, n_neighbors=min(k + 1, len(self.reduced_))
        )
        own = own[:, -1]  # the k-th neighbour other than the pattern itself
        novelty = float(np.quantile(own, self.novelty_quantile))
        self.novelty_ = novelty if novelty > 0 else float(np.finfo(float).eps)

    def _reduce(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.scaling_offset_ is not None:
            X = (X - self.scaling_offset_) / self.scaling_span_
        if self.pca_components_ is not None:
            X = (X - self.pca_mean_) @ self.pca_components_.T
        return X

    def _feature_blocks(self, s, mask, show_progressbar):
        """``(flat positions, feature block)`` of the unmasked positions of a new
        scan, its features computed once (kept in memory or spilled, as in
        ``fit``) and read a block at a time."""
        f = feature_signal(
            s, self.features, self.feature_kwargs, show_progressbar, self.signal_mask_
        )
        nav_ndim = f.axes_manager.navigation_dimension
        n_features = int(np.prod(f.data.shape[nav_ndim:]))
        if n_features != self.n_features_:
            raise ValueError(
                f"The new scan gives {n_features} features per pattern, the fitted "
                f"model {self.n_features_}: give the transform's parameters that "
                "were found on the fitted scan in `feature_kwargs` (e.g. rings=...)."
            )
        n_nav = int(np.prod(navigation_shape(s)))
        kept = np.arange(n_nav) if mask is None else np.flatnonzero(~mask.ravel())
        store = _feature_store(f, self.features, n_nav, show_progressbar)
        try:
            yield from _row_blocks(f, store, kept, show_progressbar)
        finally:
            if store is not None:
                store.close()

    # ----------------------------------------------------------------- predict

    def _score(self, s, navigation_mask=None, show_progressbar=None):
        """``(labels by vote, novelty score, mask)`` of every position (flat
        navigation order; the masked ones are left out by the caller)."""
        self._check_fitted()
        self._check_scan(s)
        mask = check_navigation_mask(s, navigation_mask)
        n_nav = int(np.prod(navigation_shape(s)))
        labels = np.full(n_nav, MASKED, dtype=np.int64)
        score = np.full(n_nav, np.nan)
        for rows, X in self._feature_blocks(s, mask, show_progressbar):
            labels[rows], _, dist, _ = self.vote_.vote(self._reduce(X))
            score[rows] = dist[:, -1] / self.novelty_
        return labels, score, mask

    def _navigation_signal(self, s, values, mask, fill, title):
        """``values`` (every position, flat) as a navigation map, ``fill`` where
        ``mask``."""
        out = np.array(values)
        if mask is not None:
            out[mask.ravel()] = fill
        return navigation_map(s, out.reshape(navigation_shape(s)), title)

    @one_progress_bar("Novelty score")
    def score_samples(self, s, navigation_mask=None, show_progressbar=None):
        """Novelty score of every position of ``s`` (a navigation-shaped signal):
        above 1, further from the fitted patterns than ``novelty_quantile`` of
        them lie from their own neighbours; NaN where masked."""
        _, score, mask = self._score(s, navigation_mask, show_progressbar)
        return self._navigation_signal(s, score, mask, np.nan, "Novelty score")

    @one_progress_bar("Predict")
    def predict(
        self, s, navigation_mask=None, return_novelty=False, show_progressbar=None
    ):
        """Labels of ``s`` in the fitted label space (a navigation-shaped signal).

        Positions scoring above 1 are :data:`NOVEL` (-3); masked ones ``MASKED``
        (-2); HDBSCAN noise of the fit (-1) can be voted.  With
        ``return_novelty=True`` returns ``(labels, novelty score)``.
        """
        labels, score, mask = self._score(s, navigation_mask, show_progressbar)
        labels = np.where(score > 1, NOVEL, labels).astype(np.int64)
        out = self._navigation_signal(s, labels, mask, MASKED, "Predicted labels")
        if return_novelty:
            return out, self._navigation_signal(s, score, mask, np.nan, "Novelty score")
        return out

    def fit_predict(self, s, navigation_mask=None, show_progressbar=None):
        """Fit on ``s`` and return its label map (``result_.labels``)."""
        self.fit(s, navigation_mask=navigation_mask, show_progressbar=show_progressbar)
        return self.result_.labels

    @one_progress_bar("Embed")
    def transform(self, s, navigation_mask=None, show_progressbar=None):
        """UMAP embedding of the patterns of ``s`` with the fitted model
        (``(n_positions, n_components)``, NaN where masked)."""
        self._check_fitted()
        if getattr(self, "embedder_", None) is None:
            raise RuntimeError(
                "transform needs the fitted UMAP model, which is not saved: a loaded "
                "model can predict and score_samples; refit to embed."
            )
        self._check_scan(s)
        mask = check_navigation_mask(s, navigation_mask)
        n_components = self.embedder_.n_components
        out = np.full((int(np.prod(navigation_shape(s))), n_components), np.nan)
        for rows, X in self._feature_blocks(s, mask, show_progressbar):
            reduced = self._reduce(X).astype(np.float32)
            out[rows] = self.embedder_.transform(X, reduced=reduced)
        return out

    # -------------------------------------------------------------- save/load

    def save(self, path):
        """Write the fitted model to ``path`` (``.npz``: arrays and a JSON text)."""
        self._check_fitted()
        params = self.get_params()
        for key, value in params.items():
            if isinstance(value, np.random.RandomState | np.random.Generator):
                params[key] = None  # a seed object is not data: not saved
            elif isinstance(value, range):
                params[key] = list(value)
        header = {
            "format": FORMAT,
            "params": params,
            "detector": self.detector_,
            "n_features": self.n_features_,
            "n_clusters": self.n_clusters_,
            "novelty": self.novelty_,
        }
        arrays = {
            "reduced": self.reduced_,
            "labels": self.labels_,
            "header": np.array(json.dumps(header)),
        }
        optional = {
            "scaling_offset": self.scaling_offset_,
            "scaling_span": self.scaling_span_,
            "pca_mean": self.pca_mean_,
            "pca_components": self.pca_components_,
            "signal_mask": self.signal_mask_,
        }
        arrays.update({k: np.asarray(v) for k, v in optional.items() if v is not None})
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> ManifoldClustering:
        """A model saved by :meth:`save` (no pickle: plain arrays and JSON)."""
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(
                    f"{path}: saved model format {header.get('format')!r}, this "
                    f"version reads {FORMAT}."
                )
            model = cls(**header["params"])
            model.detector_ = header["detector"]
            model.n_features_ = int(header["n_features"])
            model.n_clusters_ = int(header["n_clusters"])
            model.reduced_ = f["reduced"]
            model.labels_ = f["labels"]

            def get(name):
                return f[name] if name in f.files else None

            model.scaling_offset_ = get("scaling_offset")
            model.scaling_span_ = get("scaling_span")
            model.pca_mean_ = get("pca_mean")
            model.pca_components_ = get("pca_components")
            model.signal_mask_ = get("signal_mask")
        model.result_ = model.embedder_ = None
        model._fit_neighbours()
        model.novelty_ = float(header["novelty"])
        return model
