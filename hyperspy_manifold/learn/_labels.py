"""The label-map convention of every function that takes cluster labels.

A label map holds one integer per scan position:

- ``MASKED`` (-2): the position is excluded (``navigation_mask``);
- any other negative value (HDBSCAN's -1, ``ManifoldClustering.predict``'s
  ``NOVEL`` -3, or -5, -99 from another tool): noise, a pattern of the scan that
  belongs to no cluster, written ``NOISE`` (-1);
- every value >= 0 is a cluster id.  Ids need not be 0..K-1: ``{0, 2, 7}`` are
  three clusters and ``10**9`` is one, numbered 0..K-1 in increasing order of
  their ids (``numpy.unique``), so no empty cluster is ever made up.

:func:`canonical_labels` is the one place that applies it.
"""

from __future__ import annotations

import numpy as np

#: Label of noise (no cluster) in label maps.
NOISE = -1
#: Label of masked (excluded) scan positions in label maps.
MASKED = -2


def canonical_labels(
    labels, name: str = "labels", masked: int | None = MASKED
) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, ids)``: the label map in the convention above and its cluster ids.

    Parameters
    ----------
    labels : array-like
        Integer labels (an integer, boolean or integer-valued float array).
    name : str
        Name of the argument in error messages.
    masked : int or None
        Value of excluded positions (None: nothing is excluded, every negative
        value is noise).

    Returns
    -------
    codes : numpy.ndarray of int64
        Same shape: ``0..K-1`` clusters, ``NOISE``, ``MASKED``.
    ids : numpy.ndarray of int64
        The K cluster ids, increasing: cluster ``i`` was labelled ``ids[i]``.
    """
    labels = np.asarray(labels)
    if labels.dtype == bool:
        labels = labels.astype(np.int64)
    if not np.issubdtype(labels.dtype, np.integer):
        if not (
            np.issubdtype(labels.dtype, np.floating)
            and np.isfinite(labels).all()
            and np.all(labels == np.round(labels))
            and np.all(np.abs(labels) < 2**62)
        ):
            raise ValueError(
                f"`{name}` must hold integer cluster labels, got dtype "
                f"{labels.dtype} with non-integer values."
            )
    elif labels.dtype == np.uint64 and labels.size and labels.max() >= 2**63:
        raise ValueError(f"`{name}` holds labels beyond the int64 range.")
    labels = labels.astype(np.int64)
    cluster = labels >= 0
    if masked is not None:
        cluster &= labels != masked
    ids, inverse = np.unique(labels[cluster], return_inverse=True)
    codes = np.full(labels.shape, NOISE, dtype=np.int64)
    codes[cluster] = inverse
    if masked is not None:
        codes[labels == masked] = MASKED
    return codes, ids
