"""Known answers of the Bragg-vector co-occurrence classification (Panova 2019)."""

import numpy as np
import pytest
from conftest import pattern_scan, spot_lattice, values

import hyperspy_manifold as hm
from hyperspy_manifold.learn.cooccurrence import bragg_cooccurrence_classification

DET = 48


def grain_scan(n_orientations=2, seed=0, shape=(8, 12), lazy=False, empty=None):
    """Vertical stripes of ``n_orientations`` spot lattices rotated by 30 degrees,
    spots inside an aperture (no half spot at the detector edge), Poisson noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:DET, :DET] - (DET - 1) / 2
    aperture = np.hypot(y, x) < DET / 2 - 4
    truth = np.zeros(shape, dtype=int)
    data = np.zeros(shape + (DET, DET))
    for i, cols in enumerate(np.array_split(np.arange(shape[1]), n_orientations)):
        truth[:, cols] = i
        data[:, cols] = aperture * spot_lattice((DET, DET), g=(9.0, 9.0), angle=30 * i)
    data = rng.poisson(50 * data + 0.2).astype(np.float32)
    if empty is not None:
        data[empty] = 0
    s = pattern_scan(data, lazy=lazy, chunks=(4, 6), scale=0.05, units="1/nm")
    s.calibration.center = None
    for ax, name in zip(s.axes_manager.navigation_axes, ("x", "y")):
        ax.scale, ax.units, ax.name = 2.0, "nm", name
    return s, truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_orientations_give_two_classes(seed):
    s, truth = grain_scan(2, seed)
    r = bragg_cooccurrence_classification(s, random_state=seed)
    assert r.n_classes == 2
    labels = values(r.labels)
    assert labels.shape == truth.shape
    assert hm.adjusted_rand(truth.ravel(), labels.ravel()) >= 0.95
    # signals keep the calibrated scan and detector axes
    assert r.labels.axes_manager.signal_axes[0].scale == 2.0
    assert r.labels.axes_manager.signal_axes[0].units == "nm"
    assert r.weights.axes_manager.navigation_shape == (2,)
    assert r.weights.axes_manager.signal_shape == (12, 8)
    assert r.weights.axes_manager.signal_axes[1].scale == 2.0
    assert r.class_means.axes_manager.signal_axes[0].scale == 0.05
    assert r.class_means.axes_manager.signal_axes[0].units == "1/nm"
    assert r.class_means.data.shape == (2, DET, DET)
    # the mean pattern of a class is the mean of its lattice's patterns
    for k in range(2):
        grain = np.bincount(truth[labels == k]).argmax()
        expected = s.data[truth == grain].mean(axis=0)
        np.testing.assert_allclose(r.class_means.data[k], expected, rtol=1e-6)
    # cells in calibrated k units: the direct beam is a cell at the origin
    assert np.hypot(*r.cell_centers.T).min() < 0.05
    n_cells = len(r.cell_centers)
    assert r.cooccurrence.shape == (n_cells, n_cells)
    np.testing.assert_allclose(r.cooccurrence, r.cooccurrence.T)


def test_three_orientations_give_three_classes():
    s, truth = grain_scan(3, 0, shape=(8, 12))
    r = bragg_cooccurrence_classification(s, random_state=0)
    assert r.n_classes == 3
    assert hm.adjusted_rand(truth.ravel(), values(r.labels).ravel()) >= 0.95


def test_disconnected_regions_of_one_orientation_are_split():
    """Orientation A | B | A: A's map has two regions, so three classes."""
    s, _ = grain_scan(3, 0, shape=(8, 12))
    s.data[:, 8:] = s.data[:, :4]
    truth = np.repeat([[0] * 4 + [1] * 4 + [2] * 4], 8, axis=0)
    r = bragg_cooccurrence_classification(s, random_state=0)
    assert r.n_classes == 3
    assert any("split" in h for h in r.history)
    assert hm.adjusted_rand(truth.ravel(), values(r.labels).ravel()) >= 0.95
    merged = bragg_cooccurrence_classification(s, random_state=0, split_threshold=1)
    assert merged.n_classes == 2


def test_position_without_peaks_is_minus_one():
    s, truth = grain_scan(2, 0, empty=(3, 2))
    r = bragg_cooccurrence_classification(s, random_state=0)
    labels = values(r.labels)
    assert labels[3, 2] == -1
    assert (labels >= 0).sum() == labels.size - 1
    keep = labels >= 0
    assert hm.adjusted_rand(truth[keep], labels[keep]) >= 0.95
    assert r.counts.sum() == labels.size - 1


