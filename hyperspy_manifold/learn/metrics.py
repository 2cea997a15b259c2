"""Scores of a segmentation against ground truth, and of clusters without it.

Follows Bruefach, Ophus & Scott 2022 (Microsc. Microanal., "Interpretable data
representations for 4D-STEM using unsupervised learning"):

- ``precision_any`` (precision_A): "any grain" against "no grain" at every scan
  position, scored as a binary precision.
- ``tpr_per_grain`` (TPR_G): for every true grain, the predicted class with the
  largest overlap, and the true positive rate of that match.
- ``cluster_dissimilarity``: weighted spread of the member patterns around the
  weighted cluster pattern, after min-max scaling (no ground truth needed).

Plus the adjusted Rand index and normalised mutual information with noise and
masked positions handled explicitly.  Labels follow
:mod:`~hyperspy_manifold.learn._labels`: ids >= 0 are classes (any integers),
-2 is masked, every other negative label is noise (-1 or, say, -5).

Label maps may be numpy arrays or HyperSpy signals (e.g.
``s.get_cluster_labels(merged=True)``); only their values are used, so any
navigation shape works as long as prediction and truth have the same shape.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from hyperspy_manifold._checks import check_choice
from hyperspy_manifold.learn._features import scale_features
from hyperspy_manifold.learn._labels import MASKED, NOISE, canonical_labels

#: Label of positions that belong to no class (HDBSCAN noise, "no grain"); every
#: negative label other than ``mask_value`` counts as noise.
NOISE_LABEL = NOISE
#: Label of positions excluded from the analysis (``navigation_mask``).
MASK_LABEL = MASKED

NOISE_TREATMENTS = ("own_class", "ignore")
MATCHINGS = ("best", "one_to_one")

#: dtype of the table returned by :func:`tpr_per_grain`.
GRAIN_TABLE_DTYPE = np.dtype(
    [
        ("grain", np.int64),
        ("size", np.int64),
        ("matched_class", np.int64),
        ("overlap", np.int64),
        ("tpr", np.float64),
    ]
)


def _values(labels, name: str) -> np.ndarray:
    """Values of a label map (array or signal, eager or lazy) as a numpy array."""
    data = getattr(labels, "data", labels)
    if hasattr(data, "compute"):
        data = data.compute()
    data = np.asarray(data)
    if data.size == 0:
        raise ValueError(f"`{name}` is empty.")
    return data


def _ids(codes: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Cluster ids of canonical ``codes``, every kind of noise as ``NOISE_LABEL``."""
    out = np.full(codes.shape, NOISE_LABEL, dtype=np.int64)
    cluster = codes >= 0
    out[cluster] = ids[codes[cluster]]
    return out


def _label_pair(pred, truth, mask_value) -> tuple[np.ndarray, np.ndarray]:
    """Flattened integer labels of ``pred`` and ``truth`` without masked positions;
    every negative label but ``mask_value`` is noise, ``NOISE_LABEL`` in the output
    (see :mod:`~hyperspy_manifold.learn._labels`)."""
    p = _values(pred, "pred")
    t = _values(truth, "truth")
    if p.shape != t.shape:
        raise ValueError(
            f"`pred` and `truth` must have the same shape, got {p.shape} and {t.shape}."
        )
    for name, arr in (("pred", p), ("truth", t)):
        if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise ValueError(
                    f"`{name}` must hold integer class labels, got dtype {arr.dtype} "
                    "with non-integer values."
                )
    p_codes, p_ids = canonical_labels(p.ravel(), "pred", masked=mask_value)
    t_codes, t_ids = canonical_labels(t.ravel(), "truth", masked=mask_value)
    keep = (p_codes != MASKED) & (t_codes != MASKED)
    p, t = _ids(p_codes[keep], p_ids), _ids(t_codes[keep], t_ids)
    if p.size == 0:
        raise ValueError("Every position is masked: nothing to score.")
    return p, t


