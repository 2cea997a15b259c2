"""Chunk mapping: the one way a kernel runs over a scan.

:func:`pattern_stack` gives the patterns as a dask array with whole signal axes
(navigation chunks kept), :func:`map_patterns` applies a vectorised kernel to
whole navigation chunks (lazy in -> lazy out, signal axes never split) and
:func:`compute` computes with the call's progress bar, locally or under a
``dask.distributed`` Client.
"""

from __future__ import annotations

import functools
import itertools
import sys
import warnings
from collections.abc import Callable

import dask
import dask.array as da
import numpy as np
from dask.diagnostics import ProgressBar
from hyperspy.defaults_parser import preferences


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
    stack = lazy_view(data, chunks)
    _progress.register_source(stack)
    return stack


class _ArrayView:
    """A numpy array as dask sees any array-like: read by slicing, never copied."""

    __slots__ = ("array", "dtype", "ndim", "shape")

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, key):
        return self.array[key]


def lazy_view(array, chunks="auto") -> da.Array:
    """A dask array reading the in-memory ``array`` in place.

    ``dask.array.from_array`` copies a numpy array whole before splitting it
    (dask >= 2024.12, dask/dask#11850): every lazy pass over an eager scan then
    held it twice (measured: a 2.1 GB scan peaked at 6.5 GB in the cluster
    statistics, and an 8.6 GB one ran out of 24 GB).  Given a thin wrapper,
    dask slices the array chunk by chunk instead (views, no copy).
    """
    array = np.asarray(array)
    return da.from_array(
        _ArrayView(array),
        chunks=chunks,
        name=False,
        asarray=True,
        meta=np.empty((0,) * array.ndim, dtype=array.dtype),
    )


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
    with _one_blas_thread_per_task(arrays):
        results = _compute(arrays, show_progressbar)
    return tuple(results) if isinstance(array, tuple) else results[0]


def _one_blas_thread_per_task(arrays):
    """One BLAS thread in each task when dask's local threads run several chunks.

    The threaded scheduler already runs one task per core; a matrix product
    inside a task (the cluster-statistics and similarity kernels multiply a
    chunk by a few cluster rows) that starts BLAS threads of its own puts
    several spinning threads on every core.  On 2 busy cores the product of 256
    patterns of 128 x 128 by 13 cluster rows ran 2-50 times slower with
    OpenBLAS's 2 threads than with one (docs/scaling.rst).  Not applied under a
    Client (distributed sets up its workers' threads) nor to a single chunk
    (BLAS threads are then the only parallelism).
    """
    from contextlib import nullcontext

    from dask.threaded import get as threaded_get

    try:
        scheduler = dask.base.get_scheduler(collections=list(arrays))
    except (RuntimeError, ValueError):
        return nullcontext()
    if (
        scheduler is not threaded_get
        or sum(getattr(a, "npartitions", 1) for a in arrays) < 2
    ):
        return nullcontext()
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded thread pools, taken once: building it
    scans every loaded library (4 ms), which a compute per chunk of a streamed
    pass would pay each time; setting a limit with it takes 0.02 ms."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _compute(arrays, show_progressbar):
    """The results of ``arrays`` (a tuple), with the call's or a new progress bar."""
    from hyperspy_manifold import _progress

    show = show_progressbar_default(show_progressbar)
    if _progress.current() is not None:  # inside a public call: its one bar
        return _progress.compute_with(arrays, active_client(), show)
    client = active_client() if show else None
    if client is not None:
        from distributed import progress

        futures = client.compute(list(arrays))
        progress(futures, notebook=False, multi=False, loop=client.loop)
        results = client.gather(futures)
    elif show:
        with ProgressBar():
            results = da.compute(*arrays)
    else:
        results = da.compute(*arrays)
    return results


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
