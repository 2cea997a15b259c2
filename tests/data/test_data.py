"""Simulated datasets of hyperspy_manifold.data: deterministic, calibrated, labelled,
and physically sensible (amorphous has no spots, tilt changes intensities, not the lattice)."""

import time

import numpy as np
import pytest
from orix.quaternion import Rotation

from hyperspy_manifold.data import (
    GroundTruth,
    polycrystalline_film,
    zone_axis_tilt_series,
)
from hyperspy_manifold.data import _kinematic as kin

BUILDERS = {"film": polycrystalline_film, "tilt": zone_axis_tilt_series}


@pytest.fixture(scope="module")
def film():
    t0 = time.perf_counter()
    out = polycrystalline_film()
    print(f"polycrystalline_film(): {time.perf_counter() - t0:.2f} s")
    return out


@pytest.fixture(scope="module")
def tilt():
    t0 = time.perf_counter()
    out = zone_axis_tilt_series()
    print(f"zone_axis_tilt_series(): {time.perf_counter() - t0:.2f} s")
    return out


def _small(name, **kwargs):
    if name == "film":
        kwargs = {"shape": (10, 12), "n_grains": 4, **kwargs}
    else:
        kwargs = {"shape": (6, 9), **kwargs}
    return BUILDERS[name](**kwargs)


