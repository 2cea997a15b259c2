"""The one place where signals meet kernels.

Every per-pattern transform goes through this module: input validation with
messages for people, beam-centre and detector calibration, the signal mask, and a
single chunk-mapping helper that applies a vectorised kernel to whole navigation
chunks with dask (lazy in -> lazy out, navigation chunks preserved, signal axes
never split) and wraps the result in a registered HyperSpy signal with the
navigation axes of the input.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Callable, Sequence

import dask
import dask.array as da
import numpy as np
from dask.diagnostics import ProgressBar
from hyperspy.defaults_parser import preferences
from hyperspy.io import dict2signal

#: Metadata node where every transform records its parameters.
METADATA_NODE = "HyperspyManifold"


# --------------------------------------------------------------------------- checks


def check_pattern_signal(s, func_name: str, require_navigation: bool = True) -> None:
    """Raise a clear error unless ``s`` is a stack of 2D patterns with uniform axes."""
    from hyperspy.signal import BaseSignal

    if not isinstance(s, BaseSignal):
        raise TypeError(
            f"`{func_name}` needs a HyperSpy signal (e.g. pyxem Diffraction2D), "
            f"got {type(s).__name__}."
        )
    am = s.axes_manager
    if am.signal_dimension != 2:
        raise ValueError(
            f"`{func_name}` needs a signal with 2 signal axes (diffraction patterns), "
            f"got signal dimension {am.signal_dimension}. Make the last two array axes "
            "(the detector) the signal axes with `s = s.transpose(signal_axes=2)`, "
            'then `s.set_signal_type("manifold")`.'
        )
    if require_navigation and am.navigation_dimension == 0:
        raise ValueError(
            f"`{func_name}` needs at least one navigation axis (a scan of patterns), "
            "got a single pattern with navigation dimension 0. Add one with "
            "`hs.stack([s])` or `s.inav` on a larger scan."
        )
    if any(n == 0 for n in s.data.shape):
        raise ValueError(f"`{func_name}` got an empty signal of shape {s.data.shape}.")
    for ax in am.signal_axes:
        if not ax.is_uniform:
            raise ValueError(
                f"`{func_name}` needs uniform signal axes, but axis '{ax.name}' is "
                "non-uniform. Convert it with `axis.convert_to_uniform_axis()`."
            )
    check_axis_calibration(s, func_name)
    if not np.issubdtype(s.data.dtype, np.number) or np.issubdtype(
        s.data.dtype, np.complexfloating
    ):
        raise TypeError(
            f"`{func_name}` needs real-valued patterns, got dtype {s.data.dtype}."
        )


def check_axis_calibration(s, func_name: str) -> None:
    """Raise a ValueError naming the axis whose calibration is 0, NaN or infinite:
    pixel sizes, beam centres and result axes would all be wrong or undefined."""
    for ax in s.axes_manager._axes:
        kind = "navigation" if ax.navigate else "signal"
        where = f"{kind} axis {ax.index_in_axes_manager} ('{ax.name}')"
        if ax.is_uniform:
            if not (np.isfinite(ax.scale) and ax.scale != 0):
                raise ValueError(
                    f"`{func_name}` needs a finite, non-zero scale on every axis, "
                    f"but {where} has scale {ax.scale}. Set it, e.g. "
                    f"`s.axes_manager[{ax.index_in_axes_manager}].scale = 1`."
                )
            if not np.isfinite(ax.offset):
                raise ValueError(
                    f"`{func_name}` needs a finite offset on every axis, but {where} "
                    f"has offset {ax.offset}. Set it, e.g. "
                    f"`s.axes_manager[{ax.index_in_axes_manager}].offset = 0`."
                )
        elif not np.isfinite(ax.axis).all():
            raise ValueError(
                f"`{func_name}` needs finite axis values, but the non-uniform "
                f"{where} holds NaN or infinite values."
            )


def check_signal_mask(s, signal_mask) -> np.ndarray | None:
    """Return the signal mask as a boolean ``(ky, kx)`` array (True = excluded)."""
    if signal_mask is None:
        return None
    if hasattr(signal_mask, "data"):
        signal_mask = signal_mask.data
    mask = np.asarray(signal_mask)
    shape = detector_shape(s)
    if mask.shape != shape:
        raise ValueError(
            f"`signal_mask` must have the detector shape {shape} (ky, kx), "
            f"got {mask.shape}."
        )
    mask = mask.astype(bool)
    if mask.all():
        raise ValueError("`signal_mask` excludes every detector pixel.")
    return mask


def check_navigation_mask(s, navigation_mask) -> np.ndarray | None:
    """Return the navigation mask as a boolean array of navigation shape."""
    if navigation_mask is None:
        return None
    if hasattr(navigation_mask, "data"):
        navigation_mask = navigation_mask.data
    mask = np.asarray(navigation_mask).astype(bool)
    shape = navigation_shape(s)
    if mask.shape != shape:
        raise ValueError(
            f"`navigation_mask` must have the navigation shape {shape}, got {mask.shape}."
        )
    if mask.all():
        raise ValueError("`navigation_mask` excludes every scan position.")
    return mask


def check_choice(name: str, value, allowed: Sequence) -> None:
    """Raise ``ValueError`` naming the parameter when ``value`` is not allowed."""
    if value not in allowed:
        allowed_txt = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {allowed_txt}, got {value!r}.")


# ------------------------------------------------------------------ geometry/calibration


def navigation_shape(s) -> tuple[int, ...]:
    """Navigation shape in array order."""
    return tuple(s.data.shape[: s.axes_manager.navigation_dimension])


def detector_shape(s) -> tuple[int, int]:
    """Detector shape ``(ky, kx)`` in array order."""
    return tuple(s.data.shape[-2:])


def detector_calibration(s) -> tuple[float, float, str]:
    """Return ``(scale_y, scale_x, units)`` of the detector axes."""
    ax_x, ax_y = s.axes_manager.signal_axes
    units = ax_x.units if isinstance(ax_x.units, str) else ""
    return float(ax_y.scale), float(ax_x.scale), units


def resolve_center(s, center=None) -> tuple[float, float]:
    """Beam centre ``(cy, cx)`` in pixels, by pyxem's convention.

    ``center`` is ``(x, y)`` in pixels (HyperSpy/pyxem order).  With ``None`` the
    centre is pyxem's ``s.calibration.center``: the pixel where the calibrated
    detector axes are 0, ``-offset / scale`` of each signal axis.  pyxem's own
    ``get_azimuthal_integral1d``/``2d`` and ``get_variance`` integrate about the
    same point, so the polar features of this package and pyxem's agree on the
    same signal.  ``s.calibration.center = None`` puts the centre on the detector
    centre ``((kx - 1) / 2, (ky - 1) / 2)``; ``center_direct_beam`` moves the
    beam to pixel ``(kx / 2, ky / 2)`` but leaves the offsets alone.

    Axes that were never centred (both offsets 0, as rosettasciio loads most
    detector files and as every plain ``Signal2D`` starts) put pyxem's centre on
    the corner pixel (0, 0), where no ring fits on the detector.  The detector
    centre is used then, with a warning that names the call that makes pyxem
    and this package use one centre.
    """
    ky, kx = detector_shape(s)
    if center is None:
        ax_x, ax_y = s.axes_manager.signal_axes
        if ax_x.offset == 0 and ax_y.offset == 0:
            cx, cy = (kx - 1) / 2, (ky - 1) / 2
            warnings.warn(_uncentred_message(s, cx, cy), UserWarning, stacklevel=3)
        else:
            cx = -ax_x.offset / ax_x.scale
            cy = -ax_y.offset / ax_y.scale
    else:
        try:
            cx, cy = (float(c) for c in center)
        except (TypeError, ValueError):
            raise ValueError(
                f"`center` must be None or a pair (x, y) in pixels, got {center!r}."
            ) from None
    if not (0 <= cx <= kx - 1 and 0 <= cy <= ky - 1):
        if center is None:
            raise ValueError(
                f"The beam centre ({cx:g}, {cy:g}) (x, y in pixels) from the "
                "calibration of the detector axes (pyxem's `s.calibration.center`, "
                f"-offset / scale) lies outside the detector of {kx} x {ky} pixels. "
                "Set it with `s.calibration.center = None` (the detector centre) or "
                "`s.calibration.center = (x, y)`, or pass `center=(x, y)`."
            )
        raise ValueError(
            f"`center` ({cx:g}, {cy:g}) (x, y in pixels) lies outside the detector of "
            f"{kx} x {ky} pixels. Give the beam centre in pixels, e.g. from pyxem's "
            "`s.get_direct_beam_position(...)`."
        )
    return float(cy), float(cx)


def _uncentred_message(s, cx, cy) -> str:
    if hasattr(s, "calibration"):
        fix = "Set it with `s.calibration.center = None` (the detector centre)"
    else:
        fix = (
            f"`s` is a plain {type(s).__name__} without pyxem's calibration: call "
            '`s.set_signal_type("manifold")`, then `s.calibration.center = None` '
            "(the detector centre)"
        )
    return (
        "The detector axes have offset 0: by pyxem's convention (the beam centre "
        "is where the calibrated axes are 0) the centre is the corner pixel "
        "(0, 0), about which pyxem's `get_azimuthal_integral1d` integrates; using "
        f"the detector centre ({cx:g}, {cy:g}) (x, y in pixels) instead. {fix} or "
        "`s.calibration.center = (x, y)` (after `s.center_direct_beam(...)` when "
        "the beam moves), or pass `center=(x, y)`, so that pyxem and "
        "hyperspy_manifold use the same centre."
    )


# ---------------------------------------------------------------------- chunk mapping


def show_progressbar_default(show_progressbar):
    """HyperSpy's preference when ``show_progressbar`` is None."""
    if show_progressbar is None:
        return bool(preferences.General.show_progressbar)
    return bool(show_progressbar)


