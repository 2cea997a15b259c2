"""Fluctuation electron microscopy statistics: known answers (speckle ring, uniform
patterns, the Poisson floor, an outlier pattern), lazy = eager, masks, errors."""

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import pattern_scan

import hyperspy_manifold as hm

DET = 32
CENTER = (DET - 1) / 2  # pixels; the signals below put pyxem's centre here
V_OMEGA, V_R, V_OMEGA_MEDIAN, V_R_MEDIAN = range(4)


def _radius(shape=(DET, DET)):
    y, x = np.mgrid[: shape[0], : shape[1]].astype(float)
    return np.hypot(y - CENTER, x - CENTER), np.arctan2(CENTER - y, x - CENTER)


def scan(data, lazy=False, chunks=None, scale=None, units=None):
    """A centred ``manifold`` signal: the beam on the detector centre."""
    s = pattern_scan(data, lazy=lazy, chunks=chunks, scale=scale, units=units)
    s.calibration.center = None
    return s


def speckle_scan(nav=(6, 6), r0=10.0, seed=0):
    """A smooth amorphous halo, identical everywhere, plus 1-5 random speckles
    (Gaussian spots of 1.2 px) on the ring of radius ``r0`` at every position."""
    rng = np.random.default_rng(seed)
    r, _ = _radius()
    y, x = np.mgrid[:DET, :DET].astype(float)
    halo = 100 * np.exp(-r / 12) + 10
    data = np.empty(nav + (DET, DET))
    for index in np.ndindex(nav):
        pattern = halo.copy()
        for angle in rng.uniform(0, 2 * np.pi, rng.integers(1, 6)):
            sx, sy = CENTER + r0 * np.cos(angle), CENTER - r0 * np.sin(angle)
            pattern += 40 * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * 1.2**2))
        data[index] = pattern
    return data


@pytest.mark.parametrize("lazy", [False, True])
def test_speckle_on_one_ring_peaks_every_variance_there(lazy):
    r0, scale = 10.0, 0.05
    s = scan(speckle_scan(r0=r0), lazy=lazy, chunks=(2, 3), scale=scale, units="1/Å")
    fem = hm.get_fem_statistics(s, radial_range=(2 * scale, 14 * scale))
    radius = fem.axes_manager.signal_axes[0]
    assert radius.units == "1/Å" and radius.scale == pytest.approx(scale)
    k = radius.axis
    for row in range(4):
        peak = k[np.argmax(fem.data[row])]
        assert abs(peak - r0 * scale) <= scale, (row, peak)
    # away from the ring the halo is the same at every position: no V_omega
    far = np.abs(k - r0 * scale) > 4 * scale
    assert fem.data[V_OMEGA, far].max() < 1e-3 * fem.data[V_OMEGA].max()
    assert not fem._lazy


def test_uniform_patterns_have_no_variance():
    s = scan(np.full((4, 5, DET, DET), 7.0))
    fem = hm.get_fem_statistics(s)
    np.testing.assert_allclose(fem.data, 0, atol=1e-12)


def test_uniform_patterns_of_different_levels_fluctuate_only_between_positions():
    """Pattern x is c_x everywhere: no ring variance, and V_omega at every radius
    is the variance of c over its squared mean."""
    levels = np.arange(1.0, 13.0).reshape(3, 4)
    s = scan(levels[..., None, None] * np.ones((DET, DET)))
    fem = hm.get_fem_statistics(s, median=False)
    assert fem.data.shape[0] == 2
    np.testing.assert_allclose(fem.data[V_R], 0, atol=1e-12)
    expected = levels.var() / levels.mean() ** 2
    np.testing.assert_allclose(fem.data[V_OMEGA], expected, rtol=1e-9)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("counts", [20.0, 400.0])
def test_poisson_counts_give_the_shot_noise_floor_at_every_radius(lazy, counts):
    rng = np.random.default_rng(1)
    data = rng.poisson(counts, (16, 16, DET, DET)).astype(np.uint16)
    fem = hm.get_fem_statistics(scan(data, lazy=lazy, chunks=(4, 16)))
    # V_r = 1 / counts on every ring, the innermost (a few pixels) included;
    # over 256 positions the innermost ring scatters by 4 %
    np.testing.assert_allclose(fem.data[V_R] * counts, 1, rtol=0.15)
    mean = fem.metadata.HyperspyManifold.fem_statistics.mean_intensity
    np.testing.assert_allclose(mean, counts, rtol=0.05)


def test_median_statistics_ignore_one_outlier_pattern():
    clean = speckle_scan(nav=(7, 7), r0=10.0)
    dirty = clean.copy()
    y, x = np.mgrid[:DET, :DET].astype(float)
    # a huge flash (a cosmic ray) at radius 6 px
    dirty[3, 4] += 1e5 * np.exp(-((x - CENTER - 6) ** 2 + (y - CENTER) ** 2) / 2)
    fem_clean = hm.get_fem_statistics(scan(clean))
    fem_dirty = hm.get_fem_statistics(scan(dirty))
    six = np.argmin(np.abs(fem_clean.axes_manager.signal_axes[0].axis - 6))
    for row in (V_OMEGA, V_R):  # the mean statistics jump ...
        assert fem_dirty.data[row, six] > 100 * fem_clean.data[row, six]
    for row in (V_OMEGA_MEDIAN, V_R_MEDIAN):  # ... the median ones barely move
        np.testing.assert_allclose(
            fem_dirty.data[row], fem_clean.data[row], rtol=0.1, atol=1e-6
        )


