"""Bright-field (BF) disk of a stack of patterns: finding it, and its features.

Finding the disk (:func:`find_disk`) works on one pattern, the mean of a scan:
after a 3 x 3 median filter (hot pixels), the pixels above half way between the
lowest and the highest value form the half-maximum region; the connected part
holding the beam centre (or, when the centre is dark, the brightest pixel) with
its holes filled is the disk.  Its radius is that of the circle of the same area
(the full width at half maximum of a soft-edged disk is its diameter).

The features of every pattern (:func:`disk_features`) are

* the disk resampled on a ``bins x bins`` grid of square cells spanning the
  disk's bounding square: the area-weighted mean of the pattern over the part of
  each cell that lies inside the disk (pixels as unit squares; cells with less
  than a quarter of their area inside are empty and give 0);
* optionally the first moments inside an aperture slightly larger than the disk
  (so a shifted disk stays inside it): the centre of mass (x, y) relative to the
  beam centre in calibrated units (the DPC / COM signal of Müller et al. 2014,
  Nat. Commun. 5, 5653) and the total intensity.

The area weight of pixel (y, x) in cell (i, j) is ``Wy[i, y] * Wx[j, x] * c[y, x]``:
``Wy`` and ``Wx`` are the overlap lengths of the pixel with the cell's rows and
columns, ``c`` the share of the pixel inside the disk (sub-sampled on the disk
edge only).  So the operator is separable, built once, and a whole chunk is
resampled with two matrix products.  Pure numpy/scipy; no hyperspy import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Cells with less than this share of their area inside the disk are empty.
MIN_CELL_COVERAGE = 0.25
#: Sub-samples per pixel side where a pixel straddles the disk edge.
EDGE_SUBSAMPLES = 5
#: Names of the moment features, in output order.
MOMENT_NAMES = ("com_x", "com_y", "intensity")

NON_FINITE_MESSAGE = (
    "Patterns contain NaN or infinite pixels: exclude them with `signal_mask` "
    "(True = excluded) or replace them before the bright-field features."
)


@dataclass(frozen=True, eq=False)
class DiskOperator:
    """Area-weighted resampling of one disk geometry, and its moment aperture.

    Everything lives on the crop ``rows`` x ``cols`` of the detector (the
    bounding box of the moment aperture); picklable, so it ships with dask graphs.
    """

    rows: tuple[int, int]
    cols: tuple[int, int]
    row_weights: np.ndarray  # (bins, n_rows) overlap of crop rows with cell rows
    col_weights: np.ndarray  # (bins, n_cols) overlap of crop columns with cell columns
    coverage: np.ndarray  # (n_rows, n_cols) share of each pixel inside the disk
    inverse_area: np.ndarray  # (bins, bins) 1 / valid area of each cell, 0 if empty
    aperture: np.ndarray  # (n_rows, n_cols) moment aperture, 0 on masked pixels
    valid: np.ndarray | None  # (n_rows, n_cols) False on masked pixels; None: no mask
    offset_x: np.ndarray  # (n_cols,) calibrated x of crop columns from the centre
    offset_y: np.ndarray  # (n_rows,) calibrated y of crop rows from the centre

    @property
    def bins(self) -> int:
        return self.row_weights.shape[0]

    @property
    def empty_cells(self) -> np.ndarray:
        """``(bins, bins)`` bool, True for cells that always give 0."""
        return self.inverse_area == 0


@dataclass(frozen=True)
class DiskEstimate:
    """The half-maximum region of a pattern (see :func:`find_disk`)."""

    radius: float
    """Radius in x pixels of the circle with the region's area."""
    centroid: tuple[float, float]
    """``(cy, cx)`` centroid of the region, pixels."""
    intensity_share: float
    """Share of the pattern's intensity inside the region."""
    edge_contrast: float
    """Mean inside the region over the mean in a ring just outside it (width a
    quarter of the radius, at least 2 pixels); inf when nothing lies outside."""


