"""The embedding: per-feature scaling, randomised PCA and UMAP (Li et al. 2019).

:class:`ManifoldEmbedder` fits the scaler, the PCA (when there are more features
than ``pca_components``) and UMAP with its optional graph-bootstrapping rounds
(UMAP run again on the embedding, Li et al., npj Comput Mater 5, 5 (2019)) once,
and applies them to new rows.

UMAP's neighbour graph is searched exactly (scikit-learn's brute force) up to
``EXACT_KNN_MAX`` points, with the distances UMAP's own exact search gives, and
handed to UMAP as a precomputed graph with :class:`ExactIndex` as its search
index for ``transform``; above, UMAP's NN-descent (compiled anew in every
process) is used.
"""

from __future__ import annotations

import warnings

import numpy as np

from hyperspy_manifold.learn._features import FeatureScaler, fit_pca

BOOTSTRAP_INITS = ("embedding", "spectral")
#: From this many points UMAP searches neighbours approximately (NN-descent,
#: seeded per run); the automatic partition's runs then share one search.
SHARED_KNN_MIN = 4096
#: Up to this many points the neighbours are searched exactly (scikit-learn's
#: brute force) instead of with NN-descent.  Measured on 2 cores (50 PCA
#: features, 50 neighbours, warm process): 0.19 / 0.42 / 1.3 / 4.5 / 16 s exact
#: against 0.43 / 0.88 / 1.7 / 3.7 / 8.7 s NN-descent for 4k / 8k / 16k / 32k /
#: 64k points; NN-descent's numba code also costs ~12 s to compile in every new
#: process (it can not be cached on disk).
EXACT_KNN_MAX = 32768
#: UMAP metric names with the same definition in scikit-learn's brute force.
EXACT_METRICS = {
    "euclidean": "euclidean",
    "l2": "euclidean",
    "manhattan": "manhattan",
    "l1": "manhattan",
    "taxicab": "manhattan",
    "cityblock": "manhattan",
    "chebyshev": "chebyshev",
    "linfinity": "chebyshev",
    "cosine": "cosine",
    "correlation": "correlation",
}
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


#: From this many fitted patterns UMAP runs ``FEW_EPOCHS`` epochs by default.
MANY_PATTERNS = 1000
FEW_EPOCHS = 200


def default_n_epochs(n: int) -> int:
    """UMAP epochs for ``n`` fitted patterns: 200 from 1000 patterns up, 500 below.

    UMAP's own rule is 500 below 10 000 patterns and 200 above.  On the accuracy
    benchmark (scenarios of 1024-9216 patterns) 200 epochs gave the same
    partitions (tuning split: 22 of 24 within 0.01 ARI, mean 0.862 against
    0.850 with 500; report split, run once: 22 of 24, 0.883 against 0.868) in
    0.70-0.78x the time.  Small scans keep UMAP's 500: they cost little, and an
    80-point layout after 200 epochs was seen still too loose for k-means.
    """
    return FEW_EPOCHS if n >= MANY_PATTERNS else 500


