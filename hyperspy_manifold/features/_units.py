"""Units of calibrated axes, in one place.

Calibrated pyxem and HyperSpy signals spell reciprocal lengths in many ways:
pyxem writes ``$\\AA^{-1}$``, rosettasciio readers ``1/nm`` or ``nm^-1``, users
``Å^-1``, ``A^-1``, ``1/Å``, ``k_A^-1`` ... :func:`reciprocal_length` reads every
spelling into the real-space length it inverts (``"Å"`` or ``"nm"``, or ``"m"``).
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
