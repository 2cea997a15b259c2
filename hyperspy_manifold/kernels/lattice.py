"""Lattice vectors from cepstral peaks, and the strain they imply.

In the exit-wave power cepstrum (Padgett et al. 2020) of a pattern with Bragg
spots on a reciprocal lattice, the peaks away from zero quefrency sit at the
real-space lattice vectors r (r . g integer for every reciprocal vector g), so
tracking them gives a lattice-vector map.

Sub-pixel position: the log of the cepstrum in the ``window`` x ``window`` pixels
around the brightest pixel is fitted by least squares with the quadratic
``c0 + c1 x + c2 y + c3 x^2 + c4 x y + c5 y^2`` (a 2D Gaussian fit, exact for a
Gaussian peak), whose vertex is the peak position.  The fit is a fixed linear map
of the window values, applied to every peak of a chunk with one product.

Peaks are labelled consistently across the scan by tracking reference vectors:
for every pattern and reference vector, the brightest pixel within
``search_radius`` of the reference is the peak.

Strain (infinitesimal theory): with the lattice vectors as the columns of G and
the reference ones as the columns of G_ref, the deformation gradient is
D = G G_ref^+ (least squares for more than two vectors), the strain
eps = (D + D^T) / 2 - I and the rotation angle theta = (D_yx - D_xy) / 2 (radians,
positive from +x towards +y).  Pure numpy/scipy; no hyperspy import.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi


def _check_finite(values: np.ndarray) -> None:
    # argmax and the quadratic fit pass NaN over without a word: the peak would
    # silently stay on its integer pixel, or on the wrong pixel
    if not np.isfinite(values).all():
        raise ValueError(
            "The cepstra hold NaN or infinite values near the lattice peaks: make "
            "them with `get_cepstrum` (which refuses non-finite patterns) from "
            "finite patterns."
        )


def quadratic_fit_operator(
    window: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares operator of the 2D quadratic on a ``window`` x ``window`` stencil.

    Returns ``(operator, dy, dx)``: ``operator`` is ``(6, window**2)`` mapping the
    (log) values of the stencil, in the row-major order of the offsets ``dy, dx``,
    to the coefficients ``c0 .. c5``.
    """
    if window < 3 or window % 2 == 0:
        raise ValueError(f"`window` must be an odd number >= 3, got {window!r}.")
    h = window // 2
    dy, dx = np.mgrid[-h : h + 1, -h : h + 1]
    dy, dx = dy.ravel(), dx.ravel()
    design = np.stack([np.ones_like(dx), dx, dy, dx**2, dx * dy, dy**2], axis=1)
    return np.linalg.pinv(design.astype(float)), dy, dx