class ExactIndex:
    """Exact neighbour search over the fitted points, in place of the NN-descent
    index UMAP keeps for ``transform``: UMAP only calls ``query(X, k,
    epsilon=...)`` (the ``epsilon`` of NN-descent's search is ignored) and reads
    ``_angular_trees``."""

    _angular_trees = False

    def __init__(self, nn, metric, fitted):
        self.nn = nn
        self.metric = metric
        self.fitted = fitted

    def query(self, X, k, epsilon=None):
        """``(indices int32, distances float32)`` of the ``k`` nearest fitted
        points of every row of ``X``."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        dist, ind = self.nn.kneighbors(X, int(k))
        indices = ind.astype(np.int32)
        distances = np.maximum(dist, 0).astype(np.float32)
        if self.metric in ("euclidean", "cosine"):
            _umap_distances(X, self.fitted, indices, distances, self.metric)
        return indices, distances


def exact_neighbours(Z: np.ndarray, k: int, metric: str):
    """UMAP's neighbour graph of ``Z`` searched exactly: ``(indices,
    distances, ExactIndex)``, ``k`` neighbours per point with the point itself
    first (as UMAP has it); None for a metric scikit-learn does not define
    alike, a ``k`` not below the number of points, or more than
    ``EXACT_KNN_MAX`` points."""
    n = Z.shape[0]
    name = EXACT_METRICS.get(metric) if isinstance(metric, str) else None
    if name is None or not 1 <= k < n or n > EXACT_KNN_MAX:
        return None
    from sklearn.neighbors import NearestNeighbors

    Z = np.ascontiguousarray(Z, dtype=np.float32)
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=name).fit(Z)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.zeros((n, k), dtype=np.float32)
    indices[:, 0] = np.arange(n)
    if k > 1:
        # every point's k - 1 nearest others (the point itself left out by
        # index, so duplicates can not push it out of its own list)
        dist, ind = nn.kneighbors(n_neighbors=k - 1)
        indices[:, 1:], distances[:, 1:] = ind, np.maximum(dist, 0)
        if name in ("euclidean", "cosine"):
            _umap_distances(Z, Z, indices, distances, name)
    return indices, distances, ExactIndex(nn, name, Z)


def _umap_distances(X, Z, indices, distances, metric, rows=2048):
    """Distances from the rows of ``X`` to their neighbours ``Z[indices]`` as
    UMAP's own exact search has them, in place (float64 sums of float32 terms),
    and the rows sorted again by them: scikit-learn's brute force computes
    Euclidean and cosine distances through a matrix product, whose rounding
    (1e-7 relative) would change UMAP's graph weights and so its layout."""
    for start in range(0, X.shape[0], rows):
        block = slice(start, start + rows)
        x = X[block, None, :]
        y = Z[indices[block]]
        if metric == "euclidean":
            d = np.sqrt(np.sum(np.square(x - y), axis=-1, dtype=np.float64))
        else:
            dot = np.sum(x * y, axis=-1, dtype=np.float64)
            nx = np.sum(np.square(x), axis=-1, dtype=np.float64)
            ny = np.sum(np.square(y), axis=-1, dtype=np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                d = 1.0 - dot / np.sqrt(nx * ny)
            d = np.where((nx == 0) | (ny == 0), (nx != ny).astype(float), d)
        order = np.argsort(d, axis=1, kind="stable")
        distances[block] = np.take_along_axis(d, order, axis=1)
        indices[block] = np.take_along_axis(indices[block], order, axis=1)


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
        n_epochs=None,
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
        self.n_epochs = n_epochs

    def _umap(self, round_, init, knn=None):
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
            n_epochs=self.n_epochs,
            random_state=seed,
            transform_seed=42 if seed is None else seed,
            n_jobs=1 if seed is not None else -1,
            # (copied: UMAP marks disconnected neighbours in these arrays)
            precomputed_knn=(None, None, None)
            if knn is None
            else (knn[0].copy(), knn[1].copy(), knn[2]),
        )

    def neighbours(self, Z: np.ndarray, round_: int = 0):
        """The neighbour graph of ``Z`` for UMAP round ``round_``, ``(indices,
        distances, search index)``: exact up to ``EXACT_KNN_MAX`` points (for
        the metrics of ``EXACT_METRICS``), NN-descent above (first round only,
        seeded with the first seed), or None where UMAP searches itself (an
        unsupported metric below 4096 points, where UMAP's search is exact, or a
        bootstrap round above ``EXACT_KNN_MAX``).  Runs that differ only in
        their seeds share it (``fit_transform(knn=...)``): the graph is a
        property of the data, the search a cost paid once."""
        k = self.n_neighbors if round_ == 0 else self.bootstrap_neighbors
        metric = self.metric if round_ == 0 else "euclidean"
        knn = exact_neighbours(Z, k, metric)
        if knn is not None or round_ > 0 or Z.shape[0] < SHARED_KNN_MIN:
            return knn
        from umap.umap_ import nearest_neighbors

        from hyperspy_manifold._jit_cache import enable_jit_cache

        enable_jit_cache()
        seed = self.umap_seeds[0]
        return nearest_neighbors(
            np.asarray(Z, dtype=np.float32),
            self.n_neighbors,
            self.metric,
            {},
            False,
            np.random.RandomState(seed),
            low_memory=True,
            use_pynndescent=True,
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

    def fit_transform(self, X: np.ndarray, reduced=None, knn=None) -> np.ndarray:
        """Fit scaler, PCA and UMAP rounds; ``reduced=(scaler, pca, Z)`` reuses a
        fitted scaler and PCA, ``knn`` the first round's neighbour graph of
        :meth:`neighbours` (runs that differ only in their UMAP seeds; computed
        here when not given, as the bootstrap rounds' are)."""
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
            # the exact search index is not pynndescent's, and it transforms
            warnings.filterwarnings("ignore", message=".*not an NNDescent object.*")
            for round_ in range(1 + self.n_bootstrap):
                if round_ == 0 or self.bootstrap_init == "spectral":
                    # the spectral layout takes n_components + 1 eigenvectors of
                    # the neighbour graph: there are only as many as points
                    tiny = emb.shape[0] <= self.n_components + 1
                    init = "random" if tiny else "spectral"
                else:
                    init = emb
                if round_ > 0 or knn is None:
                    knn = self.neighbours(emb, round_)
                model = self._umap(round_, init, knn)
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
