"""From a signal and a feature name to the (patterns x features) matrix.

The one place where learn/ turns ``features=`` into numbers: a transform name
(computed with its defaults plus ``feature_kwargs``), ``"raw"`` (the patterns
themselves, flattened), or a signal with the same navigation shape.  Also the
one place for feature scaling.
"""

from __future__ import annotations

import dask.array as da
import numpy as np

from hyperspy_manifold._axes import navigation_shape
from hyperspy_manifold._checks import check_choice, check_signal_mask
from hyperspy_manifold._chunks import compute, lazy_view, pattern_stack

FEATURE_NAMES = (
    "cepstrum",
    "radial_variance",
    "radial_profile",
    "angular_average",
    "bragg",
    "bright_field",
    "raw",
)
SCALINGS = ("minmax", "standard", None)

#: Default annulus of the cepstrum ring features, in pixels from zero quefrency.
CEPSTRUM_RING_PIXELS = (3, None)


def feature_signal(
    s,
    features="cepstrum",
    feature_kwargs=None,
    show_progressbar=None,
    signal_mask=None,
    navigation_mask=None,
):
    """Return the feature signal (navigation axes of ``s``, one signal axis or raw).

    Parameters
    ----------
    s : BaseSignal
        Patterns (two signal axes) or, for a signal ``features``, anything with the
        same navigation shape.
    features : str or BaseSignal
        One of ``FEATURE_NAMES`` or a signal with the navigation shape of ``s``.
    feature_kwargs : dict, optional
        Passed to the transform.  For ``"cepstrum"``: keys of ``get_cepstrum`` plus
        ``inner``/``outer`` (pixels) of the ring; default ring from 3 pixels to a
        quarter of the detector.
    signal_mask : array of bool, optional
        Detector mask (True = excluded) given to the transform (every named
        transform takes one); with ``"raw"`` the masked pixels are set to zero,
        constant features that weigh in no distance and no factorisation.
    navigation_mask : numpy.ndarray of bool, optional
        Navigation-shaped, True = excluded (checked by the caller).  A transform
        never sees the excluded patterns (they may hold NaN): it runs on a copy
        of the scan where each stands in for a copy of an included pattern, which
        leaves every dataset statistic a transform takes (global minimum,
        maximum pattern) unchanged, and their features are NaN.
    """
    from hyperspy.signal import BaseSignal

    kwargs = dict(feature_kwargs or {})
    if isinstance(features, BaseSignal):
        if signal_mask is not None:
            raise ValueError(
                "`signal_mask` masks the detector for features computed from the "
                "patterns; it can not apply to a given `features` signal."
            )
        if navigation_shape(features) != navigation_shape(s):
            raise ValueError(
                "`features` must have the navigation shape of the data "
                f"{navigation_shape(s)}, got {navigation_shape(features)}."
            )
        return features
    if not isinstance(features, str):
        raise TypeError(
            f"`features` must be one of {FEATURE_NAMES} or a signal, got {type(features).__name__}."
        )
    check_choice("features", features, FEATURE_NAMES)
    if signal_mask is not None:
        if "signal_mask" in kwargs:
            raise ValueError(
                "`signal_mask` is given twice: as an argument and in `feature_kwargs`."
            )
        mask = check_signal_mask(s, signal_mask)
        if features == "raw":
            return s._deepcopy_with_new_data(
                da.where(mask, s.data.dtype.type(0), pattern_stack(s))
                if s._lazy
                else np.where(mask, s.data.dtype.type(0), s.data)
            )
        kwargs["signal_mask"] = mask
    if features == "raw":
        return s
    positions = None
    if navigation_mask is not None and np.asarray(navigation_mask).any():
        positions = np.asarray(navigation_mask, dtype=bool)
        if features == "bright_field":
            # the disk radius comes from the mean of the included patterns
            kwargs.setdefault("navigation_mask", positions)
        s = _with_stand_ins(s, positions)
    if OneReadCepstrum.applies(s, features, kwargs):
        return OneReadCepstrum(s, kwargs, positions).signal
    f = _transform(s, features, kwargs, show_progressbar)
    if positions is not None:
        f.data = _excluded_as_nan(f.data, positions)
    return f


def _excluded_as_nan(data, positions: np.ndarray) -> da.Array:
    """``data`` (navigation shape first) with NaN at the excluded ``positions``."""
    data = da.asarray(data)
    excluded = positions.reshape(positions.shape + (1,) * (data.ndim - positions.ndim))
    return da.where(excluded, np.nan, data).astype(data.dtype)


def _lazy_copy(s, data):
    """Lazy signal with the axes and metadata of ``s`` and the dask ``data``."""
    from hyperspy.io import dict2signal

    return dict2signal(
        {
            "data": data,
            "axes": [ax.get_axis_dictionary() for ax in s.axes_manager._axes],
            "metadata": s.metadata.as_dictionary(),
        },
        lazy=True,
    )


def _with_stand_ins(s, mask: np.ndarray):
    """Lazy copy of ``s`` whose excluded patterns are the first included one."""
    data = pattern_stack(s)
    first = np.unravel_index(int(np.flatnonzero(~mask.ravel())[0]), mask.shape)
    excluded = da.from_array(
        mask[..., None, None], chunks=data.chunks[: mask.ndim] + ((1,), (1,))
    )
    return _lazy_copy(s, da.where(excluded, data[first], data))


def _ring_arguments(s, kwargs: dict):
    """``(inner, outer, sqrt)`` of the cepstrum ring, taken out of ``kwargs``."""
    ky, kx = s.data.shape[-2:]
    inner = kwargs.pop("inner", CEPSTRUM_RING_PIXELS[0])
    outer = kwargs.pop("outer", None) or max(min(ky, kx) // 4, inner + 2)
    return inner, outer, kwargs.pop("sqrt", False)


class OneReadCepstrum:
    """Cepstrum ring features with the dataset's global minimum (Padgett's
    ``log(I - m + epsilon)``, ``minimum="global"``) from one read of the data.

    :func:`~hyperspy_manifold.features.cepstrum.get_cepstrum` reads the whole
    scan for ``m`` before it transforms any pattern: two passes.  Here every
    navigation chunk is transformed with its own minimum while the same compute
    (the same read tasks, so each chunk is read once) takes the minimum and
    maximum of every chunk.  ``m`` is the smallest chunk minimum, so the chunks
    that hold it are exact already; only the others are transformed again with
    ``m`` (a second read of just those chunks).  On counting detectors nearly
    every chunk holds a 0: one read; at worst, the two passes of before.

    :func:`feature_signal` returns :attr:`signal`, whose lazy data take ``m``
    from a reduction in their own graph (exact, but computing it directly holds
    every chunk in memory until ``m`` is known); :func:`feature_rows` computes
    its rows the one-read way and then gives it the plain graph with ``m``.
    """

    @staticmethod
    def applies(s, features, kwargs) -> bool:
        """Whether the features are the cepstrum with the global minimum."""
        minimum = kwargs.get("minimum", "global")
        return (
            features == "cepstrum"
            and isinstance(minimum, str)
            and minimum == "global"
            and s.axes_manager.navigation_dimension > 0
        )

    def __init__(self, s, kwargs: dict, positions=None):
        from hyperspy_manifold.features.cepstrum import chunk_extrema

        kwargs = dict(kwargs)
        self.ring = _ring_arguments(s, kwargs)
        if "signal_mask" in kwargs:
            kwargs["signal_mask"] = check_signal_mask(s, kwargs["signal_mask"])
        self.kwargs = kwargs
        # every graph below reads the same dask array: eager data is wrapped once
        self.s = s if s._lazy else _lazy_copy(s, pattern_stack(s))
        self.positions = positions
        self.stack_chunks = self.s.data.chunks[:-2]  # navigation chunks
        self.extrema = chunk_extrema(self.s, kwargs.get("signal_mask"))
        #: the dataset's minimum, once the features were computed
        self.minimum = None
        self.signal = self.features(self.extrema[..., 0, 0].min())
        self.signal._one_read_cepstrum = self

    def features(self, minimum):
        """Lazy feature signal with the cepstrum offset ``minimum`` (a number,
        ``"chunk"`` or a lazy dask scalar)."""
        from hyperspy_manifold.features.cepstrum import one_read_cepstrum

        f = one_read_cepstrum(self.s, minimum, ring=self.ring, **self.kwargs)
        if self.positions is not None:
            f.data = _excluded_as_nan(f.data, self.positions)
        return f

    def _finish(self, extrema: np.ndarray) -> np.ndarray:
        """Take the dataset's minimum from the computed chunk ``extrema``, give
        :attr:`signal` the plain graph with it; returns which chunks (grid
        shape) hold a minimum above it (their features must be computed again)."""
        from hyperspy_manifold.features.cepstrum import global_minimum

        minimum = global_minimum(
            extrema[..., 0, 0].min(),
            extrema[..., 0, 1].max(),
            self.kwargs.get("epsilon", 0.1),
        )
        exact = self.features(minimum)
        self.minimum = minimum
        self.signal.data = exact.data
        self.signal.metadata.set_item(
            "HyperspyManifold.cepstrum.minimum_value", minimum
        )
        return extrema[..., 0, 0] > minimum

    def rows(self, rows, show_progressbar=None) -> np.ndarray:
        """``(n_rows, n_features)`` features of the flat navigation indices
        ``rows``, exact, in one read of their chunks plus the chunks whose
        minimum is above the dataset's (all rows: :meth:`store`)."""
        nav_shape = navigation_shape(self.signal)
        index = np.asarray(rows, dtype=np.intp)
        by_chunk = self.features("chunk").data
        values, extrema = compute(
            (_take_rows(by_chunk, rows, nav_shape), self.extrema), show_progressbar
        )
        above = self._finish(extrema)
        # the chunks of the rows whose own minimum is above the dataset's
        blocks = np.ix_(*(np.repeat(np.arange(len(c)), c) for c in self.stack_chunks))
        stale = above[blocks].ravel()[index]
        if self.positions is not None:
            stale &= ~self.positions.ravel()[index]  # NaN whatever the minimum
        if stale.any():
            values = np.array(values)
            values[stale] = compute(
                _take_rows(self.signal.data, index[stale], nav_shape),
                show_progressbar,
            )
        return np.asarray(values)

    def store(self, store: FeatureStore, show_progressbar=None) -> None:
        """Every row into ``store``, exact, group by group: one read (each
        group's chunk minima come with its features), then the chunks whose
        minimum is above the dataset's, transformed again and overwritten."""
        by_chunk = self.features("chunk").data
        extrema = np.empty(self.extrema.shape)
        for (i0, i1), (c0, c1) in row_groups(by_chunk, store.group_bytes):
            values, extrema[c0:c1] = compute(
                (by_chunk[i0:i1], self.extrema[c0:c1]), show_progressbar
            )
            store.write_block((slice(i0, i1),), values)
        above = self._finish(extrema)
        exact = self.signal.data
        bounds = [np.cumsum((0,) + c) for c in self.stack_chunks]
        stale = [
            tuple(slice(b[i], b[i + 1]) for b, i in zip(bounds, chunk))
            for chunk in zip(*np.nonzero(above))
        ]
        for batch in _batches(stale, store.group_bytes, store.row_bytes):
            values = compute(tuple(exact[where] for where in batch), show_progressbar)
            for where, block in zip(batch, values):
                store.write_block(where, block)


def _take_rows(data: da.Array, rows, nav_shape) -> da.Array:
    """Rows (flat navigation indices) of ``data`` (navigation shape + one
    feature axis) as ``(n_rows, n_features)``; only the chunks holding them are
    read."""
    return data.vindex[np.unravel_index(np.asarray(rows), nav_shape)]


def _transform(s, features, kwargs, show_progressbar):
    """The lazy feature signal of the transform named ``features``."""
    if features == "cepstrum":
        from hyperspy_manifold.features.cepstrum import get_cepstrum

        inner, outer, sqrt = _ring_arguments(s, kwargs)
        c = get_cepstrum(
            s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
        )
        return c.get_ring_features(
            inner, outer, in_pixels=True, sqrt=sqrt, lazy_output=True
        )
    if features == "radial_variance":
        from hyperspy_manifold.features.polar import get_radial_variance

        return get_radial_variance(
            s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
        )
    if features == "radial_profile":
        from hyperspy_manifold.features.polar import get_radial_profile

        return get_radial_profile(
            s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
        )
    if features == "angular_average":
        from hyperspy_manifold.features.polar import get_angular_average

        return get_angular_average(
            s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
        )
    if features == "bright_field":
        from hyperspy_manifold.features.bright_field import get_bright_field_features

        return get_bright_field_features(
            s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
        )
    from hyperspy_manifold.features.bragg import get_bragg_features

    return get_bragg_features(
        s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
    )


def feature_array(f) -> da.Array:
    """Lazy ``(n_navigation, n_features)`` view of a feature signal (C order rows).

    Eager data is wrapped without a copy; raw patterns are flattened.  Used to
    pull a subsample or to stream row blocks without holding all features.
    """
    nav_ndim = f.axes_manager.navigation_dimension
    data = f.data
    n_nav = int(np.prod(data.shape[:nav_ndim])) if nav_ndim else 1
    n_feat = int(np.prod(data.shape[nav_ndim:]))
    if not isinstance(data, da.Array):
        data = lazy_view(data)
    return data.reshape(n_nav, n_feat)


def feature_rows(f, rows=None, show_progressbar=None) -> np.ndarray:
    """Computed ``(n_rows, n_features)`` rows of a feature signal: the flat
    navigation indices ``rows`` (sorted), all rows when None.

    Cepstrum features of :func:`feature_signal` take their global minimum in
    the same read (:class:`OneReadCepstrum`); afterwards ``f`` holds the plain
    lazy graph with that minimum.  All rows are computed group by group into
    one array (:func:`store_features`), without a concatenated copy.
    """
    lazy = isinstance(f.data, da.Array)
    if rows is None and lazy and f.axes_manager.navigation_dimension > 0:
        return store_features(f, False, show_progressbar).array
    one_read = getattr(f, "_one_read_cepstrum", None)
    if one_read is not None and one_read.minimum is None:
        return one_read.rows(rows, show_progressbar)
    F = feature_array(f)
    return np.asarray(compute(F if rows is None else F[rows], show_progressbar))


#: Features per compute when a scan's features are computed group by group:
#: enough chunks for every core, few enough bytes to hold twice.
GROUP_BYTES = 64 * 2**20
#: Rows read from a :class:`FeatureStore` at a time.
STORE_WINDOW = 8192


def row_groups(data: da.Array, group_bytes: int):
    """``((i0, i1), (c0, c1))`` ranges along the first axis of ``data`` (index
    and chunk) of consecutive chunks holding about ``group_bytes`` together."""
    per_index = int(np.prod(data.shape[1:])) * data.dtype.itemsize
    groups, i0, c0, size = [], 0, 0, 0
    bounds = np.cumsum((0,) + data.chunks[0])
    for c, n in enumerate(data.chunks[0]):
        size += n * per_index
        if size >= group_bytes or c == len(data.chunks[0]) - 1:
            groups.append(((i0, int(bounds[c + 1])), (c0, c + 1)))
            i0, c0, size = int(bounds[c + 1]), c + 1, 0
    return groups


def _batches(blocks, group_bytes: int, row_bytes: int):
    """``blocks`` (tuples of navigation slices) in lists of about ``group_bytes``."""
    batch, size = [], 0
    for where in blocks:
        batch.append(where)
        size += int(np.prod([w.stop - w.start for w in where])) * row_bytes
        if size >= group_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class FeatureStore:
    """The ``(n_rows, n_features)`` features of every pattern of a scan, in
    memory or spilled to a temporary file (``spill=True``).

    Filled by :func:`store_features` one group of chunks at a time, so a scan
    whose features exceed the memory budget is transformed once instead of once
    per pass that needs them: the fitted rows and then the rest are read back
    from the file (through the page cache, never mapped into the process).
    The file is anonymous (deleted when closed, also if the process dies) in
    :func:`tempfile.gettempdir` (``TMPDIR`` chooses it).
    """

    def __init__(self, nav_shape, n_features, dtype, spill=False, array=None):
        self.nav_shape = tuple(int(n) for n in nav_shape)
        self.n_rows = int(np.prod(self.nav_shape))
        self.n_features = int(n_features)
        self.dtype = np.dtype(dtype)
        self.row_bytes = self.n_features * self.dtype.itemsize
        self.group_bytes = GROUP_BYTES
        self._file = None
        if array is not None:
            self.array = array
        elif spill:
            import tempfile

            self.array = None
            self._file = tempfile.TemporaryFile(prefix="hyperspy_manifold_")
        else:
            self.array = np.empty((self.n_rows, self.n_features), self.dtype)

    @classmethod
    def wrap(cls, array: np.ndarray) -> FeatureStore:
        """A store of an existing ``(n_rows, n_features)`` array (no copy)."""
        return cls((array.shape[0],), array.shape[1], array.dtype, array=array)

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def write(self, start: int, values) -> None:
        """Rows ``start, start + 1, ...`` from ``values``."""
        values = np.ascontiguousarray(values, dtype=self.dtype)
        values = values.reshape(-1, self.n_features)
        if self._file is None:
            self.array[start : start + values.shape[0]] = values
            return
        # (seek and write, not os.pwrite: Windows has no pwrite; the store is
        # only ever used from the calling thread)
        self._file.seek(start * self.row_bytes)
        self._file.write(memoryview(values).cast("B"))

    def write_block(self, where, values) -> None:
        """The navigation block ``where`` (slices, leading axes) from ``values``."""
        values = np.asarray(values).reshape(-1, self.n_features)
        if len(where) == 1:
            start = where[0].start * (self.n_rows // self.nav_shape[0])
            self.write(start, values)
            return
        ranges = [np.arange(w.start, w.stop) for w in where]
        ranges += [np.arange(n) for n in self.nav_shape[len(where) :]]
        index = np.ravel_multi_index(
            np.meshgrid(*ranges, indexing="ij"), self.nav_shape
        ).ravel()
        runs = np.flatnonzero(np.diff(index) != 1) + 1
        for lo, hi in zip(np.r_[0, runs], np.r_[runs, index.size]):
            self.write(int(index[lo]), values[lo:hi])

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (a view in memory, a new array from the file)."""
        if self._file is None:
            return self.array[start:stop]
        out = np.empty((stop - start, self.n_features), self.dtype)
        self._file.seek(start * self.row_bytes)
        if self._file.readinto(memoryview(out).cast("B")) != out.nbytes:
            raise OSError("the temporary feature file is shorter than written")
        return out

    def blocks(self, rows: np.ndarray, window: int | None = None):
        """``(rows, values)`` of the sorted flat indices ``rows``, one window of
        ``window`` (default :data:`STORE_WINDOW`) consecutive stored rows at a
        time."""
        window = STORE_WINDOW if window is None else int(window)
        rows = np.asarray(rows, dtype=np.intp)
        edges = np.searchsorted(rows, np.arange(0, self.n_rows + window, window))
        for lo, hi in zip(edges[:-1], edges[1:]):
            if hi > lo:
                sel = rows[lo:hi]
                yield sel, self.read(int(sel[0]), int(sel[-1]) + 1)[sel - sel[0]]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The sorted flat indices ``rows`` as one array."""
        if self._file is None:
            return self.array[np.asarray(rows, dtype=np.intp)]
        parts = [values for _, values in self.blocks(rows)]
        if not parts:
            return np.empty((0, self.n_features), self.dtype)
        return np.concatenate(parts)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def store_features(f, spill=False, show_progressbar=None) -> FeatureStore:
    """Compute every row of the lazy feature signal ``f`` into a
    :class:`FeatureStore`, one group of navigation chunks (about
    :data:`GROUP_BYTES` of features) per compute; cepstrum features of
    :func:`feature_signal` take their global minimum in the same read."""
    nav_shape = navigation_shape(f)
    data = f.data
    if not isinstance(data, da.Array):
        return FeatureStore.wrap(np.asarray(data).reshape(int(np.prod(nav_shape)), -1))
    n_features = int(np.prod(data.shape[len(nav_shape) :]))
    store = FeatureStore(nav_shape, n_features, data.dtype, spill)
    one_read = getattr(f, "_one_read_cepstrum", None)
    if one_read is not None and one_read.minimum is None:
        one_read.store(store, show_progressbar)
        return store
    for (i0, i1), _ in row_groups(data, store.group_bytes):
        store.write_block((slice(i0, i1),), compute(data[i0:i1], show_progressbar))
    return store


def check_finite_features(X: np.ndarray) -> np.ndarray:
    """Raise a clear error when a feature matrix holds NaN or infinite values."""
    if not np.isfinite(X).all():
        raise ValueError(
            "Features contain NaN or infinite values: mask the offending pixels "
            "(`signal_mask`) or scan positions (`navigation_mask`)."
        )
    return X


def feature_dtype(dtype) -> type:
    """float32, or float64 for integers float32 can not hold exactly: raw uint32
    counts near 2**32 would lose every digit of their differences."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and not np.can_cast(dtype, np.float32):
        return np.float64
    return np.float32


#: float32 keeps 24 bits from ~1e-38 to ~3e38; values within this factor of
#: either end lose digits or overflow in the first arithmetic step.
_FLOAT32_MARGIN = 1e3


def values_dtype(X: np.ndarray) -> type:
    """:func:`feature_dtype`, or float64 for float64 values beyond float32's range:
    the radial variance of patterns near 1e-25 (or 1e20) is ~1e-46 (~1e43),
    which float32 turns into 0 (inf)."""
    dtype = feature_dtype(X.dtype)
    if dtype == np.float32 and X.dtype == np.float64 and X.size:
        magnitude = np.abs(X)
        largest = magnitude.max()
        smallest = np.min(magnitude, where=magnitude > 0, initial=np.inf)
        f32 = np.finfo(np.float32)
        if largest > f32.max / _FLOAT32_MARGIN or smallest < f32.tiny * _FLOAT32_MARGIN:
            return np.float64
    return dtype


def as_features(X) -> np.ndarray:
    """``X`` as a float feature matrix (see :func:`values_dtype`), checked finite."""
    X = np.asarray(X)
    return check_finite_features(X.astype(values_dtype(X), copy=False))


def feature_matrix(f, navigation_mask=None, show_progressbar=None) -> np.ndarray:
    """``(n_kept_patterns, n_features)`` float matrix of a feature signal.

    Rows follow the flattened navigation (C order), without the positions where
    ``navigation_mask`` is True.  Lazy features are computed chunk by chunk; raw
    patterns are flattened.  Non-finite values raise a clear error.
    """
    nav_ndim = f.axes_manager.navigation_dimension
    data = f.data
    n_nav = int(np.prod(data.shape[:nav_ndim])) if nav_ndim else 1
    n_feat = int(np.prod(data.shape[nav_ndim:]))
    if isinstance(data, da.Array):
        X = feature_rows(f, None, show_progressbar)
    else:
        X = np.asarray(data).reshape(n_nav, n_feat)
    if navigation_mask is not None:
        X = X[~np.asarray(navigation_mask, dtype=bool).ravel()]
    return as_features(X)


def scale_features(X: np.ndarray, scaling="minmax", dtype=None) -> np.ndarray:
    """Scale every feature over all patterns: ``"minmax"`` to [0, 1] (constant
    features become 0), ``"standard"`` to zero mean and unit variance, or None.
    ``dtype``: see :class:`FeatureScaler`."""
    return FeatureScaler(scaling, dtype).fit(X).transform(X)


class FeatureScaler:
    """Per-feature scaling fitted on one set of patterns and applied to others.

    Fitting on a subsample and transforming the rest chunk by chunk (``n_fit=``
    of :func:`~hyperspy_manifold.manifold_decomposition`) gives the same numbers
    as :func:`scale_features` when the subsample is the whole data.
    """

    def __init__(self, scaling="minmax", dtype=None):
        check_choice("scaling", scaling, SCALINGS)
        self.scaling = scaling
        #: None: float32 (float64 for large integers or values beyond float32's
        #: range, see :func:`values_dtype`)
        #: with float32 output; else this dtype throughout
        self.dtype = dtype

    def _as_float(self, X) -> np.ndarray:
        X = np.asarray(X)
        return X.astype(self.dtype or values_dtype(X), copy=False)

    def fit(self, X: np.ndarray) -> FeatureScaler:
        X = self._as_float(X)
        if self.scaling == "minmax":
            self.offset_ = X.min(axis=0)
            span = X.max(axis=0) - self.offset_
        elif self.scaling == "standard":
            self.offset_ = X.mean(axis=0)
            span = X.std(axis=0)
        else:
            return self
        span[span == 0] = 1
        self.span_ = span
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.scaling is None:
            return X
        scaled = (self._as_float(X) - self.offset_) / self.span_
        return scaled.astype(self.dtype or np.float32, copy=False)


def fit_pca(X: np.ndarray, n_components: int | None, random_state=None):
    """Randomised PCA of the scaled features, or None when it would not reduce.

    UMAP's neighbour search slows with dimension (Li et al. 2019 reduce raw
    patterns to ~50 components first), so features with more than
    ``n_components`` columns are projected; fewer are used as they are.
    Returns a fitted :class:`sklearn.decomposition.PCA` (``transform`` maps new
    rows) or None.
    """
    if n_components is None:
        return None
    n_samples, n_features = X.shape
    n_components = min(int(n_components), n_samples)
    if n_features <= n_components:
        return None
    from sklearn.decomposition import PCA

    pca = PCA(
        n_components=n_components, svd_solver="randomized", random_state=random_state
    )
    return pca.fit(X)
