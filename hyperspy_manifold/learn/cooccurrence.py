"""Bragg-vector co-occurrence classification (Panova et al. 2019, Nat. Mater.).

The Bragg peaks of every pattern are found with pyxem (the peak finders of
:func:`~hyperspy_manifold.get_bragg_features`) and pooled.  Diffraction space is
partitioned into Voronoi cells about a reference set of positions: by default the
maxima of the pooled Bragg vector map (how often a peak was found at each detector
pixel, summed over the scan).  Every scan position becomes a vector over the cells
(1 where one of its peaks falls in the cell, or the peak intensity), and the
co-occurrence matrix of the cells (the share of positions where two cells both
hold a peak) is factorised by NMF into classes of cells that appear together.
Each position is then given a weight for every class (non-negative least squares
of its cell vector on the class profiles).  As in py4DSTEM's
``BraggVectorClassification``, classes that overlap strongly in the scan are
merged and classes whose weight map has disconnected regions are split into one
class per region.

Cells holding a peak at (nearly) every position, such as the direct beam, carry
no class information and would join every class; they are left out of the
factorisation (``max_cell_fraction``) but kept in the returned co-occurrence
matrix.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field

import dask.array as da
import numpy as np
from hyperspy.io import dict2signal

from hyperspy_manifold._axes import detector_shape, navigation_shape
from hyperspy_manifold._checks import (
    check_int,
    check_pattern_signal,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold._random import check_random_state, integer_seeds
from hyperspy_manifold.features.bragg import (
    _detect_peaks,
    peak_search_patterns,
    peak_settings,
)
from hyperspy_manifold.kernels.bragg import concatenate_peaks, sample_patterns
from hyperspy_manifold.learn._cluster_stats import cluster_statistics
from hyperspy_manifold.learn._labels import NOISE
from hyperspy_manifold.learn.similarity import stack_of_navigation_maps

__all__ = ["CooccurrenceResult", "bragg_cooccurrence_classification"]

#: Randomly started NMF fits of the co-occurrence matrix; the lowest error is kept.
N_STARTS = 5

#: Merge/split rounds at most (each round merges at least one pair).
MAX_ROUNDS = 20


@dataclass
class CooccurrenceResult:
    """Results of :func:`bragg_cooccurrence_classification`.

    Attributes
    ----------
    labels : BaseSignal
        Integer map with the scan axes as signal axes: the class of largest weight
        at every position, -1 where no peak falls in an informative cell.
    weights : BaseSignal
        Weight map of every class (navigation axis "Class index", the calibrated
        scan axes as signal axes).
    class_means : BaseSignal
        Mean pattern of the positions labelled with every class (NaN for a class
        that labels no position), detector axes kept.
    cell_centers : numpy.ndarray
        ``(n_cells, 2)`` Voronoi cell centres ``(ky, kx)`` in the calibrated units
        of the detector axes.
    cooccurrence : numpy.ndarray
        ``(n_cells, n_cells)`` share of scan positions where both cells hold a peak
        (with intensities: the mean product of the peak intensities).
    class_cells : numpy.ndarray
        ``(n_classes, n_cells)`` profile of every class over the cells (maximum 1;
        0 on cells left out of the factorisation).
    informative_cells : numpy.ndarray of bool
        Cells used in the factorisation (not ubiquitous, not empty).
    counts : numpy.ndarray
        Number of positions labelled with each class.
    n_classes : int
        Final number of classes.
    history : list of str
        The merges and splits made, in order.
    parameters : dict
        Every parameter used.
    """

    labels: object
    weights: object
    class_means: object
    cell_centers: np.ndarray
    cooccurrence: np.ndarray
    class_cells: np.ndarray
    informative_cells: np.ndarray
    counts: np.ndarray
    n_classes: int
    history: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"<CooccurrenceResult: {self.n_classes} classes, "
            f"{len(self.cell_centers)} cells, counts {self.counts.tolist()}>"
        )


# ---------------------------------------------------------------------------- checks


def _check_fraction(name, value, low=0.0, high=1.0, low_open=False):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value > high
        or value < low
        or (low_open and value == low)
    ):
        bracket = "(" if low_open else "["
        raise ValueError(
            f"`{name}` must be a number in {bracket}{low:g}, {high:g}], got {value!r}."
        )
    return float(value)


# ------------------------------------------------------------------------ peak tables


def _peak_chunk(peaks, patterns, threshold):
    """``(y, x, value)`` tables of a chunk: peak pixels and the pattern value there,
    keeping only peaks where the pattern reaches ``threshold`` of its maximum."""
    table, owner = concatenate_peaks(peaks, 2)
    n = peaks.size
    flat = patterns.reshape((n,) + patterns.shape[-2:])
    values = sample_patterns(flat, table, owner).astype(np.float64)
    if threshold is not None:
        keep = values >= threshold * flat.reshape(n, -1).max(axis=1)[owner]
        table, owner, values = table[keep], owner[keep], values[keep]
    rows = np.column_stack([table, values])
    # one object array of per-pattern tables: split the sorted rows by owner
    bounds = np.searchsorted(owner, np.arange(1, n))
    out = np.fromiter(np.split(rows, bounds), dtype=object, count=n)
    return out.reshape(peaks.shape)


def _find_peaks(s, method, peak_kwargs, signal_mask, show_progressbar):
    """All peaks of the scan: ``(n, 3)`` table of ``(y, x)`` pixels and pattern
    values, and the flat navigation index of the pattern of every row."""
    kwargs, threshold = peak_settings(method, peak_kwargs)
    patterns = peak_search_patterns(s, check_signal_mask(s, signal_mask))
    nav = navigation_shape(s)
    nav_ndim = patterns.ndim - 2
    peaks = _detect_peaks(patterns, method, kwargs, False)
    peaks = peaks.reshape(patterns.shape[:nav_ndim]).rechunk(patterns.chunks[:nav_ndim])
    index = "abcdefghij"[:nav_ndim]
    tables = da.blockwise(
        _peak_chunk,
        index,
        peaks,
        index,
        patterns,
        index + "yx",
        concatenate=True,
        dtype=object,
        threshold=None if threshold is None else float(threshold),
    )
    tables = compute(tables, show_progressbar)
    table, owner = concatenate_peaks(np.asarray(tables, dtype=object), 3)
    n_positions = int(np.prod(nav))
    return table, owner, n_positions, {"method": method, **kwargs}


# -------------------------------------------------------------------- Voronoi cells


def _bragg_vector_map_centres(positions, shape, min_distance, min_count):
    """Maxima of the pooled Bragg vector map, ``(n, 2)`` ``(y, x)`` pixels.

    Peaks are counted on the detector pixels and the map is smoothed with a
    Gaussian of one pixel (a spot found one pixel off, or split between two
    pixels, makes one maximum); maxima at least ``min_distance`` apart with at
    least ``min_count`` peaks within 1.5 pixels are the centres, each refined to
    the mean position of those peaks.
    """
    from scipy.ndimage import gaussian_filter
    from scipy.spatial import cKDTree
    from skimage.feature import peak_local_max

    iy = np.clip(np.rint(positions[:, 0]).astype(np.intp), 0, shape[0] - 1)
    ix = np.clip(np.rint(positions[:, 1]).astype(np.intp), 0, shape[1] - 1)
    bvm = np.zeros(shape)
    np.add.at(bvm, (iy, ix), 1.0)
    smooth = gaussian_filter(bvm, sigma=1.0, mode="constant")
    maxima = peak_local_max(
        smooth,
        min_distance=max(int(min_distance), 1),
        threshold_abs=1e-12,
        exclude_border=False,
    ).astype(float)
    if len(maxima) == 0:
        return np.zeros((0, 2))
    # peaks near every maximum: a sparse maxima x peaks matrix of 0/1
    near = cKDTree(maxima).sparse_distance_matrix(
        cKDTree(positions), 1.5, output_type="coo_matrix"
    )
    near.data[:] = 1.0
    counts = np.asarray(near.sum(axis=1)).ravel()
    sums = near @ positions
    keep = counts >= min_count
    return sums[keep] / counts[keep, None]


def _detector_axes(s):
    """``(offsets, scales)`` of the detector axes in ``(y, x)`` order."""
    ax_x, ax_y = s.axes_manager.signal_axes
    return (
        np.array([ax_y.offset, ax_x.offset], dtype=float),
        np.array([ax_y.scale, ax_x.scale], dtype=float),
    )


def _cell_matrix(table, owner, centres, n_positions, max_distance, intensity):
    """``(n_positions, n_cells)``: 1 (or the largest peak value) where a peak of the
    position falls in the Voronoi cell of a centre (within ``max_distance``)."""
    from scipy.spatial import cKDTree

    n_cells = len(centres)
    X = np.zeros((n_positions, n_cells))
    if len(table) == 0:
        return X
    bound = np.inf if max_distance is None else float(max_distance)
    _, cell = cKDTree(centres).query(table[:, :2], distance_upper_bound=bound)
    inside = cell < n_cells
    values = table[inside, 2] if intensity else np.ones(int(inside.sum()))
    np.maximum.at(X, (owner[inside], cell[inside]), values)
    return X


# ------------------------------------------------------------------------ the classes


def _nnls_maps(X, profiles):
    """Non-negative weights ``(n_positions, k)`` with ``X ≈ weights @ profiles``."""
    from sklearn.decomposition import non_negative_factorization
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, _, _ = non_negative_factorization(
            X,
            H=profiles,
            n_components=profiles.shape[0],
            update_H=False,
            solver="cd",
            max_iter=500,
            tol=1e-6,
        )
    return W


def _factorise(C, n_classes, seeds):
    """Class profiles ``(k, n_cells)`` (rows with maximum 1) of the co-occurrence
    matrix by NMF, the best of several random starts."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    best = None
    for seed in seeds:
        model = NMF(
            n_components=n_classes,
            init="random",
            random_state=seed,
            max_iter=1000,
            tol=1e-6,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            W = model.fit_transform(C)
        if best is None or model.reconstruction_err_ < best[0]:
            # C is symmetric: W and H.T describe the same cells; use both
            best = (model.reconstruction_err_, W.T * model.components_)
    profiles = np.sqrt(best[1])
    peak = profiles.max(axis=1)
    profiles = profiles[peak > 0] / peak[peak > 0, None]
    return profiles


def _merge_groups(profiles, maps, map_threshold, cell_threshold):
    """Groups of classes to merge: average linkage on the larger of the two
    similarities, each relative to its threshold: Pearson correlation of the weight
    maps / ``map_threshold`` and cosine similarity of the cell profiles /
    ``cell_threshold`` (a group forms where that reaches 1)."""
    from scipy.cluster import hierarchy

    k = profiles.shape[0]
    live = maps.std(axis=0) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(maps, rowvar=False) if k > 1 else np.ones((1, 1))
        unit = profiles / np.linalg.norm(profiles, axis=1, keepdims=True)
    corr = np.where(live[:, None] & live[None, :], corr, 0.0)
    similarity = np.maximum(corr / map_threshold, (unit @ unit.T) / cell_threshold)
    distance = np.clip(2.0 - similarity, 0.0, 2.0)
    condensed = distance[np.triu_indices(k, k=1)]
    tree = hierarchy.linkage(condensed, method="average")
    member_of = hierarchy.fcluster(tree, t=1.0 + 1e-12, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(member_of):
        groups.setdefault(int(g), []).append(i)
    return list(groups.values())


def _merge(X, profiles, maps, map_threshold, cell_threshold, history):
    """Merge groups of overlapping classes (:func:`_merge_groups`), refitting the
    maps, until none overlap; classes of zero weight everywhere are dropped."""
    for _ in range(MAX_ROUNDS):
        empty = maps.max(axis=0) <= 0
        if empty.any() and not empty.all():
            history.append(f"dropped classes {np.flatnonzero(empty).tolist()}")
            profiles, maps = profiles[~empty], maps[:, ~empty]
        if maps.shape[1] < 2:
            break
        groups = _merge_groups(profiles, maps, map_threshold, cell_threshold)
        if all(len(g) == 1 for g in groups):
            break
        new = []
        for g in groups:
            w = maps[:, g].sum(axis=0)
            w = np.where(w > 0, w, 1.0)
            p = (profiles[g] * w[:, None]).sum(axis=0) / w.sum()
            new.append(p / p.max())
            if len(g) > 1:
                history.append(f"merged classes {g}")
        profiles = np.array(new)
        maps = _nnls_maps(X, profiles)
    return profiles, maps


def _prune(X, profiles, maps, min_size, history):
    """Drop the classes that label fewer than ``min_size`` positions (largest
    weight), refitting the maps after each drop (the smallest class first)."""
    while maps.shape[1] > 1:
        won = maps.max(axis=1) > 0
        counts = np.bincount(maps.argmax(axis=1)[won], minlength=maps.shape[1])
        smallest = int(counts.argmin())
        if counts[smallest] >= min_size:
            break
        history.append(f"dropped class {smallest} ({counts[smallest]} positions)")
        profiles = np.delete(profiles, smallest, axis=0)
        maps = _nnls_maps(X, profiles)
    return profiles, maps


def _split(profiles, maps, nav, threshold, min_region_size, history):
    """One class per connected region of every weight map (above ``threshold``
    of its maximum, at least ``min_region_size`` positions); each new map is the
    old one inside its region dilated by one position."""
    from scipy import ndimage

    new_profiles, new_maps = [], []
    for i in range(maps.shape[1]):
        image = maps[:, i].reshape(nav)
        top = image.max()
        regions, n = ndimage.label(image > threshold * top) if top > 0 else (None, 0)
        if n > 1:
            sizes = np.bincount(regions.ravel(), minlength=n + 1)[1:]
            large = np.flatnonzero(sizes >= min_region_size) + 1
        else:
            large = np.arange(1, n + 1)
        if len(large) < 2:
            new_profiles.append(profiles[i])
            new_maps.append(maps[:, i])
            continue
        history.append(f"split class {i} into {len(large)} regions")
        for r in large:
            region = ndimage.binary_dilation(regions == r)
            new_profiles.append(profiles[i])
            new_maps.append(np.where(region, image, 0.0).ravel())
    return np.array(new_profiles), np.column_stack(new_maps)


# ------------------------------------------------------------------------ signals


def _label_signal(s, labels, lazy):
    nav_axes = [
        dict(ax.get_axis_dictionary(), navigate=False)
        for ax in s.axes_manager._axes
        if ax.navigate
    ]
    return dict2signal(
        {
            "data": da.from_array(labels, chunks="auto") if lazy else labels,
            "axes": nav_axes,
            "metadata": {"General": {"title": "Co-occurrence class labels"}},
        },
        lazy=lazy,
    )


def _means_signal(s, means, lazy):
    signal_axes = [
        dict(ax.get_axis_dictionary(), navigate=False)
        for ax in s.axes_manager.signal_axes[::-1]
    ]
    index_axis = {"name": "Class index", "size": means.shape[0], "navigate": True}
    out = dict2signal(
        {
            "data": da.from_array(means, chunks="auto") if lazy else means,
            "axes": [index_axis] + signal_axes,
            "metadata": {"General": {"title": "Co-occurrence class means"}},
        },
        lazy=lazy,
    )
    return out


# ---------------------------------------------------------------------------- public


@one_progress_bar("Bragg co-occurrence classification")
@fill_docstring
def bragg_cooccurrence_classification(
    s,
    method: str = "local_max",
    peak_kwargs: dict | None = None,
    signal_mask=None,
    centers=None,
    min_cell_fraction: float = 0.05,
    max_cell_fraction: float = 0.9,
    max_distance: float | None = None,
    intensity: bool = False,
    n_classes: int = 8,
    merge_threshold: float = 0.5,
    merge_cells_threshold: float = 0.7,
    split_threshold: float = 0.25,
    min_region_size: int = 4,
    random_state=None,
    show_progressbar=None,
):
    """Classes of Bragg peaks that occur together, and a class map of the scan.

    After Panova et al. (2019, Nat. Mater. 18, 860) and py4DSTEM's
    ``BraggVectorClassification``: the Bragg peaks of every pattern are found with
    pyxem and pooled; diffraction space is cut into Voronoi cells about the maxima
    of the pooled Bragg vector map (or given ``centers``); every position becomes
    a vector over the cells; NMF of the cells' co-occurrence matrix gives classes
    of cells that appear together (e.g. the spots of one grain orientation); every
    position gets a weight per class (non-negative least squares of its cell
    vector on the class profiles).  Classes whose weight maps correlate
    (``merge_threshold``) are merged and the weights refitted; then a class whose
    weight map has several connected regions becomes one class per region.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy; read twice, once for the
        peaks and once for the class means, never whole).
    method : str
        Peak finder, as in :func:`~hyperspy_manifold.get_bragg_features`:
        ``"local_max"`` (default), ``"template_matching"`` or another method of
        ``Signal2D.find_peaks``.
    peak_kwargs : dict, optional
        Parameters of the peak finder updating
        :data:`~hyperspy_manifold.features.bragg.PEAK_DEFAULTS` (e.g.
        ``min_distance``, ``threshold_rel``, ``disk_r``, ``pattern_threshold_rel``).
    signal_mask : numpy.ndarray of bool, optional
        Detector mask ``(ky, kx)``, True = excluded from the peak search.
    centers : array_like, optional
        ``(n_cells, 2)`` Voronoi cell centres ``(ky, kx)`` in the calibrated units
        of the detector axes.  Default: the maxima of the pooled Bragg vector map.
    min_cell_fraction : float
        Without ``centers``: a maximum of the Bragg vector map becomes a cell
        only when peaks were found there (within one pixel) in at least this share
        of the positions (rejects peaks of noise).
    max_cell_fraction : float
        Cells holding a peak at more than this share of the positions (the direct
        beam) are left out of the factorisation, as are cells holding one at
        fewer than ``min_cell_fraction`` of them.
    max_distance : float, optional
        Peaks farther than this (detector pixels) from every centre are ignored.
    intensity : bool
        Cell vectors hold the pattern value at the peak (the largest one in the
        cell) instead of 1.
    n_classes : int
        Components of the initial NMF (deliberately more than expected: the
        merging joins the parts of one class).
    merge_threshold : float
        Classes whose weight maps correlate at least this much (Pearson r) are
        merged (average linkage over groups, with ``merge_cells_threshold``).
    merge_cells_threshold : float
        Classes whose cell profiles overlap at least this much (cosine
        similarity) are merged too: parts of one class share most cells.
    split_threshold : float
        A class map is cut at this fraction of its maximum before looking for
        disconnected regions.
    min_region_size : int
        Regions smaller than this (positions) do not become classes of their own,
        and after merging, classes that are the largest weight at fewer positions
        are dropped (smallest first, weights refitted).
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds the random NMF starts.
    %(show_progressbar)s

    Returns
    -------
    CooccurrenceResult
        ``labels`` (class of largest weight, -1 where no peak falls in an
        informative cell), ``weights``, ``class_means``, ``cell_centers``,
        ``cooccurrence`` and the class profiles; signals are lazy for lazy input.
    """
    name = "bragg_cooccurrence_classification"
    check_pattern_signal(s, name)
    n_classes = check_int("n_classes", n_classes, 1)
    min_region_size = check_int("min_region_size", min_region_size, 1)
    merge_threshold = _check_fraction(
        "merge_threshold", merge_threshold, 0.0, low_open=True
    )
    merge_cells_threshold = _check_fraction(
        "merge_cells_threshold", merge_cells_threshold, 0.0, low_open=True
    )
    split_threshold = _check_fraction("split_threshold", split_threshold)
    min_cell_fraction = _check_fraction("min_cell_fraction", min_cell_fraction)
    max_cell_fraction = _check_fraction(
        "max_cell_fraction", max_cell_fraction, low_open=True
    )
    if max_distance is not None:
        _check_fraction("max_distance", max_distance, 0.0, np.inf, low_open=True)
    random_state = check_random_state(random_state)
    offsets, scales = _detector_axes(s)
    if centers is not None:
        centres = np.asarray(centers, dtype=float)
        if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
            raise ValueError(
                "`centers` must be an (n_cells, 2) array of (ky, kx) cell centres in "
                f"the calibrated detector units, got shape {centres.shape}."
            )
        if not np.isfinite(centres).all():
            raise ValueError("`centers` must be finite.")
        centres = (centres - offsets) / scales
    table, owner, n_positions, peak_parameters = _find_peaks(
        s, method, peak_kwargs, signal_mask, show_progressbar
    )
    if len(table) == 0:
        raise ValueError(
            "No Bragg peak was found in any pattern: lower `threshold_rel` / "
            "`threshold_abs` in `peak_kwargs`, or try another `method`."
        )
    if centers is None:
        min_count = max(2.0, min_cell_fraction * n_positions)
        centres = _bragg_vector_map_centres(
            table[:, :2],
            detector_shape(s),
            peak_parameters.get("min_distance", 3),
            min_count,
        )
        if len(centres) == 0:
            raise ValueError(
                "No spot of the pooled Bragg vector map is found in "
                f"`min_cell_fraction` = {min_cell_fraction:g} of the positions: "
                "lower it, or give `centers`."
            )
    X = _cell_matrix(table, owner, centres, n_positions, max_distance, intensity)
    cooccurrence = X.T @ X / n_positions
    occupancy = (X > 0).mean(axis=0)
    informative = (occupancy >= max(min_cell_fraction, 1e-12)) & (
        occupancy <= max_cell_fraction
    )
    if not informative.any():
        raise ValueError(
            "Every Voronoi cell holds a peak at more than `max_cell_fraction` = "
            f"{max_cell_fraction:g} of the positions (or at fewer than "
            f"`min_cell_fraction` = {min_cell_fraction:g}): raise "
            "`max_cell_fraction` to 1 to classify a scan whose patterns all show the "
            "same spots."
        )
    Xi = X[:, informative]
    k = min(n_classes, int(informative.sum()))
    seeds = integer_seeds(random_state, N_STARTS)
    profiles = _factorise(cooccurrence[np.ix_(informative, informative)], k, seeds)
    history = [f"NMF of the co-occurrence matrix: {len(profiles)} classes"]
    maps = _nnls_maps(Xi, profiles)
    profiles, maps = _merge(
        Xi, profiles, maps, merge_threshold, merge_cells_threshold, history
    )
    profiles, maps = _prune(Xi, profiles, maps, min_region_size, history)
    nav = navigation_shape(s)
    profiles, maps = _split(
        profiles, maps, nav, split_threshold, min_region_size, history
    )
    # split-off islands that label too few positions go back to the others
    won = maps.max(axis=1) > 0
    counts = np.bincount(maps.argmax(axis=1)[won], minlength=maps.shape[1])
    small = counts < min_region_size
    if small.any() and not small.all():
        history.append(f"dropped split classes {np.flatnonzero(small).tolist()}")
        profiles, maps = profiles[~small], maps[:, ~small]
    order = np.argsort(-maps.sum(axis=0), kind="stable")
    profiles, maps = profiles[order], maps[:, order]
    K = maps.shape[1]
    labels = np.where(maps.max(axis=1) > 0, maps.argmax(axis=1), NOISE)
    class_cells = np.zeros((K, len(centres)))
    class_cells[:, informative] = profiles
    stats = cluster_statistics(s, labels, K, show_progressbar)
    ky, kx = detector_shape(s)
    lazy = bool(s._lazy)
    labels_map = labels.reshape(nav)
    weights = maps.T.reshape((K,) + nav)
    return CooccurrenceResult(
        labels=_label_signal(s, labels_map, lazy),
        weights=stack_of_navigation_maps(
            s,
            da.from_array(weights, chunks="auto") if lazy else weights,
            "Co-occurrence class weights",
            lazy,
        ),
        class_means=_means_signal(s, stats.means.reshape(K, ky, kx), lazy),
        cell_centers=centres * scales + offsets,
        cooccurrence=cooccurrence,
        class_cells=class_cells,
        informative_cells=informative,
        counts=np.bincount(labels[labels >= 0], minlength=K),
        n_classes=K,
        history=history,
        parameters={
            "peak_kwargs": peak_parameters,
            "centers": None if centers is None else "given",
            "min_cell_fraction": min_cell_fraction,
            "max_cell_fraction": max_cell_fraction,
            "max_distance": max_distance,
            "intensity": bool(intensity),
            "n_classes": n_classes,
            "merge_threshold": merge_threshold,
            "merge_cells_threshold": merge_cells_threshold,
            "split_threshold": split_threshold,
            "min_region_size": min_region_size,
            "random_state": random_state
            if not isinstance(
                random_state, (np.random.Generator, np.random.RandomState)
            )
            else type(random_state).__name__,
        },
    )
