"""Radial variance and angular average: analytic answers, lazy/eager/dtype
agreement, masks, errors, and agreement with pyxem's polar transform."""

import pickle
from pathlib import Path

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import pattern_scan as _scan
from conftest import values as _values

import hyperspy_manifold as hm
from hyperspy_manifold.kernels.polar import polar_operator, radial_variance

DATA = Path(__file__).parents[1] / "data"


def _coords(shape, center=None):
    ky, kx = shape
    cy, cx = ((ky - 1) / 2, (kx - 1) / 2) if center is None else center
    y, x = np.mgrid[:ky, :kx].astype(float)
    return y - cy, x - cx


def _ring(shape, radius, width=1.5, center=None):
    dy, dx = _coords(shape, center)
    return np.exp(-((np.hypot(dy, dx) - radius) ** 2) / (2 * width**2))


def _spots(shape, radius, angles, sigma=1.5, center=None):
    """Gaussian spots at ``angles`` (degrees, counter-clockwise from +x as displayed)."""
    dy, dx = _coords(shape, center)
    out = np.zeros(shape)
    for a in np.radians(angles):
        sx, sy = radius * np.cos(a), -radius * np.sin(a)  # rows grow downwards
        out += np.exp(-((dx - sx) ** 2 + (dy - sy) ** 2) / (2 * sigma**2))
    return out


@pytest.mark.parametrize("lazy", [False, True])
def test_radial_variance_zero_for_rings_large_for_spots(lazy):
    shape = (64, 64)
    symmetric = _ring(shape, 15, width=3) + 0.2 * np.exp(
        -(np.hypot(*_coords(shape)) ** 2) / 20
    )
    symmetric += 0.05  # background
    spots = _spots(shape, 20, np.arange(6) * 60 + 10) + 0.05
    s = _scan(np.stack([symmetric, spots])[None], lazy)
    before = _values(s).copy()
    rv = s.get_radial_variance(normalize=True)  # the signal method
    assert type(rv).__name__ == ("Lazy" if lazy else "") + "ManifoldDiffraction1D"
    assert rv.metadata.Signal.signal_type == "manifold_diffraction"
    ax = rv.axes_manager.signal_axes[0]
    assert (ax.units, ax.scale, ax.offset, ax.size) == ("px", 1.0, 0.5, 31)
    values = _values(rv)[0]
    assert values.shape == (2, 31)
    assert values[0].max() < 1e-3  # rotationally symmetric: no azimuthal variance
    assert abs(ax.axis[values[1].argmax()] - 20) <= 1  # spots at 20 px
    assert values[1].max() > 0.5
    np.testing.assert_array_equal(_values(s), before)  # input untouched
    params = rv.metadata.HyperspyManifold.radial_variance
    assert params.npt_azim == 360 and params.empty_bins == 0


def test_radial_variance_calibrated_axis_and_range():
    shape = (64, 64)
    spots = _spots(shape, 12, [0, 90, 200]) + 0.1
    s = _scan([spots, 2 * spots], scale=0.02, units="1/Å")
    rv = hm.get_radial_variance(s, radial_range=(0.1, 0.5), npt_azim=180)
    ax = rv.axes_manager.signal_axes[0]
    assert ax.units == "1/Å" and ax.size == 20
    assert ax.scale == pytest.approx(0.02) and ax.offset == pytest.approx(5.5 * 0.02)
    in_pixels = hm.get_radial_variance(
        s, radial_range=(5, 25), npt_azim=180, in_pixels=True
    )
    np.testing.assert_allclose(rv.data, in_pixels.data)
    np.testing.assert_allclose(rv.data[1], 4 * rv.data[0], rtol=1e-5)
    # normalised variance does not depend on the intensity scale
    n = hm.get_radial_variance(s, radial_range=(0.1, 0.5), normalize=True)
    np.testing.assert_allclose(n.data[1], n.data[0], rtol=1e-4, atol=1e-7)


