"""Similarity loadings: how close every pattern is to each cluster mean (Li et al. 2019).

For every cluster mean pattern mu_i and every pattern x_j,
``S_ij = 1 / (eps + ||x_j - mu_i||_2)``, one navigation-shaped map per cluster
(Li et al., npj Comput Mater 5, 5 (2019), Fig. 4).  Distances come from
``||x||^2 - 2 x.mu + ||mu||^2`` chunk by chunk, so a lazy dataset is read once
(twice when the means still have to be computed).
"""

from __future__ import annotations

import numpy as np
from hyperspy.io import dict2signal

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import check_pattern_signal, check_signal_mask
from hyperspy_manifold._chunks import compute, map_patterns
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import resolve_lazy_output
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.learn._cluster_stats import cluster_statistics, similarity_kernel
from hyperspy_manifold.learn._labels import MASKED, NOISE, canonical_labels

__all__ = ["MASKED", "NOISE", "get_similarity_loadings", "rows_from_label_map"]


def rows_from_label_map(labels: np.ndarray) -> tuple[np.ndarray, int, int | None]:
    """Cluster row of every position from an integer label map.

    Labels follow :mod:`~hyperspy_manifold.learn._labels`: the clusters (ids
    >= 0 in increasing order) are rows 0..K-1, noise (any negative label but
    -2), when present, is the row after the last cluster, masked positions (-2)
    get row -1 (excluded).  Returns ``(row_index, n_rows, noise_row)``.
    """
    codes, ids = canonical_labels(labels)
    rows = np.where(codes >= 0, codes, -1)
    noise_row = None
    if (codes == NOISE).any():
        noise_row = ids.size
        rows[codes == NOISE] = noise_row
    n_rows = ids.size + (noise_row is not None)
    if n_rows == 0:
        raise ValueError("`labels` holds no cluster (every position is excluded).")
    return rows, n_rows, noise_row


def _resolve_labels(s, labels):
    """``(row_index, n_rows, means or None, cluster ids or None)`` from any
    accepted ``labels``."""
    from hyperspy.signal import BaseSignal

    if labels is None:
        lr = s.learning_results
        one_hot = getattr(lr, "cluster_labels", None)
        if one_hot is None:
            raise RuntimeError(
                "No cluster labels found: run `manifold_decomposition` (or HyperSpy's "
                "`cluster_analysis`) first, or pass `labels`."
            )
        one_hot = np.asarray(one_hot, dtype=bool)
        rows = np.where(one_hot.any(axis=0), one_hot.argmax(axis=0), -1)
        n_rows = one_hot.shape[0]
        means = None
        sums = getattr(lr, "cluster_sum_signals", None)
        n_pixels = int(np.prod(s.data.shape[-2:]))
        if sums is not None and np.shape(sums) == (n_rows, n_pixels):
            with np.errstate(invalid="ignore", divide="ignore"):
                means = (
                    np.asarray(sums, dtype=np.float64) / one_hot.sum(axis=1)[:, None]
                )
        return rows, n_rows, means, None
    if hasattr(labels, "labels") and isinstance(labels.labels, BaseSignal):
        result, labels = labels, labels.labels
        rows, n_rows, ids = _rows_of(labels.data, s)
        means = getattr(result, "cluster_means", None)
        n_pixels = int(np.prod(s.data.shape[-2:]))
        if means is not None and np.shape(means.data) == (
            n_rows,
            *s.data.shape[-2:],
        ):
            # a ManifoldResult holds its cluster means: the data are not read again
            means = np.asarray(means.data, dtype=np.float64).reshape(n_rows, n_pixels)
            return rows, n_rows, means, ids
        return rows, n_rows, None, ids
    if isinstance(labels, BaseSignal):
        labels = labels.data
    rows, n_rows, ids = _rows_of(labels, s)
    return rows, n_rows, None, ids


def _rows_of(labels, s):
    """``(row_index, n_rows, cluster ids)`` of a navigation-shaped label map."""
    n_nav = int(np.prod(navigation_shape(s)))
    labels = np.asarray(labels)
    if labels.size != n_nav or labels.shape not in (navigation_shape(s), (n_nav,)):
        raise ValueError(
            f"`labels` must have the navigation shape {navigation_shape(s)}, "
            f"got {labels.shape}."
        )
    rows, n_rows, _ = rows_from_label_map(labels.reshape(-1))
    return rows, n_rows, canonical_labels(labels)[1]