def refine_peaks(
    cepstra: np.ndarray, rows: np.ndarray, cols: np.ndarray, window: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel peak positions around integer positions.

    Parameters
    ----------
    cepstra
        ``(n_patterns, ky, kx)``.
    rows, cols
        ``(n_patterns, n_peaks)`` integer positions (brightest pixels).
    window
        Odd stencil size of the quadratic fit of the log values.

    Returns
    -------
    y, x : numpy.ndarray
        ``(n_patterns, n_peaks)`` refined positions in pixels.  Where the fit has
        no maximum (not negative definite) or its vertex leaves the stencil the
        integer position is kept.
    """
    operator, dy, dx = quadratic_fit_operator(window)
    ky, kx = cepstra.shape[-2:]
    n = np.arange(cepstra.shape[0])[:, None, None]
    r = np.clip(rows[..., None] + dy, 0, ky - 1)
    c = np.clip(cols[..., None] + dx, 0, kx - 1)
    values = cepstra[n, r, c].astype(np.float64)  # (P, n_peaks, window**2)
    _check_finite(values)
    tiny = np.finfo(np.float64).tiny
    logs = np.log(np.maximum(values, tiny))
    c0, c1, c2, c3, c4, c5 = np.moveaxis(logs @ operator.T, -1, 0)
    # vertex of c1 x + c2 y + c3 x^2 + c4 x y + c5 y^2: H [x, y] = -[c1, c2]
    det = 4 * c3 * c5 - c4**2
    maximum = (det > 0) & (c3 < 0)
    safe = np.where(maximum, det, 1.0)
    ox = (-2 * c5 * c1 + c4 * c2) / safe
    oy = (-2 * c3 * c2 + c4 * c1) / safe
    h = window // 2
    good = maximum & (np.abs(ox) <= h) & (np.abs(oy) <= h)
    ox = np.where(good, ox, 0.0)
    oy = np.where(good, oy, 0.0)
    return rows + oy, cols + ox


def disk_offsets(radius_y: float, radius_x: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer offsets ``(dy, dx)`` of the pixels of an ellipse of the given radii
    (pixels), the centre first."""
    ry, rx = int(np.floor(radius_y)), int(np.floor(radius_x))
    dy, dx = np.mgrid[-ry : ry + 1, -rx : rx + 1]
    inside = (dy / max(radius_y, 1e-12)) ** 2 + (dx / max(radius_x, 1e-12)) ** 2 <= 1
    dy, dx = dy[inside], dx[inside]
    order = np.argsort(dy**2 + dx**2, kind="stable")
    return dy[order], dx[order]


def track_lattice_vectors(
    cepstra: np.ndarray,
    reference: np.ndarray,
    zero: tuple[int, int],
    search: tuple[np.ndarray, np.ndarray],
    window: int = 3,
    scale: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Lattice vectors of every cepstrum, tracked from reference vectors.

    Parameters
    ----------
    cepstra
        ``(..., ky, kx)`` cepstra with zero quefrency at pixel ``zero``.
    reference
        ``(n_peaks, 2)`` reference vectors ``(x, y)`` in pixels from zero quefrency.
    zero
        ``(row, col)`` of zero quefrency.
    search
        ``(dy, dx)`` pixel offsets searched around each reference (from
        :func:`disk_offsets`).
    window
        Stencil of the sub-pixel fit.
    scale
        ``(scale_x, scale_y)`` calibration of the output.

    Returns
    -------
    numpy.ndarray
        ``(..., n_peaks, 2)`` float64 vectors ``(x, y)`` times ``scale``.
    """
    lead = cepstra.shape[:-2]
    ky, kx = cepstra.shape[-2:]
    flat = cepstra.reshape((-1, ky, kx))
    ref = np.asarray(reference, dtype=float)
    centre_r = np.rint(zero[0] + ref[:, 1]).astype(np.intp)
    centre_c = np.rint(zero[1] + ref[:, 0]).astype(np.intp)
    dy, dx = search
    cand_r = np.clip(centre_r[:, None] + dy, 0, ky - 1)  # (n_peaks, n_candidates)
    cand_c = np.clip(centre_c[:, None] + dx, 0, kx - 1)
    values = flat[:, cand_r, cand_c]  # (P, n_peaks, n_candidates)
    _check_finite(values)
    best = np.argmax(values, axis=-1)
    rows = cand_r[np.arange(len(ref)), best]
    cols = cand_c[np.arange(len(ref)), best]
    y, x = refine_peaks(flat, rows, cols, window)
    out = np.stack([(x - zero[1]) * scale[0], (y - zero[0]) * scale[1]], axis=-1)
    return out.reshape(lead + (len(ref), 2))


def strongest_peaks(
    cepstrum: np.ndarray,
    region: np.ndarray,
    zero: tuple[int, int],
    n_peaks: int,
    min_angle: float = 10.0,
    window: int = 3,
) -> np.ndarray:
    """The ``n_peaks`` brightest local maxima of one cepstrum inside ``region``,
    no two closer than ``min_angle`` degrees to parallel (this skips the harmonics
    2a, 3a of a vector already taken), refined to sub-pixel precision.

    Returns ``(n_found, 2)`` vectors ``(x, y)`` in pixels from ``zero``, brightest
    first; fewer than ``n_peaks`` when the region holds fewer such maxima.
    """
    local_max = ndi.maximum_filter(cepstrum, size=3, mode="nearest") == cepstrum
    rows, cols = np.nonzero(local_max & region)
    order = np.argsort(cepstrum[rows, cols], kind="stable")[::-1]
    chosen: list[np.ndarray] = []
    sin_min = np.sin(np.radians(min_angle))
    for i in order:
        v = np.array([cols[i] - zero[1], rows[i] - zero[0]], dtype=float)
        if all(
            abs(v[0] * w[1] - v[1] * w[0]) > sin_min * np.hypot(*v) * np.hypot(*w)
            for w in chosen
        ):
            chosen.append(v)
        if len(chosen) == n_peaks:
            break
    if not chosen:
        return np.zeros((0, 2))
    chosen_arr = np.array(chosen)
    r = (chosen_arr[:, 1] + zero[0]).astype(np.intp)[None]
    c = (chosen_arr[:, 0] + zero[1]).astype(np.intp)[None]
    y, x = refine_peaks(cepstrum[None], r, c, window)
    return np.stack([x[0] - zero[1], y[0] - zero[0]], axis=-1)


def deformation_gradient(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``D`` with ``vectors ~ D @ reference`` for each position.

    Parameters
    ----------
    vectors
        ``(..., n, 2)`` lattice vectors ``(x, y)``.
    reference
        ``(n, 2)`` or ``(..., n, 2)`` reference vectors, spanning the plane.

    Returns
    -------
    numpy.ndarray
        ``(..., 2, 2)``: ``D = G G_ref^T (G_ref G_ref^T)^-1`` with the vectors as
        columns of G (exact inverse for two vectors).
    """
    g = np.swapaxes(vectors, -1, -2)  # (..., 2, n)
    g_ref = np.swapaxes(reference, -1, -2)
    gram = g_ref @ np.swapaxes(g_ref, -1, -2)
    return g @ np.swapaxes(g_ref, -1, -2) @ np.linalg.inv(gram)


def infinitesimal_strain(deformation: np.ndarray) -> np.ndarray:
    """``(..., 4)`` components ``exx, eyy, exy, theta`` of ``(..., 2, 2)`` D:
    eps = (D + D^T) / 2 - I and theta = (D_yx - D_xy) / 2 in radians."""
    d = deformation
    exx = d[..., 0, 0] - 1
    eyy = d[..., 1, 1] - 1
    exy = (d[..., 0, 1] + d[..., 1, 0]) / 2
    theta = (d[..., 1, 0] - d[..., 0, 1]) / 2
    return np.stack([exx, eyy, exy, theta], axis=-1)