def test_radial_variance_follows_ellipse():
    shape = (64, 64)
    a, b, phi = 1.15, 0.85, 30.0
    dy, dx = _coords(shape)
    c, s_ = np.cos(np.radians(phi)), np.sin(np.radians(phi))
    # undistorted coordinates: rotate into the ellipse frame, divide by a and b
    u = (c * dx + s_ * (-dy)) / a
    v = (-s_ * dx + c * (-dy)) / b
    pattern = np.exp(-((np.hypot(u, v) - 16) ** 2) / 8) + 0.1
    s = _scan([pattern])
    fitted = hm.get_radial_variance(s, ellipse=(a, b, phi), normalize=True)
    circular = hm.get_radial_variance(s, normalize=True)
    assert fitted.data.max() < 5e-3
    assert circular.data.max() > 20 * fitted.data.max()


@pytest.mark.parametrize("lazy", [False, True])
def test_angular_average_sectors_of_spots(lazy):
    shape = (64, 64)
    outer_angles = [12.5, 102.5, 237.5]  # centres of sectors 2, 20 and 47 at 5 degrees
    pattern = _spots(shape, 20, outer_angles) + 0.5 * _spots(shape, 10, [42.5]) + 0.01
    s = _scan([pattern, pattern[::-1]], lazy)
    aa = s.get_angular_average(rings=[6, 15, 25], angle_step=5)
    assert aa.axes_manager.signal_axes[0].size == 2 * 72
    values = _values(aa)
    inner, outer = values[0, :72], values[0, 72:]
    assert inner.argmax() == 8
    assert set(np.argsort(outer)[-3:]) == {2, 20, 47}
    # flipping the rows mirrors angles: theta -> 360 - theta
    flipped = values[1, 72:]
    assert set(np.argsort(flipped)[-3:]) == {72 - 3, 72 - 21, 72 - 48}
    params = aa.metadata.HyperspyManifold.angular_average
    np.testing.assert_allclose(params.ring_edges_pixels, [[6, 15], [15, 25]])
    assert params.n_sectors == 72 and params.filled_sectors == 0


def _multi_ring(shape, radii=(12, 20, 28), heights=(0.6, 0.4, 0.3)):
    r = np.hypot(*_coords(shape))
    out = np.exp(-(r**2) / (2 * 2.0**2))
    for radius, h in zip(radii, heights):
        out = out + h * np.exp(-((r - radius) ** 2) / (2 * 1.5**2))
    return out


@pytest.mark.parametrize("lazy", [False, True])
def test_auto_rings_at_profile_minima(lazy):
    shape = (72, 72)
    rng = np.random.default_rng(0)
    base = _multi_ring(shape)
    patterns = [base * w + 0.01 * rng.random(shape) for w in (0.5, 1.0, 0.8, 0.3)]
    s = _scan(np.reshape(patterns, (2, 2, *shape)), lazy, chunks=(1, 2))
    aa = hm.get_angular_average(s, angle_step=10)
    # true minima of the 1D profile
    r = np.linspace(0, 35, 3501)
    f = np.exp(-(r**2) / 8) + sum(
        h * np.exp(-((r - c) ** 2) / 4.5) for c, h in zip((12, 20, 28), (0.6, 0.4, 0.3))
    )
    true_min = r[1:-1][(f[1:-1] < f[:-2]) & (f[1:-1] < f[2:])]
    params = aa.metadata.HyperspyManifold.angular_average
    edges = np.asarray(params.ring_edges_pixels)
    assert params.rings == "auto"
    assert edges.shape == (3, 2)  # two rings between minima + the ring beyond 24 px
    np.testing.assert_allclose(edges[:, 0], true_min, atol=2)
    np.testing.assert_allclose(edges[:2, 1], true_min[1:], atol=2)
    assert edges[2, 1] == pytest.approx(35.5)
    assert aa.axes_manager.signal_axes[0].size == 3 * 36
    two = hm.get_angular_average(s, angle_step=10, n_rings=2)
    assert np.asarray(
        two.metadata.HyperspyManifold.angular_average.ring_edges
    ).shape == (
        2,
        2,
    )


