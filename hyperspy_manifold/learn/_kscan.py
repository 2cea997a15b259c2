"""The cluster-count scan of Li et al. (2019): HDBSCAN clusters against ``min_cluster_size``.

For every k of a range the number of HDBSCAN clusters is counted; Li et al. fit
``c exp(-t (k - k0)) + b`` to it and take k in the stable tail. With
``min_samples`` fixed the mutual-reachability single-linkage tree does not depend
on k, so one HDBSCAN fit gives the tree and every k only re-condenses it.

The count curve and the fitted :class:`~hyperspy_manifold.components.ClusterCountDecay`
are kept for inspection (``ManifoldResult.k_scan`` / ``k_model``), but they no
longer choose k: on the accuracy benchmark (``benchmarks/accuracy``) the count
fell in steps whose first long plateau over- or under-segmented as often as
not. k is chosen by the silhouette of the candidate partitions in feature
space, see :mod:`hyperspy_manifold.learn.selection`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

#: Number of k values of the default geometric scan.
N_SCAN = 40


def default_k_range(n: int) -> np.ndarray:
    """Geometric scan of ``min_cluster_size`` from 5 to a quarter of the patterns.

    A quarter: four equal structures are the coarsest partition the scan must
    still reach; 5 patterns: the smallest structure worth a cluster.
    """
    lo = min(5, max(2, n // 4))
    hi = max(lo, n // 4)
    return np.unique(np.geomspace(lo, hi, N_SCAN).round().astype(int))


def check_k_range(k_range, n: int) -> np.ndarray:
    """``k_range`` (None, a ``range`` or a sequence of ints) as a sorted int array."""
    if k_range is None:
        return default_k_range(n)
    try:
        ks = np.unique(np.asarray(list(k_range), dtype=float))
    except (TypeError, ValueError):
        raise ValueError(
            f"`k_range` must be None, a range or a sequence of integers, got {k_range!r}."
        ) from None
    if ks.size == 0 or not np.all(ks == np.round(ks)) or ks[0] < 2 or ks[-1] > n:
        raise ValueError(
            "`k_range` must hold integers between 2 and the number of clustered "
            f"patterns ({n}), got {k_range!r}."
        )
    return ks.astype(int)


def count_clusters(single_linkage_tree: np.ndarray, k_values) -> np.ndarray:
    """Number of HDBSCAN (excess of mass) clusters for every ``min_cluster_size`` k."""
    from hdbscan._hdbscan_tree import compute_stability, condense_tree, get_clusters

    counts = []
    for k in k_values:
        condensed = condense_tree(single_linkage_tree, int(k))
        labels = get_clusters(condensed, compute_stability(condensed))[0]
        counts.append(int(labels.max()) + 1 if labels.size else 0)
    return np.asarray(counts, dtype=int)


def k_scan_signal(k_values: np.ndarray, counts: np.ndarray):
    """The count-versus-k curve as a HyperSpy ``Signal1D``."""
    from hyperspy.signals import Signal1D

    steps = np.diff(k_values)
    if k_values.size > 1 and np.all(steps == steps[0]):
        axis = {"offset": float(k_values[0]), "scale": float(steps[0])}
    elif k_values.size == 1:
        axis = {"offset": float(k_values[0]), "scale": 1.0}
    else:
        axis = {"axis": k_values.astype(float)}
    axis.update(name="min_cluster_size", units="patterns", size=k_values.size)
    ks = Signal1D(counts.astype(float), axes=[axis])
    ks.metadata.General.title = "Number of HDBSCAN clusters"
    return ks


def fit_count_decay(ks):
    """Fit ``ClusterCountDecay`` to the k-scan; returns ``(model, ok)``."""
    from hyperspy_manifold.components.cluster_count_decay import ClusterCountDecay

    model = ks.create_model()
    decay = ClusterCountDecay()
    model.append(decay)
    y = ks.data
    if y.size < 4 or np.ptp(y) == 0:
        decay.estimate_parameters(ks)
        return model, False
    hs_logger = logging.getLogger("hyperspy")
    level = hs_logger.level
    hs_logger.setLevel(logging.ERROR)
    try:
        decay.estimate_parameters(ks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(optimizer="trf", bounded=True)
    except Exception:  # noqa: BLE001 - any optimiser failure means "use the fallback"
        return model, False
    finally:
        hs_logger.setLevel(level)
    values = (decay.c.value, decay.t.value, decay.b.value)
    ok = all(np.isfinite(values)) and decay.c.value > 0 and decay.t.value > 0
    return model, bool(ok)
