"""Signal-level bright-field (BF) disk features, for ronchigram and CBED scans.

When the probe is convergent enough that the direct beam is a large disk
(atomic-resolution 4D-STEM, ronchigrams, CBED), what changes from position to
position is inside and at that disk: interference fringes and dynamical
contrast (Cowley 1979; Nellist et al. 1995), and its shift (the DPC /
centre-of-mass signal, Müller et al. 2014, Nat. Commun. 5, 5653).  The features
are the disk resampled on a coarse square grid plus its first moments; the
numbers are computed by :mod:`hyperspy_manifold.kernels.bright_field` (one
separable area-weighting operator built once, applied to whole chunks).

The disk is centred on the beam centre of the calibration (pyxem's convention,
see :func:`~hyperspy_manifold._axes.resolve_center`).  Its radius, when
not given, is that of the half-maximum region of the mean of at most
:data:`MAX_MEAN_PATTERNS` scan positions drawn with a fixed seed, so a lazy scan
is never read whole to find it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import dask.array as da
import numpy as np

from hyperspy_manifold._axes import (
    detector_calibration,
    detector_shape,
    navigation_shape,
    resolve_center,
)
from hyperspy_manifold._checks import (
    check_int,
    check_navigation_mask,
    check_pattern_signal,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute, map_patterns
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import make_signal
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.kernels.bright_field import (
    MOMENT_NAMES,
    disk_features,
    disk_operator,
    find_disk,
)

#: Largest number of scan positions averaged to find the disk.
MAX_MEAN_PATTERNS = 256
#: Seed of the positions averaged to find the disk (fixed: same data, same disk).
MEAN_PATTERN_SEED = 0
#: The moment aperture is this much larger than the disk (a shifted disk stays in).
APERTURE_FACTOR = 1.25
# pixel edges may touch the detector edge up to rounding of calibrated radii
_EDGE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class BrightFieldDisk:
    """The bright-field disk of a scan, measured on the mean of a subsample."""

    radius: float
    """Radius in the calibrated units of the detector axes."""
    radius_pixels: float
    """Radius in (x) pixels."""
    center: tuple[float, float]
    """Beam centre ``(x, y)`` in pixels (from the calibration or given)."""
    centroid: tuple[float, float]
    """Centroid ``(x, y)`` of the half-maximum region, pixels."""
    radius_ratio: float
    """Radius over the detector half-width (half the shorter side)."""
    intensity_share: float
    """Share of the mean pattern's intensity inside the disk."""
    edge_contrast: float
    """Mean intensity inside the disk over that in a ring just outside it."""
    n_patterns: int
    """Number of scan positions averaged."""
    units: str


def mean_pattern_sample(
    s, navigation_mask=None, show_progressbar=None, max_patterns=MAX_MEAN_PATTERNS
) -> tuple[np.ndarray, int]:
    """Mean pattern of at most ``max_patterns`` unmasked positions and their number.

    The positions are drawn without replacement with :data:`MEAN_PATTERN_SEED`
    (all of them when there are no more); a lazy signal reads only the chunks
    holding them.
    """
    nav = navigation_shape(s)
    mask = check_navigation_mask(s, navigation_mask)
    if not nav:
        return np.asarray(compute(da.asarray(s.data)), dtype=np.float64), 1
    kept = np.arange(int(np.prod(nav))) if mask is None else np.flatnonzero(~mask)
    if kept.size > max_patterns:
        rng = np.random.default_rng(MEAN_PATTERN_SEED)
        kept = np.sort(rng.choice(kept, max_patterns, replace=False))
    index = np.unravel_index(kept, nav)
    if isinstance(s.data, da.Array):
        sample = s.data.vindex[index] if len(nav) > 1 else s.data[index[0]]
        mean = compute(sample.mean(axis=0, dtype=np.float64), show_progressbar)
    else:
        mean = np.asarray(s.data)[index].mean(axis=0, dtype=np.float64)
    return np.asarray(mean, dtype=np.float64), int(kept.size)


