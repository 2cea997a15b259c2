"""A :class:`ManifoldResult` for any label map: the signals it holds.

:func:`cluster_result` turns labels (from the manifold clustering, NMF maps,
HyperSpy's ``cluster_analysis``, a hand-drawn mask ...) into the result every
figure, report and explorer reads, with the cluster mean/std patterns from one
lazy pass; the helpers build its signals with the calibrated axes of the scan.
"""

from __future__ import annotations

import numpy as np

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.learn._cluster_stats import cluster_statistics
from hyperspy_manifold.learn._labels import canonical_labels
from hyperspy_manifold.learn._result import ManifoldResult
from hyperspy_manifold.learn.similarity import rows_from_label_map


def pattern_stack_signal(s, data, title):
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


def embedding_signal(s, emb: np.ndarray):
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


def navigation_map(s, data, title):
    out = s._get_navigation_signal(data=np.asarray(data).reshape(navigation_shape(s)))
    out.metadata.General.title = title
    return out


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
        labels=navigation_map(s, labels, "Manifold cluster labels"),
        embedding=embedding_signal(s, embedding.reshape(labels.size, -1)),
        probabilities=navigation_map(
            s, probabilities, "Cluster membership probability"
        ),
        cluster_means=pattern_stack_signal(s, stats.means, "Cluster mean patterns"),
        cluster_stds=pattern_stack_signal(
            s, stats.stds, "Cluster standard deviation patterns"
        ),
        mean_minus_global=pattern_stack_signal(
            s,
            stats.means - stats.global_mean[None, :],
            "Cluster mean minus global mean",
        ),
        global_mean=pattern_stack_signal(
            s, stats.global_mean[None, :], "Global mean pattern"
        ).inav[0],
        counts=stats.counts,
        n_clusters=n_rows - (noise_row is not None),
        noise_index=noise_row,
        parameters=parameters,
        **extra,
    )
