"""Units of calibrated detector axes: every spelling read in one place."""

import hyperspy.api as hs
import numpy as np
import pytest

import hyperspy_manifold as hm
from hyperspy_manifold._axes import reciprocal_length

SPELLINGS_ANGSTROM = [
    "$\\AA^{-1}$",  # pyxem's set_diffraction_calibration and data generators
    "$A^{-1}$",
    "Å^-1",
    "A^-1",
    "1/Å",
    "1/A",
    "Å$^{-1}$",
    "k_A^-1",
    "Å⁻¹",
]
SPELLINGS_NM = ["nm^-1", "1/nm", "$nm^{-1}$", "nm$^{-1}$", "$\\mathrm{nm}^{-1}$"]


@pytest.mark.parametrize("units", SPELLINGS_ANGSTROM)
def test_angstrom_spellings(units):
    assert reciprocal_length(units) == "Å"


@pytest.mark.parametrize("units", SPELLINGS_NM)
def test_nanometre_spellings(units):
    assert reciprocal_length(units) == "nm"


@pytest.mark.parametrize("units", ["", "px", "nm", "Å", "<undefined>", None, "1/s"])
def test_not_a_reciprocal_length(units):
    assert reciprocal_length(units) is None


def _pattern_scan(units, scale):
    rng = np.random.default_rng(0)
    s = hs.signals.Signal2D(rng.poisson(50, (2, 2, 32, 32)).astype(np.float32))
    s.set_signal_type("manifold")
    for ax in s.axes_manager.signal_axes:
        ax.units, ax.scale = units, scale
    return s


@pytest.mark.parametrize("units", SPELLINGS_ANGSTROM + SPELLINGS_NM)
def test_cepstrum_axis_is_the_same_for_every_spelling(units):
    # The same pattern calibrated with every spelling of 1/Å (and of 1/nm, ten
    # times the value) gives one real-space axis: 1 / (N dk).
    nm = units in SPELLINGS_NM
    c = hm.get_cepstrum(_pattern_scan(units, 0.2 if nm else 0.02))
    ax = c.axes_manager.signal_axes[0]
    assert ax.units == ("nm" if nm else "Å")
    assert ax.scale * (10 if nm else 1) == pytest.approx(1 / (32 * 0.02))


def test_unknown_unit_on_a_calibrated_axis_warns_and_uses_pixels():
    with pytest.warns(UserWarning, match="not a reciprocal length.*in pixels"):
        c = hm.get_cepstrum(_pattern_scan("mrad", 0.5))
    ax = c.axes_manager.signal_axes[0]
    assert (ax.units, ax.scale) == ("px", 1.0)