def measure_bright_field_disk(
    s, center=None, signal_mask=None, navigation_mask=None, show_progressbar=None
) -> BrightFieldDisk:
    """Find the bright-field disk of a scan from the mean of a subsample.

    The radius is that of the circle with the area of the half-maximum region of
    the mean pattern (median-filtered; the region holding the beam centre, holes
    filled).  ``center`` (x, y pixels), ``signal_mask`` and ``navigation_mask``
    (True = excluded) as in :func:`get_bright_field_features`.
    """
    check_pattern_signal(s, "measure_bright_field_disk", require_navigation=False)
    mask = check_signal_mask(s, signal_mask)
    cy, cx = resolve_center(s, center)
    scale_y, scale_x, units = detector_calibration(s)
    mean, n = mean_pattern_sample(s, navigation_mask, show_progressbar)
    estimate = find_disk(mean, (cy, cx), mask, abs(scale_x / scale_y))
    ky, kx = detector_shape(s)
    half_width = 0.5 * min(kx * abs(scale_x), ky * abs(scale_y))
    radius = estimate.radius * abs(scale_x)
    return BrightFieldDisk(
        radius=float(radius),
        radius_pixels=float(estimate.radius),
        center=(float(cx), float(cy)),
        centroid=(float(estimate.centroid[1]), float(estimate.centroid[0])),
        radius_ratio=float(radius / half_width),
        intensity_share=estimate.intensity_share,
        edge_contrast=estimate.edge_contrast,
        n_patterns=n,
        units=units if units else "px",
    )


def _check_disk_on_detector(s, center, radius_x, scale):
    """Raise when the disk (``radius_x`` x pixels about ``(cy, cx)``) leaves the detector."""
    ky, kx = detector_shape(s)
    cy, cx = center
    scale_y, scale_x = scale
    radius_y = radius_x * abs(scale_x / scale_y)
    tol = _EDGE_TOLERANCE * max(radius_x, 1.0)
    if (
        cx - radius_x < -0.5 - tol
        or cx + radius_x > kx - 0.5 + tol
        or cy - radius_y < -0.5 - tol
        or cy + radius_y > ky - 0.5 + tol
    ):
        raise ValueError(
            f"The bright-field disk of radius {radius_x:.4g} pixels about the centre "
            f"({cx:g}, {cy:g}) (x, y in pixels) reaches outside the detector of "
            f"{kx} x {ky} pixels: give a smaller `radius` or the right `center`."
        )


