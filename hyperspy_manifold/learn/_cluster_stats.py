"""Cluster mean and standard-deviation patterns in data space, in one lazy pass.

Every navigation chunk contributes, for each cluster i, the sum of its member
patterns, the sum of their squares and their count (a one-hot label matrix times
the chunk, Li et al. 2019 Fig. 7 means); dask adds the per-chunk partials in a
tree, so only ``n_clusters x n_pixels`` numbers per chunk are ever held, never the
dataset.  The similarity kernel (Li Fig. 4) maps a chunk to
``1 / (eps + ||x - mu_i||)`` with ``||x||^2 - 2 x.mu + ||mu||^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dask.array as da
import numpy as np

from hyperspy_manifold._chunks import compute, pattern_stack

#: Patterns per batch inside a chunk: ``_BATCH_ELEMENTS // n_pixels`` (32 patterns
#: of 128 x 128).  Each batch is converted to float64 into one buffer of a few
#: MB reused for the whole chunk: chunk-sized float64 temporaries (tens of MB,
#: allocated, page-faulted and freed at every step) made both kernels 1.5-3 times
#: slower (measured on 256 patterns of 128 x 128, docs/scaling.rst).
_BATCH_ELEMENTS = 2**19
#: Pixels per batch of the cluster sums: 4 patterns of 128 x 128 (512 kB of
#: float64), which stay in a core's cache between the subtraction, the squares
#: and the two additions (measured 2.5x faster than the product of a one-hot
#: label matrix by 32-pattern batches, on 512 patterns of 128 x 128).
_SUM_ELEMENTS = 2**16

NON_FINITE_PATTERNS = (
    "Patterns contain NaN or infinite pixels, so cluster means and distances "
    "would be NaN: replace them first, e.g. `s.map(np.nan_to_num)`, or leave "
    "those scan positions out (`navigation_mask`, or label -2)."
)


def _batch_rows(n_rows: int, n_pixels: int) -> int:
    """Patterns per batch (at least one, at most ``n_rows``)."""
    return max(1, min(n_rows, _BATCH_ELEMENTS // max(n_pixels, 1)))


def _chunk_sums(block, labels, n_rows, level):
    """``(1, ..., 1, n_rows, 2 P + 1)``: sums and sums of squares of ``x - level``
    and counts of a chunk.

    The chunk's rows are sorted by cluster once; each cluster's members are then
    added a few patterns at a time (``_SUM_ELEMENTS``) through one small float64
    buffer that stays in cache, into that cluster's two accumulator rows.  Integer
    patterns give integer float64 sums, exact whatever the order of the additions.
    (A one-hot label matrix times batches of 32 patterns, the previous kernel,
    streamed 8 MB batches through memory and took 2.5 times as long.)
    """
    nav_ndim = block.ndim - 2
    n_pixels = block.shape[-1] * block.shape[-2]
    X = block.reshape(-1, n_pixels)
    lab = labels.reshape(-1)
    out = np.zeros((n_rows, 2 * n_pixels + 1))
    rows = np.flatnonzero((lab >= 0) & (lab < n_rows))
    out[:, -1] = np.bincount(lab[rows], minlength=n_rows)
    if rows.size:
        rows = rows[np.argsort(lab[rows], kind="stable")]
        bounds = np.cumsum(np.concatenate(([0], out[:, -1].astype(np.intp))))
        step = max(1, min(rows.size, _SUM_ELEMENTS // max(n_pixels, 1)))
        buf = np.empty((step, n_pixels))
        for row in range(n_rows):
            sums, squares = out[row, :n_pixels], out[row, n_pixels:-1]
            members = rows[bounds[row] : bounds[row + 1]]
            for start in range(0, members.size, step):
                sel = members[start : start + step]
                x = buf[: sel.size]
                np.subtract(X[sel], level, out=x)
                sums += np.add.reduce(x, axis=0)
                np.multiply(x, x, out=x)
                squares += np.add.reduce(x, axis=0)
    return out.reshape((1,) * nav_ndim + out.shape)


@dataclass
class ClusterStatistics:
    """Per-cluster pattern statistics, flattened patterns ``(n_rows, n_pixels)``."""

    sums: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    counts: np.ndarray
    global_mean: np.ndarray


def cluster_statistics(s, row_index: np.ndarray, n_rows: int, show_progressbar=None):
    """Sums, means and standard deviations of the patterns of every cluster.

    Parameters
    ----------
    s : BaseSignal
        The patterns (eager or lazy); never loaded whole.
    row_index : numpy.ndarray of int
        Navigation-shaped (or flat) cluster row of every position; negative =
        excluded (masked positions).
    n_rows : int
        Number of clusters (rows).

    The global mean is the mean of every non-excluded pattern.  Empty rows get
    NaN means and standard deviations.  Sums are accumulated about the first
    pattern when float32 can not hold the dtype (``<x^2> - <x>^2`` loses every
    digit of a small spread on a large level, e.g. uint32 counts near 2**32);
    non-finite pixels of included positions raise a ValueError.
    """
    data = pattern_stack(s)
    nav_ndim = data.ndim - 2
    n_pixels = data.shape[-1] * data.shape[-2]
    level = np.zeros(n_pixels)
    if not np.can_cast(data.dtype, np.float32):
        # float64 holds uint8/uint16/float32 sums of squares with digits to spare
        first = np.asarray(compute(data[(0,) * nav_ndim], False), dtype=np.float64)
        if np.isfinite(first).all():
            level = first.ravel()
    nav_chunks = data.chunks[:nav_ndim]
    labels = np.asarray(row_index, dtype=np.int64).reshape(data.shape[:nav_ndim])
    labels = da.from_array(
        labels[..., None, None], chunks=nav_chunks + ((1,), (1,)), name=False
    )
    out_chunks = tuple((1,) * len(c) for c in nav_chunks) + (
        (n_rows,),
        (2 * n_pixels + 1,),
    )
    partial = da.map_blocks(
        _chunk_sums,
        data,
        labels,
        n_rows=n_rows,
        level=level,
        chunks=out_chunks,
        dtype=np.float64,
    )
    total = compute(partial.sum(axis=tuple(range(nav_ndim))), show_progressbar)
    if not np.isfinite(total).all():
        raise ValueError(NON_FINITE_PATTERNS)
    counts = total[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted_means = total[:, :n_pixels] / counts[:, None]
        var = total[:, n_pixels:-1] / counts[:, None] - shifted_means**2
        global_mean = total[:, :n_pixels].sum(axis=0) / counts.sum() + level
    sums = total[:, :n_pixels] + counts[:, None] * level
    means = shifted_means + level
    stds = np.sqrt(np.maximum(var, 0))
    stds[counts == 0] = np.nan
    return ClusterStatistics(sums, means, stds, counts.astype(int), global_mean)


def similarity_kernel(block, means, means_sq, eps, level=0.0, keep=None):
    """``1 / (eps + ||x - mu_i||_2)`` of every pattern of a chunk to every mean.

    ``means`` (and ``means_sq``, their squared norms) are taken about ``level``,
    which is subtracted from every pattern too: distances do not change, and the
    expansion ``||x||^2 - 2 x.mu + ||mu||^2`` keeps its digits on a large level.
    ``keep`` (flattened pixels, False = masked) zeroes the masked pixels of the
    patterns; the caller zeroes them in ``means``, so they add no distance.
    """
    nav_shape = block.shape[:-2]
    n_pixels = block.shape[-1] * block.shape[-2]
    X = block.reshape(-1, n_pixels)
    out = np.empty((X.shape[0], means.shape[0]))
    masked = None if keep is None else ~np.asarray(keep, dtype=bool)
    step = _batch_rows(X.shape[0], n_pixels)
    buf = np.empty((step, n_pixels))
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        x = buf[: stop - start]
        np.subtract(X[start:stop], level, out=x)
        if masked is not None:
            np.copyto(x, 0.0, where=masked)
        d2 = np.einsum("ij,ij->i", x, x)[:, None] - 2 * (x @ means.T) + means_sq
        out[start:stop] = 1.0 / (eps + np.sqrt(np.maximum(d2, 0)))
    return out.reshape(nav_shape + (means.shape[0],))