def precision_any(
    pred, truth, background=NOISE_LABEL, truth_background=None, mask_value=MASK_LABEL
) -> float:
    """Precision of detecting "any grain" against "no grain" (precision_A).

    A position is predicted positive when ``pred`` assigns it to any class, and is
    truly positive when ``truth`` puts a grain there.  Precision is
    TP / (TP + FP); 0.0 when nothing is predicted positive.

    Parameters
    ----------
    pred, truth : array-like or BaseSignal
        Label maps of the same shape.  Boolean maps are used as they are (True =
        grain).
    background : int
        Label meaning "no grain" (noise, unassigned, amorphous) in ``pred``, and
        in ``truth`` unless ``truth_background`` is given.
    truth_background : int, optional
        "No grain" label of ``truth`` when it differs, e.g. the amorphous label
        of a simulated dataset (``truth.amorphous_label``).
    mask_value : int or None
        Label of positions left out of the score (in either map).

    Examples
    --------
    >>> precision_any([0, 0, 1, -1], [0, -1, 1, -1])
    0.6666666666666666
    """
    p_raw = _values(pred, "pred")
    t_raw = _values(truth, "truth")
    p_bool, t_bool = p_raw.dtype == bool, t_raw.dtype == bool
    p, t = _label_pair(p_raw, t_raw, None if (p_bool or t_bool) else mask_value)
    pos_pred = p.astype(bool) if p_bool else (p >= 0) & (p != background)
    t_background = background if truth_background is None else truth_background
    pos_true = t.astype(bool) if t_bool else (t >= 0) & (t != t_background)
    n_pred = int(pos_pred.sum())
    if n_pred == 0:
        return 0.0
    return float((pos_pred & pos_true).sum() / n_pred)


def tpr_per_grain(
    pred,
    truth,
    background=NOISE_LABEL,
    truth_background=None,
    mask_value=MASK_LABEL,
    matching="best",
) -> tuple[np.ndarray, float]:
    """True positive rate of every true grain against its best predicted class (TPR_G).

    For each true grain (label ``>= 0``, not the background) the predicted class
    with the largest overlap is its match and TPR = overlap / grain size.  With
    ``matching="best"`` (the paper's definition) one predicted class may match
    several grains; ``"one_to_one"`` assigns each predicted class to at most one
    grain (Hungarian assignment maximising the total overlap), so a single class
    covering the whole scan can not score well.

    Parameters
    ----------
    pred, truth : array-like or BaseSignal
        Integer label maps of the same shape.
    background : int
        Label meaning "no grain" / noise in ``pred`` (never a class), and in
        ``truth`` unless ``truth_background`` is given.  Negative labels are
        never grains or classes.
    truth_background : int, optional
        "No grain" label of ``truth`` when it differs (e.g. the amorphous label).
    mask_value : int or None
        Label of positions left out (in either map).
    matching : {"best", "one_to_one"}

    Returns
    -------
    table : numpy.ndarray
        Structured array with fields ``grain``, ``size``, ``matched_class``
        (``background`` when nothing overlaps), ``overlap`` and ``tpr``, one row per
        true grain.  ``np.savetxt`` or ``numpy.lib.recfunctions`` turn it into CSV.
    mean_tpr : float
        Mean of ``tpr`` over grains.

    Examples
    --------
    >>> table, mean_tpr = tpr_per_grain([5, 5, 7, 7], [0, 0, 1, 1])
    >>> table["matched_class"].tolist(), mean_tpr
    ([5, 7], 1.0)
    """
    check_choice("matching", matching, MATCHINGS)
    p, t = _label_pair(pred, truth, mask_value)
    t_background = background if truth_background is None else truth_background
    is_grain = (t >= 0) & (t != t_background)
    grains = np.unique(t[is_grain])
    if grains.size == 0:
        raise ValueError(
            "`truth` contains no grain (no label >= 0 other than background)."
        )
    # Negative predicted labels (noise, masked) are never a class.
    is_class = (p >= 0) & (p != background)
    classes = np.unique(p[is_class])
    # Contingency table grains x classes, built with one bincount.
    g_idx = np.searchsorted(grains, t)
    c_idx = np.searchsorted(classes, p) if classes.size else np.zeros_like(p)
    both = is_grain & is_class
    overlap = np.zeros((grains.size, max(classes.size, 1)), dtype=np.int64)
    if both.any():
        flat = g_idx[both] * overlap.shape[1] + c_idx[both]
        overlap = np.bincount(flat, minlength=overlap.size).reshape(overlap.shape)
    sizes = np.bincount(g_idx[is_grain], minlength=grains.size)

    matched = np.full(grains.size, background, dtype=np.int64)
    best = np.zeros(grains.size, dtype=np.int64)
    if classes.size:
        if matching == "best":
            col = overlap.argmax(axis=1)
            rows = np.arange(grains.size)
        else:
            rows, col = linear_sum_assignment(overlap, maximize=True)
        best[rows] = overlap[rows, col]
        hit = best > 0
        matched[rows] = np.where(hit[rows], classes[col], background)
    table = np.zeros(grains.size, dtype=GRAIN_TABLE_DTYPE)
    table["grain"] = grains
    table["size"] = sizes
    table["matched_class"] = matched
    table["overlap"] = best
    table["tpr"] = best / sizes
    return table, float(table["tpr"].mean())


