"""Signal-level polar features: radial variance, angular average and the
Bragg-masked radial profile.

Bruefach, Ophus & Scott 2022 (Microsc. Microanal.): the radial variance (RV) of a
pattern is the variance of its polar image over azimuth at every radius (large
for crystalline, near zero for amorphous patterns); the angular average (AA) is
the mean intensity in azimuthal sectors of the diffraction rings, with ring edges
at the minima of the radial profile of the maximum pattern of the scan.  The
radial profile with the Bragg spots left out by iterative sigma clipping (pyFAI's
``sigma_clip``) is the amorphous part of every pattern; NMF on those profiles
separates amorphous from crystalline regions (py4DSTEM; Bruefach et al.).

Both resample every pattern with one sparse polar operator built once per dataset
(:mod:`hyperspy_manifold.kernels.polar`: bin means of the bilinearly interpolated
pattern, masked pixels left out of numerator and count).

Units: ``radial_range`` and ``rings`` are radii in the calibrated units of the
detector axes (pixels when the detector is not calibrated), or in pixels with
``in_pixels=True``; ``radial_step`` is always in pixels.  Angles are measured from
the detector +x axis, counter-clockwise as the pattern is displayed (pyxem's
convention).

Beam centre: pyxem's ``s.calibration.center``, the pixel where the calibrated
detector axes are 0 (see :func:`~hyperspy_manifold._axes.resolve_center`),
so on the same signal the ring means of :func:`get_angular_average` (one sector
of 360 degrees) equal pyxem's ``s.get_azimuthal_integral1d(npt, mean=True)`` and
the normalised radial variance equals the azimuthal variance of pyxem's
``get_azimuthal_integral2d(..., mean=True)`` divided by its squared mean, to
within the difference between bilinear sampling and pyxem's pixel splitting.
The radius axis holds the centre of every radial bin (HyperSpy's convention for
the value of an axis index); pyxem's ``get_azimuthal_integral1d`` labels each bin
with its inner edge, half a bin lower.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from hyperspy_manifold._axes import detector_calibration, detector_shape, resolve_center
from hyperspy_manifold._checks import check_int, check_pattern_signal, check_signal_mask
from hyperspy_manifold._chunks import compute, map_patterns, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import make_signal
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.kernels.polar import (
    NON_FINITE_MESSAGE,
    clipped_ring_means,
    find_ring_edges,
    largest_radius,
    polar_means,
    polar_operator,
    radial_variance,
    ring_clipping,
    sector_means,
)

# radii may touch the largest inner radius up to rounding of calibrated values
_RADIUS_TOLERANCE = 1e-6


class _Geometry:
    """Beam centre, ellipse, mask and calibration of one dataset, checked once."""

    def __init__(self, s, func_name, center, ellipse, signal_mask, in_pixels):
        check_pattern_signal(s, func_name, require_navigation=False)
        self.shape = detector_shape(s)
        self.mask = check_signal_mask(s, signal_mask)
        self.center = resolve_center(s, center)
        self.ellipse = _check_ellipse(ellipse)
        scale_y, scale_x, units = detector_calibration(s)
        self.scale = abs(scale_x)
        self.aspect = abs(scale_x / scale_y)
        self.units = units if units else ("px" if self.scale == 1 else "")
        self.in_pixels = bool(in_pixels)
        self.r_max = largest_radius(self.shape, self.center, self.ellipse, self.aspect)

    def to_pixels(self, radius):
        return np.asarray(radius, float) / (1.0 if self.in_pixels else self.scale)

    def describe_r_max(self) -> str:
        if self.in_pixels:
            return f"{self.r_max:.4g} pixels"
        return f"{self.r_max * self.scale:.4g} {self.units}".rstrip()

    def operator(self, radial_bins, npt_azim):
        return polar_operator(
            self.shape,
            self.center,
            radial_bins,
            npt_azim,
            ellipse=self.ellipse,
            mask=self.mask,
            pixel_aspect=self.aspect,
        )

    def parameters(self) -> dict:
        cy, cx = self.center
        return {
            "center": [float(cx), float(cy)],
            "ellipse": list(self.ellipse) if self.ellipse is not None else "None",
            "masked_pixels": int(self.mask.sum()) if self.mask is not None else 0,
        }


def _check_ellipse(ellipse):
    if ellipse is None:
        return None
    try:
        a, b, angle = (float(v) for v in ellipse)
    except (TypeError, ValueError):
        raise ValueError(
            "`ellipse` must be None or (a, b, angle): relative semi-axes a, b > 0 and "
            f"the angle of the a axis in degrees, got {ellipse!r}."
        ) from None
    if not (a > 0 and b > 0 and np.isfinite([a, b, angle]).all()):
        raise ValueError(
            f"`ellipse` semi-axes must be finite numbers > 0, got a={a:g}, b={b:g}."
        )
    return (a, b, angle)


def _positive_number(name, value):
    if not (isinstance(value, numbers.Real) and np.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a number > 0, got {value!r}.")
    return float(value)


def radial_edges(geometry, radial_range, radial_step) -> np.ndarray:
    """Edges (pixels) of the radial bins of ``radial_step`` pixels in
    ``radial_range`` (calibrated, or pixels with ``in_pixels``; default from 0 to
    the largest radius whose ring lies inside the detector), checked."""
    radial_step = _positive_number("radial_step", radial_step)
    if radial_range is None:
        r0, r1 = 0.0, geometry.r_max
    else:
        try:
            r0, r1 = (float(v) for v in geometry.to_pixels(radial_range))
        except (TypeError, ValueError):
            raise ValueError(
                f"`radial_range` must be None or (inner, outer), got {radial_range!r}."
            ) from None
        if not (0 <= r0 < r1):
            raise ValueError(
                f"`radial_range` must satisfy 0 <= inner < outer, got {radial_range!r}."
            )
        if r1 > geometry.r_max * (1 + _RADIUS_TOLERANCE):
            raise ValueError(
                f"`radial_range` {radial_range!r} reaches outside the detector: the "
                f"largest radius whose ring fits on the detector is "
                f"{geometry.describe_r_max()}."
            )
    n_radial = int(np.floor((r1 - r0) / radial_step + 1e-9))
    if n_radial < 1:
        raise ValueError(
            f"`radial_range` ({r0:g} to {r1:g} pixels) is narrower than "
            f"`radial_step` ({radial_step:g} pixels)."
        )
    return r0 + radial_step * np.arange(n_radial + 1)


def _radial_axis(geometry, bins):
    step = bins[0, 1] - bins[0, 0]
    return {
        "name": "radius",
        "size": int(bins.shape[0]),
        "scale": float(step * geometry.scale),
        "offset": float((bins[0, 0] + step / 2) * geometry.scale),
        "units": geometry.units,
        "navigate": False,
    }


def _empty_report(operator) -> dict:
    return {
        "empty_bins": int((~operator.valid).sum()),
        "min_coverage": float(operator.coverage.min()),
    }


def radial_parameters(geometry, operator, edges, radial_step) -> dict:
    """The metadata every radial transform stores: its radial range (calibrated
    and in pixels), step, geometry and empty-bin report."""
    return {
        "radial_range": [
            float(edges[0] * geometry.scale),
            float(edges[-1] * geometry.scale),
        ],
        "radial_range_pixels": [float(edges[0]), float(edges[-1])],
        "radial_step_pixels": float(radial_step),
        **geometry.parameters(),
        **_empty_report(operator),
    }


@one_progress_bar("Radial variance")
@fill_docstring
def get_radial_variance(
    s,
    radial_range=None,
    radial_step: float = 1,
    npt_azim: int = 360,
    center=None,
    ellipse=None,
    signal_mask=None,
    normalize: bool = False,
    in_pixels: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Variance over azimuth of every pattern at every radius (Bruefach RV).

    Each pattern is resampled on ``npt_azim`` azimuthal bins per radial bin of
    ``radial_step`` pixels (bin means of the bilinearly interpolated pattern),
    then ``V(r) = <(P - <P>)^2>`` over the azimuthal bins.  RV is large for
    crystalline patterns (spots on a ring) and near zero for amorphous ones.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy), any real dtype.
    radial_range : (float, float), optional
        Inner and outer radius, in the calibrated units of the detector axes (or
        pixels with ``in_pixels``).  Default: from 0 to the largest radius whose
        ring lies fully inside the detector, which crops the detector edge.  The
        central beam is kept by default (it gives near-zero variance when the
        centre is right); give an inner radius to drop it.
    radial_step : float
        Width of the radial bins in pixels.
    npt_azim : int
        Number of azimuthal bins (360 = 1 degree, as in Bruefach et al.).
    %(center)s
    ellipse : (float, float, float), optional
        Elliptical distortion ``(a, b, angle)``: a ring of radius r is drawn on the
        detector as an ellipse with semi-axes ``a r`` and ``b r``, the ``a`` axis
        at ``angle`` degrees from +x (counter-clockwise as displayed).
    signal_mask : numpy.ndarray of bool, optional
        Detector-shaped, True = excluded (beam stop, dead or hot pixels).  Masked
        pixels are left out of both the numerator and the count; polar bins left
        without valid pixels are skipped and their number reported in the
        metadata.
    normalize : bool
        Return ``V(r) / <P(r)>^2`` (fluctuation-microscopy style; 0 where the mean
        is 0).
    in_pixels : bool
        Give ``radial_range`` in pixels.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    ManifoldDiffraction1D
        One float64 variance profile per scan position.  The radius axis holds the bin
        centres, calibrated like the detector axes.  Parameters are stored in
        ``metadata.HyperspyManifold.radial_variance``.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> s = hs.signals.Signal2D(np.random.default_rng(0).random((2, 3, 32, 32)))
    >>> s.set_signal_type("manifold")
    >>> s.calibration.center = None  # pyxem: the beam is on the detector centre
    >>> hm.get_radial_variance(s)
    <ManifoldDiffraction1D, title: Radial variance, dimensions: (3, 2|15)>
    """
    geometry = _Geometry(
        s, "get_radial_variance", center, ellipse, signal_mask, in_pixels
    )
    npt_azim = check_int("npt_azim", npt_azim, 2)
    edges = radial_edges(geometry, radial_range, radial_step)
    operator = geometry.operator(edges, npt_azim)
    data = map_patterns(
        s,
        radial_variance,
        (operator.n_radial,),
        np.float64,
        dict(operator=operator, normalize=bool(normalize)),
    )
    parameters = {
        "_node": "radial_variance",
        "npt_azim": int(npt_azim),
        "normalize": bool(normalize),
        "weights": "bilinear, averaged over each polar bin",
        **radial_parameters(geometry, operator, edges, radial_step),
        "empty_radii": int((operator.valid.sum(axis=1) < 2).sum()),
    }
    return make_signal(
        s,
        data,
        [_radial_axis(geometry, operator.radial_bins)],
        "manifold_diffraction",
        "Radial variance",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )


