"""Bragg-masked radial profile: the amorphous ring profile recovered under
strong spots, agreement with the plain azimuthal mean (ours and pyxem's), lazy
and calibrated output, bad input, and the NMF route that separates amorphous
from crystalline regions of a scan."""

import numpy as np
import pytest
from conftest import pattern_scan, spot_lattice, values

import hyperspy_manifold as hm
from hyperspy_manifold.kernels.polar import (
    clipped_ring_means,
    polar_means,
    polar_operator,
)

K = 64  # detector pixels
C = (K - 1) / 2  # the beam on the detector centre, pyxem's default
R = 30  # compared radii, 1-pixel rings


def _radius(shape=(K, K)):
    y, x = np.mgrid[: shape[0], : shape[1]].astype(float)
    return np.hypot(y - (shape[0] - 1) / 2, x - (shape[1] - 1) / 2)


def amorphous(shape=(K, K)):
    """A smooth amorphous profile: one broad ring on a decaying background."""
    r = _radius(shape)
    return 100 * np.exp(-((r - 16) ** 2) / (2 * 5**2)) + 30 * np.exp(-r / 15)


def spots(shape=(K, K), g=13.0, height=1000.0):
    """Strong Bragg spots (ten times the ring) on a square lattice, no direct beam."""
    lattice = spot_lattice(
        shape, g=(g, g), sigma=0.8, weights=lambda h, k: 0.0 if h == k == 0 else 1.0
    )
    return height * lattice


def _scan(patterns, lazy=False):
    s = pattern_scan(patterns, lazy=lazy)
    s.calibration.center = None  # pyxem: the beam on the detector centre
    return s


def _ring_means(pattern):
    """The exact azimuthal mean of ``pattern`` on the rings of the profile."""
    operator = polar_operator((K, K), (C, C), np.arange(R + 1.0), 1)
    return polar_means(pattern, operator)[:, 0]


@pytest.mark.parametrize("g", [13.0, 11.0])
def test_bragg_mask_recovers_the_amorphous_profile_under_spots(g):
    truth = _ring_means(amorphous())
    spot_rings = _ring_means(spots(g=g)) > 0.01 * truth
    assert spot_rings.sum() >= 15  # most rings hold spots
    s = _scan(np.stack([amorphous() + spots(g=g)] * 2))
    kwargs = dict(radial_range=(0, R), in_pixels=True)
    masked = values(hm.get_radial_profile(s, **kwargs))
    plain = values(hm.get_radial_profile(s, bragg_mask=False, **kwargs))
    error = np.abs(masked / truth - 1)[:, spot_rings]
    bias = (plain / truth - 1)[:, spot_rings]
    assert error.max() < 0.03
    # the spots bias the plain mean by far more: up to several times the ring
    assert bias.min() > 0 and bias.max() > 1.0
    assert np.median(bias) > 10 * np.median(error)


def test_spot_free_pattern_masked_equals_unmasked():
    rng = np.random.default_rng(0)
    data = rng.poisson(amorphous()[None].repeat(3, axis=0)).astype(float)
    s = _scan(data)
    masked = values(hm.get_radial_profile(s, radial_range=(2, R), in_pixels=True))
    plain = values(
        hm.get_radial_profile(s, bragg_mask=False, radial_range=(2, R), in_pixels=True)
    )
    # a few noise peaks (and their neighbours) are clipped: within the noise
    np.testing.assert_allclose(masked, plain, rtol=0.03)
    assert np.median(np.abs(masked / plain - 1)) < 0.005
    # noise-free: clipping removes nothing at all
    clean = clipped_ring_means(amorphous()[None], _operator())
    np.testing.assert_allclose(clean[0], _ring_means(amorphous()), rtol=1e-6)


def _operator():
    return polar_operator((K, K), (C, C), np.arange(R + 1.0), 1)


def test_unmasked_profile_is_the_polar_mean_and_pyxems():
    data = np.stack([amorphous() + spots(), amorphous()])
    s = _scan(data)
    plain = values(
        hm.get_radial_profile(s, bragg_mask=False, radial_range=(0, R), in_pixels=True)
    )
    np.testing.assert_allclose(plain, polar_means(data, _operator())[..., 0], rtol=1e-5)
    theirs = values(
        s.get_azimuthal_integral1d(
            npt=R, radial_range=(0, R), mean=True, show_progressbar=False
        )
    )
    # the tolerance of the radial variance / angular average tests against pyxem,
    # on the smooth pattern (bilinear sampling and pixel splitting differ on
    # spots one pixel wide)
    np.testing.assert_allclose(plain[1], theirs[1], atol=0.02 * theirs[1].max())