def _noise_handled(pred, truth, noise, noise_label, mask_value):
    check_choice("noise", noise, NOISE_TREATMENTS)
    p, t = _label_pair(pred, truth, mask_value)
    # `noise_label` may be a class id of its own (e.g. an amorphous label)
    p_noise = (p == noise_label) | (p == NOISE_LABEL)
    t_noise = (t == noise_label) | (t == NOISE_LABEL)
    if noise == "ignore":
        keep = ~p_noise & ~t_noise
        p, t = p[keep], t[keep]
        if p.size == 0:
            raise ValueError("Every position is noise or masked: nothing to score.")
    else:
        p, t = np.where(p_noise, NOISE_LABEL, p), np.where(t_noise, NOISE_LABEL, t)
    return p, t


def adjusted_rand(
    pred, truth, noise="own_class", noise_label=NOISE_LABEL, mask_value=MASK_LABEL
) -> float:
    """Adjusted Rand index of two label maps.

    Parameters
    ----------
    pred, truth : array-like or BaseSignal
        Integer label maps of the same shape.
    noise : {"own_class", "ignore"}
        ``"own_class"`` scores the noise label as one more class; ``"ignore"``
        leaves out every position that is noise in either map.
    noise_label : int
        Label of noise / unassigned positions.
    mask_value : int or None
        Label of positions always left out (in either map).

    Examples
    --------
    >>> adjusted_rand([1, 1, 0, 0], [0, 0, 1, 1])
    1.0
    """
    p, t = _noise_handled(pred, truth, noise, noise_label, mask_value)
    return float(adjusted_rand_score(t, p))


def nmi(
    pred,
    truth,
    noise="own_class",
    noise_label=NOISE_LABEL,
    mask_value=MASK_LABEL,
    average_method="arithmetic",
) -> float:
    """Normalised mutual information of two label maps.

    Same label handling as :func:`adjusted_rand`; ``average_method`` is passed to
    :func:`sklearn.metrics.normalized_mutual_info_score`.

    Examples
    --------
    >>> nmi([1, 1, 0, 0], [0, 0, 1, 1])
    1.0
    """
    p, t = _noise_handled(pred, truth, noise, noise_label, mask_value)
    return float(normalized_mutual_info_score(t, p, average_method=average_method))


