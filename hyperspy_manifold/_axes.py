"""Axes, calibration, units and the beam centre, in one place.

Shapes of the scan and the detector, the detector calibration, the beam centre
(pyxem's convention: the signal-axis offsets) and the many spellings of
reciprocal-length units that pyxem, rosettasciio and users write
(``$\\AA^{-1}$``, ``1/nm``, ``Å^-1``, ``k_A^-1`` ...), read by
:func:`reciprocal_length` into the real-space length they invert.
"""

from __future__ import annotations

import re
import warnings

#: Length units a reciprocal unit can invert, after normalisation.
_LENGTHS = {"Å": "Å", "A": "Å", "AA": "Å", "ANGSTROM": "Å", "NM": "nm", "M": "m"}


_LATEX = re.compile(r"\\mathrm|\\text|\\rm|[${}\s]")


def _normalise(units: str) -> str:
    text = _LATEX.sub("", units)
    text = text.replace("\\AA", "Å").replace("\\AA", "Å").replace("\\", "")
    text = text.replace("−", "-").replace("⁻¹", "^-1")
    return text


def reciprocal_length(units) -> str | None:
    """The length unit ``units`` is the inverse of, or None if it is not one.

    >>> [reciprocal_length(u) for u in ("$\\\\AA^{-1}$", "1/nm", "k_A^-1", "px")]
    ['Å', 'nm', 'Å', None]
    """
    if not isinstance(units, str):
        return None
    text = _normalise(units)
    if text.lower().startswith("k_"):  # pyxem's "k_A^-1": a k axis in 1/Å
        text = text[2:]
    match = re.fullmatch(r"1/(.+)", text) or re.fullmatch(r"(.+?)\^?-1", text)
    if match is None:
        return None
    length = match.group(1).strip()
    return _LENGTHS.get(length if length == "Å" else length.upper())


def real_space_units(axis) -> str | None:
    """Real-space length unit of a detector ``axis`` calibrated in reciprocal
    length, or None (pixels). An axis that looks calibrated (units set, or a
    scale other than 1) in a unit that is not a reciprocal length gives a
    warning that says pixels are assumed."""
    units = axis.units if isinstance(axis.units, str) else ""
    length = reciprocal_length(units)
    if length is None and (
        units.strip() not in ("", "<undefined>", "px", "pixels") or axis.scale != 1
    ):
        warnings.warn(
            f"The detector axis {axis.name!r} has units {units!r} (scale "
            f"{axis.scale:g}), which is not a reciprocal length (e.g. '1/Å', "
            "'$\\AA^{-1}$', '1/nm'): its cepstrum axis is in pixels.",
            UserWarning,
        )
    return length


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


def detector_description(s) -> dict:
    """Shape, scale and units of every signal axis (array order reversed, as
    HyperSpy lists them), plain lists for JSON: what a fitted model records of
    the detector it was fitted on."""
    axes = s.axes_manager.signal_axes
    return {
        "shape": [int(a.size) for a in axes],
        "scale": [float(a.scale) for a in axes],
        "units": [a.units if isinstance(a.units, str) else "" for a in axes],
    }


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