@pytest.mark.parametrize("lazy", [False, True])
def test_auto_rings_fall_back_to_equal_rings_on_spot_patterns(lazy):
    # A direct beam and spots whose radial profile falls monotonically (no
    # minimum between the beam and the spots): auto rings cannot be found, so
    # three rings of equal width from the beam edge to the detector edge, named
    # in a warning.
    shape = (64, 64)
    dy, dx = _coords(shape)
    beam = 100 * np.exp(-(dy**2 + dx**2) / (2 * 4.0**2))
    halo = 5 * np.exp(-np.hypot(dy, dx) / 12)
    patterns = [
        beam + halo + _spots(shape, 20, [a, a + 90, a + 180, a + 270]) for a in (0, 30)
    ]
    s = _scan(np.reshape(patterns, (1, 2, *shape)), lazy, scale=0.02, units="1/Å")
    with pytest.warns(UserWarning, match="3 rings of equal width.*inner edges"):
        aa = hm.get_angular_average(s, angle_step=10)
    edges = np.asarray(aa.metadata.HyperspyManifold.angular_average.ring_edges_pixels)
    assert edges.shape == (3, 2)
    widths = edges[:, 1] - edges[:, 0]
    np.testing.assert_allclose(widths, widths[0])
    assert 3 <= edges[0, 0] <= 8  # just outside the beam's half maximum (~4.7 px)
    assert edges[-1, 1] == pytest.approx(31.5, abs=0.6)
    # the two orientations of the spots differ in the features
    values = _values(aa).reshape(2, -1)
    assert not np.allclose(values[0], values[1])
    with pytest.warns(UserWarning, match="2 rings of equal width"):
        hm.get_angular_average(s, angle_step=10, n_rings=2)


def test_auto_rings_on_real_spot_patterns():
    # The real NanoMegas and Merlin files have no ring minimum (issue 13, item 4).
    for name in ("nanomegas_test1.blo", "test_CL30cm.mib"):
        s = hs.load(DATA / name)
        s.set_signal_type("manifold")
        s.calibration.center = None
        with pytest.warns(UserWarning, match="rings of equal width"):
            aa = hm.get_angular_average(s)
        assert np.isfinite(_values(aa)).all()


@pytest.mark.parametrize("lazy", [False, True])
def test_uneven_chunks_non_square_detector(lazy):
    shape = (40, 56)
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, 360, size=(5, 7))
    data = np.stack(
        [
            [_spots(shape, 12, [a, a + 120]) + 0.1 * rng.random(shape) for a in row]
            for row in angles
        ]
    ).astype(np.float32)
    eager = _scan(data)
    s = _scan(data, lazy, chunks=(2, 3))
    rv = hm.get_radial_variance(s, npt_azim=90)
    aa = hm.get_angular_average(s, rings=[8, 16], angle_step=15)
    if lazy:
        assert rv.data.chunks[:2] == ((2, 2, 1), (3, 3, 1))
        assert aa.data.chunks[:2] == ((2, 2, 1), (3, 3, 1))
    # the largest ring fully inside a 40 x 56 detector has radius 19.5
    assert rv.axes_manager.signal_axes[0].size == 19
    np.testing.assert_allclose(
        _values(rv), hm.get_radial_variance(eager, npt_azim=90).data, rtol=1e-5
    )
    np.testing.assert_allclose(
        _values(aa),
        hm.get_angular_average(eager, rings=[8, 16], angle_step=15).data,
        rtol=1e-5,
    )
    lazy_out = hm.get_radial_variance(eager, npt_azim=90, lazy_output=True)
    assert lazy_out._lazy and isinstance(lazy_out.data, da.Array)