def find_disk(
    pattern: np.ndarray,
    center: tuple[float, float],
    mask: np.ndarray | None = None,
    pixel_aspect: float = 1.0,
) -> DiskEstimate:
    """Find the bright disk of ``pattern`` (``(ky, kx)``) by its half maximum.

    ``center`` is ``(cy, cx)`` in pixels, ``mask`` True = excluded, and
    ``pixel_aspect`` is ``scale_x / scale_y`` (the radius is in x pixels).
    Raises ``ValueError`` for a flat or non-finite pattern.
    """
    pattern = np.asarray(pattern, dtype=np.float64)
    valid = np.ones(pattern.shape, bool) if mask is None else ~np.asarray(mask, bool)
    values = pattern[valid]
    if not np.isfinite(values).all():
        raise ValueError(NON_FINITE_MESSAGE)
    filled = np.where(valid, pattern, np.median(values))
    smooth = ndimage.median_filter(filled, size=3, mode="nearest")
    low, high = smooth[valid].min(), smooth[valid].max()
    if not high > low:
        raise ValueError(
            "No bright-field disk: the mean pattern is flat. Give `radius`."
        )
    above = (smooth >= low + 0.5 * (high - low)) & valid
    regions, _ = ndimage.label(above)
    cy, cx = (int(round(c)) for c in center)
    seed = regions[cy, cx]
    if seed == 0:
        peak = np.where(valid, smooth, -np.inf).argmax()
        seed = regions.ravel()[peak]
    disk = ndimage.binary_fill_holes(regions == seed)
    area = float(disk.sum())
    radius = float(np.sqrt(area / (np.pi * pixel_aspect)))
    centroid = tuple(float(c) for c in ndimage.center_of_mass(disk))
    total = pattern[valid].sum()
    share = float(pattern[disk & valid].sum() / total) if total > 0 else 0.0
    width = max(2.0, 0.25 * radius)
    ring = (ndimage.distance_transform_edt(~disk) <= width) & ~disk & valid
    inside = pattern[disk & valid].mean()
    outside = pattern[ring].mean() if ring.any() else 0.0
    contrast = float(inside / outside) if outside > 0 else float("inf")
    return DiskEstimate(radius, centroid, share, contrast)


def _overlaps(edges: np.ndarray, n_pixels: int, first: int) -> np.ndarray:
    """``(len(edges) - 1, n_pixels)`` overlap lengths of pixels ``first ..`` (unit
    intervals centred on their index) with the intervals between ``edges``."""
    centres = first + np.arange(n_pixels)
    lo = np.maximum(edges[:-1, None], centres[None, :] - 0.5)
    hi = np.minimum(edges[1:, None], centres[None, :] + 0.5)
    return np.clip(hi - lo, 0, None)


def _disk_coverage(y, x, cy, cx, ry, rx) -> np.ndarray:
    """Share of every pixel (rows ``y``, columns ``x``) inside the ellipse."""
    inside = lambda yy, xx: ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2  # noqa: E731
    d = np.sqrt(inside(y[:, None], x[None, :]))
    # a pixel whose centre is further than its half-diagonal from the edge is
    # wholly inside or outside
    margin = np.sqrt(0.5) / min(ry, rx) * 1.01
    coverage = (d <= 1).astype(np.float64)
    edge = np.nonzero(np.abs(d - 1) < margin)
    if edge[0].size:
        sub = (np.arange(EDGE_SUBSAMPLES) + 0.5) / EDGE_SUBSAMPLES - 0.5
        yy = y[edge[0]][:, None, None] + sub[None, :, None]
        xx = x[edge[1]][:, None, None] + sub[None, None, :]
        coverage[edge] = (inside(yy, xx) <= 1).mean(axis=(1, 2))
    return coverage


