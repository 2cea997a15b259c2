"""Fluctuation electron microscopy (FEM) statistics of a scan, per annulus.

FEM measures medium-range order from how much the speckle of nanobeam
diffraction patterns fluctuates (Voyles & Muller, Ultramicroscopy 93 (2002)
147; Daulton, Bondi & Kelton, Ultramicroscopy 110 (2010) 1279).  With ``I(x, k)`` the mean intensity of the
ring of radius k of the pattern at scan position x (the azimuthal average) and
``v(x, k)`` the variance of the pixel intensities of that ring over its squared
mean (:mod:`hyperspy_manifold.kernels.fem`):

* annular-mean variance  ``V_omega(k) = <I(x, k)^2>_x / <I(x, k)>_x^2 - 1``,
  the normalised variance over the scan of the ring mean (pyxem's
  ``get_variance(method="Omega")``, py4DSTEM's normalised ``radial_var``);
* ring-ensemble variance ``V_r(k) = <v(x, k)>_x`` (pyxem's ``method="r"``);
* the same with the median over the scan, robust to a few outlier patterns
  (py4DSTEM's ``use_median``): ``V_r_median(k) = median_x v(x, k)`` and
  ``V_omega_median(k) = (1.4826 MAD_x I(x, k) / median_x I(x, k))^2``, the
  median absolute deviation scaled to estimate the standard deviation of normal
  fluctuations, so that both versions agree on clean data.

The rings come from the package's one polar resampling (the sparse operator of
:mod:`hyperspy_manifold.kernels.polar`, about pyxem's beam centre).  One pass
over the data: the mean statistics combine the moments of every chunk
(constant memory); the median ones need the per-pattern profiles,
``2 x n_radii`` numbers per position, gathered in memory.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
from hyperspy.io import dict2signal

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import (
    check_int,
    check_navigation_mask,
    check_pattern_signal,
)
from hyperspy_manifold._chunks import compute, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import METADATA_NODE
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.features.polar import (
    _Geometry,
    _radial_axis,
    radial_edges,
    radial_parameters,
)
from hyperspy_manifold.kernels.fem import ring_operator, ring_statistics

#: Rows of the result of :func:`get_fem_statistics`, in order.
FEM_STATISTICS = ("V_omega", "V_r", "V_omega_median", "V_r_median")

#: ``1 / Phi^-1(3/4)``: the MAD of normal data times this is its standard deviation.
_MAD_TO_STD = 1.482602218505602


def _check_median(median):
    if not isinstance(median, (bool, np.bool_)):
        raise ValueError(f"`median` must be True or False, got {median!r}.")
    return bool(median)


def _ratio(numerator, denominator):
    return np.divide(
        numerator,
        denominator,
        out=np.zeros_like(numerator, dtype=float),
        where=denominator > 0,
    )


def _kernel(block, keep, ring):
    return ring_statistics(block, ring, keep=keep[..., 0, 0])


def _chunk_moments(profiles, keep):
    """Count, ring mean, sum of squared deviations of the ring mean, and sum of
    ring variances of the kept positions of one chunk, ``(1, ..., 4, n_radial)``."""
    nav_ndim = profiles.ndim - 2
    keep = keep[..., 0, 0].reshape(-1)
    flat = profiles.reshape(-1, *profiles.shape[-2:])[keep]
    n = flat.shape[0]
    mean = flat[:, 0].mean(axis=0) if n else np.zeros(profiles.shape[-1])
    out = np.stack(
        [
            np.full(profiles.shape[-1], float(n)),
            mean,
            ((flat[:, 0] - mean) ** 2).sum(axis=0),
            flat[:, 1].sum(axis=0),
        ]
    )
    return out.reshape((1,) * nav_ndim + out.shape)


def _combine_moments(moments):
    """Mean and variance over the scan from the moments of its chunks (the
    pairwise formula of Chan, Golub & LeVeque: no ``<x^2> - <x>^2`` round-off,
    never below 0), and the mean ring variance."""
    moments = moments.reshape(-1, *moments.shape[-2:])
    n, mean, m2, sum_v = (moments[:, i] for i in range(4))
    total = n.sum(axis=0)
    grand = (n * mean).sum(axis=0) / total
    m2 = (m2 + n * (mean - grand) ** 2).sum(axis=0)
    return grand, m2 / total, sum_v.sum(axis=0) / total


@one_progress_bar("FEM statistics")
@fill_docstring
def get_fem_statistics(
    s,
    radial_range=None,
    radial_step: float = 1,
    npt_azim: int = 360,
    center=None,
    ellipse=None,
    signal_mask=None,
    navigation_mask=None,
    median: bool = True,
    in_pixels: bool = False,
    show_progressbar: bool | None = None,
):
    """Fluctuation electron microscopy variances of the scan at every radius.

    For every ring (radial bin) k, the annular-mean variance ``V_omega(k)``
    (fluctuation over the scan of the azimuthally averaged intensity) and the
    ring-ensemble variance ``V_r(k)`` (mean over the scan of the variance of
    the pixels of the ring over its squared mean), and their robust versions
    with the median over the scan instead of the mean.  See
    :mod:`hyperspy_manifold.features.fem` for the equations.  A medium-range
    ordered (or crystalline) region makes speckle on the rings of its
    reflections, so both variances peak there; an ideal amorphous sample gives
    only the shot-noise floor: Poisson counts of mean ``c(k)`` electrons per
    pixel give ``V_r(k) = 1 / c(k)`` (subtract it, with the detector gain, for a
    shot-noise corrected variance).  ``V_r`` also holds the fall-off of the
    intensity across the width of each ring (steep near the direct beam; a
    smaller ``radial_step`` lowers it).

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes and at least one navigation axis
        (eager or lazy), any real dtype; not modified.  Lazy data is read once,
        chunk by chunk.
    radial_range, radial_step, npt_azim, ellipse, in_pixels
        The rings, as in :func:`~hyperspy_manifold.get_radial_variance`:
        ``radial_range`` in calibrated units (pixels with ``in_pixels``),
        ``radial_step`` in pixels.  ``npt_azim`` azimuthal bins weigh every
        direction of a ring equally when ``signal_mask`` hides part of it.
    %(center)s
    signal_mask : numpy.ndarray of bool, optional
        Detector-shaped, True = excluded (a beam stop, hot pixels, the Bragg
        disks of crystals in an amorphous matrix): masked pixels are left out
        of every ring.
    navigation_mask : numpy.ndarray of bool, optional
        Navigation-shaped, True = excluded (HyperSpy's convention; py4DSTEM's
        ``mask_realspace`` is the opposite): these scan positions are never read
        and left out of every statistic.
    median : bool
        Also return the median statistics.  They need the ring mean and
        variance of every position in memory (``16 * n_radii`` bytes per
        position); with False only the moments of every chunk are kept.
    %(show_progressbar)s

    Returns
    -------
    hyperspy.signals.Signal1D
        In memory, float64: a stack of radial profiles with a navigation axis
        ``statistic`` holding, in order, ``V_omega``, ``V_r``,
        ``V_omega_median``, ``V_r_median`` (the first two with
        ``median=False``; the names are also in
        ``metadata.HyperspyManifold.fem_statistics.statistics``).  The signal
        axis is the radius of every ring (bin centres, calibrated like the
        detector, as in ``get_radial_variance``).  The metadata also hold the
        mean ring intensity ``mean_intensity`` over the scan, the number of
        positions used and the geometry.  Rings whose mean is 0 give 0.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> rng = np.random.default_rng(0)
    >>> s = hs.signals.Signal2D(rng.poisson(100, (4, 4, 32, 32)).astype(float))
    >>> s.set_signal_type("manifold")
    >>> s.calibration.center = None  # pyxem: the beam is on the detector centre
    >>> fem = hm.get_fem_statistics(s, radial_range=(4, 12))
    >>> fem
    <Signal1D, title: FEM statistics, dimensions: (4|8)>
    >>> names = fem.metadata.HyperspyManifold.fem_statistics.statistics
    >>> names
    ['V_omega', 'V_r', 'V_omega_median', 'V_r_median']
    >>> float(np.round(fem.inav[1].data.mean(), 2))  # shot noise: 1 / 100 counts
    0.01
    >>> hs.plot.plot_spectra(fem, legend=names)  # doctest: +SKIP
    """
    func_name = "get_fem_statistics"
    check_pattern_signal(s, func_name)
    geometry = _Geometry(s, func_name, center, ellipse, signal_mask, in_pixels)
    npt_azim = check_int("npt_azim", npt_azim, 2)
    median = _check_median(median)
    edges = radial_edges(geometry, radial_range, radial_step)
    excluded = check_navigation_mask(s, navigation_mask)
    keep = np.ones(navigation_shape(s), bool) if excluded is None else ~excluded
    n_positions = int(keep.sum())
    if n_positions < 2:
        raise ValueError(
            "FEM statistics need at least 2 scan positions, but `navigation_mask` "
            f"leaves {n_positions}: exclude fewer positions."
        )
    operator = geometry.operator(edges, npt_azim)
    ring = ring_operator(operator)

    data = pattern_stack(s)
    nav_ndim = data.ndim - 2
    keep_lazy = da.from_array(keep, chunks=data.chunks[:nav_ndim])[..., None, None]
    n_radial = ring.n_radial
    profiles = da.map_blocks(
        _kernel,
        data,
        keep_lazy,
        ring=ring,
        dtype=np.float64,
        chunks=data.chunks[:nav_ndim] + ((2,), (n_radial,)),
    )
    moments = da.map_blocks(
        _chunk_moments,
        profiles,
        keep_lazy,
        dtype=np.float64,
        chunks=tuple((1,) * n for n in data.numblocks[:nav_ndim]) + ((4,), (n_radial,)),
    )
    if median:
        moments, every = compute((moments, profiles), show_progressbar)
    else:
        moments = compute(moments, show_progressbar)
    mean_intensity, variance, mean_v = _combine_moments(np.asarray(moments))
    rows = [_ratio(variance, mean_intensity**2), mean_v]
    if median:
        used = np.asarray(every)[keep]  # (n_positions, 2, n_radial)
        median_i = np.median(used[:, 0], axis=0)
        mad = np.median(np.abs(used[:, 0] - median_i), axis=0)
        rows.append(_ratio((_MAD_TO_STD * mad) ** 2, median_i**2))
        rows.append(np.median(used[:, 1], axis=0))
    names = list(FEM_STATISTICS[: len(rows)])
    result = np.stack(rows)

    parameters = {
        "statistics": names,
        "n_positions": n_positions,
        "mean_intensity": mean_intensity,
        "npt_azim": int(npt_azim),
        "ring_variance": "pixel variance of each ring, unbiased for its weights",
        "omega_median": "(1.4826 MAD / median)^2 of the ring mean over the scan",
        **radial_parameters(geometry, operator, edges, radial_step),
        "empty_radii": int((~ring.valid).sum()),
    }
    title = "FEM statistics"
    metadata = {
        "General": {"title": title},
        "Signal": {"signal_type": ""},
        METADATA_NODE: {"fem_statistics": parameters},
    }
    source = s.metadata.get_item("General.title", "")
    if source:
        parameters["source_title"] = source
    axes = [
        {
            "name": "statistic",
            "size": len(names),
            "scale": 1.0,
            "offset": 0.0,
            "units": "",
            "navigate": True,
        },
        _radial_axis(geometry, operator.radial_bins),
    ]
    return dict2signal(
        {"data": result, "axes": axes, "metadata": metadata, "original_metadata": {}}
    )
