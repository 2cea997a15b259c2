"""Iterative NMF with merging of correlated components (grain mapping).

After Allen et al. 2021 and Bruefach, Ophus & Scott 2022 (Microsc. Microanal.):
features of every pattern (rasterised Bragg disks, angular average, ...) are
scaled to [0, 1] and factorised X ≈ W H, deliberately with too many components.
A grain split over several components shows up as maps (columns of W) that are
high in the same places, so maps whose Pearson correlation reaches
``merge_threshold`` are merged and X is factorised again with one component per
merged group, until no pair of maps correlates.  Two fixes to the reference code:

- every correlated pair counts: whole connected groups of the "r >= threshold"
  graph are merged in one round (the reference kept one merge per pass);
- the ``n_models`` starts are random (``init="random"``, one seed each); the
  reference's default NNDSVD start is deterministic, so its "seeds" were identical.
  Of the models fitted at a given number of components, the one with the lowest
  reconstruction error of X is kept and decides the merges.

Two additions: the starts are ranked after a few solver iterations and only the
best is run to convergence (``screening_iter``; 25 full fits per round would not
fit a 100 x 100 scan in a minute), and ``linkage="average"`` (the default of
:func:`bragg_nmf`) merges a group only when its mean pairwise correlation
reaches the threshold, because connected groups can chain distinct grains
through a few broad maps when the start is heavily over-split.

:class:`IterativeNMF` holds the learning as a scikit-learn style estimator: fitted
once, it maps the patterns of new scans onto its components (weights with H
fixed, features scaled with the fitted scaling) and is saved without pickle;
:func:`bragg_nmf` is a thin wrapper of its fit that writes ``learning_results``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import dask.array as da
import numpy as np
from scipy.cluster import hierarchy
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator
from sklearn.decomposition import NMF, PCA, non_negative_factorization
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from hyperspy_manifold._axes import detector_description, navigation_shape
from hyperspy_manifold._checks import (
    check_axis_calibration,
    check_choice,
    check_navigation_mask,
    check_same_detector,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute, pattern_stack, show_progressbar_default
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold._random import as_random_state
from hyperspy_manifold.learn._features import (
    FEATURE_NAMES,
    FeatureScaler,
    feature_matrix,
    feature_signal,
)
from hyperspy_manifold.learn._learning_results import decomposition_results
from hyperspy_manifold.learn.similarity import stack_of_navigation_maps

#: ``decomposition_algorithm`` written to ``learning_results``.
ALGORITHM_NAME = "iterative_nmf"

#: Keyword defaults of :class:`sklearn.decomposition.NMF` for every fit.
NMF_DEFAULTS = {"max_iter": 300, "tol": 1e-4, "solver": "cd"}

#: Cluster attributes of ``learning_results`` without the ``cluster_`` prefix,
#: kept with the others when the NMF replaces the decomposition.
CLUSTER_COUNTS = ("number_of_clusters", "estimated_number_of_clusters")

#: Version of the file :meth:`IterativeNMF.save` writes.
FORMAT = 1

#: Ways of grouping correlated maps, see :func:`correlated_groups`.
LINKAGES = ("single", "average", "complete")

#: Scan positions (rows) on which the random starts are ranked when screening.
SCREENING_ROWS = 2000

#: Scree points looked at when estimating the number of components.
SCREE_POINTS = 50


#: Default ``merge_threshold`` per feature type, from the ranges Bruefach, Ophus &
#: Scott (2022) report: Bragg disks 0.18-0.25, angular average 0.4-0.5, radial
#: variance 0.3-0.5.
MERGE_THRESHOLDS = {
    "bragg": 0.25,
    "angular_average": 0.45,
    "radial_variance": 0.4,
    "cepstrum": 0.45,
    "raw": 0.45,
    "signal": 0.45,
}


@dataclass
class NMFResult:
    """Everything :func:`bragg_nmf` found, returned with ``return_info=True``.

    Attributes
    ----------
    maps : BaseSignal
        Component maps (loadings, the columns of W) with the scan axes; NaN at
        masked positions.
    components : BaseSignal
        Components in feature space (the rows of H, each scaled to a maximum of
        1) with the feature axis.
    class_patterns : BaseSignal
        Weighted mean pattern of every component (weights = its map), in the
        signal space of the input; also ``learning_results.factors``.
    W, H : numpy.ndarray
        ``(n_positions, n_components)`` maps (NaN rows at masked positions) and
        ``(n_components, n_features)`` components, X ≈ W @ H for the scaled X.
    n_components : int
        Final number of components.
    initial_n_components : int
        Number the iteration started from.
    elbow : int or None
        Components estimated from the PCA scree (None when ``n_components`` was
        given).
    explained_variance_ratio : numpy.ndarray or None
        The PCA scree used for ``elbow``.
    history : list of dict
        One entry per factorisation round: ``n_components``, ``errors`` (of every
        random start; after screening, on the screening positions, when
        ``screening_iter`` is set),
        ``best_model`` (index of the kept start), ``reconstruction_error`` (of the
        kept model after it converged), ``n_iter`` (its solver iterations),
        ``merged_groups`` (lists of component indices of that round's kept model
        that go into one component next round), ``dropped`` (components with an
        all-zero map) and ``max_correlation`` (largest off-diagonal map
        correlation).
    errors : numpy.ndarray
        Reconstruction error ||X - WH||_F of every start of the final round.
    best_model : int
        Index of the kept start in ``errors``.
    reconstruction_error : float
        Error of the kept model of the final round.
    correlation : numpy.ndarray
        Pearson correlation of the final maps.
    merge_threshold : float
    """

    maps: object
    components: object
    class_patterns: object
    W: np.ndarray
    H: np.ndarray
    n_components: int
    initial_n_components: int
    elbow: int | None
    explained_variance_ratio: np.ndarray | None
    history: list = field(default_factory=list)
    errors: np.ndarray | None = None
    best_model: int = 0
    reconstruction_error: float = float("nan")
    correlation: np.ndarray | None = None
    merge_threshold: float = 0.3

    def __repr__(self) -> str:
        rounds = " -> ".join(str(h["n_components"]) for h in self.history)
        n_models = 0 if self.errors is None else len(self.errors)
        return (
            f"<NMFResult: {self.n_components} components ({rounds}), kept start "
            f"{self.best_model} of {n_models}, error {self.reconstruction_error:.4g}>"
        )


# ------------------------------------------------------------------------ the algorithm


def estimate_n_components(X: np.ndarray, random_state=None) -> tuple[int, np.ndarray]:
    """Number of significant components at the elbow of the PCA scree of ``X``.

    The elbow is the scree point (log explained-variance ratio against index,
    first ``SCREE_POINTS`` points) farthest below the straight line joining the
    first and the last of them (the "kneedle" construction HyperSpy also uses);
    it is the first point at the noise level, so its index is the number of
    significant components before it.  Returns ``(n_components,
    explained_variance_ratio)``.
    """
    n, d = X.shape
    m = min(n, d, SCREE_POINTS + 1)
    if m < 3:
        return 1, np.ones(1)
    solver = "full" if n * d <= 4_000_000 else "randomized"
    pca = PCA(n_components=m, svd_solver=solver, random_state=random_state).fit(X)
    ratio = pca.explained_variance_ratio_
    y = np.log(np.clip(ratio, 1e-30, None))
    x = np.arange(y.size, dtype=float)
    # Distance of every point from the chord (0, y0)-(last, y_last), up to a factor.
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    below = dy * x - dx * y + dx * y[0] - dy * x[0]
    return max(int(below.argmax()), 1), ratio


def correlated_groups(
    W: np.ndarray, merge_threshold: float, linkage: str = "single"
) -> tuple[list[list[int]], list[int], np.ndarray]:
    """Groups of maps (columns of ``W``) whose Pearson correlation reaches the threshold.

    With ``linkage="single"`` (the method of the papers) every pair at or above
    ``merge_threshold`` joins its two maps and the connected components of that
    graph are the groups (union-find over all pairs: A~B and B~C merge A, B and
    C even when A and C do not correlate).  Chains can join many distinct maps
    through a few broad ones; ``"average"`` (or ``"complete"``) only forms groups
    whose mean (or smallest) pairwise correlation reaches the threshold
    (hierarchical clustering on 1 - r, cut at 1 - ``merge_threshold``).  Maps
    that are zero everywhere have no correlation and are returned separately as
    ``dropped``.

    Returns ``(groups, dropped, correlation)``; ``groups`` lists the column
    indices of every group (singletons included), in order of their first member.
    """
    check_choice("linkage", linkage, LINKAGES)
    live = np.flatnonzero(W.std(axis=0) > 0)
    dropped = [int(i) for i in np.setdiff1d(np.arange(W.shape[1]), live)]
    corr = np.full((W.shape[1], W.shape[1]), np.nan)
    if live.size == 0:
        return [], dropped, corr
    c = np.corrcoef(W[:, live], rowvar=False) if live.size > 1 else np.ones((1, 1))
    corr[np.ix_(live, live)] = c
    if linkage == "single" or live.size == 1:
        _, member_of = connected_components(c >= merge_threshold, directed=False)
    else:
        distance = np.clip(1 - c[np.triu_indices(live.size, k=1)], 0, 2)
        tree = hierarchy.linkage(distance, method=linkage)
        # fcluster merges at distance <= t, i.e. r >= threshold (rounding aside).
        member_of = hierarchy.fcluster(
            tree, t=1 - merge_threshold + 1e-12, criterion="distance"
        )
    groups: dict[int, list[int]] = {}
    for col, g in zip(live, member_of):
        groups.setdefault(int(g), []).append(int(col))
    return list(groups.values()), dropped, corr


def _fit(X, n_components, nmf_kwargs, seed=None, W=None, H=None):
    """One sklearn NMF fit: random start from ``seed`` or continued from ``W``, ``H``."""
    init = "random" if W is None else "custom"
    model = NMF(n_components=n_components, init=init, random_state=seed, **nmf_kwargs)
    with warnings.catch_warnings():
        # Screening stops starts early on purpose, and a continued fit measures
        # sklearn's relative `tol` from its already converged start; the solver
        # iterations are in the history instead (`n_iter` == `max_iter`: capped).
        warnings.simplefilter("ignore", ConvergenceWarning)
        if W is None:
            W = model.fit_transform(X)
        else:
            W = model.fit_transform(X, W=W.copy(), H=H.copy())
    return W, model.components_, float(model.reconstruction_err_), int(model.n_iter_)


def _fit_models(X, n_components, seeds, nmf_kwargs, screening_iter, rng, progress):
    """Fit one randomly started NMF per seed and keep the lowest error.

    With ``screening_iter`` every start runs that many solver iterations on at
    most ``SCREENING_ROWS`` randomly chosen rows of ``X``; the best start's
    components are then fitted to all rows (maps solved with H fixed) and run to
    convergence, ``max_iter`` iterations in all.  Returns ``(best_index, W, H,
    errors, final_error, n_iter)``: ``errors`` of every start (after screening
    when screening), ``n_iter`` the solver iterations of the last fit of the
    kept model (``max_iter`` when it stopped there).
    """
    screen = screening_iter is not None and screening_iter < nmf_kwargs["max_iter"]
    X_screen = X
    if screen:
        kwargs = {**nmf_kwargs, "max_iter": screening_iter}
        if X.shape[0] > SCREENING_ROWS:
            rows = np.sort(rng.choice(X.shape[0], SCREENING_ROWS, replace=False))
            X_screen = X[rows]
    else:
        kwargs = nmf_kwargs
    best = None
    errors = []
    for seed in seeds:
        W, H, err, n_iter = _fit(X_screen, n_components, kwargs, seed=int(seed))
        errors.append(err)
        # Only the running best is kept, so memory does not grow with n_models.
        if best is None or err < errors[best[0]]:
            best = (len(errors) - 1, W, H, n_iter)
        progress.update(1)
    best_index, W, H, n_iter = best
    final_error = errors[best_index]
    if screen:
        if X_screen is not X:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                W, _, _ = non_negative_factorization(
                    X, H=H, n_components=n_components, update_H=False, **kwargs
                )
        rest = {**nmf_kwargs, "max_iter": nmf_kwargs["max_iter"] - screening_iter}
        W, H, final_error, n_iter = _fit(X, n_components, rest, W=W, H=H)
    return best_index, W, H, np.array(errors), final_error, n_iter


def iterative_nmf(
    X: np.ndarray,
    n_components: int,
    merge_threshold: float = 0.3,
    n_models: int = 25,
    max_iterations: int = 10,
    min_components: int = 1,
    screening_iter: int | None = 30,
    linkage: str = "single",
    nmf_kwargs: dict | None = None,
    random_state=None,
    show_progressbar=None,
):
    """Iterative NMF with merging on a non-negative matrix ``X`` (patterns x features).

    Each round fits ``n_models`` randomly started NMFs with the current number
    of components and keeps the one with the lowest ||X - WH||_F (with
    ``screening_iter``, the lowest after that many solver iterations on at most
    ``SCREENING_ROWS`` rows, then fitted to all rows and continued to
    convergence).  Its maps are grouped by
    :func:`correlated_groups` with ``linkage``; when any group has more than one
    member (or a map is empty) the next round uses one component per group, i.e.
    the count after merging (never below ``min_components``).  Rounds stop when
    nothing merges (with single linkage: no pair of maps reaches
    ``merge_threshold``), at the floor ``min_components``, or after
    ``max_iterations`` re-factorisations.

    Returns ``(W, H, history, correlation)`` of the kept model; components are
    sorted by total map weight (largest first) and every row of H is scaled to a
    maximum of 1 (W scaled inversely).
    """
    from threadpoolctl import threadpool_limits

    from hyperspy_manifold import _progress

    kwargs = {**NMF_DEFAULTS, **(nmf_kwargs or {})}
    rng = as_random_state(random_state)
    history = []
    k = int(n_components)
    progress = _progress.steps(
        n_models, "Iterative NMF", show_progressbar_default(show_progressbar)
    )
    # The matrices are skinny: BLAS threads cost more than they gain here (a fit
    # ran 4-8x faster on one thread than on two busy cores).
    with progress, threadpool_limits(limits=1, user_api="blas"):
        for _ in range(max_iterations + 1):
            seeds = rng.randint(np.iinfo(np.int32).max, size=n_models)
            progress.reset(total=n_models)
            progress.set_description(f"Iterative NMF, {k} components")
            best, W, H, errors, final_error, n_iter = _fit_models(
                X, k, seeds, kwargs, screening_iter, rng, progress
            )
            groups, dropped, corr = correlated_groups(W, merge_threshold, linkage)
            off_diagonal = corr[~np.eye(k, dtype=bool)]
            history.append(
                {
                    "n_components": k,
                    "errors": errors,
                    "best_model": best,
                    "reconstruction_error": final_error,
                    "n_iter": n_iter,
                    "merged_groups": [g for g in groups if len(g) > 1],
                    "dropped": dropped,
                    "max_correlation": float(np.nanmax(off_diagonal))
                    if np.isfinite(off_diagonal).any()
                    else float("nan"),
                }
            )
            n_next = max(len(groups), min_components)
            if n_next >= k or k <= min_components:
                break
            k = n_next
    scale = H.max(axis=1)
    scale[scale == 0] = 1
    H = H / scale[:, None]
    W = W * scale[None, :]
    order = np.argsort(-W.sum(axis=0), kind="stable")
    W, H = W[:, order], H[order]
    corr = corr[np.ix_(order, order)]
    return W, H, history, corr


# ------------------------------------------------------------------------- signal level


def _class_patterns(
    s, weights: np.ndarray, navigation_mask=None, show_progressbar=None
) -> np.ndarray:
    """Weighted mean pattern of every component, in one pass over the data.

    ``weights`` is ``(n_positions, k)`` with zeros at masked positions, whose
    patterns (which may hold NaN) are left out.  Lazy data is never loaded whole:
    each navigation chunk contributes ``W_chunk.T @ X_chunk`` and the partial
    sums are added.
    """
    nav_shape = navigation_shape(s)
    nav_ndim = len(nav_shape)
    k = weights.shape[1]
    W = weights.reshape(nav_shape + (k,))
    data = s.data
    axes = (list(range(nav_ndim)), list(range(nav_ndim)))
    if navigation_mask is not None:
        data = pattern_stack(s)
        excluded = da.from_array(
            navigation_mask[..., None, None],
            chunks=data.chunks[:nav_ndim] + ((1,), (1,)),
        )
        data = da.where(excluded, 0, data)
    if isinstance(data, da.Array):
        Wd = da.from_array(W, chunks=data.chunks[:nav_ndim] + (k,))
        sums = compute(da.tensordot(Wd, data, axes=axes), show_progressbar)
    else:
        sums = np.tensordot(W, np.asarray(data), axes=axes)
    total = weights.sum(axis=0)
    total = np.where(total > 0, total, 1.0)
    return sums / total.reshape((k,) + (1,) * (sums.ndim - 1))


def _component_signal(f, H: np.ndarray):
    """Rows of H as a signal stack with the feature axes of ``f``."""
    from hyperspy.io import dict2signal

    am = f.axes_manager
    sig_shape = f.data.shape[am.navigation_dimension :]
    feature_axes = []
    for ax in am.signal_axes[::-1]:
        d = ax.get_axis_dictionary()
        d["navigate"] = False
        feature_axes.append(d)
    signal_type = f.metadata.get_item("Signal.signal_type", "")
    return dict2signal(
        {
            "data": H.reshape((H.shape[0],) + sig_shape),
            "axes": [
                {
                    "size": H.shape[0],
                    "name": "Decomposition component index",
                    "navigate": True,
                }
            ]
            + feature_axes,
            "metadata": {
                "General": {"title": f"NMF components of {f.metadata.General.title}"},
                "Signal": {"signal_type": signal_type},
            },
        }
    )


def _write_learning_results(s, W_full, H, patterns, nav_mask):
    """Replace the decomposition in ``s.learning_results`` (the documented side
    effect) and keep the clustering already there.

    HyperSpy keeps a decomposition and a cluster analysis side by side in one
    ``LearningResults``; a fresh object with the cluster attributes of the old
    one copied over does the same, so the labels of an earlier
    ``manifold_decomposition`` (or ``cluster_analysis``) still serve
    ``get_cluster_labels`` and ``get_similarity_loadings``, and no decomposition
    attribute of the old results is left beside the NMF.
    """
    k = H.shape[0]
    lr = decomposition_results(
        patterns.reshape(k, -1).T, W_full, ALGORITHM_NAME, nav_mask
    )
    lr.feature_factors = H.T
    lr.number_significant_components = k
    old = s.learning_results
    if getattr(old, "cluster_labels", None) is not None:
        for name, value in vars(old).items():
            if name.startswith("cluster_") or name in CLUSTER_COUNTS:
                setattr(lr, name, value)
    s.learning_results = lr


def _check_parameters(
    n_components,
    oversplit,
    merge_threshold,
    n_models,
    max_iterations,
    min_components,
    screening_iter,
):
    def positive_int(name, value, minimum=1):
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
            raise TypeError(f"`{name}` must be an integer, got {value!r}.")
        if value < minimum:
            raise ValueError(f"`{name}` must be >= {minimum}, got {value}.")

    if n_components is not None:
        positive_int("n_components", n_components)
    if not (isinstance(oversplit, (int, float)) and oversplit >= 1):
        raise ValueError(f"`oversplit` must be a number >= 1, got {oversplit!r}.")
    if not (isinstance(merge_threshold, (int, float)) and 0 <= merge_threshold <= 1):
        raise ValueError(
            f"`merge_threshold` must be a correlation in [0, 1], got {merge_threshold!r}."
        )
    positive_int("n_models", n_models)
    positive_int("max_iterations", max_iterations, minimum=0)
    positive_int("min_components", min_components)
    if screening_iter is not None:
        positive_int("screening_iter", screening_iter)


def _check_scan_signal(s, caller: str) -> None:
    """A signal with a navigation axis and finite calibration, or an error
    naming ``caller``."""
    from hyperspy.signal import BaseSignal

    if not isinstance(s, BaseSignal):
        raise TypeError(f"`{caller}` needs a HyperSpy signal, got {type(s).__name__}.")
    if s.axes_manager.navigation_dimension == 0:
        raise ValueError(
            f"`{caller}` needs at least one navigation axis (a scan of patterns)."
        )
    check_axis_calibration(s, caller)


def _json_default(value):
    """numpy numbers and arrays of a saved model's JSON header as plain ones."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(
        f"A {type(value).__name__} can not be saved in a model file (JSON text): "
        "give the parameters as numbers, strings and lists."
    )


