"""Bragg-disk features: detected peaks rasterised on a coarse detector grid.

Bruefach, Ophus & Scott 2022 (Microsc Microanal 28, 1998): the peaks of every
pattern are binned on a grid of ``bin_size`` x ``bin_size`` detector pixels and
the binned counts (or summed intensities) are the features.  Here the grid is
anchored on the calibrated beam centre (a bin is centred on it) and every peak is
spread bilinearly over the four bins around it,

    u = (y - cy) / bin_size,  v = (x - cx) / bin_size,
    weight (1 - fu)(1 - fv), (1 - fu) fv, fu (1 - fv), fu fv  to bins
    (iu, iv), (iu, iv + 1), (iu + 1, iv), (iu + 1, iv + 1),

with ``iu = floor(u)`` and ``fu = u - iu`` (same for v), so a peak moving by less
than a bin changes the features continuously instead of jumping between bins.
Peaks off the detector are dropped and counted per pattern; a peak is never
folded into another row of the grid (a flat index is only formed after the row
and column are checked).

A chunk of ragged peak lists is rasterised with one ``numpy.bincount``: the lists
are concatenated with an owner index, not visited pattern by pattern.  Pure numpy;
no hyperspy import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NON_FINITE_MESSAGE = (
    "Patterns contain NaN or infinite pixels: the peak finder skips such a "
    "pattern without a word. Replace them first, e.g. `s.map(np.nan_to_num)`."
)


@dataclass(frozen=True)
class BraggGrid:
    """Geometry of the feature grid.

    Attributes
    ----------
    bin_size
        Bin width in detector pixels.
    center
        Beam centre ``(cy, cx)`` in detector pixels; the bin with index 0 is
        centred on it.
    first
        Bin index (relative to the beam-centre bin) of grid row 0 and column 0.
    shape
        ``(n_rows, n_cols)`` of the grid; features are its bins in row-major order.
    detector_shape
        ``(ky, kx)``; a peak is on the detector when ``-0.5 <= y <= ky - 0.5`` and
        ``-0.5 <= x <= kx - 0.5`` (pixel edges).
    """

    bin_size: float
    center: tuple[float, float]
    first: tuple[int, int]
    shape: tuple[int, int]
    detector_shape: tuple[int, int]

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]


def bragg_grid(
    detector_shape: tuple[int, int], center: tuple[float, float], bin_size: float
) -> BraggGrid:
    """The smallest grid of bins centred on ``center`` that holds every bilinear
    share of every peak on the detector."""
    first, shape = [], []
    for k, c in zip(detector_shape, center):
        lo = math.floor((-0.5 - c) / bin_size)
        hi = math.ceil((k - 0.5 - c) / bin_size)
        hi = max(hi, lo + 1)  # two bins at least, so the upper neighbour always exists
        first.append(lo)
        shape.append(hi - lo + 1)
    return BraggGrid(
        float(bin_size),
        (float(center[0]), float(center[1])),
        (int(first[0]), int(first[1])),
        (int(shape[0]), int(shape[1])),
        (int(detector_shape[0]), int(detector_shape[1])),
    )


def concatenate_peaks(
    peaks: np.ndarray, n_columns: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Stack a ragged object array of peak tables into one table.

    Parameters
    ----------
    peaks
        Object array (any shape); each element a ``(n_i, c)`` array with
        ``c >= n_columns`` (or None / an empty array for no peak).  Rows holding
        NaN are HyperSpy's "no peak" marker and are skipped.
    n_columns
        Number of leading columns to keep.

    Returns
    -------
    table : numpy.ndarray
        ``(n, n_columns)`` float64 rows of all patterns, in the flattened (C) order
        of ``peaks``.
    owner : numpy.ndarray
        ``(n,)`` flat index of the pattern each row belongs to.
    """
    # the ragged lists can only be walked in Python; everything after is vectorised
    tables, owners = [], []
    for i, p in enumerate(peaks.ravel()):
        t = np.asarray([] if p is None else p, dtype=float)
        if t.size == 0:
            continue  # no peak in this pattern
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(len(t), -1)
        if t.shape[1] < n_columns:
            if np.isfinite(t).any():
                raise ValueError(
                    f"Every peak table needs at least {n_columns} columns, got a "
                    f"table of shape {t.shape}."
                )
            continue
        tables.append(t[:, :n_columns])
        owners.append(i)
    counts = np.fromiter((len(t) for t in tables), dtype=np.intp, count=len(tables))
    table = np.concatenate(tables, axis=0) if tables else np.zeros((0, n_columns))
    owner = np.repeat(np.asarray(owners, dtype=np.intp), counts)
    finite = np.isfinite(table).all(axis=1)
    return table[finite], owner[finite]


