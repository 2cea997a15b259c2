"""Signal-level exit-wave power cepstrum and its ring features.

See :mod:`hyperspy_manifold.kernels.cepstrum` for the equation (Padgett et al.
2020).  Clustering features are an annulus of the cepstrum: the zero-quefrency
peak (mistilt, thickness) and high-quefrency noise are dropped, and half of the
centrosymmetric plane carries all information.
"""

from __future__ import annotations

import numbers
import warnings

import dask.array as da
import numpy as np

from hyperspy_manifold._axes import detector_shape, real_space_units
from hyperspy_manifold._checks import (
    check_choice,
    check_pattern_signal,
    check_signal_mask,
)
from hyperspy_manifold._chunks import compute, map_patterns, pattern_stack
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import make_signal
from hyperspy_manifold._progress import one_progress_bar
from hyperspy_manifold.kernels.cepstrum import (
    NON_FINITE_MESSAGE,
    WINDOWS,
    cepstrum,
    cepstrum_window,
    stack_extrema,
)


def quefrency_axis(axis, name: str) -> dict:
    """Axis dictionary of the cepstrum axis made from detector ``axis``.

    A detector pixel of dk (1/Å) gives a cepstrum pixel of 1 / (N dk) Å; zero
    quefrency sits at index N // 2 (numpy's fftshift convention).
    """
    n = axis.size
    real_units = real_space_units(axis)
    if real_units is None:
        scale, real_units = 1.0, "px"
    else:
        scale = 1.0 / (n * axis.scale)
    return {
        "name": name,
        "size": n,
        "scale": scale,
        "offset": -(n // 2) * scale,
        "units": real_units,
        "navigate": False,
    }


@one_progress_bar("Cepstrum")
@fill_docstring
def get_cepstrum(
    s,
    window: str | None = "hann",
    minimum="global",
    epsilon: float = 0.1,
    power: bool = False,
    signal_mask=None,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Exit-wave power cepstrum (EWPC) of every diffraction pattern.

    ``C(r) = |FFT2(W * log(I - m + epsilon))|`` with zero quefrency at the centre
    (Padgett et al. 2020).  Small tilts change disk intensities a lot but barely
    move cepstral peaks, so the cepstrum follows the lattice, not the mistilt.

    Parameters
    ----------
    s : hyperspy.signal.BaseSignal
        4D-STEM data with two signal axes (eager or lazy).
    window : {"hann", "radial_hann", "gaussian", None}
        Apodisation window applied to the log-pattern, so the detector edges
        do not ring in the cepstrum: separable Hann (the default, as in Padgett
        et al. 2020), radial Hann (isotropic, zero beyond the inscribed
        circle), separable Gaussian (standard deviation a sixth of the
        detector side: 1 % at the edges, more weight to the outer pattern than
        Hann) or None.
    minimum : {"global", "pattern"} or float
        Offset ``m``: the minimum of the whole dataset (Padgett's reference), of
        each pattern, or a given number.
    epsilon : float
        Added after subtracting ``m`` so the logarithm never sees a value <= 0,
        in the units of the data: the cepstrum of ``c * I`` with ``c * epsilon``
        is that of ``I`` with ``epsilon`` plus ``log(c)`` times the transform of
        the window (a peak at zero quefrency).  With ``minimum="global"`` an
        ``epsilon`` above 1000 times the intensity range of the data warns.
    power : bool
        Return the squared magnitude instead of the magnitude.
    signal_mask : numpy.ndarray of bool, optional
        Detector-shaped mask, True = excluded (beam stop, dead pixels).  Excluded
        pixels take the mean log-intensity of the pattern.
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    Cepstrum2D
        Real-space signal axes centred on zero, in Å (nm) when the detector is
        calibrated in 1/Å (1/nm), scale ``1 / (N * dk)``.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> s = hs.signals.Signal2D(np.random.default_rng(0).random((2, 3, 32, 32)))
    >>> c = hm.get_cepstrum(s)
    >>> c
    <Cepstrum2D, title: Cepstrum, dimensions: (3, 2|32, 32)>
    """
    mask = _check_arguments(s, window, minimum, epsilon, signal_mask)
    if isinstance(minimum, str):
        minimum_value = None
        if minimum == "global":
            data = pattern_stack(s)
            if mask is not None:
                # dask indexes one axis at a time: pick the pixels of the
                # flattened detector (whole in every chunk)
                data = data.reshape(data.shape[:-2] + (-1,))
                data = data[..., np.flatnonzero(~mask.ravel())]
            minimum_value = global_minimum(
                *compute((data.min(), data.max()), show_progressbar), epsilon
            )
    else:
        minimum_value = float(minimum)
    return _cepstrum_signal(
        s,
        minimum_value,
        window,
        minimum,
        epsilon,
        power,
        mask,
        lazy_output,
        show_progressbar,
    )


def _check_arguments(s, window, minimum, epsilon, signal_mask):
    """Check the arguments of :func:`get_cepstrum`; returns the detector mask."""
    check_pattern_signal(s, "get_cepstrum", require_navigation=False)
    check_choice("window", window, WINDOWS)
    if not (isinstance(epsilon, numbers.Real) and epsilon > 0):
        raise ValueError(f"`epsilon` must be a number > 0, got {epsilon!r}.")
    mask = check_signal_mask(s, signal_mask)
    if isinstance(minimum, str):
        check_choice("minimum", minimum, ("global", "pattern"))
    elif not (isinstance(minimum, numbers.Real) and np.isfinite(minimum)):
        raise ValueError(
            f"`minimum` must be 'global', 'pattern' or a finite number, got {minimum!r}."
        )
    return mask


def _cepstrum_signal(
    s,
    minimum_value,
    window,
    minimum,
    epsilon,
    power,
    mask,
    lazy_output,
    show_progressbar,
    ring=None,
):
    """The cepstrum signal of checked arguments, with the offset ``minimum_value``:
    a number, None (each pattern's minimum), ``"chunk"`` (each navigation
    chunk's) or a lazy dask scalar.

    ``ring=(inner, outer, sqrt)`` (pixels) returns the lazy ring features of
    that cepstrum instead (:func:`get_ring_features`, the same signal and
    values), each chunk's ring pixels read straight from its ``rfft2`` half
    plane by one kernel: the full planes are never made (about 1.5x faster)."""
    shape = detector_shape(s)
    kernel_kwargs = dict(
        window=cepstrum_window(shape, window),
        minimum=minimum_value,
        epsilon=float(epsilon),
        power=bool(power),
        full_plane=True,
        mask=mask,
        # nothing lies below the data's own global minimum, except masked pixels
        clip=(mask is not None) if minimum == "global" else None,
    )
    data = map_patterns(s, cepstrum, shape, np.float32, kernel_kwargs)
    ax_x, ax_y = s.axes_manager.signal_axes
    axes = [quefrency_axis(ax_y, "qy"), quefrency_axis(ax_x, "qx")]
    if minimum_value is None:
        minimum_value = "pattern"
    elif not isinstance(minimum_value, (float, str)):
        minimum_value = "global"  # computed with the patterns (see OneReadCepstrum)
    parameters = {
        "_node": "cepstrum",
        "window": str(window),
        "minimum": minimum if isinstance(minimum, str) else float(minimum),
        "minimum_value": minimum_value,
        "epsilon": float(epsilon),
        "power": bool(power),
        "masked_pixels": int(mask.sum()) if mask is not None else 0,
    }
    c = make_signal(
        s,
        data,
        axes,
        "cepstrum",
        "Cepstrum",
        parameters,
        lazy_output=True if ring is not None else lazy_output,
        show_progressbar=show_progressbar,
    )
    if ring is None:
        return c
    inner, outer, sqrt = ring
    f = get_ring_features(c, inner, outer, in_pixels=True, sqrt=sqrt, lazy_output=True)
    node = f.metadata.HyperspyManifold.ring_features
    pixels = (np.asarray(node.rows, np.intp), np.asarray(node.cols, np.intp))
    kernel_kwargs.update(pixels=pixels, sqrt=sqrt)
    f.data = map_patterns(s, _ring_kernel, (pixels[0].size,), np.float32, kernel_kwargs)
    return f


def _ring_kernel(block, sqrt, **kwargs):
    """Ring pixels of the cepstra of a chunk (``cepstrum(..., pixels=)``)."""
    out = cepstrum(block, **kwargs)
    if sqrt:
        np.sqrt(np.maximum(out, 0), out=out)
    return out


def global_minimum(minimum, maximum, epsilon) -> float:
    """The data's ``minimum`` as a float, after checking that the extrema are
    finite and that ``epsilon`` does not dwarf the intensity range."""
    if not np.isfinite([minimum, maximum]).all():
        raise ValueError(NON_FINITE_MESSAGE)
    _check_epsilon_scale(float(maximum) - float(minimum), epsilon)
    return float(minimum)


def chunk_extrema(s, signal_mask=None):
    """Lazy ``(minimum, maximum)`` of the included pixels of every navigation
    chunk of ``s``: shape ``(*chunk grid, 1, 2)``, float64."""
    data = pattern_stack(s)
    nav = data.chunks[:-2]
    return da.map_blocks(
        _block_extrema,
        data,
        mask=signal_mask,
        chunks=tuple((1,) * len(c) for c in nav) + ((1,), (2,)),
        dtype=np.float64,
    )


def _block_extrema(block, mask):
    extrema = np.asarray(stack_extrema(block, mask), dtype=np.float64)
    return extrema.reshape((1,) * (block.ndim - 1) + (2,))


def one_read_cepstrum(
    s,
    minimum_value,
    window="hann",
    minimum="global",
    epsilon=0.1,
    power=False,
    signal_mask=None,
    ring=None,
):
    """Lazy ``get_cepstrum(s, ...)`` with ``minimum="global"`` and its value
    given: a number, ``"chunk"`` (each navigation chunk's own minimum: the
    global one where the chunk holds it) or a lazy dask scalar; with
    ``ring=(inner, outer, sqrt)`` its ring features.  For
    :class:`~hyperspy_manifold.learn._features.OneReadCepstrum`, which reads
    the data once for the features and their global minimum."""
    mask = _check_arguments(s, window, minimum, epsilon, signal_mask)
    if minimum != "global":
        raise ValueError(f"`minimum` must be 'global' here, got {minimum!r}.")
    return _cepstrum_signal(
        s, minimum_value, window, minimum, epsilon, power, mask, True, False, ring
    )


#: `epsilon` above this many times the intensity range of the data hides the
#: patterns: log(I - m + epsilon) changes by about range / epsilon.
_EPSILON_OVER_RANGE = 1000.0


def _check_epsilon_scale(intensity_range: float, epsilon: float) -> None:
    """Warn when ``epsilon`` dwarfs the data (e.g. patterns in A or e/s near
    1e-20): the cepstrum would be that of a flat pattern, without a word."""
    if 0 < intensity_range * _EPSILON_OVER_RANGE < epsilon:
        warnings.warn(
            f"`epsilon` ({epsilon:g}) is more than {_EPSILON_OVER_RANGE:g} times the "
            f"intensity range of the data ({intensity_range:.3g}): log(I - m + "
            "epsilon) barely sees the patterns. Give `epsilon` in the units of "
            f"the data, e.g. epsilon={intensity_range * 1e-3:.3g}.",
            UserWarning,
        )


def _take_pixels(block, rows, cols, sqrt):
    out = block[..., rows, cols]
    if not np.isfinite(out).all():
        raise ValueError(
            "The cepstra hold NaN or infinite values in the annulus: make them with "
            "`get_cepstrum` (which refuses non-finite patterns) from finite patterns."
        )
    if sqrt:
        out = np.sqrt(np.maximum(out, 0))
    return out


@one_progress_bar("Ring features")
def get_ring_features(
    c,
    inner: float,
    outer: float,
    half_plane: bool = True,
    in_pixels: bool = False,
    sqrt: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Flatten the annulus ``inner <= |r| <= outer`` of every cepstrum into features.

    Parameters
    ----------
    c : Cepstrum2D
        From :func:`get_cepstrum`.
    inner, outer : float
        Radii of the annulus, in the calibrated units of the cepstrum axes (Å when
        calibrated) or in pixels with ``in_pixels=True``.  ``inner`` drops the
        zero-quefrency peak, ``outer`` high-quefrency noise.
    half_plane : bool
        Keep only the half plane ``qy > 0`` (plus ``qy = 0, qx >= 0``): the cepstrum
        is centrosymmetric, so the other half repeats it.
    in_pixels : bool
        Interpret ``inner``/``outer`` as pixel distances.
    sqrt : bool
        Square root of the features (compresses the dynamic range).

    Returns
    -------
    Cepstrum1D
        One feature vector per scan position; the pixel coordinates of the
        features are stored in ``metadata.HyperspyManifold.ring_features``.
    """
    check_pattern_signal(c, "get_ring_features", require_navigation=False)
    if not (isinstance(inner, numbers.Real) and isinstance(outer, numbers.Real)):
        raise TypeError("`inner` and `outer` must be numbers.")
    if not 0 <= inner < outer:
        raise ValueError(
            f"Ring radii must satisfy 0 <= inner < outer, got inner={inner}, outer={outer}."
        )
    ax_x, ax_y = c.axes_manager.signal_axes
    ky, kx = detector_shape(c)
    iy, ix = np.mgrid[:ky, :kx]
    if in_pixels:
        y = iy - ky // 2
        x = ix - kx // 2
        r = np.hypot(y, x)
    else:
        y = ax_y.axis[iy]
        x = ax_x.axis[ix]
        r = np.hypot(y, x)
    keep = (r >= inner) & (r <= outer)
    if half_plane:
        keep &= (y > 0) | ((y == 0) & (x >= 0))
    rows, cols = np.nonzero(keep)
    if rows.size == 0:
        raise ValueError(
            f"The annulus {inner} <= |r| <= {outer} "
            f"({'pixels' if in_pixels else ax_x.units}) contains no cepstrum pixel; "
            f"the largest radius is {float(r.max()):.4g}."
        )
    data = map_patterns(
        c, _take_pixels, (rows.size,), np.float32, dict(rows=rows, cols=cols, sqrt=sqrt)
    )
    axes = [
        {
            "name": "feature",
            "size": int(rows.size),
            "scale": 1.0,
            "offset": 0.0,
            "units": "",
            "navigate": False,
        }
    ]
    parameters = {
        "_node": "ring_features",
        "inner": float(inner),
        "outer": float(outer),
        "in_pixels": bool(in_pixels),
        "half_plane": bool(half_plane),
        "sqrt": bool(sqrt),
        "rows": rows.astype(np.int32),
        "cols": cols.astype(np.int32),
        "shape": [int(ky), int(kx)],
    }
    return make_signal(
        c,
        data,
        axes,
        "cepstrum",
        "Cepstral ring features",
        parameters,
        lazy_output=lazy_output,
        show_progressbar=show_progressbar,
    )