def test_one_pattern_a_thousand_times_brighter_moves_only_the_mean_v_omega():
    """A scaled pattern (a beam-current spike) keeps its normalised ring
    variance: only V_omega, a spread of intensities over the scan, sees it."""
    clean = speckle_scan(nav=(7, 7), r0=10.0)
    dirty = clean.copy()
    dirty[2, 5] *= 1000
    fem_clean = hm.get_fem_statistics(scan(clean))
    fem_dirty = hm.get_fem_statistics(scan(dirty))
    assert np.all(fem_dirty.data[V_OMEGA] > 100 * fem_clean.data[V_OMEGA].max())
    np.testing.assert_allclose(fem_dirty.data[V_R], fem_clean.data[V_R], rtol=1e-9)
    for row in (V_OMEGA_MEDIAN, V_R_MEDIAN):
        np.testing.assert_allclose(
            fem_dirty.data[row], fem_clean.data[row], rtol=0.1, atol=1e-6
        )


@pytest.mark.parametrize("uint", [False, True])
def test_lazy_equals_eager_with_both_masks(uint):
    data = speckle_scan(nav=(5, 6), seed=3)
    data = np.round(data).astype(np.uint16) if uint else data
    navigation_mask = np.zeros((5, 6), bool)
    navigation_mask[1, 2] = navigation_mask[4, 0] = True
    signal_mask = np.zeros((DET, DET), bool)
    signal_mask[5:9, 20:24] = True
    kwargs = dict(navigation_mask=navigation_mask, signal_mask=signal_mask)
    eager = hm.get_fem_statistics(scan(data), **kwargs)
    lazy = hm.get_fem_statistics(scan(data, lazy=True, chunks=(2, 4)), **kwargs)
    np.testing.assert_allclose(lazy.data, eager.data, rtol=1e-12, atol=1e-12)


def test_navigation_mask_leaves_the_positions_out_unread():
    data = speckle_scan(nav=(4, 6), seed=2)
    data[0, :2] = np.nan  # dead frames, excluded: never read
    mask = np.zeros((4, 6), bool)
    mask[0, :2] = True
    s = scan(data)
    fem = hm.get_fem_statistics(s, navigation_mask=mask)
    kept = hm.get_fem_statistics(scan(data[1:]))
    rest = hm.get_fem_statistics(scan(data[0, 2:][None]))
    n_kept, n_rest = 18, 4
    assert fem.metadata.HyperspyManifold.fem_statistics.n_positions == n_kept + n_rest
    # V_r is a mean over positions: the two subsets combine with their sizes
    np.testing.assert_allclose(
        fem.data[V_R],
        (n_kept * kept.data[V_R] + n_rest * rest.data[V_R]) / (n_kept + n_rest),
        rtol=1e-12,
    )
    assert np.isnan(s.data).sum() == 2 * DET * DET  # input untouched


def test_signal_mask_hides_bragg_disks_from_the_amorphous_speckle():
    """Strong Bragg disks on the ring of 8 px in an amorphous (Poisson) film:
    masked, the ring shows the shot-noise floor again."""
    rng = np.random.default_rng(4)
    counts = 100.0
    r, theta = _radius()
    data = rng.poisson(counts, (8, 8, DET, DET)).astype(float)
    disks = np.zeros((DET, DET), bool)
    y, x = np.mgrid[:DET, :DET].astype(float)
    for angle in np.radians([0, 60, 120, 180, 240, 300]):
        sx, sy = CENTER + 8 * np.cos(angle), CENTER - 8 * np.sin(angle)
        disks |= np.hypot(x - sx, y - sy) <= 2.5
    data[..., disks] += 5000
    ring = np.array([7.5, 8.5])
    plain = hm.get_fem_statistics(scan(data), radial_range=ring, median=False)
    masked = hm.get_fem_statistics(
        scan(data), radial_range=ring, signal_mask=disks, median=False
    )
    assert plain.data[V_R, 0] > 30 / counts
    assert masked.data[V_R, 0] * counts == pytest.approx(1, rel=0.1)


