"""From a signal and a feature name to the (patterns x features) matrix.

The one place where learn/ turns ``features=`` into numbers: a transform name
(computed with its defaults plus ``feature_kwargs``), ``"raw"`` (the patterns
themselves, flattened), or a signal with the same navigation shape.  Also the
one place for feature scaling.
"""

from __future__ import annotations

import dask.array as da
import numpy as np

from hyperspy_manifold.features._base import (
    check_choice,
    compute,
    navigation_shape,
)

FEATURE_NAMES = ("cepstrum", "radial_variance", "angular_average", "bragg", "raw")
SCALINGS = ("minmax", "standard", None)

#: Default annulus of the cepstrum ring features, in pixels from zero quefrency.
CEPSTRUM_RING_PIXELS = (3, None)


def feature_signal(s, features="cepstrum", feature_kwargs=None, show_progressbar=None):
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
            f"`features` must be one of {FEATURE_NAMES} or a signal, got {type(features).__name__}."
        )
    check_choice("features", features, FEATURE_NAMES)
    if features == "raw":
        return s
    if features == "cepstrum":
        from hyperspy_manifold.features.cepstrum import get_cepstrum

        ky, kx = s.data.shape[-2:]
        inner = kwargs.pop("inner", CEPSTRUM_RING_PIXELS[0])
        outer = kwargs.pop("outer", None) or max(min(ky, kx) // 4, inner + 2)
        sqrt = kwargs.pop("sqrt", False)
        c = get_cepstrum(s, show_progressbar=show_progressbar, lazy_output=True, **kwargs)
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
    from hyperspy_manifold.features.bragg import get_bragg_features

    return get_bragg_features(
        s, show_progressbar=show_progressbar, lazy_output=True, **kwargs
    )


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
    X = np.asarray(X, dtype=np.float32)
    if navigation_mask is not None:
        X = X[~np.asarray(navigation_mask, dtype=bool).ravel()]
    if not np.isfinite(X).all():
        raise ValueError(
            "Features contain NaN or infinite values: mask the offending pixels "
            "(`signal_mask`) or scan positions (`navigation_mask`)."
        )
    return X


def scale_features(X: np.ndarray, scaling="minmax") -> np.ndarray:
    """Scale every feature over all patterns: ``"minmax"`` to [0, 1] (constant
    features become 0), ``"standard"`` to zero mean and unit variance, or None."""
    check_choice("scaling", scaling, SCALINGS)
    if scaling is None:
        return X
    X = np.asarray(X, dtype=np.float32)
    if scaling == "minmax":
        lo = X.min(axis=0)
        span = X.max(axis=0) - lo
        span[span == 0] = 1
        return (X - lo) / span
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1
    return (X - mean) / std
