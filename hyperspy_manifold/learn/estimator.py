"""A manifold clustering fitted once and reused on new scans.

:class:`ManifoldClustering` follows scikit-learn's estimator conventions
(parameters in ``__init__``, ``get_params``/``set_params``, fitted attributes
ending in ``_``) on HyperSpy signals.  ``fit`` runs
:func:`~hyperspy_manifold.manifold_decomposition` (on a view of the signal, so
its ``learning_results`` stay as they were) and keeps what labelling needs: the
feature scaling and PCA, the fitted patterns in that reduced feature space and
their labels.

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

import numpy as np
from sklearn.base import BaseEstimator

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import check_navigation_mask
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.learn.similarity import MASKED

#: Label of positions that match none of the fitted structures.
NOVEL = -3

#: Version of the saved format.
FORMAT = 1

_FIT_KEYWORDS = (
    "features",
    "feature_kwargs",
    "scaling",
    "pca_components",
    "n_neighbors",
    "min_dist",
    "n_components",
    "metric",
    "algorithm",
    "n_clusters",
    "min_cluster_size",
    "min_samples",
    "k_range",
    "n_runs",
    "n_fit",
    "random_state",
)


def _view(s):
    """``s`` with its own metadata and learning_results, sharing the data."""
    return s._deepcopy_with_new_data(s.data)


def _detector(s) -> dict:
    axes = s.axes_manager.signal_axes
    units = [a.units if isinstance(a.units, str) else "" for a in axes]
    return {
        "shape": [int(a.size) for a in axes],
        "scale": [float(a.scale) for a in axes],
        "units": units,
    }


class ManifoldClustering(BaseEstimator):
    """Manifold clustering of 4D-STEM scans as a reusable, savable model.

    Parameters
    ----------
    features, feature_kwargs, scaling, pca_components, n_neighbors, min_dist,
    n_components, metric, algorithm, n_clusters, min_cluster_size, min_samples,
    k_range, n_runs, n_fit, random_state
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
        if (
            not isinstance(self.n_vote, numbers.Integral)
            or isinstance(self.n_vote, bool)
            or self.n_vote < 1
        ):
            raise ValueError(f"`n_vote` must be an int >= 1, got {self.n_vote!r}.")
        q = self.novelty_quantile
        if not isinstance(q, numbers.Real) or isinstance(q, bool) or not 0 < q <= 1:
            raise ValueError(f"`novelty_quantile` must be in (0, 1], got {q!r}.")

    def _check_fitted(self):
        if not hasattr(self, "reduced_"):
            raise RuntimeError(
                "This ManifoldClustering is not fitted yet: call fit(s) (or load a "
                "saved model) first."
            )

    def _check_scan(self, s):
        found = _detector(s)
        known = self.detector_
        if found["shape"] != known["shape"]:
            raise ValueError(
                f"The new scan's detector is {found['shape'][::-1]} pixels; the "
                f"model was fitted on {known['shape'][::-1]}: bin or crop the scan "
                "to the fitted detector (s.rebin, s.isig[...])."
            )
        scales_match = np.allclose(found["scale"], known["scale"], rtol=1e-6)
        if not scales_match or found["units"] != known["units"]:
            raise ValueError(
                f"The new scan's detector calibration ({found['scale']} "
                f"{found['units']}) differs from the fitted one ({known['scale']} "
                f"{known['units']}): calibrate it the same way "
                "(s.axes_manager.signal_axes[i].scale / .units) or refit."
            )

    # --------------------------------------------------------------------- fit

    @one_progress_bar("Fit")
    def fit(self, s, navigation_mask=None, signal_mask=None, show_progressbar=None):
        """Fit on the scan ``s`` (not modified); returns the model."""
        from hyperspy_manifold.learn.manifold import manifold_decomposition

        self._check_own_params()
        kwargs = {name: getattr(self, name) for name in _FIT_KEYWORDS}
        result = manifold_decomposition(
            _view(s),
            navigation_mask=navigation_mask,
            signal_mask=signal_mask,
            return_info=True,
            show_progressbar=show_progressbar,
            **kwargs,
        )
        est = result.estimators
        self.result_ = result
        self.signal_mask_ = None if signal_mask is None else np.asarray(signal_mask)
        self.detector_ = _detector(s)
        self._set_reducer(est["scaler"], est["pca"])
        self.reduced_ = np.asarray(est["reduced"], dtype=np.float64)
        self.labels_ = np.asarray(est["fit_labels"], dtype=np.int64)
        self.n_features_ = int(result.parameters["n_features"])
        self.n_clusters_ = int(result.n_clusters)
        self._fit_neighbours()
        return self

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
        from hyperspy_manifold.learn.manifold import _NeighbourVote

        self.vote_ = _NeighbourVote(self.reduced_, self.labels_, self.n_vote)
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

    def _features(self, s, mask, show_progressbar):
        from hyperspy_manifold.learn._features import feature_matrix, feature_signal

        f = feature_signal(
            s, self.features, self.feature_kwargs, show_progressbar, self.signal_mask_
        )
        X = feature_matrix(f, mask, show_progressbar)
        if X.shape[1] != self.n_features_:
            raise ValueError(
                f"The new scan gives {X.shape[1]} features per pattern, the fitted "
                f"model {self.n_features_}: give the transform's parameters that "
                "were found on the fitted scan in `feature_kwargs` (e.g. rings=...)."
            )
        return X

    # ----------------------------------------------------------------- predict

    def _score(self, s, navigation_mask=None, show_progressbar=None):
        """``(labels by vote, novelty score, mask)`` of every unmasked position."""
        self._check_fitted()
        self._check_scan(s)
        mask = check_navigation_mask(s, navigation_mask)
        X = self._features(s, mask, show_progressbar)
        labels, _, dist, _ = self.vote_.vote(self._reduce(X))
        return labels, dist[:, -1] / self.novelty_, mask

    def _navigation_signal(self, s, values, mask, fill, title):
        from hyperspy_manifold.learn.manifold import _navigation_map

        shape = navigation_shape(s)
        out = np.full(int(np.prod(shape)), fill, dtype=np.asarray(values).dtype)
        keep = np.ones(out.size, bool) if mask is None else ~mask.ravel()
        out[keep] = values
        return _navigation_map(s, out.reshape(shape), title)

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
        if getattr(self, "result_", None) is None:
            raise RuntimeError(
                "transform needs the fitted UMAP model, which is not saved: a loaded "
                "model can predict and score_samples; refit to embed."
            )
        self._check_scan(s)
        mask = check_navigation_mask(s, navigation_mask)
        X = self._features(s, mask, show_progressbar)
        embedder = self.result_.estimators["embedder"]
        emb = embedder.transform(X, reduced=self._reduce(X).astype(np.float32))
        out = np.full((int(np.prod(navigation_shape(s))), emb.shape[1]), np.nan)
        keep = np.ones(out.shape[0], bool) if mask is None else ~mask.ravel()
        out[keep] = emb
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
        model.result_ = None
        model._fit_neighbours()
        model.novelty_ = float(header["novelty"])
        return model
