"""Exit-wave power cepstrum (EWPC) of a stack of patterns.

Padgett et al. 2020 (Ultramicroscopy 214, 112994):

    C(r) = | FFT2( W * log(I - m + eps) ) |,   zero quefrency shifted to the centre.

``m`` is the minimum intensity (of the dataset or of each pattern) and ``eps`` > 0, so
the logarithm never sees a value <= 0.  The input is real, so ``C`` is
centrosymmetric: the kernel computes a real FFT (half the plane) and, when the
full plane is asked for, expands it and applies the fftshift in one gather with
precomputed indices.  Pure numpy/scipy; no hyperspy import.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

WINDOWS = ("hann", "radial_hann", None)


def cepstrum_window(shape: tuple[int, int], window: str | None = "hann") -> np.ndarray | None:
    """Apodisation window of the detector ``shape``: separable Hann (outer product
    of ``numpy.hanning``), radial Hann, or None."""
    ky, kx = shape
    if window is None:
        return None
    if window == "hann":
        return np.outer(np.hanning(ky), np.hanning(kx)).astype(np.float32)
    if window == "radial_hann":
        y = np.arange(ky) - (ky - 1) / 2
        x = np.arange(kx) - (kx - 1) / 2
        r = np.hypot(y[:, None], x[None, :])
        radius = min(ky, kx) / 2
        w = np.where(r < radius, 0.5 * (1 + np.cos(np.pi * r / radius)), 0.0)
        return w.astype(np.float32)
    raise ValueError(f"`window` must be one of {WINDOWS}, got {window!r}.")


def full_plane_index(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Indices into an ``rfft2`` half plane that give the fftshifted full plane.

    For a real input F(-q) = conj(F(q)), so |F| at column j > kx//2 is |F| at
    row -i, column kx - j of the half plane.
    """
    ky, kx = shape
    # output pixel (a, b) of the shifted plane holds frequency (a - ky//2, b - kx//2)
    fy = (np.arange(ky) - ky // 2) % ky
    fx = (np.arange(kx) - kx // 2) % kx
    fy2, fx2 = np.meshgrid(fy, fx, indexing="ij")
    mirror = fx2 > kx // 2
    rows = np.where(mirror, (-fy2) % ky, fy2)
    cols = np.where(mirror, (kx - fx2) % kx, fx2)
    return rows.astype(np.intp), cols.astype(np.intp)


def cepstrum(
    patterns: np.ndarray,
    window: np.ndarray | None = None,
    minimum: float | None = None,
    epsilon: float = 0.1,
    power: bool = False,
    index: tuple[np.ndarray, np.ndarray] | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """EWPC of a stack ``(..., ky, kx)``.

    Parameters
    ----------
    patterns
        Intensities, any real dtype.
    window
        ``(ky, kx)`` apodisation window (see :func:`cepstrum_window`) or None.
    minimum
        Offset ``m``; None uses each pattern's own minimum.
    epsilon
        Added after subtracting ``m``; must be > 0.
    power
        Return ``|F|^2`` instead of ``|F|``.
    index
        From :func:`full_plane_index`: return the fftshifted full plane.  None
        returns the (unshifted) ``rfft2`` half plane ``(..., ky, kx//2 + 1)``.
    mask
        ``(ky, kx)`` boolean, True = excluded pixel.  Excluded pixels are replaced by
        the mean of the log-intensity of the included pixels of the same pattern.

    Returns
    -------
    numpy.ndarray
        float32 cepstra.
    """
    x = np.array(patterns, dtype=np.float32, copy=True)
    if mask is not None:
        valid = ~mask
        values = x[..., valid]
    else:
        values = x
    if not np.isfinite(values).all():
        raise ValueError(
            "Patterns contain NaN or infinite pixels: exclude them with "
            "`signal_mask` (True = excluded) or replace them before the cepstrum."
        )
    if minimum is None:
        minimum = values.min(axis=-1 if mask is not None else (-2, -1), keepdims=True)
        if mask is not None:
            minimum = minimum[..., None]
    x -= np.asarray(minimum, dtype=np.float32) - np.float32(epsilon)
    np.maximum(x, np.float32(epsilon), out=x)  # masked or below-minimum pixels
    np.log(x, out=x)
    if mask is not None:
        x[..., mask] = x[..., valid].mean(axis=-1, keepdims=True)
    if window is not None:
        x *= window
    f = scipy.fft.rfft2(x, axes=(-2, -1), workers=1)
    out = np.abs(f).astype(np.float32, copy=False)
    if power:
        np.square(out, out=out)
    if index is not None:
        out = out[..., index[0], index[1]]
    return out