@one_progress_bar("Radial profile")
@fill_docstring
def get_radial_profile(
    s,
    bragg_mask: bool = True,
    n_sigma: float = 3.0,
    spot_radius: int = 2,
    n_iter: int = 2,
    radial_range=None,
    radial_step: float | None = None,
    center=None,
    ellipse=None,
    signal_mask=None,
    in_pixels: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Azimuthal mean of every pattern at every radius, Bragg spots left out.

    The ring of every radial bin is read with the sparse polar operator of
    :func:`get_radial_variance` (one azimuthal bin per ring).  With
    ``bragg_mask`` the spots are excluded by iterative sigma clipping, the
    method of pyFAI's ``sigma_clip``: in each of ``n_iter`` rounds the ring mean
    and standard deviation are taken over the pixels still kept, pixels above
    ``mean + n_sigma * std`` of their ring are flagged, the flags are grown by
    a disk of ``spot_radius`` pixels on the detector (the tails of a spot) and
    removed from the pattern's mask; the profile is the ring mean over the
    pixels kept at the end.  What remains is the smooth amorphous ring profile:
    NMF on these profiles (``bragg_nmf(s, features="radial_profile")``)
    separates amorphous from crystalline regions of a scan.  Sigma clipping
    needs the spots to cover a small part of each ring (below ~10 % of its
    pixels for ``n_sigma=3``); the direct beam, which fills the central rings,
    is not removed: leave it out with ``radial_range``.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy), any real dtype.
    bragg_mask : bool
        Leave the Bragg spots out; False gives the plain azimuthal mean (pyxem's
        ``get_azimuthal_integral1d(..., mean=True)``).
    n_sigma : float
        Clipping threshold in standard deviations above the ring mean (> 0).
    spot_radius : int
        Radius in pixels (>= 0) by which the clipped pixels are grown on the
        detector axes.
    n_iter : int
        Clipping rounds (>= 1).
    radial_range : (float, float), optional
        Inner and outer radius, calibrated (or pixels with ``in_pixels``);
        default from 0 to the largest radius whose ring lies inside the detector.
    radial_step : float, optional
        Width of the radial bins in pixels (default 1).
    %(center)s
    ellipse, signal_mask
        As in :func:`get_radial_variance`; masked pixels are never read.
    in_pixels : bool
        Give ``radial_range`` in pixels.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    ManifoldDiffraction1D
        One float64 profile per scan position; the radius axis holds the bin
        centres, calibrated like the detector axes.  Parameters are stored in
        ``metadata.HyperspyManifold.radial_profile``.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> s = hs.signals.Signal2D(np.random.default_rng(0).random((2, 3, 32, 32)))
    >>> s.set_signal_type("manifold")
    >>> s.calibration.center = None  # pyxem: the beam is on the detector centre
    >>> hm.get_radial_profile(s, n_sigma=4)
    <ManifoldDiffraction1D, title: Radial profile, dimensions: (3, 2|15)>
    """
    geometry = _Geometry(
        s, "get_radial_profile", center, ellipse, signal_mask, in_pixels
    )
    n_sigma = _positive_number("n_sigma", n_sigma)
    spot_radius = check_int("spot_radius", spot_radius, 0)
    n_iter = check_int("n_iter", n_iter, 1)
    radial_step = 1.0 if radial_step is None else radial_step
    edges = radial_edges(geometry, radial_range, radial_step)
    operator = geometry.operator(edges, 1)
    data = map_patterns(
        s,
        clipped_ring_means,
        (operator.n_radial,),
        np.float64,
        dict(
            operator=operator,
            n_sigma=n_sigma,
            spot_radius=spot_radius,
            n_iter=n_iter if bragg_mask else 0,
            clipping=ring_clipping(operator),  # built once, not per chunk
        ),
    )
    parameters = {
        "_node": "radial_profile",
        "bragg_mask": bool(bragg_mask),
        "n_sigma": n_sigma,
        "spot_radius": spot_radius,
        "n_iter": n_iter,
        "weights": "bilinear, averaged over each ring",
        **radial_parameters(geometry, operator, edges, radial_step),
    }
    return make_signal(
        s,
        data,
        [_radial_axis(geometry, operator.radial_bins)],
        "manifold_diffraction",
        "Radial profile",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )


def _auto_rings(s, geometry, n_rings, show_progressbar):
    """Ring edges (pixels) at the minima of the radial profile of the maximum pattern."""
    data = pattern_stack(s)
    nav_axes = tuple(range(data.ndim - 2))
    max_pattern = compute(data.max(axis=nav_axes), show_progressbar)
    n_profile = int(np.floor(geometry.r_max))
    if n_profile < 3:
        raise ValueError(
            "`rings='auto'` needs a detector of at least 7 x 7 pixels about the "
            f"centre; the largest radius inside it is {geometry.describe_r_max()}."
        )
    profile_operator = geometry.operator(np.arange(n_profile + 1, dtype=float), 1)
    profile = polar_means(np.asarray(max_pattern), profile_operator)[:, 0]
    if not np.isfinite(profile).all():
        raise ValueError(NON_FINITE_MESSAGE)
    radii = np.arange(n_profile) + 0.5
    rings = find_ring_edges(profile, radii, n_rings=n_rings, outer=geometry.r_max)
    if rings.shape[0] == 0:
        rings = equal_rings(profile, radii, geometry.r_max, n_rings or FALLBACK_RINGS)
        edges = ", ".join(f"{r * geometry.scale:.3g}" for r in rings[:, 0])
        warnings.warn(
            "`rings='auto'` found no minimum in the radial profile of the maximum "
            "pattern (spot patterns often have none): using "
            f"{rings.shape[0]} rings of equal width from the edge of the direct "
            f"beam to the detector edge, inner edges {edges} "
            f"{geometry.units or 'px'}. Give `rings=[r0, r1, ...]` to choose them.",
            UserWarning,
        )
    return rings, profile


#: Rings of the fallback of ``rings="auto"`` when the profile has no minimum.
FALLBACK_RINGS = 3


def equal_rings(profile, radii, r_max, n_rings) -> np.ndarray:
    """``(n_rings, 2)`` rings of equal width from the direct beam to ``r_max``.

    The direct beam ends where the profile of the maximum pattern has first
    fallen below half of its central value (at least one pixel out).
    """
    below = np.flatnonzero(profile < 0.5 * profile[0])
    inner = max(float(radii[below[0]]) if below.size else float(radii[0]), 1.0)
    if inner >= r_max:
        inner = 0.5 * r_max
    edges = np.linspace(inner, r_max, int(n_rings) + 1)
    return np.stack([edges[:-1], edges[1:]], axis=1)


def _given_rings(rings, geometry):
    try:
        edges = geometry.to_pixels(rings)
    except (TypeError, ValueError):
        edges = None
    if (
        edges is None
        or edges.ndim not in (1, 2)
        or (edges.ndim == 2 and edges.shape[1] != 2)
    ):
        raise ValueError(
            "`rings` must be 'auto', increasing ring edges [r0, r1, ...] or pairs "
            f"[(inner, outer), ...], got {rings!r}."
        )
    if edges.ndim == 1:
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(
                f"`rings` edges must be at least two increasing radii, got {rings!r}."
            )
        edges = np.stack([edges[:-1], edges[1:]], axis=1)
    if (
        not np.isfinite(edges).all()
        or np.any(edges[:, 0] < 0)
        or np.any(edges[:, 1] <= edges[:, 0])
    ):
        raise ValueError(
            f"`rings` must be finite radii with 0 <= inner < outer, got {rings!r}."
        )
    if edges.max() > geometry.r_max * (1 + _RADIUS_TOLERANCE):
        raise ValueError(
            f"`rings` {rings!r} reach outside the detector: the largest radius whose "
            f"ring fits on the detector is {geometry.describe_r_max()}."
        )
    return edges


@one_progress_bar("Angular average")
@fill_docstring
def get_angular_average(
    s,
    rings="auto",
    angle_step: float = 5,
    center=None,
    ellipse=None,
    signal_mask=None,
    n_rings: int | None = None,
    in_pixels: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Mean intensity in azimuthal sectors of the diffraction rings (Bruefach AA).

    For each ring (a radial interval) and each sector of ``angle_step`` degrees,
    the mean of the pattern over the sector (bin mean of the bilinearly
    interpolated pattern); the sectors of all rings are concatenated, rings from
    the centre out, sectors from 0 degrees (+x) counter-clockwise.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy), any real dtype.
    rings : "auto" or sequence
        ``"auto"``: ring edges at the local minima of the radial profile (1-pixel
        bins, lightly smoothed) of the maximum pattern of the scan, computed in one
        streaming pass; the central beam, inside the first minimum, is left out,
        and the part beyond the last minimum is a ring when the profile has a
        maximum there (up to the largest radius inside the detector).  Otherwise
        increasing edges ``[r0, r1, ...]`` (consecutive rings) or pairs
        ``[(inner, outer), ...]``, in calibrated units (pixels with ``in_pixels``),
        like the radius axis of :func:`get_radial_variance`.
    angle_step : float
        Sector width in degrees; must divide 360 (5 gives 72 sectors per ring).
    center, ellipse, signal_mask
        As in :func:`get_radial_variance`.  Sectors left without valid pixels take
        the mean of the valid sectors of the same ring and pattern; their number is
        reported in the metadata (``filled_sectors``).
    n_rings : int, optional
        With ``rings="auto"``, keep at most this many rings: the edges are the
        ``n_rings + 1`` deepest minima.
    in_pixels : bool
        Give ``rings`` in pixels.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    ManifoldDiffraction1D
        ``n_rings * 360 / angle_step`` features per scan position.  Ring edges
        (calibrated and in pixels), the sector angles and, for ``"auto"``, the
        radial profile of the maximum pattern are stored in
        ``metadata.HyperspyManifold.angular_average``.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> s = hs.signals.Signal2D(np.random.default_rng(0).random((2, 3, 32, 32)))
    >>> s.set_signal_type("manifold")
    >>> s.calibration.center = (15.5, 15.5)  # (x, y) pixels, pyxem's convention
    >>> hm.get_angular_average(s, rings=[4, 8, 12], angle_step=10)
    <ManifoldDiffraction1D, title: Angular average, dimensions: (3, 2|72)>
    """
    geometry = _Geometry(
        s, "get_angular_average", center, ellipse, signal_mask, in_pixels
    )
    angle_step = _positive_number("angle_step", angle_step)
    n_sectors = 360.0 / angle_step
    if abs(n_sectors - round(n_sectors)) > 1e-9 * n_sectors:
        raise ValueError(f"`angle_step` must divide 360 degrees, got {angle_step:g}")
    n_sectors = int(round(n_sectors))
    n_rings = check_int("n_rings", n_rings, 1, allow_none=True)
    profile = None
    if isinstance(rings, str):
        if rings != "auto":
            raise ValueError(
                f"`rings` must be 'auto' or a sequence of ring edges, got {rings!r}."
            )
        ring_bins, profile = _auto_rings(s, geometry, n_rings, show_progressbar)
    else:
        ring_bins = _given_rings(rings, geometry)
    operator = geometry.operator(ring_bins, n_sectors)
    empty_rings = np.flatnonzero(~operator.valid.any(axis=1))
    if empty_rings.size:
        raise ValueError(
            f"Rings {empty_rings.tolist()} have no unmasked pixel: change `rings` or "
            "`signal_mask`."
        )
    n_features = ring_bins.shape[0] * n_sectors
    data = map_patterns(
        s, sector_means, (n_features,), np.float32, dict(operator=operator)
    )
    axes = [
        {
            "name": "ring_sector",
            "size": n_features,
            "scale": 1.0,
            "offset": 0.0,
            "units": "",
            "navigate": False,
        }
    ]
    parameters = {
        "_node": "angular_average",
        "rings": "auto" if profile is not None else "given",
        "ring_edges": ring_bins * geometry.scale,
        "ring_edges_pixels": ring_bins,
        "units": geometry.units,
        "angle_step": angle_step,
        "n_sectors": n_sectors,
        "sector_start_angles": np.arange(n_sectors) * angle_step,
        "weights": "bilinear, averaged over each sector",
        **geometry.parameters(),
        "filled_sectors": int((~operator.valid).sum()),
        "min_coverage": float(operator.coverage.min()),
    }
    if profile is not None:
        parameters["max_pattern_profile"] = profile
        parameters["n_rings"] = "None" if n_rings is None else int(n_rings)
    return make_signal(
        s,
        data,
        axes,
        "manifold_diffraction",
        "Angular average",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )
