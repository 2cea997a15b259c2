"""pyxem's conventions, checked against pyxem itself (issue 13, items 2 and 3).

Beam centre: the polar features take the centre where pyxem does, at
``s.calibration.center`` (the pixel where the calibrated detector axes are 0), so
on the same signal they equal pyxem's own azimuthal integration and variance.
"""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import values

import hyperspy_manifold as hm

KY, KX = 40, 52  # a non-square detector: x and y can not be swapped unnoticed
R = 12  # pixels: the compared radii, 1-pixel bins
#: Radii (pixels) from which bilinear sampling keeps the azimuthal variance of
#: the test patterns' 4- and 6-fold modulations to a few per cent (below, it
#: smooths them; pyxem's pixel splitting keeps the pixels' steps instead).
R_SMOOTH = 8


def _pattern(cx, cy, phase=0.0):
    """Two modulated rings (radius 6 and 10 px) about ``(cx, cy)``, on a floor."""
    y, x = np.mgrid[:KY, :KX].astype(float)
    r = np.hypot(x - cx, y - cy)
    theta = np.arctan2(-(y - cy), x - cx)  # counter-clockwise as displayed
    inner = np.exp(-((r - 6) ** 2) / (2 * 1.8**2)) * (
        1 + 0.5 * np.cos(6 * theta + phase)
    )
    outer = 0.6 * np.exp(-((r - 10) ** 2) / (2 * 2**2)) * (1 + 0.3 * np.cos(4 * theta))
    return inner + outer + 0.1


def _diffraction(data, scale=None, center=None, how="calibration", lazy=False):
    """An ElectronDiffraction2D, calibrated in 1/Å when ``scale`` is given, its
    beam centre ``(x, y)`` set through pyxem's calibration or the axis offsets."""
    s = hs.signals.Signal2D(np.asarray(data, dtype=float))
    s.set_signal_type("electron_diffraction")
    if scale is not None:
        s.calibration.scale = scale
        s.calibration.units = "$\\AA^{-1}$"
    if center is not None:
        if how == "calibration":
            s.calibration.center = center
        else:
            for ax, c in zip(s.axes_manager.signal_axes, center):
                ax.offset = -c * ax.scale
    return s.as_lazy() if lazy else s


def _off_centre_scan(center, scale=None, how="calibration", lazy=False):
    cx, cy = center
    data = [
        [_pattern(cx, cy), 2 * _pattern(cx, cy, 0.5)],
        [_pattern(cx, cy, 1.0) ** 2, _pattern(cx, cy, 2.0)],
    ]
    return _diffraction(data, scale, center, how, lazy)


CASES = [
    # centre (x, y) px, scale (None = uncalibrated pixels), how it is set, lazy
    ((20.3, 25.6), None, "calibration", False),
    ((38.0, 17.2), 0.025, "calibration", True),
    ((27.5, 19.5), 0.025, "offsets", False),
    ((16.0, 22.4), None, "offsets", True),
]


@pytest.mark.parametrize("center, scale, how, lazy", CASES)
def test_ring_means_equal_pyxem_azimuthal_integral(center, scale, how, lazy):
    s = _off_centre_scan(center, scale, how, lazy)
    assert s.calibration.center == pytest.approx(list(center))
    unit = 1.0 if scale is None else scale
    theirs = values(
        s.get_azimuthal_integral1d(
            npt=R, radial_range=(0, R * unit), mean=True, show_progressbar=False
        )
    )
    # one 360-degree sector per 1-pixel ring: the azimuthal mean at every radius
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the centre comes from the calibration
        aa = hm.get_angular_average(s, rings=np.arange(R + 1) * unit, angle_step=360)
    assert aa._lazy == lazy
    ours = values(aa)
    assert ours.shape == theirs.shape == (2, 2, R)
    np.testing.assert_allclose(ours, theirs, atol=0.02 * theirs.max())
    params = aa.metadata.HyperspyManifold.angular_average
    assert params.center == pytest.approx(list(center))