def test_lazy_equals_eager_with_calibrated_axis_and_input_untouched():
    data = np.stack([amorphous() + spots(), amorphous(), spots() + 1.0])
    data = data.reshape(3, 1, K, K).repeat(2, axis=1)
    eager = pattern_scan(data, scale=0.02, units="1/nm")
    eager.calibration.center = None
    lazy = pattern_scan(data, lazy=True, chunks=(1, 2), scale=0.02, units="1/nm")
    lazy.calibration.center = None
    before = data.copy()
    a = hm.get_radial_profile(eager, radial_range=(0.1, 0.5))
    b = hm.get_radial_profile(lazy)
    assert not a._lazy and b._lazy
    assert hm.get_radial_profile(lazy, lazy_output=False)._lazy is False
    ref = hm.get_radial_profile(eager)
    np.testing.assert_allclose(values(b), values(ref), rtol=1e-10)
    np.testing.assert_array_equal(values(eager), before)
    axis = a.axes_manager.signal_axes[0]
    assert axis.units == "1/nm"
    assert axis.scale == pytest.approx(0.02)
    assert axis.offset == pytest.approx(0.1 + 0.01)  # centre of the first bin
    assert axis.size == 20
    params = a.metadata.HyperspyManifold.radial_profile
    assert params.bragg_mask is True and params.n_sigma == 3.0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_sigma": 0}, "n_sigma"),
        ({"n_sigma": -1.0}, "n_sigma"),
        ({"spot_radius": -1}, "spot_radius"),
        ({"spot_radius": 1.5}, "spot_radius"),
        ({"n_iter": 0}, "n_iter"),
        ({"radial_step": 0}, "radial_step"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    s = _scan(amorphous((16, 16))[None])
    with pytest.raises(ValueError, match=f"`{name}`"):
        hm.get_radial_profile(s, **kwargs)


def test_integer_counts_and_masked_pixels():
    counts = np.stack([amorphous() + spots(), amorphous()]).round()
    kwargs = dict(radial_range=(2, R), in_pixels=True)
    ref = values(hm.get_radial_profile(_scan(counts), **kwargs))
    as_uint16 = values(hm.get_radial_profile(_scan(counts.astype(np.uint16)), **kwargs))
    np.testing.assert_allclose(as_uint16, ref, rtol=1e-12)
    # a NaN pixel left out with signal_mask is never read
    broken = counts.copy()
    broken[:, 10, 40] = np.nan
    mask = np.zeros((K, K), bool)
    mask[10, 40] = True
    with pytest.raises(ValueError, match="signal_mask"):
        values(hm.get_radial_profile(_scan(broken), **kwargs))
    masked = values(hm.get_radial_profile(_scan(broken), signal_mask=mask, **kwargs))
    np.testing.assert_allclose(masked, ref, rtol=0.01)


def test_method_and_feature_name():
    s = _scan(np.stack([amorphous((24, 24))] * 2))
    np.testing.assert_array_equal(
        values(s.get_radial_profile()), values(hm.get_radial_profile(s))
    )
    from hyperspy_manifold.learn._features import FEATURE_NAMES, feature_signal

    assert "radial_profile" in FEATURE_NAMES
    f = feature_signal(s, "radial_profile", {"n_sigma": 4.0})
    assert f.metadata.HyperspyManifold.radial_profile.n_sigma == 4.0


# ------------------------------------------------- amorphous/crystalline route

NAV = (6, 8)
D = 48  # detector of the route scan


def mixture_scan(seed, lazy=False):
    """Amorphous fraction ``f`` rising and falling smoothly across the scan;
    every pattern ``f * amorphous + (1 - f) * crystalline`` with Poisson noise,
    where the crystalline pattern is strong spots, of a height that changes
    from position to position (excitation errors), on its own diffuse
    background."""
    rows, cols = np.indices(NAV)
    f = np.clip(0.5 + 0.45 * np.sin(0.7 * cols + 0.5 * rows + seed), 0, 1)
    rng = np.random.default_rng(seed)
    height = rng.uniform(0.2, 2.0, NAV)[..., None, None]
    r = _radius((D, D))
    crystal = height * spots((D, D), g=12.0, height=600.0) + 40 * np.exp(-r / 6)
    pure = f[..., None, None] * amorphous((D, D)) + (1 - f[..., None, None]) * crystal
    data = rng.poisson(pure).astype(np.float32)
    s = pattern_scan(data, lazy=lazy, chunks=(3, 4) if lazy else None)
    s.calibration.center = None
    return s, f


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nmf_on_masked_profiles_maps_the_amorphous_fraction(seed):
    s, f = mixture_scan(seed)
    result = hm.bragg_nmf(
        s,
        features="radial_profile",
        feature_kwargs={"radial_range": (2, 22), "in_pixels": True},
        n_components=2,
        n_models=3,
        max_iterations=0,
        random_state=seed,
        return_info=True,
    )
    W = result.W.reshape(-1, result.W.shape[-1])
    r = [np.corrcoef(W[:, k], f.ravel())[0, 1] for k in range(W.shape[1])]
    assert max(r) >= 0.95  # margin over the 0.9 the route must reach


def test_nmf_route_runs_lazily_and_iterative_nmf_takes_the_name():
    s, f = mixture_scan(0, lazy=True)
    kwargs = {"radial_range": (2, 22), "in_pixels": True}
    result = hm.bragg_nmf(
        s,
        features="radial_profile",
        feature_kwargs=kwargs,
        n_components=2,
        n_models=2,
        max_iterations=0,
        random_state=0,
        return_info=True,
    )
    assert s._lazy
    W = result.W.reshape(-1, 2)
    assert max(abs(np.corrcoef(W[:, k], f.ravel())[0, 1]) for k in range(2)) >= 0.9
    model = hm.IterativeNMF(
        features="radial_profile",
        feature_kwargs=kwargs,
        n_components=2,
        n_models=2,
        max_iterations=0,
        random_state=0,
    ).fit(s)
    assert model.components_.shape[0] == 2