def test_method_of_the_signal_class_and_metadata():
    s = scan(speckle_scan(nav=(3, 3)))
    before = s.data.copy()
    fem = s.get_fem_statistics(radial_range=(2, 12), radial_step=2)
    node = fem.metadata.HyperspyManifold.fem_statistics
    assert node.statistics == list(hm.features.fem.FEM_STATISTICS)
    assert node.radial_range_pixels == [2.0, 12.0]
    assert fem.axes_manager.signal_axes[0].size == 5
    assert fem.axes_manager.navigation_axes[0].name == "statistic"
    np.testing.assert_array_equal(s.data, before)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(median="yes"), ValueError, "`median` must be True or False"),
        (dict(npt_azim=1), ValueError, "`npt_azim` must be an integer >= 2"),
        (dict(radial_range=(5, 2)), ValueError, "`radial_range` must satisfy"),
        (dict(radial_step=0), ValueError, "`radial_step` must be a number > 0"),
        (
            dict(navigation_mask=np.ones((3, 3), bool)),
            ValueError,
            "`navigation_mask` excludes every scan position",
        ),
        (
            dict(navigation_mask=~np.eye(1, 9, dtype=bool).reshape(3, 3)),
            ValueError,
            "at least 2 scan positions, but `navigation_mask` leaves 1",
        ),
        (
            dict(navigation_mask=np.zeros((2, 2), bool)),
            ValueError,
            "`navigation_mask` must have the navigation shape",
        ),
        (
            dict(signal_mask=np.zeros((4, 4), bool)),
            ValueError,
            "`signal_mask` must have the detector shape",
        ),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    s = scan(np.ones((3, 3, DET, DET)))
    with pytest.raises(error, match=match):
        hm.get_fem_statistics(s, **kwargs)


def test_bad_signals_are_named():
    with pytest.raises(ValueError, match="needs at least one navigation axis"):
        hm.get_fem_statistics(hs.signals.Signal2D(np.ones((DET, DET))))
    with pytest.raises(ValueError, match="needs a signal with 2 signal axes"):
        hm.get_fem_statistics(hs.signals.Signal1D(np.ones((3, DET))))
    s = scan(np.ones((2, DET, DET)))
    s.data[1, 16, 20] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite pixels"):
        hm.get_fem_statistics(s)


def test_counts_near_2_to_the_32_keep_their_ring_variance():
    """uint32 counts of ~4e9 with a spread of ~20: the pixel variance of every
    ring is the same as without the offset (float32 or <x^2> - <x>^2 about 0
    would leave no digit of it)."""
    rng = np.random.default_rng(5)
    counts = rng.poisson(400, (DET, DET))
    offset = 2**32 - 2000
    plain = hm.get_fem_statistics(scan(np.stack([counts, counts]).astype(np.uint32)))
    high = hm.get_fem_statistics(
        scan(np.stack([counts, counts]).astype(np.uint32) + np.uint32(offset))
    )

    def ring_variance(fem):
        mean = fem.metadata.HyperspyManifold.fem_statistics.mean_intensity
        return fem.data[V_R] * mean**2

    np.testing.assert_allclose(ring_variance(high), ring_variance(plain), rtol=1e-6)
    assert ring_variance(plain).min() > 100  # Poisson: about 400 on every ring


@pytest.mark.parametrize("median", [False, True])
def test_a_lazy_scan_is_read_once(median):
    import dask.array as da

    data = speckle_scan(nav=(4, 6), seed=6)
    reads = []

    def load(block_info=None):
        reads.append(block_info[None]["chunk-location"])
        return data[tuple(slice(*r) for r in block_info[None]["array-location"])]

    lazy = da.map_blocks(
        load, dtype=float, chunks=((2, 2), (3, 3), (DET,), (DET,)), meta=np.array(())
    )
    s = scan(np.zeros((4, 6, DET, DET)), lazy=True)
    s.data = lazy
    fem = hm.get_fem_statistics(s, median=median)
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 4
    np.testing.assert_allclose(
        fem.data,
        hm.get_fem_statistics(scan(data), median=median).data,
        rtol=1e-12,
        atol=1e-15,
    )


def test_the_speckle_peak_agrees_with_pyxem_get_variance():
    """pyxem integrates with pyFAI's pixel splitting about the same centre; on
    the rings where the speckle dominates both variances agree to 10 % (on the
    flanks bilinear sampling and pixel splitting spread the 1-pixel-wide
    speckle ring differently)."""
    s = scan(speckle_scan(nav=(4, 4), r0=10.0, seed=7))
    fem = hm.get_fem_statistics(s, radial_range=(0, 15), median=False)
    kwargs = dict(radial_range=(0, 15), show_progressbar=False)
    pyxem = {
        V_OMEGA: s.get_variance(15, method="Omega", **kwargs).data,
        V_R: s.get_variance(15, method="r", **kwargs).data,
    }
    for row, theirs in pyxem.items():
        ours = fem.data[row]
        strong = ours > 0.5 * ours.max()
        assert strong.sum() >= 2
        np.testing.assert_allclose(ours[strong], np.asarray(theirs)[strong], rtol=0.1)


def test_the_ring_operator_pickles_for_dask_workers():
    import pickle

    from hyperspy_manifold.kernels.fem import ring_operator, ring_statistics
    from hyperspy_manifold.kernels.polar import polar_operator

    ring = ring_operator(polar_operator((DET, DET), (CENTER, CENTER), [2, 6, 10], 36))
    patterns = speckle_scan(nav=(3,))
    np.testing.assert_array_equal(
        ring_statistics(patterns, pickle.loads(pickle.dumps(ring))),
        ring_statistics(patterns, ring),
    )