def pattern_stack(s) -> da.Array:
    """The data of ``s`` as a dask array with whole signal axes.

    Navigation chunks of a lazy signal are kept as they are; signal axes are merged
    into one chunk only when the input splits them.  Eager data is wrapped with
    automatic navigation chunks (no copy), sized as if the patterns were float64:
    the kernels work on float32/float64 and complex copies of a chunk, so chunks
    sized by a uint16 input would hold 4-8 times dask's chunk size in temporaries
    (a 0.5 GB uint16 scan peaked at 3.6 GB).
    """
    from hyperspy_manifold import _progress

    data = s.data
    nsig = 2
    if isinstance(data, da.Array):
        _progress.register_source(data)
        if any(len(c) > 1 for c in data.chunks[-nsig:]):
            data = data.rechunk({data.ndim - 1: -1, data.ndim - 2: -1})
        _warn_small_distributed_chunks(data)
        return data
    nav_ndim = data.ndim - nsig
    chunks = da.core.normalize_chunks(
        ("auto",) * nav_ndim + (-1, -1), data.shape, dtype=np.float64
    )
    stack = da.from_array(data, chunks=chunks, name=False, asarray=True)
    _progress.register_source(stack)
    return stack


#: Under a ``dask.distributed`` Client, chunks below this many bytes spend more
#: time in the scheduler (a few ms per task: messages, unpickling the task and
#: the file handle it reads) than in the kernels (measured: 4 MB chunks paid it
#: eight times as often as 34 MB ones, see docs/scaling.rst).
MIN_DISTRIBUTED_CHUNK_BYTES = 16 * 2**20


