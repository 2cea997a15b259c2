"""Signal-level Bragg-disk features (Bruefach, Ophus & Scott 2022).

Disks are found with HyperSpy/pyxem peak finding on the (lazy) patterns, or taken
from given pyxem ``DiffractionVectors`` / ragged peak lists, then rasterised on a
grid of ``bin_size`` x ``bin_size`` detector pixels anchored on the calibrated
beam centre (see :mod:`hyperspy_manifold.kernels.bragg` for the bilinear spread
and the handling of peaks off the detector).  Peak finding and rasterisation are
one dask graph over navigation chunks, so every chunk of patterns is read once.
"""

from __future__ import annotations

import numbers

import dask.array as da
import numpy as np

from hyperspy_manifold._axes import (
    detector_calibration,
    detector_shape,
    navigation_shape,
    resolve_center,
)
from hyperspy_manifold._checks import (
    check_choice,
    check_pattern_signal,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import METADATA_NODE, make_signal, resolve_lazy_output
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.kernels.bragg import BraggGrid, bragg_features, bragg_grid

#: Peak finders of ``Signal2D.find_peaks`` plus pyxem's disk template matching.
PEAK_METHODS = (
    "local_max",
    "template_matching",
    "max",
    "minmax",
    "zaefferer",
    "stat",
    "laplacian_of_gaussian",
    "difference_of_gaussian",
)

#: Defaults tuned for Bragg disks; ``peak_kwargs`` updates them.  ``local_max`` is
#: :func:`skimage.feature.peak_local_max` on the pattern (threshold relative to the
#: brightest pixel, usually the direct beam); ``template_matching`` correlates
#: every pattern with a disk of radius ``disk_r`` (pyxem's ``template_match_disk``,
#: normalised cross-correlation in [-1, 1]) and keeps local maxima of the
#: correlation above ``threshold_abs``, which does not depend on disk brightness;
#: as the normalised correlation also finds disk-like noise in dark regions, a
#: peak is kept only where the pattern reaches ``pattern_threshold_rel`` of its
#: brightest pixel (any method accepts this key).
PEAK_DEFAULTS = {
    "local_max": {"min_distance": 3, "threshold_rel": 0.05, "exclude_border": False},
    "template_matching": {
        "disk_r": 4,
        "min_distance": 3,
        "threshold_abs": 0.5,
        "exclude_border": False,
        "pattern_threshold_rel": 0.05,
    },
}


#: Columns, offsets and scales of a peak table of ``(y, x)`` detector pixels.
PIXEL_TABLE = ((0, 1), (0.0, 0.0), (1.0, 1.0))


def _check_bin_size(bin_size) -> float:
    if (
        isinstance(bin_size, bool)
        or not isinstance(bin_size, numbers.Real)
        or not np.isfinite(bin_size)
        or bin_size < 1
    ):
        raise ValueError(
            f"`bin_size` must be a number of detector pixels >= 1, got {bin_size!r}."
        )
    return float(bin_size)


def _as_dask(array, chunks) -> da.Array:
    """A navigation-shaped object array as dask, chunked like the patterns."""
    if isinstance(array, da.Array):
        return array.rechunk(chunks)
    return da.from_array(array, chunks=chunks, name=False, asarray=False)


def _detect_peaks(
    patterns: da.Array, method: str, peak_kwargs: dict, get_intensity: bool
) -> da.Array:
    """Lazy ragged array of ``(y, x)`` peak pixels of every pattern of the stack
    (plus the pattern value at each peak with ``get_intensity``)."""
    from pyxem.signals import LazyDiffraction2D

    work = LazyDiffraction2D(patterns)
    kwargs = dict(peak_kwargs)
    if method == "template_matching":
        disk_r = kwargs.pop("disk_r")
        # subtract_min=False keeps the correlation on its absolute [-1, 1] scale
        work = work.template_match_disk(
            disk_r=disk_r, subtract_min=False, lazy_output=True, show_progressbar=False
        )
        method = "local_max"
    peaks = work.find_peaks(
        method=method,
        interactive=False,
        show_progressbar=False,
        get_intensity=get_intensity,
        **kwargs,
    )
    return peaks.data


def _vector_source(s, vectors):
    """Peak tables of ``vectors`` and how to read ``(y, x)`` pixels from them.

    Returns ``(array, columns, offsets, scales, intensity_column, kind)`` with
    ``offsets``/``scales`` in ``(y, x)`` order: pixel = (value - offset) / scale.
    """
    from hyperspy.signal import BaseSignal

    try:
        from pyxem.signals import DiffractionVectors
    except ImportError:  # pragma: no cover - pyxem is a dependency
        DiffractionVectors = ()

    nav = navigation_shape(s)
    if isinstance(vectors, DiffractionVectors):
        kind = "DiffractionVectors"
        array = vectors.data
        names = [str(n) for n in (vectors.column_names or [])]
        ax_x, ax_y = s.axes_manager.signal_axes
        if str(ax_y.name) in names and str(ax_x.name) in names:
            columns = (names.index(str(ax_y.name)), names.index(str(ax_x.name)))
        else:
            columns = (0, 1)  # pyxem's get_diffraction_vectors stores (ky, kx)
        offsets = vectors.offsets
        scales = vectors.scales
        if offsets is None or scales is None:
            offsets = [0.0] * (max(columns) + 1)
            offsets[columns[0]], offsets[columns[1]] = ax_y.offset, ax_x.offset
            scales = [1.0] * (max(columns) + 1)
            scales[columns[0]], scales[columns[1]] = ax_y.scale, ax_x.scale
        offsets = tuple(float(offsets[c]) for c in columns)
        scales = tuple(float(scales[c]) for c in columns)
        intensity_column = names.index("intensity") if "intensity" in names else None
    elif isinstance(vectors, BaseSignal):
        if not getattr(vectors, "ragged", False):
            raise TypeError(
                "`vectors` must be pyxem DiffractionVectors, a ragged signal of peak "
                "positions (from `s.find_peaks`) or a navigation-shaped object array; "
                f"got a non-ragged {type(vectors).__name__}."
            )
        kind = "ragged signal (y, x pixels)"
        array = vectors.data
        (columns, offsets, scales), intensity_column = PIXEL_TABLE, None
    else:
        array = vectors if isinstance(vectors, da.Array) else np.asarray(vectors)
        if array.dtype != object:
            raise TypeError(
                "`vectors` given as an array must be a navigation-shaped object array "
                "whose elements are (n, 2) arrays of (y, x) peak pixels; got dtype "
                f"{array.dtype} and shape {array.shape}."
            )
        kind = "object array (y, x pixels)"
        (columns, offsets, scales), intensity_column = PIXEL_TABLE, None
    if nav == () and tuple(array.shape) == (1,):
        array = array.reshape(())  # HyperSpy's peaks of a single pattern
    if tuple(array.shape) != nav:
        raise ValueError(
            f"`vectors` must have the navigation shape of the signal {nav} (array "
            f"order), got {tuple(array.shape)}."
        )
    return array, columns, offsets, scales, intensity_column, kind


def peak_settings(method: str, peak_kwargs) -> tuple[dict, float | None]:
    """``(keywords of the peak finder, pattern_threshold_rel or None)`` of
    ``method`` with its defaults updated by ``peak_kwargs`` (checked)."""
    check_choice("method", method, PEAK_METHODS)
    if peak_kwargs is not None and not isinstance(peak_kwargs, dict):
        raise TypeError(f"`peak_kwargs` must be a dict, got {peak_kwargs!r}.")
    kwargs = {**PEAK_DEFAULTS.get(method, {}), **(peak_kwargs or {})}
    threshold = kwargs.pop("pattern_threshold_rel", None)
    return kwargs, threshold


def peak_search_patterns(s, mask=None) -> da.Array:
    """The patterns of ``s`` as the peak search reads them (lazy).

    Relative thresholds and intensities assume a zero floor: a pattern with
    negative pixels (background-subtracted data) is shifted up to it, else an
    all-negative pattern has no peak above ``threshold_rel * max``.  Pixels of
    the detector ``mask`` (checked, True = excluded) are 0: no peak there.
    """
    patterns = pattern_stack(s)
    if patterns.dtype.kind != "u":
        floor = da.minimum(patterns.min(axis=(-2, -1), keepdims=True), 0)
        patterns = patterns - floor.astype(np.result_type(floor.dtype, np.float32))
    if mask is not None:
        patterns = da.where(mask, patterns.dtype.type(0), patterns)
    return patterns


@one_progress_bar("Bragg features")
@fill_docstring
def get_bragg_features(
    s,
    bin_size: float = 3,
    vectors=None,
    intensity: bool = False,
    center=None,
    method: str = "local_max",
    peak_kwargs: dict | None = None,
    signal_mask=None,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Bragg disks of every pattern rasterised on a coarse grid of the detector.

    Each peak adds 1 (or its intensity) to the bins of a grid of ``bin_size`` x
    ``bin_size`` detector pixels, spread bilinearly over the four bins around it
    so that sub-bin motion changes the features smoothly (Bruefach et al. 2022).
    The grid is anchored on the calibrated beam centre: one bin is centred on it.
    Peaks off the detector are dropped and counted (never folded into another
    row); the total is ``metadata.HyperspyManifold.bragg_features.dropped_peaks``.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy).
    bin_size : float
        Bin width in detector pixels, >= 1 (paper: 3).
    vectors : pyxem.signals.DiffractionVectors or hyperspy.signal.BaseSignal or numpy.ndarray, optional
        Peaks to use instead of detecting them: pyxem ``DiffractionVectors``
        (calibrated; their ``offsets``/``scales`` convert them to pixels, columns
        matched by the signal-axis names, else ``(ky, kx)`` as made by
        ``get_diffraction_vectors``), the ragged result of ``s.find_peaks`` or a
        navigation-shaped object array of ``(n, 2)`` arrays of ``(y, x)`` detector
        pixels (HyperSpy's ``find_peaks`` order).  Refine positions beforehand
        (e.g. pyxem's ``subpixel_refine``) for sub-pixel features.
    intensity : bool
        Weight each peak by its intensity: the ``intensity`` column of
        ``DiffractionVectors`` when present, else the pattern value at the
        nearest pixel.  A pattern with negative pixels is first shifted so that
        its minimum is 0 (for peak finding and intensities alike).
    %(center)s
    method : str
        Peak finder when ``vectors`` is None: ``"local_max"`` (default),
        ``"template_matching"`` (pyxem's disk template matching, then local
        maxima of the correlation) or another method of ``Signal2D.find_peaks``.
    peak_kwargs : dict, optional
        Parameters of the peak finder, updating :data:`PEAK_DEFAULTS` (e.g.
        ``min_distance``, ``threshold_rel``, ``threshold_abs``, ``disk_r``).
    signal_mask : numpy.ndarray of bool, optional
        Detector mask ``(ky, kx)``, True = excluded: no peak is searched there
        (the pixels are set to the pattern floor first, so a masked direct beam
        or beam stop neither makes peaks nor sets ``threshold_rel``). Only with
        detected peaks; leave unwanted peaks out of ``vectors`` yourself.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    ManifoldDiffraction1D
        One feature per bin (row-major grid); view one pattern's features as an
        image with :func:`bragg_features_to_image`.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> data = np.zeros((2, 2, 32, 32)); data[..., 10, 20] = 1
    >>> s = hs.signals.Signal2D(data)
    >>> s.set_signal_type("manifold")
    >>> s.calibration.center = None  # pyxem: the beam is on the detector centre
    >>> f = hm.get_bragg_features(s, bin_size=4, show_progressbar=False)
    >>> f
    <ManifoldDiffraction1D, title: Bragg features, dimensions: (2, 2|81)>
    >>> float(f.data[0, 0].sum()), f.metadata.HyperspyManifold.bragg_features.dropped_peaks
    (1.0, 0)
    """
    check_pattern_signal(s, "get_bragg_features", require_navigation=False)
    bin_size = _check_bin_size(bin_size)
    # -offset / scale carries float round-off; a micro-pixel is far below any
    # beam-centre precision, and rounding keeps bin-centred peaks in one bin
    cy, cx = (round(v, 6) for v in resolve_center(s, center))
    grid = bragg_grid(detector_shape(s), (cy, cx), bin_size)
    mask = check_signal_mask(s, signal_mask)
    if mask is not None and vectors is not None:
        raise ValueError(
            "`signal_mask` masks the peak search, but `vectors` were given: "
            "leave the unwanted peaks out of `vectors` instead."
        )
    patterns = peak_search_patterns(s, mask)
    nav_ndim = patterns.ndim - 2
    nav_chunks = patterns.chunks[:nav_ndim]
    if vectors is None:
        finder_kwargs, threshold = peak_settings(method, peak_kwargs)
        kwargs = dict(finder_kwargs)  # recorded in the metadata
        if threshold is not None:
            kwargs["pattern_threshold_rel"] = threshold
        # peaks found on the pattern itself come with its value at no cost; the
        # template-matching peaks carry the correlation, so the kernel reads the
        # pattern instead
        on_pattern = method != "template_matching"
        peaks = _detect_peaks(patterns, method, finder_kwargs, intensity and on_pattern)
        peaks = peaks.reshape(navigation_shape(s)).rechunk(nav_chunks)
        columns, offsets, scales = PIXEL_TABLE
        intensity_column = 2 if intensity and on_pattern else None
        source = f"find_peaks ({method})"
    else:
        array, columns, offsets, scales, intensity_column, source = _vector_source(
            s, vectors
        )
        peaks = _as_dask(array, nav_chunks)
        kwargs = {}
        threshold = None
    kernel_kwargs = dict(
        grid=grid,
        columns=columns,
        offsets=offsets,
        scales=scales,
        intensity_column=intensity_column,
        pattern_threshold_rel=None if threshold is None else float(threshold),
    )
    # detected peaks also take the patterns, so the kernel can refuse NaN/inf
    # pixels, which make the peak finder skip a pattern without a word
    needs_patterns = (
        vectors is None
        or (intensity and intensity_column is None)
        or threshold is not None
    )
    graph = _feature_graph(
        peaks, patterns if needs_patterns else None, kernel_kwargs, intensity
    )
    features, dropped = graph[..., :-1], graph[..., -1]
    lazy = resolve_lazy_output(s, lazy_output)
    if not lazy:
        features, n_dropped = compute((features, dropped.sum()), show_progressbar)
    elif vectors is None:
        n_dropped = 0  # detected peaks are detector pixels: none can fall off
    else:
        # a pass over the vectors only (no patterns, no weights)
        counts = _feature_graph(peaks, None, kernel_kwargs, False)[..., -1]
        n_dropped = compute(counts.sum(), show_progressbar)
    scale_y, scale_x, units = detector_calibration(s)
    parameters = {
        "_node": "bragg_features",
        "bin_size": bin_size,
        "intensity": bool(intensity),
        "center": [float(cx), float(cy)],
        "source": source,
        "peak_kwargs": {k: v for k, v in kwargs.items() if np.isscalar(v)},
        "grid_shape": list(grid.shape),
        "grid_first": list(grid.first),
        "bin_scale": [bin_size * scale_y, bin_size * scale_x],
        "units": units,
        "dropped_peaks": int(n_dropped),
    }
    axes = [
        {
            "name": "bin",
            "size": grid.size,
            "scale": 1.0,
            "offset": 0.0,
            "units": "",
            "navigate": False,
        }
    ]
    return make_signal(
        s,
        features,
        axes,
        "manifold_diffraction",
        "Bragg features",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )


def _feature_graph(peaks, patterns, kernel_kwargs, intensity) -> da.Array:
    """Dask graph of :func:`bragg_features` over navigation chunks: peaks and
    (optionally) the patterns they come from, aligned chunk by chunk."""
    nav = "abcdefghij"[: peaks.ndim]
    args = [peaks, nav]
    if patterns is not None:
        args += [patterns, nav + "yx"]
    n_out = kernel_kwargs["grid"].size + 1
    return da.blockwise(
        bragg_features,
        nav + "f",
        *args,
        new_axes={"f": n_out},
        concatenate=True,
        dtype=np.float32,
        intensity=intensity,
        **kernel_kwargs,
    )


def bragg_features_to_image(features, grid: dict | None = None):
    """View Bragg features as coarse diffraction patterns on their bin grid.

    Parameters
    ----------
    features : hyperspy.signal.BaseSignal
        From :func:`get_bragg_features`, or any signal whose last axis holds the
        bins of such a grid (NMF components, cluster means), eager or lazy.
    grid : dict, optional
        ``grid_shape``, ``grid_first``, ``bin_scale`` and ``units`` as stored in
        ``metadata.HyperspyManifold.bragg_features``; read from the metadata of
        ``features`` when None.

    Returns
    -------
    ManifoldDiffraction2D
        Same navigation axes; signal axes ``ky``, ``kx`` in the detector's
        calibrated units with zero at the beam centre.
    """
    if grid is None:
        node = f"{METADATA_NODE}.bragg_features"
        if not features.metadata.has_item(node):
            raise ValueError(
                "`features` carries no Bragg grid in metadata.HyperspyManifold."
                "bragg_features: give `grid` (that node of the features that made it)."
            )
        grid = features.metadata.get_item(node).as_dictionary()
    elif isinstance(grid, BraggGrid):
        raise TypeError("`grid` must be the metadata dictionary, not a BraggGrid.")
    elif hasattr(grid, "as_dictionary"):
        grid = grid.as_dictionary()
    n_rows, n_cols = (int(n) for n in grid["grid_shape"])
    size = (
        features.axes_manager.signal_shape[0]
        if features.axes_manager.signal_dimension == 1
        else None
    )
    if size != n_rows * n_cols:
        raise ValueError(
            f"`features` must have one signal axis of {n_rows * n_cols} bins "
            f"({n_rows} x {n_cols} grid), got signal shape "
            f"{features.axes_manager.signal_shape}."
        )
    data = features.data.reshape(features.data.shape[:-1] + (n_rows, n_cols))
    if not isinstance(data, da.Array):
        data = data.copy()  # a view would tie the image to `features`
    axes = []
    for name, first, scale in zip(("ky", "kx"), grid["grid_first"], grid["bin_scale"]):
        axes.append(
            {
                "name": name,
                "size": n_rows if name == "ky" else n_cols,
                "scale": float(scale),
                "offset": float(first) * float(scale),
                "units": grid.get("units", ""),
                "navigate": False,
            }
        )
    return make_signal(
        features,
        data,
        axes,
        "manifold_diffraction",
        "Bragg feature image",
        lazy_output=features._lazy,
    )
