"""Polar resampling of a stack of patterns with one sparse matrix, and the two
polar features built on it (Bruefach, Ophus & Scott 2022):

* radial variance  RV(r) = < (P(r, theta) - <P(r, .)>)^2 >_theta , optionally / <P(r, .)>^2
* angular average  AA(ring, sector) = mean intensity of the pattern in the sector.
* radial profile   A(r) = azimuthal mean of every ring, optionally with the Bragg
  spots left out by iterative sigma clipping (the method of pyFAI's
  ``sigma_clip``), the amorphous part of a mixed pattern.

``P(r, theta)`` is the polar image: the mean, over a polar bin
``[r0, r1) x [theta0, theta1)``, of the bilinearly interpolated pattern.  The bin is
sampled on a sub-grid no coarser than ``sample_spacing`` (0.5 pixel) in radius and
in arc length, and the bilinear weights of all its samples are summed into one
row of a sparse matrix ``M`` (n_bins x n_pixels).  So ``M`` is built once per
dataset, and a whole chunk of patterns is resampled with one sparse-dense
product; the sub-grid costs nothing at run time because the samples of a bin
merge into the few pixels they touch.

Geometry: ``theta`` is measured from the detector +x axis counter-clockwise as the
pattern is displayed (row index growing downwards), pyxem's convention.  An
elliptical distortion maps the polar point ``(r, theta)`` to the detector offset
``r * T (cos theta, sin theta)`` with ``T = R(phi) diag(a, b) R(-phi)``.

Masked pixels (True = excluded) and pixels outside the detector carry no weight:
they are left out of both the numerator and the weight count of every bin.  A bin
whose valid weight is below ``min_coverage`` of its samples is *empty*; empty
bins are reported by the operator and never produce NaN.  Pure numpy/scipy; no
hyperspy import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.ndimage import binary_dilation, gaussian_filter1d
from scipy.signal import find_peaks

NON_FINITE_MESSAGE = (
    "Patterns contain NaN or infinite pixels: exclude them with `signal_mask` "
    "(True = excluded) or replace them before the polar transform."
)


@dataclass(frozen=True)
class PolarOperator:
    """Sparse polar resampling of one detector geometry (picklable).

    Attributes
    ----------
    matrix
        CSR matrix ``(n_radial * n_azim, pixels.size)`` whose rows are normalised,
        so ``matrix @ patterns[pixels]`` gives the bin means.  Empty bins are zero rows.
    pixels
        Flat detector indices of the pixels the operator reads.
    coverage
        ``(n_radial, n_azim)`` valid interpolation weight of each bin divided by its
        number of samples (1 = no masked or outside pixel nearby).
    valid
        ``(n_radial, n_azim)`` bool, False for empty bins.
    radial_bins
        ``(n_radial, 2)`` inner and outer radius of every radial bin, in pixels.
    detector_shape
        ``(ky, kx)``.
    """

    matrix: scipy.sparse.csr_matrix
    pixels: np.ndarray
    coverage: np.ndarray
    valid: np.ndarray
    radial_bins: np.ndarray
    detector_shape: tuple[int, int]

    @property
    def n_radial(self) -> int:
        return self.valid.shape[0]

    @property
    def npt_azim(self) -> int:
        return self.valid.shape[1]


def ellipse_matrix(ellipse=None) -> np.ndarray:
    """``T = R(phi) diag(a, b) R(-phi)`` for ``ellipse = (a, b, phi_degrees)``.

    ``T`` acts on ``(x, y)`` with y pointing up on the displayed pattern.  A ring of
    radius r appears on the detector as an ellipse of semi-axes ``a r`` and ``b r``
    whose ``a`` axis is at ``phi`` degrees from +x (counter-clockwise).
    """
    if ellipse is None:
        return np.eye(2)
    a, b, phi = ellipse
    c, s = np.cos(np.radians(phi)), np.sin(np.radians(phi))
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([a, b]) @ rot.T


def largest_radius(
    detector_shape: tuple[int, int],
    center: tuple[float, float],
    ellipse=None,
    pixel_aspect: float = 1.0,
) -> float:
    """Largest radius (pixels) whose whole ring lies inside the detector.

    ``center`` is ``(cy, cx)`` in pixels; pixel centres span ``0 .. k - 1``.
    ``pixel_aspect`` is ``scale_x / scale_y`` (radii are in x pixels).
    """
    ky, kx = detector_shape
    cy, cx = center
    t = ellipse_matrix(ellipse)
    half_x = np.hypot(t[0, 0], t[0, 1])
    half_y = np.hypot(t[1, 0], t[1, 1]) * pixel_aspect
    return float(
        min(cx / half_x, (kx - 1 - cx) / half_x, cy / half_y, (ky - 1 - cy) / half_y)
    )


def polar_operator(
    detector_shape: tuple[int, int],
    center: tuple[float, float],
    radial_bins,
    npt_azim: int,
    ellipse=None,
    mask: np.ndarray | None = None,
    pixel_aspect: float = 1.0,
    sample_spacing: float = 0.5,
    min_coverage: float = 0.1,
) -> PolarOperator:
    """Build the sparse polar resampling of a detector.

    Parameters
    ----------
    detector_shape
        ``(ky, kx)``.
    center
        Beam centre ``(cy, cx)`` in pixels.
    radial_bins
        ``(n_radial, 2)`` inner and outer radii in pixels, or a 1D increasing
        sequence of ``n_radial + 1`` edges.
    npt_azim
        Number of azimuthal bins of ``360 / npt_azim`` degrees, the first starting
        at 0 degrees (+x).
    ellipse
        ``(a, b, phi_degrees)``, see :func:`ellipse_matrix`; None for circles.
    mask
        ``(ky, kx)`` bool, True = excluded pixel.
    pixel_aspect
        ``scale_x / scale_y`` of the detector; radii are in x pixels.
    sample_spacing
        Largest distance (pixels) between the sub-samples of a bin.
    min_coverage
        Bins whose valid weight is below this fraction of their samples are empty.
    """
    ky, kx = detector_shape
    cy, cx = center
    bins = np.asarray(radial_bins, dtype=float)
    if bins.ndim == 1:
        bins = np.stack([bins[:-1], bins[1:]], axis=1)
    npt_azim = int(npt_azim)
    t = ellipse_matrix(ellipse)
    # largest stretch of a unit step (radial or arc) on the detector, in pixels
    stretch = np.linalg.norm(t, 2) * max(1.0, pixel_aspect)
    dtheta = 2 * np.pi / npt_azim
    valid_pixel = np.ones(ky * kx, bool) if mask is None else ~mask.ravel()

    rows, cols, weights, n_samples = [], [], [], []
    for i, (r0, r1) in enumerate(bins):
        n_rad = max(1, int(np.ceil((r1 - r0) * stretch / sample_spacing)))
        n_arc = max(1, int(np.ceil(r1 * dtheta * stretch / sample_spacing)))
        r = r0 + (np.arange(n_rad) + 0.5) * ((r1 - r0) / n_rad)
        theta = (np.arange(npt_azim * n_arc) + 0.5) * (dtheta / n_arc)
        dx = t[0, 0] * np.cos(theta) + t[0, 1] * np.sin(theta)
        dy = t[1, 0] * np.cos(theta) + t[1, 1] * np.sin(theta)
        x = (cx + r[:, None] * dx).ravel()
        y = (cy - r[:, None] * (dy * pixel_aspect)).ravel()  # rows grow downwards
        bin_index = np.broadcast_to(
            i * npt_azim + np.arange(npt_azim).repeat(n_arc), (n_rad, npt_azim * n_arc)
        ).ravel()
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        for oy, ox, w in (
            (0, 0, (1 - fy) * (1 - fx)),
            (0, 1, (1 - fy) * fx),
            (1, 0, fy * (1 - fx)),
            (1, 1, fy * fx),
        ):
            yy, xx = y0 + oy, x0 + ox
            keep = (w > 0) & (yy >= 0) & (yy < ky) & (xx >= 0) & (xx < kx)
            flat = yy[keep] * kx + xx[keep]
            keep_valid = valid_pixel[flat]
            rows.append(bin_index[keep][keep_valid])
            cols.append(flat[keep_valid])
            weights.append(w[keep][keep_valid])
        n_samples.append(n_rad * n_arc)

    n_bins = bins.shape[0] * npt_azim
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    weights = np.concatenate(weights)
    # keep only the columns of pixels the operator reads
    pixels = np.flatnonzero(np.bincount(cols, minlength=ky * kx))
    new_index = np.zeros(ky * kx, np.int64)
    new_index[pixels] = np.arange(pixels.size)
    matrix = scipy.sparse.csr_matrix(
        (weights, (rows, new_index[cols])), shape=(n_bins, pixels.size)
    )
    matrix.sum_duplicates()
    weight = np.asarray(matrix.sum(axis=1)).ravel()
    coverage = weight.reshape(-1, npt_azim) / np.asarray(n_samples, float)[:, None]
    valid = coverage >= min_coverage
    scale = np.where(valid.ravel(), 1.0 / np.where(weight > 0, weight, 1.0), 0.0)
    matrix = (scipy.sparse.diags(scale) @ matrix).tocsr()
    matrix.eliminate_zeros()
    matrix = matrix.astype(np.float32)
    return PolarOperator(
        matrix=matrix,
        pixels=pixels.astype(np.intp),
        coverage=coverage,
        valid=valid,
        radial_bins=bins,
        detector_shape=(int(ky), int(kx)),
    )


# Patterns are resampled in batches whose float32 copies stay near this many
# values (16 MB): memory per task does not grow with the chunk size, and the
# temporaries are reused by the allocator instead of being mapped afresh.
_BATCH_VALUES = 1 << 22


def check_detector_shape(patterns, operator, kind="polar") -> np.ndarray:
    """``patterns`` as an array, checked to have the detector shape the
    ``operator`` (a polar or ring operator) was built for."""
    patterns = np.asarray(patterns)
    if patterns.shape[-2:] != operator.detector_shape:
        raise ValueError(
            f"Patterns of shape {patterns.shape[-2:]} do not match the {kind} "
            f"operator built for {operator.detector_shape}."
        )
    return patterns


def _polar_batches(patterns: np.ndarray, operator: PolarOperator):
    """Yield ``(slice, bin means, level)`` over batches of the flattened stack.

    Bin means are float32 ``(n_radial, n_azim, n_batch)``: every sparse entry
    then updates a contiguous row of the product.  ``level`` is None, or for
    dtypes float32 cannot hold exactly (uint32, int64, float64) the float64
    value ``(n_batch,)`` taken out of every pattern before the cast, so counts
    near 2**32 keep their differences; the bin means of a pattern are then
    ``level`` lower than its true means (empty bins stay 0).
    """
    patterns = check_detector_shape(patterns, operator)
    flat = patterns.reshape(-1, patterns.shape[-2] * patterns.shape[-1])
    n = flat.shape[0]
    width = max(operator.pixels.size, operator.matrix.shape[0], 1)
    step = max(1, min(n, _BATCH_VALUES // width))
    exact = np.can_cast(flat.dtype, np.float32)
    # work arrays made once and reused by every full batch: fresh ones would be
    # mapped and zeroed by the OS each time where malloc returns large blocks at
    # once (dask.distributed workers set MALLOC_TRIM_THRESHOLD_)
    values_buffer = np.empty((step, operator.pixels.size), flat.dtype)
    columns_buffer = np.empty((operator.pixels.size, step), np.float32)
    for start in range(0, n, step):
        batch = slice(start, min(start + step, n))
        size = batch.stop - start
        values = values_buffer[:size]
        np.take(flat[batch], operator.pixels, axis=1, out=values, mode="clip")
        # (pixels, patterns) C-ordered; the cast to float32 happens in this copy,
        # so integer data never overflows
        columns = (
            columns_buffer
            if size == step
            else np.empty((operator.pixels.size, size), np.float32)
        )
        level = None
        if not exact and values.shape[1]:
            level = values[:, 0].astype(np.float64)
            columns[...] = (values - level[:, None]).T
        else:
            columns[...] = values.T
        out = operator.matrix @ columns
        yield batch, out.reshape(operator.n_radial, operator.npt_azim, -1), level


def _map_batches(patterns, operator, reduce, n_out, dtype=np.float32):
    """Apply ``reduce(bin_means, level) -> (n_out, n_batch)`` to all batches
    (see :func:`_polar_batches` for ``level``); the result in ``dtype``."""
    patterns = np.asarray(patterns)
    lead = patterns.shape[:-2]
    out = np.empty((int(np.prod(lead)), n_out), dtype)
    for batch, p, level in _polar_batches(patterns, operator):
        out[batch] = reduce(p, level).T
    return out.reshape(*lead, n_out)


def _add_level(p, level, where=None):
    """Bin means ``p`` with the level taken out by :func:`_polar_batches` put back
    (only in the bins where ``where`` is True)."""
    if level is None:
        return p
    if where is None:
        return p + level
    return p + where[:, :, None] * level


def polar_means(patterns: np.ndarray, operator: PolarOperator) -> np.ndarray:
    """Polar images ``(..., n_radial, n_azim)`` (float32) of a stack ``(..., ky, kx)``.

    Empty bins (see :class:`PolarOperator`) are 0.
    """
    n_r, n_az = operator.n_radial, operator.npt_azim
    out = _map_batches(
        patterns,
        operator,
        lambda p, level: _add_level(p, level, operator.valid).reshape(n_r * n_az, -1),
        n_r * n_az,
    )
    return out.reshape(*out.shape[:-1], n_r, n_az)


def _check_finite(*arrays) -> None:
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError(NON_FINITE_MESSAGE)


def radial_variance(
    patterns: np.ndarray, operator: PolarOperator, normalize: bool = False
) -> np.ndarray:
    """Variance over azimuth of the polar image at every radius, ``(..., n_radial)``.

    Empty bins are left out of the mean and the variance.  Radii with fewer than
    two valid azimuthal bins give 0.  With ``normalize`` the variance is divided by
    the squared azimuthal mean (0 where the mean is 0).  The variance is taken
    about the mean (two passes over the polar image, which is already in memory):
    ``<P^2> - <P>^2`` in float32 loses all digits when the mean is large, e.g.
    uint16 patterns near 65535.  Deviations are squared in float64 and the
    result is float64: a variance is the square of the intensity scale, so
    float32 patterns below ~1e-19 or above ~1e19 would have a variance float32
    can not hold (zeros, or an infinity mistaken for a NaN pixel).
    """
    valid = operator.valid
    n_valid = valid.sum(axis=1)
    count = np.maximum(n_valid, 1)[:, None]
    all_valid = valid.all()

    def reduce(p, level):
        # one ring at a time through a float64 buffer that stays in cache: the
        # float64 copy of the whole polar image, then the deviations and their
        # squares, each a pass through memory, took twice as long
        mean = np.empty((p.shape[0], p.shape[2]))
        var = np.empty_like(mean)
        ring = np.empty(p.shape[1:])
        for r in range(p.shape[0]):
            np.copyto(ring, p[r])
            mean[r] = ring.sum(axis=0) / count[r]
            ring -= mean[r]
            if not all_valid:
                ring *= valid[r][:, None]
            var[r] = np.einsum("ab,ab->b", ring, ring) / count[r]
        _check_finite(mean, var)
        var[n_valid < 2] = 0
        if normalize:
            mean = _add_level(mean, level)
            mean2 = mean * mean
            var = np.divide(var, mean2, out=np.zeros_like(var), where=mean2 > 0)
        return var

    return _map_batches(patterns, operator, reduce, operator.n_radial, np.float64)


def sector_means(patterns: np.ndarray, operator: PolarOperator) -> np.ndarray:
    """Mean intensity in every (ring, sector) bin, ``(..., n_radial * n_azim)``.

    The sectors of a ring follow each other from 0 degrees, rings from the centre
    out.  Empty sectors take the mean of the valid sectors of the same ring and
    pattern.
    """
    valid = operator.valid
    n_valid = valid.sum(axis=1)
    n_features = operator.n_radial * operator.npt_azim

    def reduce(p, level):
        if not valid.all():
            ring_mean = p.sum(axis=1) / np.maximum(n_valid, 1)[:, None]
            p = np.where(valid[:, :, None], p, ring_mean[:, None, :])
        p = _add_level(p, level)
        _check_finite(p)
        return p.reshape(n_features, -1)

    return _map_batches(patterns, operator, reduce, n_features)


def _disk(radius: int) -> np.ndarray:
    """``(1, 2 r + 1, 2 r + 1)`` disk structuring element: dilation on the
    detector axes of a stack only, never across patterns."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius + radius)[None]