def similarity_maps(s, means: np.ndarray, eps=None, signal_mask=None):
    """Lazy ``(*navigation, n_rows)`` similarity of every pattern to each mean,
    the distance taken over the pixels ``signal_mask`` does not exclude."""
    means = np.nan_to_num(np.asarray(means, dtype=np.float64))
    keep = None if signal_mask is None else ~np.asarray(signal_mask).ravel()
    if keep is not None:
        means = np.where(keep, means, 0.0)
    norms = np.sqrt((means**2).sum(axis=1))
    if eps is None:
        eps = 1e-6 * float(norms.max()) if norms.max() > 0 else 1e-12
    if not eps > 0:
        raise ValueError(f"`eps` must be a number > 0, got {eps!r}.")
    level = means.mean(axis=0)
    centred = means - level
    return map_patterns(
        s,
        similarity_kernel,
        (means.shape[0],),
        np.float64,
        dict(
            means=centred,
            means_sq=(centred**2).sum(axis=1),
            eps=float(eps),
            level=level,
            keep=keep,
        ),
    )


def stack_of_navigation_maps(s, data, title: str, lazy: bool):
    """Signal with a leading "Cluster index" navigation axis and the scan as signal."""
    nav_axes = [
        dict(ax.get_axis_dictionary(), navigate=False)
        for ax in s.axes_manager._axes
        if ax.navigate
    ]
    index_axis = {"name": "Cluster index", "size": data.shape[0], "navigate": True}
    out = dict2signal(
        {
            "data": data,
            "axes": [index_axis] + nav_axes,
            "metadata": {"General": {"title": title}},
        },
        lazy=lazy,
    )
    return out


@one_progress_bar("Similarity loadings")
@fill_docstring
def get_similarity_loadings(
    s,
    labels=None,
    eps: float | None = None,
    signal_mask=None,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Similarity of every pattern to each cluster mean, ``1 / (eps + ||x - mu||)``.

    Parameters
    ----------
    s : BaseSignal
        The patterns (two signal axes, eager or lazy).  Not modified.
    labels : None, ManifoldResult, BaseSignal or numpy.ndarray
        None takes the clusters from ``s.learning_results`` (after
        :func:`manifold_decomposition` or HyperSpy's ``cluster_analysis``); the
        cluster sums stored there are reused, so the data are read once.  Otherwise
        a navigation-shaped integer label map, or a ``ManifoldResult`` (its
        cluster means are reused, so the data are read once: give it with the
        signal it was computed on). Labels >= 0 are cluster ids (any integers: the maps follow the ids in increasing
        order, listed in ``metadata.HyperspyManifold.similarity_loadings``),
        noise (any negative label but -2) becomes its own last cluster, masked
        positions (-2) are left out of the means.
    eps : float, optional
        Added to the distance; default ``1e-6`` times the largest mean-pattern norm.
    signal_mask : array or BaseSignal of bool, optional
        Detector-shaped, True = pixel left out of the distance (a beam stop, the
        saturated direct beam, dead pixels).
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    BaseSignal
        A stack of navigation-shaped maps (``Signal2D`` for a 2D scan): the
        navigation axis is the cluster index, the signal axes are the scan axes
        with their calibration.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> data = np.zeros((4, 6, 8, 8))
    >>> data[:, 3:] = 1
    >>> s = hs.signals.Signal2D(data)
    >>> labels = (np.arange(6)[None, :] >= 3).astype(int).repeat(4, axis=0)
    >>> sim = hm.get_similarity_loadings(s, labels, show_progressbar=False)
    >>> sim
    <Signal2D, title: Similarity loadings, dimensions: (2|6, 4)>
    """
    check_pattern_signal(s, "get_similarity_loadings")
    mask = check_signal_mask(s, signal_mask)
    rows, n_rows, means, ids = _resolve_labels(s, labels)
    if means is None:
        means = cluster_statistics(s, rows, n_rows, show_progressbar).means
    sim = similarity_maps(s, means, eps, mask)
    sim = sim.transpose((sim.ndim - 1,) + tuple(range(sim.ndim - 1)))
    lazy = resolve_lazy_output(s, lazy_output)
    if not lazy:
        sim = compute(sim, show_progressbar)
    out = stack_of_navigation_maps(s, sim, "Similarity loadings", lazy)
    if ids is not None:
        out.metadata.set_item(
            "HyperspyManifold.similarity_loadings.cluster_ids", ids.tolist()
        )
    return out
