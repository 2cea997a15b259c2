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

WINDOWS = ("hann", "radial_hann", "gaussian", None)
#: Standard deviation of the ``"gaussian"`` window as a share of the detector
#: side: the window falls to exp(-0.5 * 3**2) = 1 % at the edges (a Hann window
#: reaches 0 there), tapering the edges while keeping more of the outer pattern.
GAUSSIAN_SIGMA = 1 / 6


def cepstrum_window(
    shape: tuple[int, int], window: str | None = "hann"
) -> np.ndarray | None:
    """Apodisation window of the detector ``shape``: separable Hann (outer product
    of ``numpy.hanning``), radial Hann, separable Gaussian (standard deviation
    ``GAUSSIAN_SIGMA`` times each side, 1 at the centre), or None."""
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
    if window == "gaussian":
        y = (np.arange(ky) - (ky - 1) / 2) / (GAUSSIAN_SIGMA * ky)
        x = (np.arange(kx) - (kx - 1) / 2) / (GAUSSIAN_SIGMA * kx)
        return np.outer(np.exp(-0.5 * y**2), np.exp(-0.5 * x**2)).astype(np.float32)
    raise ValueError(f"`window` must be one of {WINDOWS}, got {window!r}.")


def expand_half_plane(
    half: np.ndarray, kx: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Full, fftshifted plane from the ``rfft2`` half plane of a centrosymmetric
    magnitude ``half`` ``(..., ky, kx // 2 + 1)``, written into ``out`` if given.

    For a real input |F(-q)| = |F(q)|, so column j > kx//2 of the full plane is
    column kx - j of the half plane with rows mirrored (i -> -i).  Done with slice
    copies only (no fancy indexing): zero quefrency lands at ``(ky // 2, kx // 2)``.
    """
    ky = half.shape[-2]
    cy, cx = ky // 2, kx // 2
    if out is None:
        out = np.empty(half.shape[:-1] + (kx,), dtype=half.dtype)
    # direct half: out[a, cx + j] = half[a - cy, j]
    out[..., cy:, cx:] = half[..., : ky - cy, : kx - cx]
    out[..., :cy, cx:] = half[..., ky - cy :, : kx - cx]
    start = 0
    if kx % 2 == 0:  # the Nyquist column has no mirror partner
        out[..., cy:, 0] = half[..., : ky - cy, cx]
        out[..., :cy, 0] = half[..., ky - cy :, cx]
        start = 1
    if cx > start:
        # mirrored half: out[a, b] = half[cy - a, cx - b]
        cols = slice(cx - start, 0, -1)
        out[..., : cy + 1, start:cx] = half[..., cy::-1, cols]
        out[..., cy + 1 :, start:cx] = half[..., :cy:-1, cols]
    return out


def half_plane_index(pixels, shape) -> np.ndarray:
    """Flat indices into the ``rfft2`` half plane ``(ky, kx // 2 + 1)`` of the
    pixels ``(rows, cols)`` of the fftshifted full plane (see
    :func:`expand_half_plane`: |F(-q)| = |F(q)| for a real input)."""
    ky, kx = shape
    qy = np.asarray(pixels[0]) - ky // 2
    qx = np.asarray(pixels[1]) - kx // 2
    direct = np.mod(qx, kx) <= kx // 2
    u = np.where(direct, np.mod(qy, ky), np.mod(-qy, ky))
    v = np.where(direct, np.mod(qx, kx), np.mod(-qx, kx))
    return (u * (kx // 2 + 1) + v).astype(np.intp)


# Patterns are transformed in batches of about this many pixels (1 MB of
# float32): the element-wise passes around the FFT (log, window, abs, expansion)
# then run on data in cache: 1.5-2x faster at 256 x 256 than on a whole chunk.
_BATCH_PIXELS = 1 << 18

NON_FINITE_MESSAGE = (
    "Patterns contain NaN or infinite pixels: exclude them with "
    "`signal_mask` (True = excluded) or replace them before the cepstrum."
)


def cepstrum(
    patterns: np.ndarray,
    window: np.ndarray | None = None,
    minimum: float | None = None,
    epsilon: float = 0.1,
    power: bool = False,
    full_plane: bool = True,
    mask: np.ndarray | None = None,
    clip: bool | None = None,
    pixels: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """EWPC of a stack ``(..., ky, kx)``.

    Parameters
    ----------
    patterns
        Intensities, any real dtype.
    window
        ``(ky, kx)`` apodisation window (see :func:`cepstrum_window`) or None.
    minimum
        Offset ``m``; None uses each pattern's own minimum, ``"chunk"`` the
        minimum of the included pixels of the whole stack (one navigation chunk:
        the dataset's minimum where the chunk holds it, see
        :func:`stack_extrema`).
    epsilon
        Added after subtracting ``m``; must be > 0.
    power
        Return ``|F|^2`` instead of ``|F|``.
    full_plane
        Return the fftshifted full plane; False returns the (unshifted) ``rfft2``
        half plane ``(..., ky, kx//2 + 1)``.
    mask
        ``(ky, kx)`` boolean, True = excluded pixel.  Excluded pixels are replaced by
        the mean of the log-intensity of the included pixels of the same pattern.
    clip
        Raise ``I - m + eps`` to at least ``eps`` before the logarithm (needed when
        a given ``minimum`` may lie above some pixels).  Default: when a number
        ``minimum`` is given or ``mask`` is; False skips the pass for a
        ``minimum`` known to be the minimum of the data.
    pixels
        ``(rows, cols)`` of the fftshifted full plane: return only these pixels,
        ``(..., n_pixels)``, read from the half plane (what the ring features
        keep, without the full plane ever being made).

    Returns
    -------
    numpy.ndarray
        float32 cepstra.
    """
    patterns = np.asarray(patterns)
    if isinstance(minimum, str):
        if minimum != "chunk":
            raise ValueError(
                f"`minimum` must be a number, 'chunk' or None, got {minimum!r}."
            )
        if clip is None:  # nothing in the stack lies below its own minimum
            clip = mask is not None
        # float(), as a given global minimum is: the same offset bit for bit
        minimum = float(_included(patterns, mask).min()) if patterns.size else None
    if clip is None:
        clip = minimum is not None or mask is not None
    lead, (ky, kx) = patterns.shape[:-2], patterns.shape[-2:]
    flat = patterns.reshape(-1, ky, kx)
    n = flat.shape[0]
    if pixels is not None:
        take = half_plane_index(pixels, (ky, kx))
        out = np.empty((n, take.size), np.float32)
    else:
        take = None
        out = np.empty((n, ky, kx if full_plane else kx // 2 + 1), np.float32)
    minimum = None if minimum is None else np.asarray(minimum)
    step = max(1, min(n, _BATCH_PIXELS // max(ky * kx, 1)))
    # work arrays made once and reused by every batch: fresh ones would be mapped
    # and zeroed by the OS each time where malloc returns large blocks at once
    # (dask.distributed workers set MALLOC_TRIM_THRESHOLD_)
    buffers = {
        "log": np.empty((step, ky, kx), np.float32),
        "half": np.empty((step, ky, kx // 2 + 1), np.float32)
        if full_plane or take is not None
        else None,
        "take": take,
    }
    for start in range(0, n, step):
        stop = min(start + step, n)
        m = minimum
        if m is not None and m.ndim:
            m = np.broadcast_to(m, lead + (1, 1)).reshape(-1, 1, 1)[start:stop]
        _cepstrum_batch(
            flat[start:stop],
            out[start:stop],
            buffers,
            window,
            m,
            epsilon,
            power,
            mask,
            clip,
        )
    return out.reshape(lead + out.shape[1:])


def stack_extrema(patterns: np.ndarray, mask: np.ndarray | None = None):
    """``(minimum, maximum)`` of the included pixels (``mask`` True = excluded)
    of a stack ``(..., ky, kx)``, in its dtype (NaN when a pixel is NaN)."""
    included = _included(np.asarray(patterns), mask)
    return included.min(), included.max()


def _included(patterns: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The pixels of ``patterns`` outside ``mask`` (all of them without one)."""
    return patterns if mask is None else patterns[..., ~mask]


def _cepstrum_batch(
    patterns, out, buffers, window, minimum, epsilon, power, mask, clip
):
    """:func:`cepstrum` of a small stack ``(n, ky, kx)`` into ``out``, with the
    work arrays ``buffers`` (at least ``n`` patterns long)."""
    n = patterns.shape[0]
    if mask is not None:
        valid = ~mask
        if minimum is None:
            minimum = patterns[..., valid].min(axis=-1)[..., None, None]
    elif minimum is None:
        minimum = patterns.min(axis=(-2, -1), keepdims=True)
    # I - m first, then + eps: `m - eps` rounds eps away on a large level (uint16
    # counts near 65535 in float32).  float32 keeps 24 bits, so dtypes it cannot
    # hold (uint32 counts near 2**32, float64) are shifted in float64 first.
    x = buffers["log"][:n]
    if np.can_cast(patterns.dtype, np.float32):
        np.subtract(patterns, np.asarray(minimum, dtype=np.float32), out=x)
        x += np.float32(epsilon)
    else:
        shifted = np.subtract(patterns, np.asarray(minimum, dtype=np.float64))
        shifted += epsilon
        x[...] = shifted
    if clip:
        # a given minimum (or masked outliers) may sit above some pixels
        np.maximum(x, np.float32(epsilon), out=x)
    np.log(x, out=x)
    if mask is not None:
        x[..., mask] = x[..., valid].mean(axis=-1, keepdims=True)
    if window is not None:
        x *= window
    f = scipy.fft.rfft2(x, axes=(-2, -1), workers=1)
    # NaN/inf anywhere in a pattern reaches its zero-frequency sum: an O(n) check
    if not np.isfinite(f[..., 0, 0]).all():
        raise ValueError(NON_FINITE_MESSAGE)
    half = out if buffers["half"] is None else buffers["half"][:n]
    np.abs(f, out=half)
    if power:
        np.square(half, out=half)
    if buffers["take"] is not None:
        np.take(half.reshape(n, -1), buffers["take"], axis=1, out=out)
    elif half is not out:
        expand_half_plane(half, out.shape[-1], out=out)