def test_integer_dtypes_without_overflow():
    shape = (48, 48)
    pattern = _spots(shape, 14, [30, 150, 270]) + 0.2 * _ring(shape, 8)
    pattern = pattern / pattern.max()
    near_max = np.round(65000 + 500 * pattern)  # uint16 values up to 65500
    small = np.round(250 * pattern)
    results = {}
    for name, values, dtype in [
        ("u16", near_max, np.uint16),
        ("f64_16", near_max, np.float64),
        ("u8", small, np.uint8),
        ("f32_8", small, np.float32),
    ]:
        s = _scan(values[None].astype(dtype))
        results[name] = (
            hm.get_radial_variance(s).data,
            hm.get_angular_average(s, rings=[5, 11, 19]).data,
        )
    for a, b in [("u16", "f64_16"), ("u8", "f32_8")]:
        for x, y in zip(results[a], results[b]):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-3)
    # variance of the uint16 data is the float variance (scale 500**2), not garbage
    ref = hm.get_radial_variance(_scan(pattern[None])).data
    np.testing.assert_allclose(results["u16"][0], 500**2 * ref, rtol=2e-2, atol=5)


@pytest.mark.parametrize("lazy", [False, True])
def test_masked_hot_pixel_changes_nothing(lazy):
    shape = (48, 48)
    clean = _spots(shape, 15, [20, 140, 260]) + 0.1
    hot = clean.copy()
    hot[24, 38] = 1e6  # on the ring of spots (centre 23.5, 23.5)
    mask = np.zeros(shape, bool)
    mask[24, 38] = True
    s_hot = _scan([hot], lazy)
    s_clean = _scan([clean], lazy)
    for func, kwargs in [
        (hm.get_radial_variance, {}),
        (hm.get_angular_average, {"rings": [10, 20]}),
    ]:
        masked = _values(func(s_hot, signal_mask=mask, **kwargs))
        reference = _values(func(s_clean, signal_mask=mask, **kwargs))
        np.testing.assert_array_equal(masked, reference)
        unmasked_clean = _values(func(s_clean, **kwargs))
        np.testing.assert_allclose(masked, unmasked_clean, rtol=0.05, atol=2e-3)
        assert np.abs(_values(func(s_hot, **kwargs)) - unmasked_clean).max() > 100


def test_masked_wedge_is_reported_and_filled():
    shape = (48, 48)
    dy, dx = _coords(shape)
    angle = np.degrees(np.arctan2(-dy, dx)) % 360
    mask = (angle >= 0) & (angle < 40)  # a beam-stop arm along +x
    pattern = _spots(shape, 15, [100, 220]) + 0.1
    s = _scan([pattern, 2 * pattern])
    aa = hm.get_angular_average(s, rings=[10, 20], angle_step=10, signal_mask=mask)
    params = aa.metadata.HyperspyManifold.angular_average
    assert params.filled_sectors >= 3 and params.masked_pixels == int(mask.sum())
    values = aa.data
    assert np.isfinite(values).all()
    # the three sectors fully inside the wedge hold the mean of the valid sectors
    filled = values[:, :3]
    valid = values[:, 4:]
    np.testing.assert_allclose(
        filled, np.repeat(valid.mean(axis=1)[:, None], 3, 1), rtol=0.1
    )
    rv = hm.get_radial_variance(s, signal_mask=mask)
    assert rv.metadata.HyperspyManifold.radial_variance.empty_bins > 0
    assert np.isfinite(rv.data).all()


@pytest.mark.parametrize("dtype", [np.float64, np.uint32])
@pytest.mark.parametrize("per_batch", [1, 4])  # 4 leaves a partial last batch
def test_batches_give_the_same_result(monkeypatch, dtype, per_batch):
    import hyperspy_manifold.kernels.polar as kernel

    op = polar_operator((24, 20), (11.5, 9.5), np.arange(1, 9, 1.0), 36)
    x = np.random.default_rng(3).random((2, 3, 24, 20)) * 1000
    if dtype == np.uint32:
        x = (x + 2**32 - 2000).astype(np.uint32)  # counts near 2**32: levels
    whole = radial_variance(x, op), kernel.sector_means(x, op)
    width = max(op.pixels.size, op.matrix.shape[0])
    monkeypatch.setattr(kernel, "_BATCH_VALUES", per_batch * width)
    for a, b in zip(whole, (radial_variance(x, op), kernel.sector_means(x, op))):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert whole[0].shape == (2, 3, op.n_radial) and np.ptp(whole[0]) > 0


