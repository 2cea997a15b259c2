"""The embedding: per-feature scaling, randomised PCA and UMAP (Li et al. 2019).

:class:`ManifoldEmbedder` fits the scaler, the PCA (when there are more features
than ``pca_components``) and UMAP with its optional graph-bootstrapping rounds
(UMAP run again on the embedding, Li et al., npj Comput Mater 5, 5 (2019)) once,
and applies them to new rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from hyperspy_manifold.learn._features import FeatureScaler, fit_pca

BOOTSTRAP_INITS = ("embedding", "spectral")
#: From this many points UMAP searches neighbours approximately (NN-descent,
#: seeded per run); the automatic partition's runs then share one search.
SHARED_KNN_MIN = 4096
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

    def neighbours(self, Z: np.ndarray):
        """UMAP's approximate nearest-neighbour graph of ``Z`` for the first
        round, ``(indices, distances, search index)``, or None below UMAP's
        4096 points, where UMAP computes the exact neighbours itself.  Runs
        that differ only in their seeds share it (``fit_transform(knn=...)``):
        the graph is a property of the data, the search a cost paid once."""
        if Z.shape[0] < SHARED_KNN_MIN:
            return None
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
        fitted scaler and PCA, ``knn`` the neighbour graph of :meth:`neighbours`
        (runs that differ only in their UMAP seeds)."""
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
                model = self._umap(round_, init, knn if round_ == 0 else None)
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
