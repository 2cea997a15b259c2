"""Reading scans safely: chunks sized by bytes, damaged and misnamed files caught.

rosettasciio reads every format lazily, but three of its defaults bite on real
4D-STEM files, and this module is the one place that deals with them:

- :func:`navigation_chunks` -- the Merlin ``.mib`` reader's ``chunks="auto"``
  splits the detector axes (``(90, 90, 90, 90)`` for a 128 x 128 scan of
  256 x 256 frames); every per-pattern transform must merge them back into whole
  patterns, and the merged chunks hold ~1 GB each, so a lazy pipeline peaks at
  ~9 times the file size (17.8 GB for 2.15 GB).  Chunks of a fixed number of
  bytes along the navigation axes, the detector axes whole, keep the peak flat
  whatever the file size (0.95 GB; ``benchmarks/bench_mib_memory.py``).
- :func:`check_zarr_chunks` -- zarr returns the fill value for a chunk file that
  is missing, so a damaged ``.zspy`` reads as zeros without a word.
- :func:`check_file_format` -- HyperSpy picks the reader from the extension; a
  ``.mib`` renamed ``.blo`` sends the blockfile reader after a 13 GiB table of
  chunks built from frame pixels read as its header: minutes, or a
  ``MemoryError`` that names neither the file's real format nor the fix.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: Bytes per chunk (as stored, e.g. uint16) that :func:`navigation_chunks` aims
#: at: large enough that the per-task overhead of dask (and of a distributed
#: scheduler) is small, small enough that a chunk, its float32 working copies and
#: its FFTs, once per dask thread, stay well under a gigabyte.
TARGET_CHUNK_BYTES = 64 * 2**20


def navigation_chunks(
    data, dtype=None, signal_dimension: int = 2, target_bytes: int | None = None
) -> tuple[int, ...]:
    """Chunks of about ``target_bytes`` along the navigation axes, signal axes whole.

    Whole scan rows are grouped first (the last navigation axis is the fastest in
    every detector file, so a chunk is one contiguous read), then the scan is split
    into blocks of equal size.  Pass the result to ``hs.load(..., lazy=True,
    chunks=...)`` for the readers that take ``chunks`` (``.mib``, ``.blo``,
    ``.mrc``, ``.dm3``/``.dm4`` ...; :func:`load_chunks` decides from the
    path): rechunking after loading still reads the reader's own chunks whole.

    Parameters
    ----------
    data : BaseSignal or tuple of int
        A (lazy) signal, or the shape of its data in array order (navigation
        axes first).
    dtype : numpy.dtype, optional
        Data type; required with a shape, taken from the signal otherwise.
    signal_dimension : int
        Number of trailing signal axes of a shape (2 for diffraction patterns).
    target_bytes : int, optional
        Bytes per chunk to aim at (default :data:`TARGET_CHUNK_BYTES`, 64 MiB);
        a single pattern larger than this gets a chunk of its own.

    Returns
    -------
    tuple of int
        One chunk size per array axis: the navigation axes, then ``-1`` (whole)
        for each signal axis.

    Examples
    --------
    >>> navigation_chunks((128, 128, 256, 256), "uint16")
    (4, 128, -1, -1)
    >>> navigation_chunks((4096, 4096, 64, 64), "uint8")
    (4, 4096, -1, -1)
    """
    if hasattr(data, "axes_manager"):
        signal_dimension = data.axes_manager.signal_dimension
        shape, dtype = tuple(data.data.shape), data.data.dtype
    else:
        shape = tuple(int(n) for n in data)
        if dtype is None:
            raise TypeError("`dtype` is required when `data` is a shape")
    if not 0 <= signal_dimension <= len(shape):
        raise ValueError(
            f"`signal_dimension` must be between 0 and {len(shape)} for the shape "
            f"{shape}, got {signal_dimension}"
        )
    if target_bytes is None:
        target_bytes = TARGET_CHUNK_BYTES
    if target_bytes <= 0:
        raise ValueError(f"`target_bytes` must be positive, got {target_bytes}")
    nav_shape = shape[: len(shape) - signal_dimension]
    pattern_bytes = np.dtype(dtype).itemsize * math.prod(shape[len(nav_shape) :])
    # patterns per chunk, filled from the fastest navigation axis outwards
    budget = max(1, target_bytes // max(pattern_bytes, 1))
    nav_chunks = []
    for n in reversed(nav_shape):
        if budget >= n:
            nav_chunks.append(n)
            budget //= n
        else:
            blocks = math.ceil(n / max(budget, 1))
            nav_chunks.append(math.ceil(n / blocks))
            budget = 1
    return tuple(reversed(nav_chunks)) + (-1,) * signal_dimension


def load_chunks(path) -> tuple[int, ...] | None:
    """The ``chunks`` to pass to ``hs.load(path, lazy=True, chunks=...)``: those of
    :func:`navigation_chunks`, or None when they do not apply.

    Only files whose extension names one reader, a reader that takes ``chunks``
    (Merlin ``.mib``, ``.blo``, ``.dm3``/``.dm4`` ...), and that hold a single
    signal with navigation axes get them; a ``.zspy`` or ``.hspy`` keeps the
    chunks it was written with.  Choosing afterwards with ``rechunk`` would not
    do: the reader's chunks are still read whole (7.6 GB peak instead of 0.95 GB on
    a 2.15 GB ``.mib``, ``benchmarks/bench_mib_memory.py``).  The file is opened
    lazily once to learn its shape (the header only for these readers).
    """
    import importlib
    import inspect
    import warnings

    import hyperspy.api as hs
    from rsciio import IO_PLUGINS

    suffix = Path(path).suffix.lower().lstrip(".")
    plugins = [p for p in IO_PLUGINS if suffix in p["file_extensions"]]
    if len(plugins) != 1:
        return None
    reader = importlib.import_module(plugins[0]["api"]).file_reader
    if "chunks" not in inspect.signature(reader).parameters:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = hs.load(path, lazy=True)
    except Exception:  # the caller's own load reports why the file is unreadable
        return None
    if isinstance(loaded, list) or loaded.axes_manager.navigation_dimension == 0:
        return None
    return navigation_chunks(loaded)


# ------------------------------------------------------------------ damaged .zspy


def check_zarr_chunks(path) -> None:
    """Raise ``OSError`` if a chunk of any array of the ``.zspy`` at ``path`` is missing.

    zarr reads a missing chunk file as the array's fill value, so a ``.zspy``
    copied in part, or with a chunk file deleted, would load as a scan with
    blocks of zeros and no error.  HyperSpy writes every chunk (zarr's
    ``write_empty_chunks=True``), so every key of the chunk grid must exist.
    Only the store's listing is read, never the data.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.zspy`` folder (zarr directory store) or a zipped ``.zspy``.
    """
    import zipfile

    import zarr

    path = Path(path)
    store = (
        zarr.storage.ZipStore(str(path), mode="r")
        if path.is_file() and zipfile.is_zipfile(path)
        else zarr.storage.DirectoryStore(str(path))
    )
    try:
        root = zarr.open(store, mode="r")
        arrays = (
            [root]
            if isinstance(root, zarr.Array)
            else [a for _, a in root.arrays(recurse=True)]
        )
        for array in arrays:
            grid = array.cdata_shape
            missing = [
                index
                for index in np.ndindex(grid)
                if array._chunk_key(index) not in array.chunk_store
            ]
            if missing:
                fill = array.fill_value
                fill = fill.item() if isinstance(fill, np.generic) else fill
                raise OSError(
                    f"{path.name} is damaged: {len(missing)} of {math.prod(grid)} "
                    f"chunk files of the array '{array.path}' are missing (first: "
                    f"'{array._chunk_key(missing[0])}', chunk {missing[0]}); zarr "
                    f"would read them as {fill!r} without an error. Copy the file "
                    "again from its source."
                )
    finally:
        store.close()


# ------------------------------------------------------------ misnamed files

#: Leading bytes of the formats a 4D-STEM scan comes in: (offset, magic, name,
#: the extensions of files holding it, whether every such file starts with it).
#: HDF5 (a user block may precede the signature) and MRC (old files lack the
#: ``MAP`` stamp) are recognised but not required.
_SIGNATURES = (
    (0, b"MQ1,", "a Quantum Detectors Merlin file", (".mib",), True),
    (0, b"IMGBLO", "a NanoMegas blockfile", (".blo",), True),
    (
        0,
        b"\x89HDF\r\n\x1a\n",
        "an HDF5 file",
        (".hspy", ".hdf5", ".h5", ".hdf", ".emd", ".app5", ".nxs"),
        False,
    ),
    (0, b"PK\x03\x04", "a zip archive", (".zspy", ".zip"), False),
    (0, b"II*\x00", "a TIFF file", (".tif", ".tiff"), False),
    (0, b"MM\x00*", "a TIFF file", (".tif", ".tiff"), False),
    (0, b"\x93NUMPY", "a NumPy array file", (".npy",), True),
    (208, b"MAP ", "an MRC file", (".mrc", ".mrcs", ".ali", ".st", ".rec"), False),
)


def check_file_format(path) -> None:
    """Raise ``ValueError`` if the first bytes of ``path`` contradict its extension.

    HyperSpy chooses the reader from the extension alone; a Merlin ``.mib``
    renamed ``.blo`` goes to the blockfile reader, which takes frame pixels for
    its header and works for minutes before failing.  Only the first 512 bytes
    are read here: a file whose content is recognised as another format, or
    whose extension requires a signature it lacks, is refused at once, naming
    the format the content looks like.  Files of other formats pass unchecked.
    """
    path = Path(path)
    if not path.is_file():
        return
    with open(path, "rb") as f:
        head = f.read(512)
    suffix = path.suffix.lower()
    for offset, magic, name, extensions, _ in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if suffix in extensions:
                return
            raise ValueError(
                f"{path.name} is {name} (its first bytes say so), not a "
                f"'{suffix}' file: rename it to '{path.stem}{extensions[0]}' and "
                "load it again."
            )
    for _, magic, name, extensions, required in _SIGNATURES:
        if required and suffix in extensions:
            raise ValueError(
                f"{path.name} is not {name}, although its extension says so: "
                f"a '{suffix}' file starts with {magic!r}, this one with "
                f"{head[:8]!r}. Check which instrument wrote it and rename it."
            )


def check_scan_file(path) -> None:
    """Refuse, in a fraction of a second, the damaged or misnamed files that
    rosettasciio would read as zeros or fail on only after minutes:
    :func:`check_file_format`, then :func:`check_zarr_chunks` for a ``.zspy``."""
    path = Path(path)
    check_file_format(path)
    if path.suffix.lower() == ".zspy":
        check_zarr_chunks(path)
