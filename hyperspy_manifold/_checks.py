"""Argument checks shared by every public function, with messages for people.

A signal of patterns (two uniform signal axes, a navigation axis), the detector
and navigation masks, choices among names and integer arguments: each is checked
here, once, so every function refuses bad input with the same words.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from hyperspy_manifold._axes import (
    detector_description,
    detector_shape,
    navigation_shape,
)


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


def check_int(name: str, value, minimum: int, allow_none: bool = False):
    """``value`` as an int, or a ``ValueError`` naming ``name`` unless it is an
    integer >= ``minimum`` (None too when ``allow_none``; bools are refused).

    >>> check_int("n_runs", 3, 1)
    3
    >>> check_int("n_runs", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: `n_runs` must be an integer >= 1, got 0.
    """
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        none = "None or " if allow_none else ""
        raise ValueError(
            f"`{name}` must be {none}an integer >= {minimum}, got {value!r}."
        )
    return int(value)


def check_same_detector(s, fitted: dict) -> None:
    """Raise a ``ValueError`` naming the difference unless the detector of ``s``
    has the shape, scale and units ``fitted`` (a :func:`detector_description`)
    records: a fitted model only applies to patterns of the same detector."""
    found = detector_description(s)
    if found["shape"] != fitted["shape"]:
        raise ValueError(
            f"The new scan's detector is {found['shape'][::-1]} pixels; the "
            f"model was fitted on {fitted['shape'][::-1]}: bin or crop the scan "
            "to the fitted detector (s.rebin, s.isig[...])."
        )
    scales_match = np.allclose(found["scale"], fitted["scale"], rtol=1e-6)
    if not scales_match or found["units"] != fitted["units"]:
        raise ValueError(
            f"The new scan's detector calibration ({found['scale']} "
            f"{found['units']}) differs from the fitted one ({fitted['scale']} "
            f"{fitted['units']}): calibrate it the same way "
            "(s.axes_manager.signal_axes[i].scale / .units) or refit."
        )
