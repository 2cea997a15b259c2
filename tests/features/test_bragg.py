"""Bragg-disk features: bilinear rasterisation, dropped peaks, detection, errors."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import hyperspy_manifold as hm
from hyperspy_manifold.kernels.bragg import bragg_features, bragg_grid

DK = 0.05


def _scan(data, center=None, lazy=False):
    """Signal2D with detector calibration DK and the beam centre (x, y) in pixels."""
    s = hs.signals.Signal2D(np.asarray(data, dtype=np.float32))
    for ax, c in zip(s.axes_manager.signal_axes, center or (None, None)):
        ax.scale = DK
        ax.units = "1/Å"
        if c is not None:
            ax.offset = -c * DK
    return s.as_lazy() if lazy else s


def _ragged(*tables):
    """A (1, n) object array of (y, x) peak tables."""
    out = np.empty((1, len(tables)), dtype=object)
    for i, t in enumerate(tables):
        out[0, i] = np.asarray(t, dtype=float).reshape(-1, 2)
    return out


def _image(f, index=(0, 0)):
    im = hm.bragg_features_to_image(f)
    data = np.asarray(im.data[index])
    return im, data


def _bin_value(im, data, ky, kx):
    """Value of the bin at calibrated (ky, kx)."""
    ax_x, ax_y = im.axes_manager.signal_axes
    return data[ax_y.value2index(ky), ax_x.value2index(kx)]


def _disks(shape, positions, sigma=1.2, nav=(2, 2)):
    ky, kx = shape
    y, x = np.mgrid[:ky, :kx]
    img = sum(
        np.exp(-((y - py) ** 2 + (x - px) ** 2) / (2 * sigma**2))
        for py, px in positions
    )
    return np.broadcast_to(img, nav + shape).copy()


CENTER = (12.0, 18.0)  # (x, y) pixels, away from the detector centre


@pytest.mark.parametrize("lazy", [False, True])
def test_peak_on_bin_centre_lands_in_one_bin(lazy):
    s = _scan(np.zeros((1, 1, 32, 32)), center=CENTER, lazy=lazy)
    cx, cy = CENTER
    # 1 bin down and 2 bins left of the beam centre, exactly on a bin centre
    f = hm.get_bragg_features(s, bin_size=3, vectors=_ragged([[cy + 3, cx - 6]]))
    assert f._lazy == lazy
    f.compute() if lazy else None
    im, data = _image(f)
    assert np.count_nonzero(data) == 1
    assert data.sum() == pytest.approx(1.0)
    assert _bin_value(im, data, 3 * DK, -6 * DK) == pytest.approx(1.0)
    # the beam-centre bin is at calibrated (0, 0) and has the bin width
    ax_x, ax_y = im.axes_manager.signal_axes
    assert ax_x.scale == pytest.approx(3 * DK) and ax_y.scale == pytest.approx(3 * DK)
    assert 0.0 in np.round(ax_x.axis / ax_x.scale, 9)


def test_bilinear_split_between_bins_and_at_a_corner():
    s = _scan(np.zeros((1, 2, 32, 32)), center=CENTER)
    cx, cy = CENTER
    f = hm.get_bragg_features(
        s, bin_size=3, vectors=_ragged([[cy + 1.5, cx]], [[cy + 1.5, cx - 1.5]])
    )
    im, half = _image(f, (0, 0))
    assert np.sort(half[half > 0]) == pytest.approx([0.5, 0.5])
    assert _bin_value(im, half, 0, 0) == pytest.approx(0.5)
    assert _bin_value(im, half, 3 * DK, 0) == pytest.approx(0.5)
    _, corner = _image(f, (0, 1))
    assert corner[corner > 0] == pytest.approx([0.25] * 4)
    for ky, kx in [(0, 0), (0, -3 * DK), (3 * DK, 0), (3 * DK, -3 * DK)]:
        assert _bin_value(im, corner, ky, kx) == pytest.approx(0.25)


def test_sub_bin_motion_changes_features_continuously():
    s = _scan(np.zeros((1, 2, 32, 32)), center=CENTER)
    cx, cy = CENTER
    f = hm.get_bragg_features(
        s, bin_size=3, vectors=_ragged([[cy + 1.49, cx]], [[cy + 1.51, cx]])
    )
    assert np.abs(f.data[0, 0] - f.data[0, 1]).max() < 0.01


@pytest.mark.parametrize("lazy", [False, True])
def test_peaks_off_the_detector_are_dropped_counted_never_wrapped(lazy):
    s = _scan(np.zeros((1, 2, 32, 32)), center=CENTER, lazy=lazy)
    cx, cy = CENTER
    inside = [cy, cx]
    # past the last column (the reference bug put it in the next row), above
    # the first row, and past the last row
    off = [[cy, 32 + 1.0], [-2.0, cx], [40.0, 3.0]]
    f = hm.get_bragg_features(
        s, bin_size=3, vectors=_ragged([inside] + off, [inside]), lazy_output=False
    )
    np.testing.assert_array_equal(f.data[0, 0], f.data[0, 1])
    assert f.data[0, 0].sum() == pytest.approx(1.0)
    assert f.metadata.HyperspyManifold.bragg_features.dropped_peaks == 3
    # lazy output still reports the count
    fl = hm.get_bragg_features(
        s, bin_size=3, vectors=_ragged([inside] + off, [inside]), lazy_output=True
    )
    assert fl._lazy
    assert fl.metadata.HyperspyManifold.bragg_features.dropped_peaks == 3


def test_kernel_drop_count_and_no_wrap_on_every_edge():
    grid = bragg_grid((10, 10), (4.5, 4.5), 2)
    peaks = np.empty(4, dtype=object)
    peaks[0] = np.array([[4.5, 10.2], [4.5, -0.7], [10.6, 4.5], [-0.6, 4.5]])
    peaks[1] = np.array([[4.5, 9.5], [9.5, 9.5], [-0.5, -0.5]])  # edges: kept
    peaks[2] = np.array([[np.nan, np.nan]])  # HyperSpy's "no peak": not a drop
    peaks[3] = np.zeros((0, 2))
    out = bragg_features(peaks, grid=grid)
    assert out[:, -1].tolist() == [4, 0, 0, 0]
    assert out[0, :-1].sum() == 0
    assert out[1, :-1].sum() == pytest.approx(3)
    assert out[2:, :-1].sum() == 0


def test_intensity_weighting_from_patterns_and_from_vectors():
    data = np.zeros((1, 2, 32, 32))
    cx, cy = CENTER
    data[0, 0, int(cy), int(cx) + 3] = 7.0
    data[0, 1, int(cy) - 3, int(cx)] = 2.5
    s = _scan(data, center=CENTER)
    vectors = _ragged([[cy, cx + 3]], [[cy - 3, cx]])
    f = hm.get_bragg_features(s, bin_size=3, vectors=vectors, intensity=True)
    im, d0 = _image(f, (0, 0))
    assert _bin_value(im, d0, 0, 3 * DK) == pytest.approx(7.0)
    _, d1 = _image(f, (0, 1))
    assert _bin_value(im, d1, -3 * DK, 0) == pytest.approx(2.5)
    binary = hm.get_bragg_features(s, bin_size=3, vectors=vectors)
    assert binary.data.sum() == pytest.approx(2.0)


def test_diffraction_vectors_calibration_and_intensity_column():
    positions = [(8, 20), (25, 6), (18, 12)]
    data = _disks((32, 32), positions, nav=(1, 2))
    data[0, 1] *= 3
    s = _scan(data, center=CENTER)
    s.set_signal_type("manifold")
    kwargs = dict(min_distance=3, threshold_rel=0.2, exclude_border=False)
    vectors = s.get_diffraction_vectors(
        method="local_max", show_progressbar=False, **kwargs
    )
    assert list(vectors.column_names[:2]) == ["ky", "kx"]
    from_vectors = hm.get_bragg_features(s, vectors=vectors, intensity=True)
    detected = hm.get_bragg_features(s, peak_kwargs=kwargs, intensity=True)
    np.testing.assert_allclose(from_vectors.data, detected.data, rtol=1e-6)
    assert from_vectors.data[0, 1].sum() == pytest.approx(
        3 * from_vectors.data[0, 0].sum()
    )


@pytest.mark.parametrize("method", ["local_max", "template_matching"])
def test_detected_disks_light_the_bins_where_the_disks_are(method):
    positions = [(6.0, 25.0), (20.0, 9.0), (27.0, 27.0)]  # (y, x)
    data = _disks((32, 32), positions) + CENTER[0] * 0  # no background
    rng = np.random.default_rng(0)
    data += 0.01 * rng.random(data.shape)
    s = _scan(data, center=CENTER)
    peak_kwargs = {"disk_r": 2} if method == "template_matching" else None
    f = hm.get_bragg_features(s, bin_size=3, method=method, peak_kwargs=peak_kwargs)
    assert f.metadata.HyperspyManifold.bragg_features.dropped_peaks == 0
    im, img = _image(f, (1, 1))
    cx, cy = CENTER
    for py, px in positions:
        assert _bin_value(im, img, (py - cy) * DK, (px - cx) * DK) > 0.4
    assert img.sum() == pytest.approx(len(positions))


@pytest.mark.parametrize("intensity", [False, True])
def test_lazy_equals_eager(intensity):
    positions = [(6.0, 25.0), (20.0, 9.0), (16.0, 16.0)]
    data = _disks((32, 32), positions, nav=(3, 4))
    data[1, 2] = np.roll(data[1, 2], 2, axis=-1)
    eager = hm.get_bragg_features(_scan(data), intensity=intensity)
    s_lazy = _scan(data)
    s_lazy = hs.signals.Signal2D(
        da.from_array(s_lazy.data, chunks=(2, 3, 32, 32))
    ).as_lazy()
    lazy = hm.get_bragg_features(s_lazy, intensity=intensity)
    assert lazy._lazy and type(lazy).__name__ == "LazyManifoldDiffraction1D"
    assert lazy.data.chunks[:2] == ((2, 1), (3, 1))
    lazy.compute()
    np.testing.assert_allclose(lazy.data, eager.data, rtol=1e-6)
    assert eager.data[1, 2].tolist() != eager.data[0, 0].tolist()


def test_origin_follows_calibrated_beam_centre():
    positions = [(16.0, 16.0), (10.0, 22.0)]
    shifted = [(py + 2, px - 3) for py, px in positions]
    a = _scan(_disks((32, 32), positions), center=(16.0, 16.0))
    b = _scan(_disks((32, 32), shifted), center=(13.0, 18.0))
    fa = hm.get_bragg_features(a, bin_size=3)
    fb = hm.get_bragg_features(b, bin_size=3)
    assert fb.metadata.HyperspyManifold.bragg_features.center == [13.0, 18.0]

    def lit_bins(f):
        im, img = _image(f)
        ax_x, ax_y = im.axes_manager.signal_axes
        rows, cols = np.nonzero(img)
        return {
            (round(ax_y.axis[r] / DK), round(ax_x.axis[c] / DK)): float(img[r, c])
            for r, c in zip(rows, cols)
        }

    # the same bins relative to the beam centre (in pixels: multiples of 3)
    assert lit_bins(fa) == lit_bins(fb) == {(0, 0): 1.0, (-6, 6): 1.0}
    # an explicit centre overrides the calibration
    fc = hm.get_bragg_features(b, bin_size=3, center=(16.0, 16.0))
    assert lit_bins(fc) != lit_bins(fa)


def test_method_on_manifold_signal_and_image_view():
    s = _scan(_disks((32, 32), [(8.0, 8.0)]), center=(16.0, 16.0))
    s.set_signal_type("manifold")
    f = s.get_bragg_features(bin_size=4)
    assert type(f).__name__ == "ManifoldDiffraction1D"
    im = hm.bragg_features_to_image(f)
    assert type(im).__name__ == "ManifoldDiffraction2D"
    assert im.axes_manager.signal_shape == (10, 10)  # bins -5..4 around x = 16
    assert im.axes_manager.navigation_shape == s.axes_manager.navigation_shape
    assert im.axes_manager.signal_axes[0].units == "1/Å"


def test_errors_for_people():
    s = _scan(np.zeros((2, 3, 16, 16)))
    with pytest.raises(
        ValueError, match="`bin_size` must be a number of detector pixels >= 1"
    ):
        hm.get_bragg_features(s, bin_size=0.5)
    wrong = np.empty((3, 2), dtype=object)
    with pytest.raises(ValueError, match=r"navigation shape of the signal \(2, 3\)"):
        hm.get_bragg_features(s, vectors=wrong)
    with pytest.raises(ValueError, match="`method` must be one of"):
        hm.get_bragg_features(s, method="magic")
    with pytest.raises(TypeError, match="object array"):
        hm.get_bragg_features(s, vectors=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no Bragg grid"):
        hm.bragg_features_to_image(hs.signals.Signal1D(np.zeros((2, 9))))
