"""Periodicity of the scan: the Fourier transform across the navigation axes.

The 4D FFT of Jesse et al. (2016) looks along the scan rather than across the
detector: for every detector pixel (or every feature of a feature signal), the
power spectrum of its value over the scan positions.  A superlattice, a
periodic domain pattern or a scan artefact (line noise, a drift oscillation)
shows as a peak at its spatial frequency, for exactly the pixels or features
it changes.

The FFT needs every scan position of a pixel in one chunk, so a lazy input is
rechunked once: the scan axes whole, the detector axes cut so that a chunk
holds about :data:`CHUNK_BYTES` (never the whole dataset in memory).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
from hyperspy.io import dict2signal

from hyperspy_manifold._chunks import compute, lazy_view
from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold._output import resolve_lazy_output
from hyperspy_manifold._progress import one_progress_bar

#: Bytes per chunk of the transposed (detector, scan) array.
CHUNK_BYTES = 64 * 2**20


def _frequency_axis(axis) -> dict:
    """The centred spatial-frequency axis of a scan axis (1/units, HyperSpy's fft)."""
    n, scale = axis.size, float(axis.scale)
    units = axis.units if isinstance(axis.units, str) and axis.units else ""
    step = 1.0 / (n * scale)
    return {
        "size": n,
        "scale": step,
        "offset": -step * (n // 2),
        "units": f"1 / {units}" if units and units != "<undefined>" else "",
        "name": f"k_{axis.name}" if isinstance(axis.name, str) else "k",
        "navigate": False,
    }


@one_progress_bar("Scan FFT")
@fill_docstring
def get_scan_fft(
    s,
    remove_mean: bool = True,
    apodization: bool = True,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Power spectrum over the scan positions of every detector pixel or feature.

    Parameters
    ----------
    s : BaseSignal
        A scan with one or two navigation axes: the patterns (4D-STEM) or a
        feature signal (``get_radial_variance``, ``get_ring_features`` ...).
        Eager or lazy; not modified.
    remove_mean : bool
        Subtract the mean over the scan of every pixel first, so the zero
        frequency (the mean intensity) does not dominate.
    apodization : bool
        Multiply by a Hann window over the scan axes (a finite scan is not
        periodic: its edges would spread power along the frequency axes).
    %(lazy_output)s
    %(show_progressbar)s

    Returns
    -------
    BaseSignal
        ``|FFT|**2`` with the zero frequency centred: the navigation axes are
        the signal axes of ``s`` (its detector pixels or features, calibrated
        as in ``s``), the signal axes are the spatial frequencies of the scan
        (``1 / units`` of the scan axes).  A 2D scan gives a ``Signal2D`` of
        frequency images, a line scan a ``Signal1D`` of spectra.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import hyperspy_manifold as hm
    >>> data = np.zeros((4, 16, 8, 8))
    >>> x = np.arange(16)
    >>> data[:, :, 2, 3] = 1 + np.cos(2 * np.pi * x / 4)  # period: 4 positions in x
    >>> s = hs.signals.Signal2D(data)
    >>> p = hm.get_scan_fft(s, apodization=False, show_progressbar=False)
    >>> p
    <Signal2D, title: Scan FFT, dimensions: (8, 8|16, 4)>
    >>> int(np.argmax(p.data[2, 3].max(axis=0)))  # |k_x| = 16 / 4 from the centre
    4
    """
    am = s.axes_manager
    nav, sig = am.navigation_axes, am.signal_axes
    if len(nav) not in (1, 2):
        raise ValueError(
            f"get_scan_fft needs a scan with 1 or 2 navigation axes; `s` has "
            f"{len(nav)} ({s}). Use s.T or s.transpose(...) to choose them."
        )
    if len(sig) == 0:
        raise ValueError("get_scan_fft needs at least one signal axis in `s`.")
    for ax in nav:
        if not np.isfinite(ax.scale) or ax.scale <= 0:
            raise ValueError(
                f"navigation axis {ax.name!r} has scale {ax.scale}: set a positive "
                "scan step (s.axes_manager[...].scale) before get_scan_fft."
            )
    n_nav, n_sig = len(nav), len(sig)
    data = s.data if isinstance(s.data, da.Array) else lazy_view(s.data)
    # numpy order (*nav, *sig) -> (*sig, *nav): the scan axes last and whole
    order = tuple(range(n_nav, n_nav + n_sig)) + tuple(range(n_nav))
    data = data.transpose(order)
    scan_shape = data.shape[n_sig:]
    per_pixel = int(np.prod(scan_shape)) * 16  # complex128 work per pixel
    pixels = max(1, CHUNK_BYTES // per_pixel)
    sig_shape = data.shape[:n_sig]
    chunks = [-1] * n_sig
    # cut the slowest signal axis, keep the others whole
    inner = int(np.prod(sig_shape[1:])) if n_sig > 1 else 1
    chunks[0] = max(1, pixels // max(inner, 1))
    data = data.rechunk(tuple(chunks) + (-1,) * n_nav)
    scan_axes = tuple(range(n_sig, n_sig + n_nav))

    window = None
    if apodization:
        window = np.ones(scan_shape)
        for i, n in enumerate(scan_shape):
            shape = [1] * n_nav
            shape[i] = n
            window = window * np.hanning(n).reshape(shape)

    def kernel(block):
        block = np.asarray(block, dtype=np.float64)
        if remove_mean:
            block = block - block.mean(axis=scan_axes, keepdims=True)
        if window is not None:
            block = block * window
        spectrum = np.fft.fftshift(np.fft.fftn(block, axes=scan_axes), axes=scan_axes)
        return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)

    power = data.map_blocks(kernel, dtype=np.float32)
    lazy = resolve_lazy_output(s, lazy_output)
    if not lazy:
        power = compute(power, show_progressbar)
    axes = [ax.get_axis_dictionary() for ax in sig][::-1]
    for ax in axes:
        ax["navigate"] = True
    # frequency axes in numpy order (y before x), from the scan axes
    axes += [_frequency_axis(ax) for ax in nav[::-1]]
    metadata = {
        "General": {"title": "Scan FFT"},
        "Signal": {"signal_type": ""},
        "HyperspyManifold": {
            "Scan_FFT": {"remove_mean": remove_mean, "apodization": apodization}
        },
    }
    return dict2signal(
        {"data": power, "axes": axes, "metadata": metadata, "original_metadata": {}},
        lazy=lazy,
    )