def disk_operator(
    detector_shape: tuple[int, int],
    center: tuple[float, float],
    radius: float,
    bins: int,
    scale: tuple[float, float] = (1.0, 1.0),
    mask: np.ndarray | None = None,
    aperture_radius: float | None = None,
) -> DiskOperator:
    """Build the resampling of the disk of ``radius`` (x pixels) about ``center``.

    ``center`` is ``(cy, cx)`` in pixels, ``scale`` the detector's ``(scale_y,
    scale_x)`` (a circle in calibrated units is an ellipse in pixels when they
    differ), ``mask`` True = excluded (left out of cells and moments) and
    ``aperture_radius`` (x pixels, default ``1.25 * radius``) the moment aperture,
    clipped to the detector.  The disk itself must lie on the detector.
    """
    ky, kx = detector_shape
    cy, cx = center
    sy, sx = (abs(float(v)) for v in scale)
    rx = float(radius)
    ry = rx * sx / sy
    ax = rx * 1.25 if aperture_radius is None else float(aperture_radius)
    ay = ax * sx / sy
    r0, r1 = max(0, int(np.floor(cy - ay))), min(ky, int(np.ceil(cy + ay)) + 1)
    c0, c1 = max(0, int(np.floor(cx - ax))), min(kx, int(np.ceil(cx + ax)) + 1)
    y = np.arange(r0, r1, dtype=np.float64)
    x = np.arange(c0, c1, dtype=np.float64)
    row_weights = _overlaps(np.linspace(cy - ry, cy + ry, bins + 1), y.size, r0)
    col_weights = _overlaps(np.linspace(cx - rx, cx + rx, bins + 1), x.size, c0)
    coverage = _disk_coverage(y, x, cy, cx, ry, rx)
    valid = None if mask is None else ~np.asarray(mask, bool)[r0:r1, c0:c1]
    if valid is not None:
        coverage *= valid
    area = row_weights @ coverage @ col_weights.T
    cell_area = (2 * ry / bins) * (2 * rx / bins)
    with np.errstate(divide="ignore"):
        inverse_area = np.where(area >= MIN_CELL_COVERAGE * cell_area, 1 / area, 0.0)
    dy, dx = y - cy, x - cx
    aperture = ((dy[:, None] / ay) ** 2 + (dx[None, :] / ax) ** 2 <= 1).astype(float)
    if valid is not None:
        aperture *= valid
    return DiskOperator(
        rows=(r0, r1),
        cols=(c0, c1),
        row_weights=row_weights,
        col_weights=col_weights,
        coverage=coverage,
        inverse_area=inverse_area,
        aperture=aperture,
        offset_x=dx * sx,
        offset_y=dy * sy,
        valid=valid,
    )


def disk_features(
    block: np.ndarray, operator: DiskOperator, moments: bool = True
) -> np.ndarray:
    """Features of a stack ``(..., ky, kx)`` -> ``(..., bins**2 [+ 3])`` float32.

    Cells in row-major order (y, then x, both increasing with the pixel index),
    then, with ``moments``, ``MOMENT_NAMES``: centre of mass x, y (0 where the
    aperture holds no intensity) and the total intensity in the aperture.
    Non-finite pixels read by the operator (masked ones excepted) raise
    ``ValueError``.
    """
    (r0, r1), (c0, c1) = operator.rows, operator.cols
    crop = np.asarray(block[..., r0:r1, c0:c1], dtype=np.float64)
    if operator.valid is not None:
        # a masked pixel never counts, whatever its value (NaN included)
        crop = np.where(operator.valid, crop, 0.0)
    if not np.isfinite(crop).all():
        raise ValueError(NON_FINITE_MESSAGE)
    cells = operator.row_weights @ (crop * operator.coverage) @ operator.col_weights.T
    cells *= operator.inverse_area
    out = [cells.reshape(crop.shape[:-2] + (-1,))]
    if moments:
        weighted = crop * operator.aperture
        total = weighted.sum(axis=(-2, -1))
        first_x = weighted.sum(axis=-2) @ operator.offset_x
        first_y = weighted.sum(axis=-1) @ operator.offset_y
        nonzero = total != 0
        safe = np.where(nonzero, total, 1.0)
        com_x = np.where(nonzero, first_x / safe, 0.0)
        com_y = np.where(nonzero, first_y / safe, 0.0)
        out.append(np.stack([com_x, com_y, total], axis=-1))
    return np.concatenate(out, axis=-1).astype(np.float32)