def rasterise_peaks(
    positions: np.ndarray,
    owner: np.ndarray,
    n_patterns: int,
    grid: BraggGrid,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spread peaks bilinearly on the grid of every pattern.

    Parameters
    ----------
    positions
        ``(n, 2)`` peak positions ``(y, x)`` in detector pixels.
    owner
        ``(n,)`` pattern index of every peak, in ``[0, n_patterns)``.
    n_patterns
        Number of patterns (rows of the output).
    grid
        From :func:`bragg_grid`.
    weights
        ``(n,)`` weight of every peak (its intensity); None counts each peak as 1.

    Returns
    -------
    features : numpy.ndarray
        ``(n_patterns, n_rows * n_cols)`` float32, row-major bins.
    dropped : numpy.ndarray
        ``(n_patterns,)`` number of peaks off the detector in every pattern.
    """
    y = positions[:, 0]
    x = positions[:, 1]
    ky, kx = grid.detector_shape
    on_detector = (y >= -0.5) & (y <= ky - 0.5) & (x >= -0.5) & (x <= kx - 0.5)
    dropped = np.bincount(owner[~on_detector], minlength=n_patterns)
    n_rows, n_cols = grid.shape
    u = (y[on_detector] - grid.center[0]) / grid.bin_size - grid.first[0]
    v = (x[on_detector] - grid.center[1]) / grid.bin_size - grid.first[1]
    # the grid is built to hold every peak on the detector; clip only against
    # floating-point round-off at its last edge, and drop the round-off of
    # calibrated positions (1e-9 bin) so a peak on a bin centre stays in one bin
    u = np.clip(np.round(u, 9), 0, n_rows - 1)
    v = np.clip(np.round(v, 9), 0, n_cols - 1)
    # the lower bin stops one short of the last so the upper neighbour exists
    # (a peak on the last bin centre gives it weight 1 through fu = 1)
    iu = np.minimum(np.floor(u).astype(np.intp), n_rows - 2)
    iv = np.minimum(np.floor(v).astype(np.intp), n_cols - 2)
    fu = u - iu
    fv = v - iv
    w = np.ones_like(u) if weights is None else weights[on_detector].astype(float)
    base = owner[on_detector] * grid.size + iu * n_cols + iv
    index = np.concatenate([base, base + 1, base + n_cols, base + n_cols + 1])
    share = np.concatenate(
        [(1 - fu) * (1 - fv) * w, (1 - fu) * fv * w, fu * (1 - fv) * w, fu * fv * w]
    )
    features = np.bincount(index, weights=share, minlength=n_patterns * grid.size)
    features = features.reshape(n_patterns, grid.size).astype(np.float32)
    return features, dropped


def sample_patterns(patterns: np.ndarray, positions: np.ndarray, owner: np.ndarray):
    """Intensity of ``patterns`` ``(n_patterns, ky, kx)`` at the pixel nearest each
    ``(y, x)`` position (clipped to the detector)."""
    ky, kx = patterns.shape[-2:]
    iy = np.clip(np.rint(positions[:, 0]).astype(np.intp), 0, ky - 1)
    ix = np.clip(np.rint(positions[:, 1]).astype(np.intp), 0, kx - 1)
    return patterns[owner, iy, ix]


def bragg_features(
    peaks: np.ndarray,
    patterns: np.ndarray | None = None,
    grid: BraggGrid | None = None,
    columns: tuple[int, int] = (0, 1),
    offsets: tuple[float, float] = (0.0, 0.0),
    scales: tuple[float, float] = (1.0, 1.0),
    intensity_column: int | None = None,
    intensity: bool = False,
    pattern_threshold_rel: float | None = None,
) -> np.ndarray:
    """Bragg features of a chunk of patterns, plus the count of dropped peaks.

    Parameters
    ----------
    peaks
        Object array of navigation shape; each element a peak table whose
        ``columns`` hold ``(y, x)`` as ``offset + scale * pixel`` (pixels when
        ``offsets = 0`` and ``scales = 1``).
    patterns
        ``(*peaks.shape, ky, kx)`` patterns, used to read peak intensities when
        ``intensity`` is True and ``intensity_column`` is None; when given they
        must be finite (a ValueError names the fix otherwise).
    grid
        From :func:`bragg_grid`.
    columns, offsets, scales
        Where ``y`` and ``x`` are in the tables and their calibration.
    intensity_column
        Column of the tables holding the peak intensity, or None.
    intensity
        Weight each peak by its intensity instead of 1.
    pattern_threshold_rel
        Keep only peaks where the pattern is at least this fraction of its
        brightest pixel (rejects correlation peaks in dark, noisy regions); the
        rejected peaks are not counted as dropped.

    Returns
    -------
    numpy.ndarray
        ``(*peaks.shape, n_bins + 1)`` float32: the ``n_bins`` features, then the
        number of peaks dropped because they lie off the detector.
    """
    nav_shape = peaks.shape
    n_patterns = int(np.prod(nav_shape))
    use_column = intensity and intensity_column is not None
    n_columns = max(columns + ((intensity_column,) if use_column else ())) + 1
    if patterns is not None and not np.isfinite(patterns).all():
        raise ValueError(NON_FINITE_MESSAGE)
    table, owner = concatenate_peaks(peaks, n_columns)
    positions = (table[:, list(columns)] - np.asarray(offsets)) / np.asarray(scales)
    weights = np.nan_to_num(table[:, intensity_column]) if use_column else None
    if pattern_threshold_rel is not None or (intensity and not use_column):
        flat = np.asarray(patterns).reshape((n_patterns,) + patterns.shape[-2:])
        values = sample_patterns(flat, positions, owner)
        if pattern_threshold_rel is not None:
            brightest = flat.reshape(n_patterns, -1).max(axis=1)
            keep = values >= pattern_threshold_rel * brightest[owner]
            positions, owner, values = positions[keep], owner[keep], values[keep]
            weights = weights[keep] if weights is not None else None
        if intensity and not use_column:
            weights = values
    features, dropped = rasterise_peaks(positions, owner, n_patterns, grid, weights)
    out = np.concatenate([features, dropped[:, None].astype(np.float32)], axis=1)
    return out.reshape(nav_shape + (grid.size + 1,))
