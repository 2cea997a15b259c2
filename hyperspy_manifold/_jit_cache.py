"""Keep the numba code that umap-learn compiles between Python processes.

umap-learn compiles its nearest-neighbour, fuzzy-set and layout kernels with
numba the first time a process uses them, and most of them are not marked
``cache=True``: every new process (each CLI run, each notebook kernel, each
dask worker) spent 20-40 s compiling them again (measured on 2 cores:
``umap.utils.fast_knn_indices`` 10 s, ``umap.umap_.smooth_knn_dist`` 8 s,
``compute_membership_strengths`` 2 s, the layout epoch 2 s).  Turning numba's
on-disk cache on for those dispatchers before their first call makes only the
very first run on a machine pay; numba keys the cache on the source file, so a
new umap-learn release compiles once again.  The cache lives next to the
package's sources (``__pycache__``) or, where that is not writable, in numba's
per-user cache directory (``NUMBA_CACHE_DIR`` sets it).

Set the environment variable ``HYPERSPY_MANIFOLD_NO_JIT_CACHE=1`` to leave
umap-learn's dispatchers as they are.
"""

from __future__ import annotations

import importlib
import os

#: Modules whose numba dispatchers get an on-disk cache.
MODULES = (
    "umap.distances",
    "umap.utils",
    "umap.umap_",
    "umap.layouts",
    "umap.sparse",
    "pynndescent.distances",
    "pynndescent.utils",
    "pynndescent.rp_trees",
    "pynndescent.pynndescent_",
)

_enabled: int | None = None


def enable_jit_cache() -> int:
    """Turn on numba's on-disk cache for the uncached dispatchers of umap-learn
    (and pynndescent) that have not compiled yet; returns how many (once per
    process, later calls return the same count)."""
    global _enabled
    if _enabled is not None:
        return _enabled
    _enabled = 0
    if os.environ.get("HYPERSPY_MANIFOLD_NO_JIT_CACHE"):
        return _enabled
    try:
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # numba comes with umap-learn; nothing to do without it
        return _enabled
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, Dispatcher)
                and isinstance(value._cache, NullCache)
                and not value.overloads
            ):
                value.enable_caching()
                _enabled += 1
    return _enabled