def _warn_small_distributed_chunks(data: da.Array) -> None:
    """Warn once per call when a Client will run chunks smaller than
    :data:`MIN_DISTRIBUTED_CHUNK_BYTES` (never rechunks: the navigation chunks are
    the caller's choice)."""
    if data.npartitions < 2 or active_client() is None:
        return
    typical = np.median([np.prod(shape) for shape in _block_shapes(data)])
    nbytes = float(typical) * data.dtype.itemsize
    if nbytes < MIN_DISTRIBUTED_CHUNK_BYTES:
        from hyperspy_manifold.io import navigation_chunks

        suggested = navigation_chunks(data.shape, dtype=data.dtype)
        warnings.warn(
            f"The navigation chunks hold {nbytes / 2**20:.1f} MB each: under a "
            "dask.distributed Client every chunk costs a few ms of scheduling, so "
            f"chunks below {MIN_DISTRIBUTED_CHUNK_BYTES // 2**20} MB spend more "
            "time there than computing. Rechunk once, e.g. "
            f"`s.data = s.data.rechunk({suggested})`, or load with "
            "`hs.load(..., chunks=hyperspy_manifold.io.navigation_chunks(...))`.",
            UserWarning,
            stacklevel=4,
        )


def _block_shapes(data: da.Array):
    """Shapes of (up to 64) blocks of ``data``, without listing every block."""
    import itertools

    return itertools.islice(itertools.product(*data.chunks), 64)


def active_client():
    """The ``dask.distributed`` Client that ``dask.compute`` would use now, or None.

    None when distributed was never imported, when no Client exists, or when a
    local scheduler is chosen explicitly (``dask.config.set(scheduler="threads")``).
    """
    if "distributed" not in sys.modules:
        return None
    from distributed import Client

    try:
        scheduler = dask.base.get_scheduler()
    except (RuntimeError, ValueError):
        return None
    client = getattr(scheduler, "__self__", None)
    return client if isinstance(client, Client) else None


