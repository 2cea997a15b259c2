"""Automatic HDBSCAN ``min_cluster_size`` from the cluster-count scan (Li et al. 2019).

For every k of a range the number of HDBSCAN clusters is counted; the count
falls roughly as ``c exp(-t (k - k0)) + b`` and k is taken in the stable tail.
With ``min_samples`` fixed, the mutual-reachability single-linkage tree does not
depend on k, so one HDBSCAN fit gives the tree and every k only re-condenses it
(``condense_tree`` -> ``compute_stability`` -> ``get_clusters`` of hdbscan), not
a new fit.

Rule for the chosen k (``rule`` in the returned dict), Li's "first k after
which the count stops changing":

``"plateau"``
    the first k of the first run of constant, non-zero count that spans at least
    a quarter of the scanned k values (and at least 3).
``"fit"`` (fallback)
    when no run is that long: :class:`~hyperspy_manifold.components.ClusterCountDecay`
    fitted with a HyperSpy ``Model1D``, k = the first scanned k >= ``k0 + 3 / t``
    (the excess count has decayed to e^-3 = 5 %), when the fit converged with
    c > 0, t > 0 and that k lies inside the scan.
``"longest"`` (last fallback)
    the first k of the longest run of constant, non-zero count.

Why the plateau comes first: on the simulated films and zone-axis series of
:mod:`hyperspy_manifold.data` the count falls in steps rather than as one
exponential (small clumps first, then real domains once k reaches their size);
the first long step was the true number of domains for cepstrum features in every
case tried, while ``k0 + 3 / t`` often fell past the scan or among merged domains.
The fitted model is still returned for inspection.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np

#: Li et al. scan k = 20..149 for a 64 x 64 scan with 50 UMAP neighbours.
LI_RANGE = (20, 149)
LI_PATTERNS = 64 * 64
#: Most k values scanned (a step is used above this).
MAX_SCAN = 130
#: Decay constants after k0 at which the fitted tail counts as stable.
STABLE_DECAYS = 3.0
#: A plateau must span this share of the scanned k values (and MIN_PLATEAU values).
PLATEAU_FRACTION = 0.25
MIN_PLATEAU = 3


def default_k_range(n: int, n_neighbors: int = 50) -> np.ndarray:
    """Li's 20..149 scaled by ``max(n_neighbors / 50, n / 4096)``.

    Li et al. scanned 20..149 for 4096 patterns embedded with 50 UMAP neighbours.
    UMAP with ``min_dist=0`` breaks noise into clumps of about ``n_neighbors``
    points, so the scan must reach a few neighbourhoods (3 x n_neighbors) to get
    past them; on big scans real domains grow with n, so the range does too.
    From at least 5, at least 10 values wide, at most ``n // 2``, and at most
    ``MAX_SCAN`` values (a step is used above that).
    """
    scale = max(n_neighbors / 50, n / LI_PATTERNS)
    lo = max(5, round(LI_RANGE[0] * scale))
    hi = max(lo + 10, round(LI_RANGE[1] * scale))
    hi = max(min(hi, n // 2), 2)
    lo = min(lo, hi)
    step = max(1, math.ceil((hi - lo + 1) / MAX_SCAN))
    return np.arange(lo, hi + 1, step)


def check_k_range(k_range, n: int, n_neighbors: int = 50) -> np.ndarray:
    """``k_range`` (None, a ``range`` or a sequence of ints) as a sorted int array."""
    if k_range is None:
        return default_k_range(n, n_neighbors)
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


def constant_runs(counts: np.ndarray) -> list[tuple[int, int]]:
    """``(start index, length)`` of every run of constant, non-zero count."""
    runs = []
    start = 0
    for i in range(1, counts.size + 1):
        if i == counts.size or counts[i] != counts[start]:
            if counts[start] > 0:
                runs.append((start, i - start))
            start = i
    return runs


def plateau_k(k_values: np.ndarray, counts: np.ndarray, min_fraction=0.0) -> int | None:
    """First k of the first constant run covering ``min_fraction`` of the scan.

    With ``min_fraction=0`` the first k of the longest run (ties: the earlier).
    None when no run is long enough; ``k_values[0]`` when every count is zero.
    """
    runs = constant_runs(np.asarray(counts))
    if not runs:
        return int(k_values[0])
    if min_fraction <= 0:
        start = max(runs, key=lambda r: r[1])[0]
        return int(k_values[start])
    need = max(MIN_PLATEAU, min_fraction * len(counts))
    for start, length in runs:
        if length >= need:
            return int(k_values[start])
    return None


def choose_min_cluster_size(single_linkage_tree, k_values: np.ndarray) -> dict:
    """Scan k, fit the decay and choose k; returns a dict with every piece."""
    counts = count_clusters(single_linkage_tree, k_values)
    ks = k_scan_signal(k_values, counts)
    model, ok = fit_count_decay(ks)
    k, rule = plateau_k(k_values, counts, PLATEAU_FRACTION), "plateau"
    if k is None and ok:
        after = np.flatnonzero(k_values >= model[0].stable_k(STABLE_DECAYS))
        if after.size and counts[after[0]] > 0:
            k, rule = int(k_values[after[0]]), "fit"
    if k is None:
        k, rule = plateau_k(k_values, counts), "longest"
    return {
        "min_cluster_size": k,
        "rule": rule,
        "k_values": k_values,
        "counts": counts,
        "k_scan": ks,
        "k_model": model,
        "fit_ok": ok,
    }