#: Kept weight of a ring (its full weight is 1) below which it counts as
#: clipped away entirely, and keeps its unclipped mean.
_MIN_KEPT_WEIGHT = 1e-6


def _kept_moments(ring, values, keep, plain, square=True):
    """Ring means (and mean squares, or None) over the kept pixels,
    ``(n_radial, n_patterns)``; ``plain`` (and 0) where no weight is kept."""
    kept = keep.astype(np.float64)
    count = ring @ kept
    has = count > _MIN_KEPT_WEIGHT
    count = np.where(has, count, 1.0)
    kept *= values
    means = np.where(has, (ring @ kept) / count, plain)
    if not square:
        return means, None
    kept *= values
    return means, np.where(has, (ring @ kept) / count, 0.0)


@dataclass(frozen=True)
class RingClipping:
    """What :func:`clipped_ring_means` needs of a one-bin-per-ring operator,
    built once per geometry (picklable): the ring weights in float64 and the
    back-projection of ring values onto pixels, weighted over the rings each
    pixel is read by."""

    ring: scipy.sparse.csr_matrix  # (n_radial, n_pixels)
    back: scipy.sparse.csr_matrix  # (n_pixels, n_radial)


def ring_clipping(operator: PolarOperator) -> RingClipping:
    """The :class:`RingClipping` of ``operator`` (``npt_azim=1``)."""
    if operator.npt_azim != 1:
        raise ValueError("clipped_ring_means needs an operator with npt_azim=1.")
    ring = operator.matrix.astype(np.float64).tocsr()
    weight = np.asarray(ring.sum(axis=0)).ravel()
    inverse = np.where(weight > 0, 1 / np.where(weight > 0, weight, 1), 0)
    back = (scipy.sparse.diags(inverse) @ ring.T).tocsr()
    return RingClipping(ring, back)