def compute(array, show_progressbar=None):
    """Compute a dask array (or a tuple of them) with a progress bar.

    Inside a public call (:func:`hyperspy_manifold._progress.one_progress_bar`)
    the call's one bar advances instead of a new bar per compute.

    dask's ``ProgressBar`` only sees the local schedulers; under a
    ``dask.distributed`` Client the tasks run on the workers, so the bar there is
    distributed's text ``progress`` (printed to stdout, also in a notebook).
    """
    from hyperspy_manifold import _progress

    arrays = array if isinstance(array, tuple) else (array,)
    _progress.count_reads(arrays)
    show = show_progressbar_default(show_progressbar)
    if _progress.current() is not None:  # inside a public call: its one bar
        results = _progress.compute_with(arrays, active_client(), show)
        return tuple(results) if isinstance(array, tuple) else results[0]
    client = active_client() if show else None
    if client is not None:
        from distributed import progress

        futures = client.compute(list(arrays))
        progress(futures, notebook=False, multi=False, loop=client.loop)
        results = client.gather(futures)
    elif show_progressbar_default(show_progressbar):
        with ProgressBar():
            results = da.compute(*arrays)
    else:
        results = da.compute(*arrays)
    return tuple(results) if isinstance(array, tuple) else results[0]


def map_patterns(
    s,
    kernel: Callable,
    output_signal_shape: tuple[int, ...],
    dtype=np.float32,
    kernel_kwargs: dict | None = None,
) -> da.Array:
    """Lazily apply ``kernel`` to whole navigation chunks of ``s``.

    ``kernel(block, **kernel_kwargs)`` takes an array ``(..., ky, kx)`` and returns
    ``(..., *output_signal_shape)``.  Operators the kernel needs (windows, sparse
    matrices) are built once by the caller and passed in ``kernel_kwargs``; they are
    shipped to workers with the graph, so they must be picklable.
    """
    data = pattern_stack(s)
    nav_ndim = data.ndim - 2
    out_ndim = len(output_signal_shape)
    chunks = data.chunks[:nav_ndim] + tuple((n,) for n in output_signal_shape)
    kwargs = dict(kernel_kwargs or {})
    if out_ndim == 2:
        return da.map_blocks(kernel, data, dtype=dtype, chunks=chunks, **kwargs)
    if out_ndim == 1:
        return da.map_blocks(
            kernel, data, dtype=dtype, chunks=chunks, drop_axis=data.ndim - 1, **kwargs
        )
    raise ValueError("map_patterns supports 1 or 2 output signal axes")


def resolve_lazy_output(s, lazy_output) -> bool:
    return bool(s._lazy) if lazy_output is None else bool(lazy_output)


def make_signal(
    s,
    data,
    signal_axes: list[dict],
    signal_type: str,
    title: str,
    parameters: dict | None = None,
    lazy_output: bool | None = None,
    show_progressbar=None,
):
    """Wrap ``data`` (navigation shape of ``s`` + signal shape) in a registered signal.

    ``signal_axes`` are axis dictionaries in array order.  The navigation axes and
    metadata of ``s`` are copied (``s`` is never modified); ``parameters`` are stored
    under ``metadata.HyperspyManifold.<title>``.
    """
    lazy = resolve_lazy_output(s, lazy_output)
    if isinstance(data, da.Array) and not lazy:
        data = compute(data, show_progressbar)
    elif lazy and not isinstance(data, da.Array):
        data = da.from_array(data, chunks="auto")
    am = s.axes_manager
    nav_axes = [ax.get_axis_dictionary() for ax in am._axes if ax.navigate]
    for ax in signal_axes:
        ax.setdefault("navigate", False)
    metadata = copy.deepcopy(s.metadata.as_dictionary())
    metadata.setdefault("General", {})["title"] = title
    metadata.setdefault("Signal", {})["signal_type"] = signal_type
    if parameters is not None:
        node = metadata.setdefault(METADATA_NODE, {})
        node[parameters.pop("_node", title.replace(" ", "_"))] = parameters
    out = dict2signal(
        {
            "data": data,
            "axes": nav_axes + list(signal_axes),
            "metadata": metadata,
            "original_metadata": {},
        },
        lazy=lazy,
    )
    return out