def _pattern_matrix(X) -> np.ndarray:
    """``(n_positions, n_values)`` matrix of patterns or features."""
    from hyperspy.signal import BaseSignal

    if isinstance(X, BaseSignal):
        nav_ndim = X.axes_manager.navigation_dimension
        data = _values(X, "X")
        n = int(np.prod(data.shape[:nav_ndim])) if nav_ndim else 1
        return data.reshape(n, -1)
    X = _values(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"`X` must be a (n_positions, n_features) array or a signal, got shape {X.shape}."
        )
    return X


def cluster_dissimilarity(X, labels=None, weights=None, scaling="minmax") -> np.ndarray:
    """Weighted spread of member patterns around each cluster's weighted pattern.

    After scaling every feature to [0, 1] over all positions, for each cluster with
    weights ``w_i`` (1 for members with ``labels``, the map values with ``weights``)
    the cluster pattern is ``m = sum_i w_i x_i / sum_i w_i`` and the dissimilarity

        D = sum_i w_i ||x_i - m||_2 / (sum_i w_i * sqrt(n_features)),

    the weighted mean distance in root-mean-square units per feature, so D lies in
    [0, 1] whatever the number of features: 0 for identical members, larger for
    clusters that mix different patterns.

    Parameters
    ----------
    X : array-like (n_positions, n_features) or BaseSignal
        Features or patterns; for a signal the navigation is flattened in C order.
    labels : array-like or BaseSignal, optional
        Integer label per position (any shape with ``n_positions`` values);
        negative labels (noise, masked) belong to no cluster.
    weights : array-like or BaseSignal, optional
        Non-negative weight maps ``(n_clusters, *navigation_shape)`` such as NMF
        loadings (``s.get_decomposition_loadings()``); NaN (masked) counts as 0.
    scaling : {"minmax", "standard", None}

    Returns
    -------
    numpy.ndarray
        One dissimilarity per cluster: in the order of ``np.unique`` of the
        non-negative labels, or of the weight maps.

    Examples
    --------
    >>> X = [[0, 0], [0, 0], [1, 1], [0, 1]]
    >>> cluster_dissimilarity(X, labels=[0, 0, 1, 1]).round(3).tolist()
    [0.0, 0.354]
    """
    if (labels is None) == (weights is None):
        raise ValueError("Give exactly one of `labels` or `weights`.")
    Xm = np.asarray(_pattern_matrix(X), dtype=np.float64)
    if not np.isfinite(Xm).all():
        raise ValueError(
            "`X` contains NaN or infinite values: they would make every "
            "dissimilarity NaN. Leave those positions out of `X` (and of `labels` "
            "or `weights`) or replace the values first."
        )
    n = Xm.shape[0]
    if labels is not None:
        lab, ids = canonical_labels(_values(labels, "labels").ravel())
        if lab.size != n:
            raise ValueError(
                f"`labels` has {lab.size} values for {n} positions of `X`."
            )
        if ids.size == 0:
            raise ValueError("`labels` contains no cluster (no label >= 0).")
        w = (lab[None, :] == np.arange(ids.size)[:, None]).astype(np.float64)
    else:
        w = np.asarray(_values(weights, "weights"), dtype=np.float64)
        w = np.nan_to_num(w.reshape(-1, n) if w.size % n == 0 else w, nan=0.0)
        if w.ndim != 2 or w.shape[1] != n:
            raise ValueError(
                f"`weights` must be maps with {n} positions each, got shape "
                f"{np.shape(_values(weights, 'weights'))}."
            )
        if (w < 0).any():
            raise ValueError("`weights` must be non-negative.")
    Xs = scale_features(Xm, scaling, dtype=np.float64)
    total = w.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    means = (w @ Xs) / safe[:, None]
    # ||x_i - m_c||^2 for all clusters and positions without an (n, k, d) array.
    sq = (
        (Xs**2).sum(axis=1)[None, :]
        - 2 * means @ Xs.T
        + (means**2).sum(axis=1)[:, None]
    )
    dist = np.sqrt(np.clip(sq, 0, None))
    D = (w * dist).sum(axis=1) / (safe * np.sqrt(Xs.shape[1]))
    return np.where(total > 0, D, np.nan)