def test_lazy_input_gives_the_eager_labels():
    eager, _ = grain_scan(2, 1)
    lazy, _ = grain_scan(2, 1, lazy=True)
    r_eager = bragg_cooccurrence_classification(eager, random_state=3)
    r_lazy = bragg_cooccurrence_classification(lazy, random_state=3)
    assert r_lazy.labels._lazy and r_lazy.class_means._lazy
    np.testing.assert_array_equal(values(r_lazy.labels), values(r_eager.labels))
    np.testing.assert_allclose(values(r_lazy.class_means), values(r_eager.class_means))
    np.testing.assert_allclose(r_lazy.cooccurrence, r_eager.cooccurrence)
    assert lazy._lazy  # input untouched


def test_given_centers_and_signal_method():
    s, truth = grain_scan(2, 0)
    r = bragg_cooccurrence_classification(s, random_state=0)
    again = s.bragg_cooccurrence_classification(centers=r.cell_centers, random_state=0)
    np.testing.assert_allclose(again.cell_centers, r.cell_centers)
    assert hm.adjusted_rand(truth.ravel(), values(again.labels).ravel()) >= 0.95


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_classes": 0}, ValueError, "`n_classes` must be an integer >= 1"),
        ({"merge_threshold": 1.5}, ValueError, "`merge_threshold` must be a number"),
        ({"split_threshold": -0.1}, ValueError, "`split_threshold` must be a number"),
        ({"min_region_size": 1.5}, ValueError, "`min_region_size` must be an integer"),
        ({"max_cell_fraction": 0}, ValueError, "`max_cell_fraction` must be a number"),
        ({"max_distance": -1}, ValueError, "`max_distance` must be a number"),
        (
            {"centers": np.zeros((3, 3))},
            ValueError,
            r"`centers` must be an \(n_cells, 2\)",
        ),
        ({"method": "nope"}, ValueError, "method"),
        ({"peak_kwargs": 3}, TypeError, "`peak_kwargs` must be a dict"),
        ({"random_state": 1.5}, TypeError, "`random_state` must be"),
        (
            {"peak_kwargs": {"threshold_abs": 1e9, "threshold_rel": None}},
            ValueError,
            "No Bragg peak was found",
        ),
        ({"min_cell_fraction": 1.0}, ValueError, "No spot of the pooled Bragg vector"),
    ],
)
def test_bad_input_is_named(kwargs, error, match):
    s, _ = grain_scan(2, 0, shape=(4, 6), empty=(1, 1))
    with pytest.raises(error, match=match):
        bragg_cooccurrence_classification(s, **kwargs)


def test_single_pattern_and_non_signals_are_refused():
    s, _ = grain_scan(2, 0, shape=(2, 2))
    with pytest.raises(ValueError, match="needs at least one navigation axis"):
        bragg_cooccurrence_classification(s.inav[0, 0])
    with pytest.raises(TypeError, match="needs a HyperSpy signal"):
        bragg_cooccurrence_classification(s.data)


def test_identical_patterns_name_max_cell_fraction():
    s, _ = grain_scan(1, 0, shape=(4, 6))
    kwargs = {"min_cell_fraction": 0.3, "random_state": 0}
    with pytest.raises(ValueError, match="`max_cell_fraction`"):
        bragg_cooccurrence_classification(s, **kwargs)
    r = bragg_cooccurrence_classification(s, max_cell_fraction=1, **kwargs)
    assert r.n_classes == 1
    assert (values(r.labels) == 0).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"intensity": True, "max_distance": 2.0},
        {"method": "template_matching", "peak_kwargs": {"disk_r": 2}},
    ],
)
def test_intensity_and_template_matching_find_the_two_orientations(kwargs):
    s, truth = grain_scan(2, 0)
    before = s.data.copy()
    r = bragg_cooccurrence_classification(s, random_state=0, **kwargs)
    np.testing.assert_array_equal(s.data, before)  # input untouched
    assert r.n_classes == 2
    assert hm.adjusted_rand(truth.ravel(), values(r.labels).ravel()) >= 0.95
    if kwargs.get("intensity"):
        # co-occurrence of intensities: the diagonal is the mean squared peak value
        assert r.cooccurrence.max() > 100