@pytest.mark.parametrize("center, scale, how, lazy", CASES[:2])
def test_radial_variance_equals_variance_of_pyxem_polar_transform(
    center, scale, how, lazy
):
    s = _off_centre_scan(center, scale, how, lazy)
    unit = 1.0 if scale is None else scale
    polar = values(
        s.get_azimuthal_integral2d(
            npt=R,
            npt_azim=180,
            radial_range=(0, R * unit),
            mean=True,
            show_progressbar=False,
        )
    )  # (..., radius, azimuth)
    theirs = polar.var(axis=-1) / polar.mean(axis=-1) ** 2
    rv = hm.get_radial_variance(
        s, radial_range=(0, R * unit), npt_azim=180, normalize=True
    )
    ours = values(rv)
    radius = rv.axes_manager.signal_axes[0]
    assert radius.units == ("px" if scale is None else "$\\AA^{-1}$")
    # bin centres; pyxem's radius axis labels the same bins by their inner edge
    np.testing.assert_allclose(radius.axis, (np.arange(R) + 0.5) * unit)
    far = radius.axis >= R_SMOOTH * unit
    np.testing.assert_allclose(
        ours[..., far], theirs[..., far], rtol=0.1, atol=0.01 * theirs.max()
    )
    # nearer the centre bilinear sampling smooths: lower, never higher
    assert (ours <= theirs * 1.05 + 1e-3).all()
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.97

    # the sectors of the angular average about the same off-centre point: pyxem's
    # azimuth starts at -180 degrees, 2-degree bins; ours at 0, 10-degree sectors
    aa = values(hm.get_angular_average(s, rings=[4 * unit, 12 * unit], angle_step=10))
    ring = np.roll(polar[..., 4:12, :].mean(axis=-2), -90, axis=-1)
    theirs = ring.reshape(*ring.shape[:-1], 36, 5).mean(axis=-1)
    np.testing.assert_allclose(aa, theirs, atol=0.02 * theirs.max())


def test_normalised_radial_variance_equals_pyxem_get_variance():
    """pyxem's ``get_variance(method="r", spatial=True)`` is the variance of the
    pixels of every annulus over their squared mean: on a pattern that varies
    with azimuth only it is the azimuthal variance, 1/8 for 1 + cos(6 theta)/2."""
    cx, cy = 30.4, 17.7
    y, x = np.mgrid[:KY, :KX].astype(float)
    pattern = 1 + 0.5 * np.cos(6 * np.arctan2(-(y - cy), x - cx))
    s = _diffraction([pattern, 2 * pattern + 1], 0.03, (cx, cy))
    n = 14
    _, per_pattern = s.get_variance(
        npt=n, method="r", spatial=True, radial_range=(0, n * 0.03)
    )
    theirs = values(per_pattern)
    ours = values(hm.get_radial_variance(s, radial_range=(0, n * 0.03), normalize=True))
    far = np.arange(n) + 0.5 >= R_SMOOTH
    np.testing.assert_allclose(ours[:, far], theirs[:, far], rtol=0.1)
    np.testing.assert_allclose(theirs[0, far], 0.125, rtol=0.01)
    # a constant added to the pattern lowers the normalised variance alike
    np.testing.assert_allclose(ours[1] / ours[0], theirs[1] / theirs[0], rtol=0.02)


def test_uncentred_axes_warn_and_name_the_call_that_agrees_with_pyxem():
    # Offsets 0 (how rosettasciio loads most detector files): pyxem's centre is
    # the corner pixel, where no ring fits. The package takes the detector centre
    # and says so, naming the call after which pyxem uses that centre too.
    centre = ((KX - 1) / 2, (KY - 1) / 2)
    data = [_pattern(*centre), _pattern(*centre, 1.0)]
    s = _diffraction(data)
    assert s.calibration.center == [0, 0]
    rings = np.arange(R + 1)
    with pytest.warns(UserWarning, match=r"s\.calibration\.center = None"):
        before = values(hm.get_angular_average(s, rings=rings, angle_step=360))
    for func in (hm.get_radial_variance, hm.get_bright_field_features):
        with pytest.warns(UserWarning, match="corner pixel"):
            func(s)
    s.calibration.center = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = values(hm.get_angular_average(s, rings=rings, angle_step=360))
    np.testing.assert_array_equal(before, after)  # the same centre, now pyxem's too
    theirs = values(
        s.get_azimuthal_integral1d(
            npt=R, radial_range=(0, R), mean=True, show_progressbar=False
        )
    )
    np.testing.assert_allclose(after, theirs, atol=0.02 * theirs.max())


def test_plain_signal2d_warning_names_set_signal_type():
    s = hs.signals.Signal2D(np.stack([_pattern((KX - 1) / 2, (KY - 1) / 2)] * 2))
    with pytest.warns(UserWarning, match=r'set_signal_type\("manifold"\)'):
        hm.get_radial_variance(s)
    s.set_signal_type("manifold")
    s.calibration.center = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hm.get_radial_variance(s)


def test_explicit_center_equals_calibration_center():
    center = (21.25, 18.5)
    s = _off_centre_scan(center, scale=0.025)
    from_calibration = values(hm.get_radial_variance(s))
    s.calibration.center = None  # the keyword wins over the calibration
    given = values(hm.get_radial_variance(s, center=center))
    np.testing.assert_array_equal(given, from_calibration)


# ------------------------------------------------------- the pyxem tutorial workflow