def _outside_direct_beam(s, radius=5):
    d = s.axes_manager.signal_shape[0]
    y, x = np.mgrid[:d, :d]
    return np.hypot(x - d // 2, y - d // 2) > radius


# ------------------------------------------------------------ determinism


@pytest.mark.parametrize("name", BUILDERS)
def test_same_seed_same_data(name):
    a, ta = _small(name, random_state=3)
    b, tb = _small(name, random_state=3)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(ta.labels, tb.labels)
    np.testing.assert_array_equal(ta.tilts, tb.tilts)


@pytest.mark.parametrize("name", BUILDERS)
def test_other_seed_other_data(name):
    a, ta = _small(name, random_state=3)
    b, tb = _small(name, random_state=4)
    assert not np.array_equal(a.data, b.data)
    assert not np.array_equal(ta.tilts, tb.tilts)


def test_generator_seed_is_accepted():
    a, _ = _small("tilt", random_state=np.random.default_rng(5))
    b, _ = _small("tilt", random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("name", BUILDERS)
def test_lazy_gives_the_same_data(name):
    eager, truth = _small(name, shape=(16, 12), detector=128)
    lazy, lazy_truth = _small(name, shape=(16, 12), detector=128, lazy=True)
    assert type(lazy).__name__ == "LazyManifoldDiffraction2D"
    chunks = lazy.data.chunks
    assert len(chunks[0]) > 1
    assert chunks[2:] == ((128,), (128,))
    np.testing.assert_array_equal(lazy.data.compute(), eager.data)
    np.testing.assert_array_equal(lazy_truth.labels, truth.labels)


# ------------------------------------------------------------ signal and calibration


@pytest.mark.parametrize("name", BUILDERS)
def test_class_shape_and_calibration(name, film, tilt):
    s, truth = film if name == "film" else tilt
    assert type(s).__name__ == "ManifoldDiffraction2D"
    nav_shape = (32, 32) if name == "film" else (24, 24)
    assert s.data.shape == nav_shape + (64, 64)
    assert s.data.dtype == np.float32
    assert isinstance(truth, GroundTruth)
    assert truth.labels.shape == nav_shape
    assert truth.tilts.shape == nav_shape + (2,)
    assert truth.euler.shape == nav_shape + (3,)
    assert truth.beam_shifts.shape == nav_shape + (2,)

    am = s.axes_manager
    assert [ax.name for ax in am.navigation_axes] == ["x", "y"]
    assert [ax.name for ax in am.signal_axes] == ["kx", "ky"]
    for ax in am.navigation_axes:
        assert ax.units == "nm"
        assert ax.scale == truth.scan_step
    for ax in am.signal_axes:
        assert ax.units == "1/Å"
        assert -ax.offset / ax.scale == pytest.approx(32)
        assert ax.scale * 32 == pytest.approx(1.4)  # k_max at the detector edge
    assert s.calibration.center == [32, 32]  # pyxem reads the centre from the offsets
    assert s.metadata.Acquisition_instrument.TEM.beam_energy == 200


def test_beam_shifts_are_where_the_direct_beam_is():
    s, truth = _small("film", poisson=False, beam_jitter=0.3, descan_shift=1.0)
    d = 64
    y, x = np.mgrid[:d, :d]
    window = np.hypot(x - d // 2, y - d // 2) <= 6
    w = s.data * window
    total = w.sum(axis=(2, 3))
    com_x = (w * x).sum(axis=(2, 3)) / total - d // 2
    com_y = (w * y).sum(axis=(2, 3)) / total - d // 2
    np.testing.assert_allclose(com_x, truth.beam_shifts[..., 0], atol=0.15)
    np.testing.assert_allclose(com_y, truth.beam_shifts[..., 1], atol=0.15)


# ------------------------------------------------------------ labels


def test_film_labels(film):
    s, truth = film
    assert truth.n_labels == 9
    assert truth.label_names == [f"grain {i}" for i in range(8)] + ["amorphous"]
    np.testing.assert_array_equal(np.unique(truth.labels), np.arange(9))
    assert truth.amorphous_label == 8
    amorphous = truth.labels == 8
    assert amorphous.sum() == round(0.15 * 32 * 32)
    assert np.isnan(truth.tilts[amorphous]).all()
    assert np.isfinite(truth.tilts[~amorphous]).all()
    for info in truth.label_info[:8]:
        assert info.phase == "Ag"
        assert info.zone_axis in {(0, 0, 1), (0, 1, 1), (1, 1, 1), (1, 1, 2)}
        assert len(info.euler) == 3
    assert truth.label_info[8].zone_axis is None


def test_film_without_amorphous_region():
    _, truth = _small("film", amorphous_fraction=0)
    assert truth.amorphous_label is None
    np.testing.assert_array_equal(np.unique(truth.labels), np.arange(4))


def test_grain_boundaries_mix_neighbours(film):
    _, truth = film
    w = truth.boundary_weight
    mixed = w > 0
    assert mixed.any() and (w <= 0.5).all()
    assert (truth.neighbour_labels[mixed] != truth.labels[mixed]).all()
    assert (truth.neighbour_labels[~mixed] == truth.labels[~mixed]).all()
    _, sharp = _small("film", boundary_width=0)
    assert (sharp.boundary_weight == 0).all()


def test_tilt_series_labels(tilt):
    _, truth = tilt
    assert truth.label_names == ["[001]", "[011]", "[111]"]
    assert truth.amorphous_label is None
    # three vertical stripes of eight columns
    np.testing.assert_array_equal(truth.labels[0], np.repeat([0, 1, 2], 8))
    assert (truth.labels == truth.labels[0]).all()
    assert np.abs(truth.tilts).max() <= 10
    assert np.abs(truth.tilts).max() > 8


def test_truth_as_signal(film):
    _, truth = film
    labels = truth.as_signal()
    np.testing.assert_array_equal(labels.data, truth.labels)
    assert [ax.units for ax in labels.axes_manager.signal_axes] == ["nm", "nm"]
    assert labels.axes_manager.signal_axes[0].scale == truth.scan_step


# ------------------------------------------------------------ physics


def test_amorphous_patterns_have_no_sharp_spots(film):
    s, truth = film
    ring = _outside_direct_beam(s)
    outside = s.data[..., ring]
    peakiness = outside.max(axis=-1) / outside.mean(axis=-1)
    amorphous = truth.labels == truth.amorphous_label
    crystalline = (~amorphous) & (truth.boundary_weight == 0)
    assert np.median(peakiness[crystalline]) > 2 * np.median(peakiness[amorphous])
    assert np.percentile(peakiness[crystalline], 10) > np.percentile(
        peakiness[amorphous], 90
    )
    # Noise-free: the amorphous patterns are smooth rings.
    clean, truth = _small("film", poisson=False, amorphous_fraction=0.3)
    outside = clean.data[..., ring]
    peakiness = outside.max(axis=-1) / outside.mean(axis=-1)
    amorphous = truth.labels == truth.amorphous_label
    assert peakiness[amorphous].max() < 0.5 * peakiness[~amorphous].min()


def test_dose_is_electrons_per_pattern():
    s, _ = _small("film", dose=2000.0)
    totals = s.data.sum(axis=(2, 3))
    # a few electrons are scattered past the detector edge
    assert 1800 < totals.mean() <= 2000 + 3 * np.sqrt(2000)


def _relative_change(patterns, mask):
    """Median over pairs of patterns of ||a - b|| / sqrt(||a|| ||b||) on ``mask``."""
    x = patterns[:, mask].astype(float)
    diffs = np.linalg.norm(x[:, None] - x[None, :], axis=-1)
    norms = np.linalg.norm(x, axis=-1)
    iu = np.triu_indices(len(x), 1)
    return np.median(diffs[iu] / np.sqrt(norms[:, None] * norms[None, :])[iu])


@pytest.mark.parametrize("poisson", [False, True])
def test_tilt_changes_intensities(poisson):
    """Within one zone axis, patterns at random ±10° tilts differ by more than their
    norm; at 0° they are identical but for counting noise."""
    kwargs = {"shape": (6, 9), "beam_jitter": 0.0, "poisson": poisson, "dose": 1e5}
    tilted, truth = zone_axis_tilt_series(tilt_range=10, **kwargs)
    flat, flat_truth = zone_axis_tilt_series(tilt_range=0, **kwargs)
    mask = _outside_direct_beam(tilted)
    for label in range(3):
        a = _relative_change(tilted.data[truth.labels == label], mask)
        b = _relative_change(flat.data[flat_truth.labels == label], mask)
        assert a > 0.5
        if poisson:
            assert a > 3 * b
        else:
            assert b < 1e-6


def test_tilt_keeps_the_lattice_spacings():
    """Bright spots of mistilted patterns sit at |g| of the crystal's reflections:
    tilt changes which reflections are excited, not the interplanar spacings."""
    s, truth = zone_axis_tilt_series(shape=(4, 6), poisson=False, beam_jitter=0)
    k = s.axes_manager.signal_axes[0].scale
    d = 64
    allowed = (
        np.unique(
            np.round(
                np.linalg.norm(
                    kin.reflections(kin.fcc_phase("Ag", 4.086), 1.0).g, axis=1
                ),
                6,
            )
        )
        / k
    )
    y, x = np.mgrid[:d, :d]
    found = 0
    for p in s.data.reshape(-1, d, d):
        q = np.where(_outside_direct_beam(s), p, 0)
        peaks = (q > 0.3 * q.max()) & (q == _max3(q))
        peaks &= np.hypot(x - d // 2, y - d // 2) < 0.85 / k
        for py, px in zip(*np.nonzero(peaks)):
            w = q[py - 1 : py + 2, px - 1 : px + 2]
            cy = (w * y[py - 1 : py + 2, px - 1 : px + 2]).sum() / w.sum()
            cx = (w * x[py - 1 : py + 2, px - 1 : px + 2]).sum() / w.sum()
            radius = np.hypot(cx - d // 2, cy - d // 2)
            assert np.abs(allowed - radius).min() < 0.5
            found += 1
    assert found > 2 * len(s.data.reshape(-1, d, d))
    assert np.abs(truth.tilts).max() > 8


def _max3(q):
    pad = np.pad(q, 1)
    shifted = [
        pad[1 + dy : 1 + dy + q.shape[0], 1 + dx : 1 + dx + q.shape[1]]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ]
    return np.max(shifted, axis=0)


def test_spots_match_diffsims(film):
    """The vectorised kinematics reproduce diffsims for a position's Euler angles."""
    from diffsims.generators.simulation_generator import SimulationGenerator

    _, truth = film
    phase = kin.fcc_phase("Ag", 4.086)
    refl = kin.reflections(phase, 1.5)
    width = 0.01
    sim_gen = SimulationGenerator(200)
    crystalline = np.argwhere(truth.labels != truth.amorphous_label)
    for iy, ix in crystalline[:: len(crystalline) // 3][:3]:
        euler = truth.euler[iy, ix]
        matrix = Rotation.from_euler(euler, degrees=True).to_matrix()[0].T
        xy, intensity = kin.spots(matrix[None], refl, kin.wavelength(200), width)
        sim = sim_gen.calculate_diffraction2d(
            phase,
            Rotation.from_euler(euler, degrees=True),
            reciprocal_radius=1.5,
            max_excitation_error=width,
            with_direct_beam=False,
        )
        ref_xy = sim.coordinates.data[:, :2]
        ref_i = sim.coordinates.intensity
        # diffsims keeps |s| < width; the Lorentzian is 1 / (1 + pi^2) there
        kept = intensity[0] / refl.f2 > 1 / (1 + np.pi**2) + 1e-9
        ours_xy, ours_i = xy[0][kept], intensity[0][kept]
        assert len(ours_i) == len(ref_i)
        dist = np.linalg.norm(ours_xy[:, None] - ref_xy[None], axis=-1)
        match = dist.argmin(axis=1)
        assert dist.min(axis=1).max() < 1e-9
        np.testing.assert_allclose(ours_i, ref_i[match], rtol=1e-9)


def test_truth_euler_includes_the_tilt(tilt):
    _, truth = tilt
    iy, ix = 3, 20
    label = truth.labels[iy, ix]
    untilted = Rotation.from_euler(truth.label_info[label].euler, degrees=True)
    local = Rotation.from_euler(truth.euler[iy, ix], degrees=True)
    t = kin.tilt_matrices(*truth.tilts[iy, ix])
    expected = t @ untilted.to_matrix()[0].T
    np.testing.assert_allclose(local.to_matrix()[0].T, expected, atol=1e-9)


# ------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shape": (4,)}, "`shape` must be two positive integers"),
        ({"shape": (0, 4)}, "`shape` must be two positive integers"),
        ({"detector": 8}, "`detector` must be an integer of at least 16"),
        ({"amorphous_fraction": 1.0}, r"`amorphous_fraction` must be in \[0, 1\)"),
        ({"shape": (3, 3), "n_grains": 9}, "`n_grains` must be between 1 and the 8"),
        ({"zone_axes": [(0, 0, 0)]}, "`zone_axes` must hold non-zero"),
        ({"thickness": 0}, "`thickness` must be positive"),
        ({"bending": -1}, "`bending` must be zero or positive"),
    ],
)
def test_film_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        polycrystalline_film(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_orientations": 7}, "`n_orientations` must be between 1 and 6"),
        ({"tilt_range": -1}, "`tilt_range` must be zero or positive"),
        ({"shape": (4, 2)}, "at least one column per orientation"),
        ({"dose": 0}, "`dose` must be positive"),
    ],
)
def test_tilt_series_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zone_axis_tilt_series(**kwargs)