def test_operator_is_picklable():
    op = polar_operator((32, 40), (15.5, 19.5), np.arange(0, 15, 1.0), 72)
    x = np.random.default_rng(2).random((3, 32, 40))
    again = pickle.loads(pickle.dumps(op))
    np.testing.assert_array_equal(radial_variance(x, op), radial_variance(x, again))


def test_errors_for_people():
    shape = (32, 32)
    s = _scan(np.ones((2, *shape)))
    with pytest.raises(ValueError, match="2 signal axes"):
        hm.get_radial_variance(hs.signals.Signal1D(np.ones((3, 8))))
    with pytest.raises(ValueError, match="detector shape"):
        hm.get_radial_variance(s, signal_mask=np.zeros((32, 31), bool))
    with pytest.raises(ValueError, match="outside the detector"):
        hm.get_angular_average(s, rings=[2, 5], center=(40, 10))
    with pytest.raises(ValueError, match="`angle_step` must divide 360 degrees, got 7"):
        hm.get_angular_average(s, rings=[2, 5], angle_step=7)
    with pytest.raises(ValueError, match="`rings` .* outside the detector.*15.5"):
        hm.get_angular_average(s, rings=[5, 10, 20])
    with pytest.raises(ValueError, match="increasing"):
        hm.get_angular_average(s, rings=[10, 5])
    with pytest.raises(ValueError, match="`radial_range` .* outside the detector"):
        hm.get_radial_variance(s, radial_range=(0, 30))
    with pytest.raises(ValueError, match="`ellipse`"):
        hm.get_radial_variance(s, ellipse=(1, -1, 0))
    nonuniform = _scan(np.ones((2, *shape)))
    nonuniform.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    with pytest.raises(ValueError, match="uniform signal axes"):
        hm.get_radial_variance(nonuniform)


@pytest.mark.parametrize("lazy", [False, True])
def test_nan_pixels_need_a_mask(lazy):
    shape = (32, 32)
    data = np.ones((2, *shape))
    data[1, 16, 24] = np.nan
    s = _scan(data, lazy)
    with pytest.raises(ValueError, match="NaN or infinite pixels.*signal_mask"):
        _values(hm.get_radial_variance(s))
    with pytest.raises(ValueError, match="NaN or infinite pixels"):
        _values(hm.get_angular_average(s, rings=[4, 10]))
    mask = np.zeros(shape, bool)
    mask[16, 24] = True
    assert np.isfinite(_values(hm.get_radial_variance(s, signal_mask=mask))).all()
    assert np.isfinite(
        _values(hm.get_angular_average(s, signal_mask=mask, rings=[4, 10]))
    ).all()


@pytest.mark.slow
def test_sector_means_agree_with_pyxem():
    import pyxem as pxm

    shape = (48, 48)
    pattern = (
        _spots(shape, 14, [20, 135, 250], sigma=2) + 0.3 * _ring(shape, 8, 2) + 0.05
    )
    p = pxm.signals.Diffraction2D(pattern[None])
    p.calibration.center = (23.5, 23.5)
    polar = p.get_azimuthal_integral2d(
        npt=12, npt_azim=360, radial_range=(6, 18), mean=True, show_progressbar=False
    )
    # pyxem's azimuth runs from -180 degrees: roll so sectors start at 0
    theirs = np.roll(polar.data[0].mean(axis=0).reshape(72, 5).mean(axis=1), -36)
    ours = hm.get_angular_average(p, rings=[6, 18], angle_step=5).data[0]
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99
    np.testing.assert_allclose(ours, theirs, atol=0.03 * theirs.max())
