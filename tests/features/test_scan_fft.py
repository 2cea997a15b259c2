"""The Fourier transform across the scan (4D FFT, issue 14 item 2): a known
periodicity is found at its frequency, for the pixels it changes only."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import values

import hyperspy_manifold as hm

STEP, PERIOD = 2.5, 4  # nm per scan step, positions per period


def _periodic_scan(lazy=False, ny=8, nx=32):
    """Pixel (5, 6) oscillates along x with a period of PERIOD positions and pixel
    (1, 2) along y with period 2; every other pixel is constant."""
    y, x = np.mgrid[:ny, :nx]
    data = np.ones((ny, nx, 12, 10), dtype=np.float32)
    data[..., 5, 6] += np.cos(2 * np.pi * x / PERIOD)
    data[..., 1, 2] += np.cos(np.pi * y)
    s = hs.signals.Signal2D(data)
    for ax, name in zip(s.axes_manager.navigation_axes, "xy"):
        ax.scale, ax.units, ax.name = STEP, "nm", name
    for ax in s.axes_manager.signal_axes:
        ax.scale, ax.units = 0.01, "1/Å"
    if lazy:
        s = s.as_lazy()
        s.data = s.data.rechunk((4, 8, -1, -1))
    return s


@pytest.mark.parametrize("lazy", [False, True])
def test_periodicity_is_found_at_its_frequency(lazy):
    s = _periodic_scan(lazy)
    p = hm.get_scan_fft(s, apodization=False, show_progressbar=False)
    assert p._lazy is lazy
    power = values(p)
    assert power.shape == (12, 10, 8, 32)
    k_y, k_x = p.axes_manager.signal_axes[1], p.axes_manager.signal_axes[0]
    assert k_x.units == "1 / nm" and k_x.scale == pytest.approx(1 / (32 * STEP))
    spectrum = power[5, 6]
    iy, ix = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    assert k_y.axis[iy] == pytest.approx(0)
    assert abs(k_x.axis[ix]) == pytest.approx(1 / (PERIOD * STEP))
    # the y oscillation of pixel (1, 2) sits at the Nyquist frequency of y
    iy, ix = np.unravel_index(np.argmax(power[1, 2]), power[1, 2].shape)
    assert abs(k_y.axis[iy]) == pytest.approx(1 / (2 * STEP)) and k_x.axis[ix] == 0
    # constant pixels carry no power once the mean is removed
    assert power[0, 0].max() < 1e-6 * spectrum.max()
    # the detector calibration becomes the navigation of the result
    assert p.axes_manager.navigation_axes[0].units == "1/Å"


def test_input_is_not_modified_and_lazy_output_is_honoured():
    s = _periodic_scan(lazy=True)
    before = values(s).copy()
    p = hm.get_scan_fft(s, lazy_output=False, show_progressbar=False)
    assert not p._lazy and isinstance(p.data, np.ndarray)
    np.testing.assert_array_equal(values(s), before)


def test_window_and_mean_options_change_the_spectrum():
    s = _periodic_scan()
    plain = values(hm.get_scan_fft(s, apodization=False, remove_mean=False))
    assert plain[0, 0].max() > 0  # the mean stays at zero frequency
    windowed = values(hm.get_scan_fft(s))
    assert not np.allclose(windowed, values(hm.get_scan_fft(s, apodization=False)))


def test_feature_signal_of_a_line_scan_gives_spectra():
    data = np.ones((40, 6))
    data[:, 3] += np.cos(2 * np.pi * np.arange(40) / 5)
    f = hs.signals.Signal1D(data)
    f.axes_manager.navigation_axes[0].scale = 1.0
    p = hm.get_scan_fft(f, apodization=False)
    assert isinstance(p, hs.signals.Signal1D) and p.data.shape == (6, 40)
    k = p.axes_manager.signal_axes[0].axis
    assert abs(k[np.argmax(p.data[3])]) == pytest.approx(1 / 5)


def test_chunks_keep_the_scan_whole_and_bound_the_bytes():
    data = da.zeros((64, 64, 128, 128), chunks=(16, 16, -1, -1), dtype=np.float32)
    s = hs.signals.Signal2D(data).as_lazy()
    p = hm.get_scan_fft(s, show_progressbar=False)
    assert p.data.chunks[2:] == ((64,), (64,))
    chunk_bytes = max(p.data.chunks[0]) * max(p.data.chunks[1]) * 64 * 64 * 16
    assert chunk_bytes <= 64 * 2**20


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: hs.signals.Signal2D(np.ones((8, 8))), "1 or 2 navigation axes"),
        (lambda: hs.signals.Signal2D(np.ones((2, 2, 2, 8, 8))), "1 or 2 navigation"),
        (lambda: hs.signals.BaseSignal(np.ones((4, 4))).T, "signal axis"),
    ],
)
def test_bad_scans_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        hm.get_scan_fft(make())


def test_zero_scan_step_is_refused():
    s = _periodic_scan()
    s.axes_manager.navigation_axes[0].scale = 0.0
    with pytest.raises(ValueError, match="positive scan step"):
        hm.get_scan_fft(s)


def test_signal_method_is_the_function():
    s = _periodic_scan()
    s.set_signal_type("manifold")
    np.testing.assert_array_equal(
        values(s.get_scan_fft(show_progressbar=False)),
        values(hm.get_scan_fft(s, show_progressbar=False)),
    )