@one_progress_bar("Bright-field features")
@fill_docstring
def get_bright_field_features(
    s,
    radius=None,
    bins: int = 16,
    moments: bool = True,
    center=None,
    signal_mask=None,
    navigation_mask=None,
    in_pixels: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Bright-field disk of every pattern on a coarse grid, plus its moments.

    For atomic-resolution, ronchigram and CBED scans, where the direct beam is a
    large disk whose inside (fringes, dynamical contrast) and position change
    with the probe position.  Per pattern:

    - the disk resampled to ``bins x bins`` square cells spanning its bounding
      square: the area-weighted mean intensity over the part of each cell inside
      the disk (pixels as unit squares).  Cells with less than a quarter of their
      area inside the disk (the corners) are empty and give 0;
    - with ``moments``, the centre of mass ``com_x``, ``com_y`` relative to the
      beam centre, in the calibrated units of the detector axes (the DPC
      signal), and the total intensity, both inside an aperture
      ``1.25 * radius`` (clipped to the detector) so that a shifted disk stays in.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy), any real dtype.
    radius : float, optional
        Disk radius in the calibrated units of the detector axes (pixels with
        ``in_pixels``).  Default: the radius of the circle with the area of the
        half-maximum region of the mean of at most 256 scan positions, drawn
        with a fixed seed (see :func:`measure_bright_field_disk`).
    bins : int
        Cells per side of the grid.
    moments : bool
        Append ``com_x``, ``com_y`` and ``intensity``.
    %(center)s
    signal_mask : numpy.ndarray of bool, optional
        Detector-shaped, True = excluded: left out of the cells, the moments and
        the radius estimate.
    navigation_mask : numpy.ndarray of bool, optional
        Navigation-shaped, True = excluded from the radius estimate (vacuum,
        damaged areas).  Every position still gets features.
    in_pixels : bool
        Give ``radius`` in pixels.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    ManifoldDiffraction1D
        ``bins**2`` cells (row-major: y then x, as displayed) then, with
        ``moments``, ``com_x``, ``com_y``, ``intensity``, per scan position.
        Radius, centre and layout are stored in
        ``metadata.HyperspyManifold.bright_field``.

    Notes
    -----
    The cells follow the disk as it is, not its periodicities: contrast fixed to
    the crystal (dynamical lines, the lattice of an in-focus probe, where the
    interference lives in the lunes at the disk edge) and the shift separate
    regions well.  With a defocused probe the disk holds the shadow image of the
    lattice, fringes that move across it with the probe position; then
    patterns of one region differ as much as patterns of two, and the cepstrum
    (blind to where the fringes are, sensitive to their spacing and direction)
    separates lattices better.  On :func:`~hyperspy_manifold.data.ronchigram_scan`
    at 10 nm defocus the bright-field route fell below ARI 0.9 on most seeds
    while the cepstrum route stayed at 1.

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> from hyperspy_manifold.data import ronchigram_scan
    >>> s, truth = ronchigram_scan(shape=(4, 5))
    >>> f = hm.get_bright_field_features(s, bins=8)
    >>> f
    <ManifoldDiffraction1D, title: Bright-field features, dimensions: (5, 4|67)>
    >>> params = f.metadata.HyperspyManifold.bright_field
    >>> round(params.radius_pixels, 1), params.units
    (19.1, '1/Å')
    """
    check_pattern_signal(s, "get_bright_field_features", require_navigation=False)
    bins = check_int("bins", bins, 1)
    mask = check_signal_mask(s, signal_mask)
    cy, cx = resolve_center(s, center)
    scale_y, scale_x, units = detector_calibration(s)
    units = units if units else "px"
    to_pixels = 1.0 if in_pixels else 1.0 / abs(scale_x)
    source = "given"
    if radius is None:
        disk = measure_bright_field_disk(
            s, (cx, cy), mask, navigation_mask, show_progressbar
        )
        radius_px = disk.radius_pixels
        source = f"half maximum of the mean of {disk.n_patterns} patterns"
    else:
        if (
            isinstance(radius, bool)
            or not isinstance(radius, numbers.Real)
            or not np.isfinite(radius)
            or radius <= 0
        ):
            raise ValueError(f"`radius` must be a number > 0, got {radius!r}.")
        check_navigation_mask(s, navigation_mask)
        radius_px = float(radius) * to_pixels
    _check_disk_on_detector(s, (cy, cx), radius_px, (scale_y, scale_x))
    operator = disk_operator(
        detector_shape(s),
        (cy, cx),
        radius_px,
        bins,
        scale=(scale_y, scale_x),
        mask=mask,
        aperture_radius=APERTURE_FACTOR * radius_px,
    )
    n_features = bins * bins + (len(MOMENT_NAMES) if moments else 0)
    data = map_patterns(
        s,
        disk_features,
        (n_features,),
        np.float32,
        dict(operator=operator, moments=bool(moments)),
    )
    axes = [
        {
            "name": "bright_field_feature",
            "size": n_features,
            "scale": 1.0,
            "offset": 0.0,
            "units": "",
            "navigate": False,
        }
    ]
    parameters = {
        "_node": "bright_field",
        "radius": float(radius_px * abs(scale_x)),
        "radius_pixels": float(radius_px),
        "radius_source": source,
        "units": units,
        "center": [float(cx), float(cy)],
        "bins": bins,
        "cell_size_pixels": float(2 * radius_px / bins),
        "empty_cells": int(operator.empty_cells.sum()),
        "moments": list(MOMENT_NAMES) if moments else [],
        "aperture_radius_pixels": float(APERTURE_FACTOR * radius_px),
        "layout": f"{bins} x {bins} cells (row-major: y then x)"
        + (", then " + ", ".join(MOMENT_NAMES) if moments else ""),
        "masked_pixels": int(mask.sum()) if mask is not None else 0,
    }
    return make_signal(
        s,
        data,
        axes,
        "manifold_diffraction",
        "Bright-field features",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )
