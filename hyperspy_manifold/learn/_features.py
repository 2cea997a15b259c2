"""From a signal and a feature name to the (patterns x features) matrix.

The one place where learn/ turns ``features=`` into numbers: a transform name
(computed with its defaults plus ``feature_kwargs``), ``"auto"`` (a transform
chosen from the data by :func:`choose_features`), ``"raw"`` (the patterns
themselves, flattened), or a signal with the same navigation shape.  Also the
one place for feature scaling.
"""

from __future__ import annotations

import dask.array as da
import numpy as np

from hyperspy_manifold._docstrings import fill_docstring
from hyperspy_manifold.features._base import (
    METADATA_NODE,
    check_choice,
    compute,
    navigation_shape,
)

FEATURE_NAMES = (
    "cepstrum",
    "radial_variance",
    "angular_average",
    "bragg",
    "bright_field",
    "raw",
)
#: ``features=`` values: a transform name or ``"auto"`` (see :func:`choose_features`).
FEATURE_CHOICES = FEATURE_NAMES + ("auto",)
SCALINGS = ("minmax", "standard", None)

#: Default annulus of the cepstrum ring features, in pixels from zero quefrency.
CEPSTRUM_RING_PIXELS = (3, None)

#: :func:`choose_features` picks ``"bright_field"`` when the bright-field disk of
#: the mean pattern has at least this radius over the detector half-width ...
BRIGHT_FIELD_MIN_RADIUS_RATIO = 0.2
#: ... holds at least this share of the intensity ...
BRIGHT_FIELD_MIN_INTENSITY_SHARE = 0.5
#: ... and is a disk, not a diffuse halo: its mean intensity is at least this
#: many times that in a ring just outside it.
BRIGHT_FIELD_MIN_EDGE_CONTRAST = 2.0


@fill_docstring
def choose_features(
    s, center=None, signal_mask=None, navigation_mask=None, show_progressbar=None
) -> tuple[str, str]:
    """Choose the feature transform for a scan: ``"bright_field"`` or ``"cepstrum"``.

    Atomic-resolution, ronchigram and CBED scans have a large bright-field (BF)
    disk whose inside and shift change with the probe position; nanobeam spot
    patterns and amorphous/crystalline mixtures have a small direct beam and
    their information in the diffracted spots and rings.  The BF disk is measured
    on the mean of at most 256 scan positions drawn with a fixed seed (see
    :func:`~hyperspy_manifold.features.bright_field.measure_bright_field_disk`):
    ``"bright_field"`` when its radius is at least 0.2 of the detector
    half-width, it holds at least half of the intensity and its mean is at least
    twice that just outside it (a disk, not a diffuse halo); else ``"cepstrum"``.

    Parameters
    ----------
    s : BaseSignal
        4D-STEM data (two signal axes), eager or lazy.
    center, signal_mask, navigation_mask
        As in :func:`~hyperspy_manifold.get_bright_field_features`.
    %(show_progressbar)s

    Returns
    -------
    name : str
        ``"bright_field"`` or ``"cepstrum"``.
    reason : str
        One line with the measured numbers and the thresholds.

    Examples
    --------
    >>> import hyperspy_manifold as hm
    >>> from hyperspy_manifold.data import ronchigram_scan
    >>> s, truth = ronchigram_scan(shape=(6, 6))
    >>> name, reason = hm.choose_features(s)
    >>> name
    'bright_field'
    >>> reason
    'bright-field disk radius 0.6 of the detector half-width (>= 0.2), 93% of the intensity (>= 50%), 8.3 x the intensity just outside (>= 2): a ronchigram/CBED-like scan'
    """
    from hyperspy_manifold.features.bright_field import measure_bright_field_disk

    try:
        disk = measure_bright_field_disk(
            s, center, signal_mask, navigation_mask, show_progressbar
        )
    except ValueError as error:
        if "flat" not in str(error):
            raise
        return "cepstrum", "no bright-field disk: the mean pattern is flat"
    failed = [
        what
        for what, ok in (
            ("disk too small", disk.radius_ratio >= BRIGHT_FIELD_MIN_RADIUS_RATIO),
            (
                "too little intensity in it",
                disk.intensity_share >= BRIGHT_FIELD_MIN_INTENSITY_SHARE,
            ),
            ("no sharp edge", disk.edge_contrast >= BRIGHT_FIELD_MIN_EDGE_CONTRAST),
        )
        if not ok
    ]
    numbers = (
        f"bright-field disk radius {disk.radius_ratio:.2g} of the detector "
        f"half-width (>= {BRIGHT_FIELD_MIN_RADIUS_RATIO:g}), "
        f"{disk.intensity_share:.0%} of the intensity "
        f"(>= {BRIGHT_FIELD_MIN_INTENSITY_SHARE:.0%}), "
        f"{disk.edge_contrast:.2g} x the intensity just outside "
        f"(>= {BRIGHT_FIELD_MIN_EDGE_CONTRAST:g})"
    )
    if not failed:
        return "bright_field", numbers + ": a ronchigram/CBED-like scan"
    return "cepstrum", f"{numbers}: not ronchigram/CBED-like ({', '.join(failed)})"


def feature_signal(s, features="cepstrum", feature_kwargs=None, show_progressbar=None):
    """Return the feature signal (navigation axes of ``s``, one signal axis or raw).

    Parameters
    ----------
    s : BaseSignal
        Patterns (two signal axes) or, for a signal ``features``, anything with the
        same navigation shape.
    features : str or BaseSignal
        One of ``FEATURE_NAMES``, ``"auto"`` or a signal with the navigation shape
        of ``s``.  ``"auto"`` runs :func:`choose_features` (``center`` and
        ``signal_mask`` of ``feature_kwargs`` go to it too), computes the chosen
        transform with ``feature_kwargs``, and records the choice and its reason
        in ``metadata.HyperspyManifold.features_choice`` and ``features_reason``
        of the returned signal.
    feature_kwargs : dict, optional
        Passed to the transform.  For ``"cepstrum"``: keys of ``get_cepstrum`` plus
        ``inner``/``outer`` (pixels) of the ring; default ring from 3 pixels to a
        quarter of the detector.
    """
    from hyperspy.signal import BaseSignal

    kwargs = dict(feature_kwargs or {})
    if isinstance(features, BaseSignal):
        if navigation_shape(features) != navigation_shape(s):
            raise ValueError(
                "`features` must have the navigation shape of the data "
                f"{navigation_shape(s)}, got {navigation_shape(features)}."
            )
        return features
    if not isinstance(features, str):
        raise TypeError(
            f"`features` must be one of {FEATURE_CHOICES} or a signal, got {type(features).__name__}."
        )
    check_choice("features", features, FEATURE_CHOICES)
    if features == "auto":
        name, reason = choose_features(
            s,
            center=kwargs.get("center"),
            signal_mask=kwargs.get("signal_mask"),
            show_progressbar=show_progressbar,
        )
        f = feature_signal(s, name, kwargs, show_progressbar)
        f.metadata.set_item(f"{METADATA_NODE}.features_choice", name)
        f.metadata.set_item(f"{METADATA_NODE}.features_reason", reason)
        return f
    if features == "raw":
        return s
    if features == "cepstrum":
        from hyperspy_manifold.features.cepstrum import get_cepstrum

        ky, kx = s.data.shape[-2:]
        inner = kwargs.pop("inner", CEPSTRUM_RING_PIXELS[0])
        outer = kwargs.pop("outer", None) or max(min(ky, kx) // 4, inner + 2)
        sqrt = kwargs.pop("sqrt", False)
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
        data = da.from_array(np.asarray(data), chunks="auto", name=False)
    return data.reshape(n_nav, n_feat)


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


def as_features(X) -> np.ndarray:
    """``X`` as a float feature matrix (see :func:`feature_dtype`), checked finite."""
    X = np.asarray(X)
    return check_finite_features(X.astype(feature_dtype(X.dtype), copy=False))


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
        X = compute(data.reshape(n_nav, n_feat), show_progressbar)
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
        #: None: float32 (float64 for large integers, see :func:`feature_dtype`)
        #: with float32 output; else this dtype throughout
        self.dtype = dtype

    def _as_float(self, X) -> np.ndarray:
        X = np.asarray(X)
        return X.astype(self.dtype or feature_dtype(X.dtype), copy=False)

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