def clipped_ring_means(
    patterns: np.ndarray,
    operator: PolarOperator,
    n_sigma: float = 3.0,
    spot_radius: int = 2,
    n_iter: int = 2,
    clipping: RingClipping | None = None,
) -> np.ndarray:
    """Azimuthal mean of every ring with the Bragg spots left out, ``(..., n_radial)``.

    ``operator`` has one azimuthal bin per ring (``npt_azim=1``), so its row ``i``
    holds the normalised weights ``P_ij`` of the pixels of ring ``i``.  With a
    per-pattern pixel mask ``m`` (1 = kept) the ring mean and variance are

        mean = P @ (I m) / P @ m,   var = P @ (I^2 m) / P @ m - mean^2,

    two sparse products over the whole stack.  Each of the ``n_iter`` rounds
    flags the kept pixels above ``mean + n_sigma * std`` of their ring (a pixel
    read by two rings takes the threshold of each weighted by its weight in
    it), grows the flags by a disk of ``spot_radius`` pixels on the detector
    axes (the tails of a spot are below the threshold but above the ring), and
    removes them from ``m``; the result is the mean over the pixels kept after
    the last round.  ``n_iter=0`` gives the plain azimuthal mean, the ring means
    of :func:`polar_means`.  A ring left without kept pixels keeps its
    unclipped mean; empty rings are 0.

    The sums are taken in float64 about the mean of each pattern (clipping is
    unchanged by an offset), so ``<I^2> - <I>^2`` keeps its digits on counts
    near 65535.  ``clipping`` (:func:`ring_clipping` of ``operator``) is built
    here when not given; a transform over many chunks builds it once.
    """
    if clipping is None:
        clipping = ring_clipping(operator)
    patterns = check_detector_shape(patterns, operator)
    lead = patterns.shape[:-2]
    ky, kx = operator.detector_shape
    flat = patterns.reshape(-1, ky * kx)
    n = flat.shape[0]
    ring, back = clipping.ring, clipping.back
    valid = operator.valid[:, 0]
    structure = _disk(int(spot_radius)) if spot_radius > 0 else None
    out = np.zeros((n, operator.n_radial), np.float64)
    step = max(1, min(n, _BATCH_VALUES // max(ky * kx, operator.pixels.size, 1)))
    for start in range(0, n, step):
        batch = slice(start, min(start + step, n))
        # (pixels, patterns): every sparse entry updates a contiguous row
        values = flat[batch][:, operator.pixels].astype(np.float64).T
        _check_finite(values)
        level = values.mean(axis=0) if values.shape[0] else np.zeros(values.shape[1])
        values -= level
        plain = ring @ values
        means = plain
        keep = np.ones(values.shape, bool)
        for _ in range(int(n_iter)):
            means, square = _kept_moments(ring, values, keep, plain)
            std = np.sqrt(np.maximum(square - means * means, 0.0))
            outliers = keep & (values > back @ (means + n_sigma * std))
            if structure is not None and outliers.any():
                frames = np.zeros((values.shape[1], ky * kx), bool)
                frames[:, operator.pixels] = outliers.T
                frames = binary_dilation(
                    frames.reshape(-1, ky, kx), structure=structure
                ).reshape(-1, ky * kx)
                outliers = frames[:, operator.pixels].T
            keep &= ~outliers
        if n_iter:
            means, _ = _kept_moments(ring, values, keep, plain, square=False)
        out[batch] = np.where(valid[:, None], means + level, 0.0).T
    return out.reshape(*lead, operator.n_radial)


def find_ring_edges(
    profile: np.ndarray,
    radii: np.ndarray,
    n_rings: int | None = None,
    sigma: float = 0.7,
    prominence: float = 0.01,
    outer: float | None = None,
) -> np.ndarray:
    """Ring edges at the local minima of a radial profile.

    Parameters
    ----------
    profile
        Mean intensity at each radius (e.g. of the maximum pattern of a scan).
    radii
        The radii of ``profile`` (uniformly spaced), in pixels.
    n_rings
        Keep at most this many rings, the innermost, between the ``n_rings + 1``
        minima of largest prominence.
    sigma
        Gaussian smoothing of the profile, in samples.
    prominence
        Smallest depth of a minimum, as a fraction of the range of the smoothed
        log-profile (the logarithm keeps the direct beam, orders of magnitude
        brighter than the rings, from setting the scale).
    outer
        Outer edge of the ring beyond the last minimum; default half a sample past
        the last radius.

    Returns
    -------
    numpy.ndarray
        ``(n_rings, 2)`` inner and outer radius of each ring (pixels): rings run
        between consecutive minima (the central beam, inside the first minimum,
        is left out); the part beyond the last minimum is a ring too when the
        profile has a maximum there.  Minima are refined to sub-sample precision
        with a parabola through three samples.
    """
    profile = np.asarray(profile, dtype=float)
    radii = np.asarray(radii, dtype=float)
    smooth = gaussian_filter1d(profile, sigma, mode="nearest") if sigma > 0 else profile
    floor = smooth.min()
    top = smooth.max()
    # a log scale, offset so the faintest radius sits a decade below the brightest
    smooth = np.log(smooth - floor + max(top - floor, 1e-300) * 1e-3)
    span = float(np.ptp(smooth))
    if span == 0:
        return np.empty((0, 2))
    minima, props = find_peaks(-smooth, prominence=prominence * span)
    if n_rings is not None and minima.size > n_rings + 1:
        strongest = np.argsort(props["prominences"])[::-1][: n_rings + 1]
        minima = np.sort(minima[strongest])
    if minima.size == 0:
        return np.empty((0, 2))
    left, mid, right = smooth[minima - 1], smooth[minima], smooth[minima + 1]
    curvature = left - 2 * mid + right
    shift = np.where(
        curvature > 0, 0.5 * (left - right) / np.where(curvature > 0, curvature, 1), 0
    )
    step = radii[1] - radii[0]
    edges = list(radii[minima] + np.clip(shift, -0.5, 0.5) * step)
    maxima, _ = find_peaks(smooth, prominence=prominence * span)
    if np.any(maxima > minima[-1]):
        edges.append(float(radii[-1] + 0.5 * step) if outer is None else float(outer))
    edges = np.asarray(edges)
    rings = np.stack([edges[:-1], edges[1:]], axis=1)
    if n_rings is not None:
        rings = rings[:n_rings]
    return rings