class IterativeNMF(BaseEstimator):
    """Iterative NMF with merging (grain mapping) as a reusable, savable model.

    ``fit`` runs the learning of :func:`bragg_nmf` on a scan, which it does not
    modify, and keeps the components (the rows of H), the feature scaling
    fitted on that scan and the whole :class:`NMFResult`.  ``transform`` maps
    the patterns of any scan of the same detector onto the fitted components:
    the weights of every position with H fixed (non-negative least squares,
    :func:`sklearn.decomposition.non_negative_factorization` with
    ``update_H=False``), after scaling its features with the *fitted* offset
    and span (values below the fitted minimum become 0), so maps of several
    scans are on one scale.  Scikit-learn's conventions: parameters in
    ``__init__`` (``get_params``/``set_params``, :func:`sklearn.base.clone`),
    checked at fit time, fitted attributes ending in ``_``.  ``save``/``load``
    use a ``.npz`` of plain arrays and a JSON text (loaded with
    ``allow_pickle=False``: loading never runs code from the file).

    Parameters
    ----------
    features, feature_kwargs, n_components, oversplit, merge_threshold,
    n_models, max_iterations, min_components, screening_iter, linkage, scaling,
    nmf_kwargs, random_state
        As in :func:`bragg_nmf` (same defaults).  ``fit`` also takes a feature
        signal as ``features``; ``transform`` and ``save`` need a name, as a
        signal can not be computed on another scan.  Transform parameters that
        are found from the data (``rings="auto"`` of the angular average) can
        differ on another scan: give the fitted ones in ``feature_kwargs``.

    Attributes
    ----------
    components_ : numpy.ndarray
        ``(n_components_, n_features_in_)`` components in the scaled feature
        space (H, every row scaled to a maximum of 1).
    n_components_ : int
    n_features_in_ : int
    scaling_offset_, scaling_span_ : numpy.ndarray or None
        The fitted scaling: a feature ``x`` becomes ``(x - offset) / span``
        (None with ``scaling=None``).
    merge_threshold_ : float
        The threshold used (``merge_threshold``, or the default of the feature
        type).
    history_ : list of dict
        One entry per factorisation round (:attr:`NMFResult.history`).
    reconstruction_err_ : float
        ||X - WH||_F of the fit.
    detector_ : dict
        Shape, scale and units of the fitted scan's detector.
    result_ : NMFResult or None
        Everything the fit found (maps, class patterns ...); None after
        :meth:`load`.

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> from hyperspy_manifold.data import polycrystalline_film
    >>> s, truth = polycrystalline_film(shape=(16, 16), n_grains=4)
    >>> model = hm.IterativeNMF(
    ...     features="angular_average", merge_threshold=0.4, n_models=5, random_state=0
    ... )
    >>> model = model.fit(s, show_progressbar=False)
    >>> maps = model.transform(s, show_progressbar=False)  # or any scan of this detector
    >>> maps.data.shape == (model.n_components_, 16, 16)
    True
    >>> model.save("grains.npz")  # doctest: +SKIP
    >>> maps = hm.IterativeNMF.load("grains.npz").transform(other_scan)  # doctest: +SKIP
    """

    def __init__(
        self,
        features="bragg",
        feature_kwargs=None,
        n_components=None,
        oversplit=3,
        merge_threshold=None,
        n_models=25,
        max_iterations=10,
        min_components=1,
        screening_iter=30,
        linkage="average",
        scaling="minmax",
        nmf_kwargs=None,
        random_state=None,
    ):
        self.features = features
        self.feature_kwargs = feature_kwargs
        self.n_components = n_components
        self.oversplit = oversplit
        self.merge_threshold = merge_threshold
        self.n_models = n_models
        self.max_iterations = max_iterations
        self.min_components = min_components
        self.screening_iter = screening_iter
        self.linkage = linkage
        self.scaling = scaling
        self.nmf_kwargs = nmf_kwargs
        self.random_state = random_state

    # ------------------------------------------------------------------ checks

    def _check_fitted(self):
        if not hasattr(self, "components_"):
            raise NotFittedError(
                "This IterativeNMF is not fitted yet: call fit(s) (or load a saved "
                "model) first."
            )

    def _check_named_features(self, action: str):
        if not isinstance(self.features, str):
            raise TypeError(
                f"IterativeNMF can not {action} with a `features` signal (it can not "
                "be computed on another scan): fit with `features` by name, one of "
                f"{', '.join(FEATURE_NAMES)}."
            )

    # --------------------------------------------------------------------- fit

    @one_progress_bar("Iterative NMF")
    @fill_docstring
    def fit(self, s, navigation_mask=None, signal_mask=None, show_progressbar=None):
        """Fit on the scan ``s`` (not modified, nor its ``learning_results``).

        Parameters
        ----------
        s : BaseSignal
            4D-STEM patterns, eager or lazy (see :func:`bragg_nmf`).
        navigation_mask, signal_mask : array-like or BaseSignal, optional
            As in :func:`bragg_nmf`; the signal mask is kept and also applied by
            :meth:`transform`.
        %(show_progressbar)s

        Returns
        -------
        IterativeNMF
            The fitted model.
        """
        _check_scan_signal(s, "IterativeNMF.fit")
        # A view: the learning_results written by the fit are the view's.
        view = s._deepcopy_with_new_data(s.data)
        return self._fit(
            view, navigation_mask, signal_mask, show_progressbar, "IterativeNMF.fit"
        )

    def _fit(self, s, navigation_mask, signal_mask, show_progressbar, caller):
        """The learning of :meth:`fit` and :func:`bragg_nmf`: writes the
        decomposition to ``s.learning_results`` (``fit`` gives a view of its
        scan, ``bragg_nmf`` the scan itself) and sets the fitted attributes.
        Errors name ``caller``."""
        _check_scan_signal(s, caller)
        features = self.features
        merge_threshold = self.merge_threshold
        if merge_threshold is None:
            key = features if isinstance(features, str) else "signal"
            merge_threshold = MERGE_THRESHOLDS.get(key, MERGE_THRESHOLDS["signal"])
        _check_parameters(
            self.n_components,
            self.oversplit,
            merge_threshold,
            self.n_models,
            self.max_iterations,
            self.min_components,
            self.screening_iter,
        )
        check_choice("scaling", self.scaling, ("minmax", None))
        check_choice("linkage", self.linkage, LINKAGES)
        nmf_kwargs = dict(self.nmf_kwargs or {})
        for key in ("n_components", "init", "random_state"):
            if key in nmf_kwargs:
                raise ValueError(
                    f"`nmf_kwargs` may not set {key!r}: `{caller}` sets it for every "
                    "model."
                )
        nav_mask = check_navigation_mask(s, navigation_mask)
        rng = as_random_state(self.random_state)

        f = feature_signal(
            s,
            features,
            self.feature_kwargs,
            show_progressbar,
            signal_mask=signal_mask,
            navigation_mask=nav_mask,
        )
        X = feature_matrix(
            f, navigation_mask=nav_mask, show_progressbar=show_progressbar
        )
        if self.scaling is None and (X < 0).any():
            raise ValueError(
                f"NMF needs non-negative features, but the minimum is {X.min():g}. "
                "Use `scaling='minmax'` (shifts every feature to [0, 1]) or shift "
                "the features."
            )
        if X.shape[0] < 2:
            raise ValueError(
                f"`{caller}` needs at least 2 unmasked patterns, got {X.shape[0]}."
            )
        scaler = FeatureScaler(self.scaling).fit(X)
        X = scaler.transform(X)
        if not X.any():
            raise ValueError(
                "All features are constant (zero after scaling): nothing to factorise."
            )

        elbow, ratio = None, None
        n_components = self.n_components
        if n_components is None:
            elbow, ratio = estimate_n_components(X, random_state=rng.randint(2**31 - 1))
            n_components = int(round(self.oversplit * elbow))
            n_components = max(min(n_components, min(X.shape)), self.min_components)
        W, H, history, corr = iterative_nmf(
            X,
            n_components,
            merge_threshold=merge_threshold,
            n_models=self.n_models,
            max_iterations=self.max_iterations,
            min_components=self.min_components,
            screening_iter=self.screening_iter,
            linkage=self.linkage,
            nmf_kwargs=nmf_kwargs,
            random_state=rng,
            show_progressbar=show_progressbar,
        )
        k = H.shape[0]
        n_nav = int(np.prod(navigation_shape(s)))
        weights = np.zeros((n_nav, k))
        keep = slice(None) if nav_mask is None else ~nav_mask.ravel()
        weights[keep] = W
        patterns = _class_patterns(s, weights, nav_mask, show_progressbar)
        W_full = weights.copy()
        if nav_mask is not None:
            W_full[nav_mask.ravel()] = np.nan
        _write_learning_results(s, W_full, H, patterns, nav_mask)

        self.components_ = H
        self.n_components_ = k
        self.n_features_in_ = int(H.shape[1])
        self.scaling_offset_ = getattr(scaler, "offset_", None)
        self.scaling_span_ = getattr(scaler, "span_", None)
        self.merge_threshold_ = float(merge_threshold)
        self.history_ = history
        self.reconstruction_err_ = float(history[-1]["reconstruction_error"])
        self.detector_ = detector_description(s)
        self.signal_mask_ = (
            None if signal_mask is None else check_signal_mask(s, signal_mask)
        )
        self.result_ = NMFResult(
            maps=s.get_decomposition_loadings(),
            components=_component_signal(f, H),
            class_patterns=s.get_decomposition_factors(),
            W=W_full,
            H=H,
            n_components=k,
            initial_n_components=history[0]["n_components"],
            elbow=elbow,
            explained_variance_ratio=ratio,
            history=history,
            errors=history[-1]["errors"],
            best_model=history[-1]["best_model"],
            reconstruction_error=history[-1]["reconstruction_error"],
            correlation=corr,
            merge_threshold=float(merge_threshold),
        )
        return self

    # --------------------------------------------------------------- transform

    def _weights(self, X: np.ndarray) -> np.ndarray:
        """Weights of the rows of ``X`` (unscaled features) with H fixed."""
        from threadpoolctl import threadpool_limits

        if self.scaling_offset_ is not None:
            scaler = FeatureScaler(self.scaling)
            scaler.offset_, scaler.span_ = self.scaling_offset_, self.scaling_span_
            # Below the fitted minimum is "none of it", as at the minimum.
            X = np.clip(scaler.transform(X), 0, None)
        elif (X < 0).any():
            raise ValueError(
                f"NMF needs non-negative features, but the new scan's minimum is "
                f"{X.min():g}; the model was fitted with `scaling=None`."
            )
        H = self.components_.astype(X.dtype, copy=False)
        kwargs = {**NMF_DEFAULTS, **(self.nmf_kwargs or {})}
        with threadpool_limits(limits=1, user_api="blas"):
            W, _, _ = non_negative_factorization(
                X, H=H, n_components=H.shape[0], update_H=False, **kwargs
            )
        return W

    @one_progress_bar("Iterative NMF transform")
    @fill_docstring
    def transform(self, s, navigation_mask=None, show_progressbar=None):
        """Maps of the fitted components on the scan ``s`` (not modified).

        Parameters
        ----------
        s : BaseSignal
            Patterns of a detector with the fitted shape and calibration, eager
            or lazy (e.g. another scan of the same sample).
        navigation_mask : array-like or BaseSignal, optional
            True at scan positions to leave out (NaN in the maps).
        %(show_progressbar)s

        Returns
        -------
        BaseSignal
            A stack of navigation-shaped maps, as :attr:`NMFResult.maps`: the
            navigation axis is the component index, the signal axes are the
            scan axes of ``s`` with their calibration.
        """
        self._check_fitted()
        self._check_named_features("transform a scan")
        _check_scan_signal(s, "IterativeNMF.transform")
        check_same_detector(s, self.detector_)
        mask = check_navigation_mask(s, navigation_mask)
        f = feature_signal(
            s,
            self.features,
            self.feature_kwargs,
            show_progressbar,
            signal_mask=self.signal_mask_,
            navigation_mask=mask,
        )
        X = feature_matrix(f, mask, show_progressbar)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"The new scan gives {X.shape[1]} features per pattern, the fitted "
                f"model {self.n_features_in_}: give the transform's parameters that "
                "were found on the fitted scan in `feature_kwargs` (e.g. rings=...)."
            )
        W = np.full((int(np.prod(navigation_shape(s))), self.n_components_), np.nan)
        W[slice(None) if mask is None else ~mask.ravel()] = self._weights(X)
        maps = W.T.reshape((self.n_components_,) + navigation_shape(s))
        out = stack_of_navigation_maps(
            s, maps, f"IterativeNMF maps of {s.metadata.General.title}", lazy=False
        )
        out.axes_manager[0].name = "Decomposition component index"
        return out

    def fit_transform(
        self, s, navigation_mask=None, signal_mask=None, show_progressbar=None
    ):
        """Fit on ``s`` and return its maps (``result_.maps``)."""
        self.fit(
            s,
            navigation_mask=navigation_mask,
            signal_mask=signal_mask,
            show_progressbar=show_progressbar,
        )
        return self.result_.maps

    # -------------------------------------------------------------- save/load

    def save(self, path):
        """Write the fitted model to ``path`` (``.npz``: arrays and a JSON text;
        numpy adds the extension when missing)."""
        self._check_fitted()
        self._check_named_features("be saved")
        params = self.get_params()
        if isinstance(
            params["random_state"], np.random.RandomState | np.random.Generator
        ):
            params["random_state"] = None  # a seed object is not data: not saved
        header = {
            "model": type(self).__name__,
            "format": FORMAT,
            "params": params,
            "detector": self.detector_,
            "n_features_in": self.n_features_in_,
            "merge_threshold": self.merge_threshold_,
            "reconstruction_err": self.reconstruction_err_,
            "history": self.history_,
        }
        arrays = {
            "components": self.components_,
            "header": np.array(json.dumps(header, default=_json_default)),
        }
        optional = {
            "scaling_offset": self.scaling_offset_,
            "scaling_span": self.scaling_span_,
            "signal_mask": self.signal_mask_,
        }
        arrays.update({k: np.asarray(v) for k, v in optional.items() if v is not None})
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> IterativeNMF:
        """A model saved by :meth:`save` (no pickle: plain arrays and JSON); it
        transforms, ``result_`` is None."""
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            if header.get("model") != cls.__name__:
                raise ValueError(
                    f"{path} holds no {cls.__name__} (saved model: "
                    f"{header.get('model')!r}); load it with its own class."
                )
            if header.get("format") != FORMAT:
                raise ValueError(
                    f"{path}: saved model format {header.get('format')!r}, this "
                    f"version reads {FORMAT}."
                )
            model = cls(**header["params"])
            model.components_ = f["components"]

            def get(name):
                return f[name] if name in f.files else None

            model.scaling_offset_ = get("scaling_offset")
            model.scaling_span_ = get("scaling_span")
            model.signal_mask_ = get("signal_mask")
        model.n_components_ = int(model.components_.shape[0])
        model.n_features_in_ = int(header["n_features_in"])
        model.merge_threshold_ = float(header["merge_threshold"])
        model.reconstruction_err_ = float(header["reconstruction_err"])
        model.detector_ = header["detector"]
        model.history_ = [
            dict(h, errors=np.asarray(h["errors"])) for h in header["history"]
        ]
        model.result_ = None
        return model


@one_progress_bar("Bragg NMF")
@fill_docstring
def bragg_nmf(
    s,
    features="bragg",
    feature_kwargs: dict | None = None,
    n_components: int | None = None,
    oversplit: float = 3,
    merge_threshold: float | None = None,
    n_models: int = 25,
    max_iterations: int = 10,
    min_components: int = 1,
    screening_iter: int | None = 30,
    linkage: str = "average",
    scaling: str | None = "minmax",
    nmf_kwargs: dict | None = None,
    navigation_mask=None,
    signal_mask=None,
    random_state=None,
    return_info: bool = False,
    show_progressbar=None,
):
    """Iterative NMF with merging of correlated components, for grain mapping.

    Features of every pattern are scaled to [0, 1] per feature (which also
    shifts negative features to zero), factorised with deliberately too many
    components, and components whose maps correlate (Pearson r >=
    ``merge_threshold``) are merged and the data factorised again, until no two
    maps correlate (see :func:`iterative_nmf`).  The result is written to
    ``s.learning_results`` as a decomposition:

    - loadings: the component maps (``s.get_decomposition_loadings()``);
    - factors: the weighted mean pattern of every component (weights = its map),
      in the signal space of ``s``, so ``s.get_decomposition_factors()`` and
      ``s.plot_decomposition_results()`` show patterns;
    - ``learning_results.feature_factors``: the components in feature space
      (``(n_features, n_components)``, each scaled to a maximum of 1).

    Cluster results already in ``s.learning_results`` (from
    :func:`manifold_decomposition` or HyperSpy's ``cluster_analysis``) are kept,
    so ``s.get_cluster_labels()`` and :func:`get_similarity_loadings` still use
    them.

    Parameters
    ----------
    s : BaseSignal
        4D-STEM patterns (eager or lazy); any signal with a navigation axis and
        ``features`` a signal or ``"raw"``.
    features : {"bragg", "angular_average", "radial_variance", "radial_profile", "cepstrum", "raw"} or BaseSignal
        Feature transform computed with its defaults updated by
        ``feature_kwargs``, or a non-negative feature signal with the navigation
        shape of ``s``.  Paper thresholds: Bragg disks 0.18-0.25, angular
        average 0.4-0.5, radial variance 0.3-0.5.  ``"radial_profile"`` (the
        Bragg-masked azimuthal means, :func:`~hyperspy_manifold.get_radial_profile`)
        separates amorphous from crystalline regions.
    feature_kwargs : dict, optional
        Keywords of the feature transform.
    n_components : int, optional
        Components of the first round.  Default: ``oversplit`` times the number
        at the elbow of the PCA scree of the scaled features.
    oversplit : float
        Factor applied to the scree estimate (ignored with ``n_components``).
    merge_threshold : float, optional
        Pearson correlation in [0, 1] at which two maps are merged.  Default: the
        middle of the range Bruefach et al. (2022) found for the feature type
        (``MERGE_THRESHOLDS``: Bragg 0.25, angular average 0.45, radial variance
        0.4, others 0.45).
    n_models : int
        Randomly initialised NMF models per round; the lowest ||X - WH||_F wins.
    max_iterations : int
        Largest number of re-factorisations after the first (0: no merging).
    min_components : int
        Floor of the number of components.
    screening_iter : int or None
        Solver iterations after which the ``n_models`` random starts are ranked,
        on at most 2000 randomly chosen scan positions; only the best start is
        then fitted to all positions and run to convergence (``max_iter``
        iterations in all).  None runs every start on all positions to
        convergence (the papers' procedure; about ``n_models`` times slower).
    linkage : {"average", "single", "complete"}
        How correlated maps form groups (:func:`correlated_groups`): "single"
        merges every connected chain of pairs with r >= ``merge_threshold``
        (the papers' method); "average" (the default) needs a mean pairwise r >=
        the threshold and does not let a few broad maps chain many grains
        together. On the tuning split of ``benchmarks/accuracy`` (13 scenarios,
        angular-average features) "average" scored as well as or better than
        "single" on every scenario (median ARI 0.741 against 0.735; a line scan
        0.74 against 0.33).
    scaling : {"minmax", None}
        Feature scaling; with None the features must already be non-negative.
    nmf_kwargs : dict, optional
        Keywords of :class:`sklearn.decomposition.NMF` (default
        ``{"max_iter": 300, "tol": 1e-4, "solver": "cd"}``); ``init`` and
        ``random_state`` are set per model.
    navigation_mask : array-like or BaseSignal, optional
        True at scan positions to leave out; their loadings are NaN.  Their
        patterns are never transformed or summed (they may hold NaN).
    signal_mask : array-like or BaseSignal, optional
        Detector-shaped, True at pixels to leave out of the features (given to
        the feature transform; with ``features="raw"`` the pixels are left
        out). The class patterns still show every pixel.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds of every model (see :mod:`hyperspy_manifold._random`); the same
        int gives the same result.
    return_info : bool
        Return an :class:`NMFResult` with maps, components, class patterns and
        the per-round history.
    %(show_progressbar)s

    Returns
    -------
    None or NMFResult

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> from hyperspy_manifold.data import polycrystalline_film
    >>> s, truth = polycrystalline_film(shape=(16, 16), n_grains=4)
    >>> info = s.bragg_nmf(
    ...     features="angular_average", merge_threshold=0.4, linkage="average",
    ...     n_models=5, random_state=0, return_info=True, show_progressbar=False,
    ... )
    >>> s.get_decomposition_loadings().data.shape[0] == info.n_components
    True
    >>> regions = hm.separate_regions(info.maps)  # one class per connected region
    >>> regions.table.dtype.names[:4]
    ('region', 'component', 'n_pixels', 'area')
    """
    model = IterativeNMF(
        features=features,
        feature_kwargs=feature_kwargs,
        n_components=n_components,
        oversplit=oversplit,
        merge_threshold=merge_threshold,
        n_models=n_models,
        max_iterations=max_iterations,
        min_components=min_components,
        screening_iter=screening_iter,
        linkage=linkage,
        scaling=scaling,
        nmf_kwargs=nmf_kwargs,
        random_state=random_state,
    )
    # Fitted on `s` itself, not a view: its learning_results are the output.
    model._fit(s, navigation_mask, signal_mask, show_progressbar, "bragg_nmf")
    return model.result_ if return_info else None
