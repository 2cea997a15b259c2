"""Per-pattern ring statistics of fluctuation electron microscopy (FEM).

For every pattern and every ring (radial bin) k, from the pixels of the ring:

* the ring mean ``I(k) = sum_j w_kj I_j``, and
* the normalised ring variance ``v(k) = Var_ring(I) / I(k)^2``, the variance of
  the pixel intensities of the ring over their squared mean (Daulton, Bondi &
  Kelton, Ultramicroscopy 110 (2010) 1279, the per-pattern term of the "ring
  ensemble" variance V_r; Voyles & Muller, Ultramicroscopy 93 (2002) 147).

The weights ``w_kj`` come from the sparse polar operator of
:mod:`hyperspy_manifold.kernels.polar` (bilinear weights averaged over each polar
bin): a ring row is the mean of the rows of its valid azimuthal bins, so every
direction counts equally even when a mask hides part of the ring.  The variance
is the weighted variance of the pixels divided by ``1 - sum_j w_kj^2`` (unbiased
for these weights), so Poisson counts of mean ``c`` give ``v = 1/c`` at every
radius, also on the few pixels of the innermost rings.  Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from hyperspy_manifold.kernels.polar import (
    _BATCH_VALUES,
    NON_FINITE_MESSAGE,
    PolarOperator,
    check_detector_shape,
)


@dataclass(frozen=True)
class RingOperator:
    """Weights of the pixels of every ring (picklable).

    Attributes
    ----------
    matrix
        CSR float64 ``(n_radial, pixels.size)``, rows summing to 1 (0 for rings
        without a valid bin).
    pixels
        Flat detector indices the matrix reads.
    correction
        ``(n_radial,)`` ``1 / (1 - sum_j w_kj^2)``, 0 where a ring has a single
        effective pixel (no variance can be measured there).
    valid
        ``(n_radial,)`` bool, False for rings without a valid bin.
    detector_shape
        ``(ky, kx)``.
    """

    matrix: scipy.sparse.csr_matrix
    pixels: np.ndarray
    correction: np.ndarray
    valid: np.ndarray
    detector_shape: tuple[int, int]

    @property
    def n_radial(self) -> int:
        return self.matrix.shape[0]


def ring_operator(operator: PolarOperator) -> RingOperator:
    """Collapse the azimuthal bins of a polar operator into one row per ring."""
    n_radial, n_azim = operator.valid.shape
    n_valid = operator.valid.sum(axis=1)
    share = np.where(n_valid > 0, 1.0 / np.maximum(n_valid, 1), 0.0)
    group = scipy.sparse.csr_matrix(
        (
            np.repeat(share, n_azim),
            (np.repeat(np.arange(n_radial), n_azim), np.arange(n_radial * n_azim)),
        ),
        shape=(n_radial, n_radial * n_azim),
    )
    matrix = (group @ operator.matrix.astype(np.float64)).tocsr()
    # the operator is float32: make every row sum to 1 in float64, so a uniform
    # pattern has exactly zero variance
    total = np.asarray(matrix.sum(axis=1)).ravel()
    matrix = (
        scipy.sparse.diags(np.where(total > 0, 1.0 / np.where(total > 0, total, 1), 0))
        @ matrix
    ).tocsr()
    sum_w2 = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    single = (total <= 0) | (sum_w2 >= 1 - 1e-9)
    correction = np.where(single, 0.0, 1.0 / np.where(single, 2.0, 1.0 - sum_w2))
    return RingOperator(
        matrix=matrix,
        pixels=operator.pixels,
        correction=correction,
        valid=total > 0,
        detector_shape=operator.detector_shape,
    )


def ring_statistics(
    patterns: np.ndarray, ring: RingOperator, keep: np.ndarray | None = None
) -> np.ndarray:
    """Ring mean and normalised ring variance, ``(..., 2, n_radial)`` float64.

    ``[..., 0, :]`` is the ring mean ``I(k)``, ``[..., 1, :]`` the normalised
    variance ``v(k)`` (0 where the ring mean is 0).  ``keep`` (shaped like the
    leading axes, True = use) skips patterns: their statistics are 0 and they
    are never read, so excluded patterns may hold NaN.
    """
    patterns = check_detector_shape(patterns, ring, "ring")
    lead = patterns.shape[:-2]
    flat = patterns.reshape(-1, patterns.shape[-2] * patterns.shape[-1])
    out = np.zeros((flat.shape[0], 2, ring.n_radial))
    rows = np.arange(flat.shape[0])
    if keep is not None:
        rows = rows[np.broadcast_to(np.asarray(keep, bool), lead).ravel()]
    step = max(1, _BATCH_VALUES // max(ring.pixels.size, 1))
    for start in range(0, rows.size, step):
        batch = rows[start : start + step]
        values = np.take(flat[batch], ring.pixels, axis=1).astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError(NON_FINITE_MESSAGE)
        # moments about the pattern's own mean: counts near 2**32 keep their
        # differences when squared
        level = values.mean(axis=1, keepdims=True)
        values -= level
        columns = values.T
        first = ring.matrix @ columns  # (n_radial, n_batch)
        second = ring.matrix @ (columns * columns)
        variance = np.maximum(second - first * first, 0) * ring.correction[:, None]
        mean = first + ring.valid[:, None] * level.T
        mean2 = mean * mean
        ratio = np.divide(variance, mean2, out=np.zeros_like(mean2), where=mean2 > 0)
        out[batch, 0] = mean.T
        out[batch, 1] = ratio.T
    return out.reshape(*lead, 2, ring.n_radial)