def test_pyxem_workflow_to_plot_cluster_results():
    """Raw lazy scan -> center_direct_beam -> calibration in 1/Å -> pyxem's
    azimuthal integration -> this package's features, manifold clustering and
    NMF -> HyperSpy's plot_cluster_results (examples/plot_pyxem_workflow.py)."""
    import matplotlib.pyplot as plt
    import pyxem as pxm

    from hyperspy_manifold.data import polycrystalline_film

    film, truth = polycrystalline_film(
        shape=(12, 12), detector=48, n_grains=3, descan_shift=2.0, random_state=3
    )
    k_scale = film.axes_manager.signal_axes[0].scale
    s = pxm.signals.ElectronDiffraction2D(np.asarray(film.data)).as_lazy()
    assert s.calibration.center == [0, 0]  # as a detector file loads

    shifts = s.get_direct_beam_position(
        method="center_of_mass", mask=(24, 24, 4), lazy_output=False
    )
    assert np.ptp(np.asarray(shifts.data), axis=(0, 1)).max() > 1  # the descan
    s.center_direct_beam(shifts=shifts)
    # pyxem moves the beam to pixel (kx / 2, ky / 2); the centre is set there
    s.calibration.center = [n / 2 for n in s.axes_manager.signal_shape]
    s.calibration.scale = k_scale  # keeps the centre
    s.calibration.units = "$\\AA^{-1}$"
    assert s.calibration.center == pytest.approx([24, 24])
    after = s.get_direct_beam_position(
        method="center_of_mass", mask=(24, 24, 4), lazy_output=False
    )
    assert np.abs(np.asarray(after.data)).max() < 0.5  # every beam is centred

    edges = np.arange(21) * k_scale
    theirs = values(
        s.get_azimuthal_integral1d(
            npt=20, radial_range=(0, edges[-1]), mean=True, show_progressbar=False
        )
    )
    s.set_signal_type("manifold")
    assert type(s).__name__ == "LazyManifoldDiffraction2D"
    assert s.calibration.center == pytest.approx([24, 24])  # calibration kept
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the centre is pyxem's
        ours = values(s.get_angular_average(rings=edges, angle_step=360))
    np.testing.assert_allclose(ours, theirs, atol=0.03 * theirs.max())

    aa = s.get_angular_average(rings=[0.25, 0.57, 1.3], angle_step=10)
    assert aa._lazy
    result = s.manifold_decomposition(
        features=aa, n_runs=1, random_state=0, return_info=True
    )
    assert hm.adjusted_rand(result.labels, truth.labels) > 0.5

    # what HyperSpy's plot_cluster_results reads from learning_results
    lr = s.learning_results
    n, n_nav, n_sig = lr.number_of_clusters, 12 * 12, 48 * 48
    assert n >= 2
    assert lr.cluster_labels.shape == (n, n_nav) and lr.cluster_labels.dtype == bool
    assert lr.cluster_sum_signals.shape == (n, n_sig)
    assert lr.cluster_centroid_signals.shape == (n, n_sig)
    assert lr.cluster_distances.shape == (n, n_nav)
    means = s.get_cluster_signals(signal="mean")
    assert means.axes_manager.navigation_shape == (n,)
    assert means.axes_manager.signal_shape == (48, 48)
    assert means.axes_manager.signal_axes[0].scale == pytest.approx(k_scale)
    merged = values(s.get_cluster_labels(merged=True))
    np.testing.assert_array_equal(merged, values(result.labels))
    assert s.get_cluster_distances().axes_manager.signal_shape == (12, 12)
    plt.close("all")
    s.plot_cluster_results()
    assert len(plt.get_fignums()) >= 3  # labels, cluster means, distances
    plt.close("all")

    s.bragg_nmf(
        features=aa, n_components=6, merge_threshold=0.4, n_models=2, random_state=0
    )
    loadings = s.get_decomposition_loadings()
    assert loadings.axes_manager.signal_shape == (12, 12)
    factors = s.get_decomposition_factors()
    assert factors.axes_manager.signal_shape == (48, 48)
    s.plot_decomposition_results()
    plt.close("all")


def test_one_signal_type_name_in_docs_examples_and_messages():
    """Users are told one name, the alias registered for ManifoldDiffraction2D."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).parent.parent
    package = root / "hyperspy_manifold"
    registry = yaml.safe_load((package / "hyperspy_extension.yaml").read_text())
    spec = registry["signals"]["ManifoldDiffraction2D"]
    assert spec["signal_type"] == "manifold_diffraction"
    assert spec["signal_type_aliases"] == ["manifold"]
    files = [root / "README.md", *root.glob("docs/**/*.rst")]
    files += [*root.glob("examples/*.py"), *package.rglob("*.py")]
    told = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"set_signal_type\(\\?[\"']([^\"'\\]*)", text):
            told.setdefault(name, []).append(path.name)
    assert set(told) == {"manifold"}, told
