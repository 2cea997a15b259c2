"""Cepstral lattice vectors and strain: sub-pixel accuracy, tracking, lazy, errors."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import hyperspy_manifold as hm
from hyperspy_manifold.kernels.lattice import refine_peaks

N = 128  # detector pixels
A = 25.6  # real-space lattice vector, in cepstrum pixels (reciprocal spacing 5 px)
DK = 0.01  # 1/Å per detector pixel -> cepstrum pixel 1 / (N DK) Å


def _pattern(deformation, sigma=1.0, envelope=30.0, background=0.01):
    """Spots on the reciprocal lattice of the real lattice ``deformation @ A I``.

    Cepstral peaks sit at real-space vectors r with r . g integer, so the spots
    are at G = (F A / N)^-T: stretching real space by 1 % in x compresses the
    spot lattice by 1 % in x.
    """
    real = deformation @ (np.eye(2) * A / N)
    recip = np.linalg.inv(real).T  # columns: reciprocal vectors (x, y) in pixels
    y, x = np.mgrid[:N, :N] - N // 2
    img = np.full((N, N), background)
    hk = np.mgrid[-16:17, -16:17].reshape(2, -1)
    g = recip @ hk
    keep = np.hypot(*g) < N / 2 + 3
    for gx, gy in g[:, keep].T:
        amp = np.exp(-(gx**2 + gy**2) / (2 * envelope**2))
        img += amp * np.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * sigma**2))
    return img


def _rotation(degrees):
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


DEFORMATIONS = {
    "reference": np.eye(2),
    "stretch_x": np.diag([1.01, 1.0]),
    "rotation": _rotation(1.0),
}
LAYOUT = np.array([["reference", "stretch_x"], ["rotation", "reference"]])
REFERENCE_AREA = LAYOUT == "reference"


@pytest.fixture(scope="module")
def cepstra():
    patterns = np.stack(
        [[_pattern(DEFORMATIONS[name]) for name in row] for row in LAYOUT]
    ).astype(np.float32)
    s = hs.signals.Signal2D(patterns)
    for ax in s.axes_manager.signal_axes:
        ax.scale = DK
        ax.units = "1/Å"
    for ax in s.axes_manager.navigation_axes:
        ax.scale = 2.5
        ax.units = "nm"
    s.set_signal_type("manifold")
    return s.get_cepstrum()


def _strain(strain, name):
    iy, ix = np.argwhere(LAYOUT == name)[0]
    return dict(zip(hm.features.lattice.STRAIN_COMPONENTS, strain.data[:, iy, ix]))


def test_refinement_is_exact_for_gaussian_peaks():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[:21, :21]
    true = 10 + rng.uniform(-0.5, 0.5, size=(20, 2))
    img = np.exp(
        -((y - true[:, :1, None]) ** 2 + (x - true[:, 1:, None]) ** 2) / (2 * 1.3**2)
    )
    rows = np.rint(true[:, :1]).astype(int)
    cols = np.rint(true[:, 1:]).astype(int)
    ry, rx = refine_peaks(img, rows, cols, window=3)
    np.testing.assert_allclose(ry[:, 0], true[:, 0], atol=1e-9)
    np.testing.assert_allclose(rx[:, 0], true[:, 1], atol=1e-9)


def test_stretch_and_rotation_from_cepstral_peaks(cepstra):
    v = cepstra.get_lattice_vectors(reference=REFERENCE_AREA)
    assert v.axes_manager.signal_shape == (2, 2)
    assert v.metadata.HyperspyManifold.lattice_vectors.units == "Å"
    strain = hm.get_strain_maps(v, reference=REFERENCE_AREA)
    assert strain.axes_manager.navigation_shape == (4,)
    assert strain.axes_manager.signal_shape == cepstra.axes_manager.navigation_shape
    for ax in strain.axes_manager.signal_axes:  # maps keep the scan calibration
        assert (ax.scale, ax.units) == (2.5, "nm")
    stretch = _strain(strain, "stretch_x")
    assert stretch["exx"] == pytest.approx(0.01, abs=1e-3)
    assert abs(stretch["eyy"]) < 1e-3
    assert abs(stretch["exy"]) < 1e-3
    assert abs(stretch["theta"]) < np.radians(0.1)
    rotation = _strain(strain, "rotation")
    assert np.degrees(rotation["theta"]) == pytest.approx(1.0, abs=0.1)
    for key in ("exx", "eyy", "exy"):
        assert abs(rotation[key]) < 1e-3
    reference = _strain(strain, "reference")
    assert max(abs(val) for val in reference.values()) < 1e-9
    # default reference: the scan mean, so the mean strain vanishes
    mean_ref = hm.get_strain_maps(v)
    np.testing.assert_allclose(mean_ref.data[:3].mean(axis=(1, 2)), 0, atol=1e-4)


def test_spacings_are_calibrated_lattice_spacings(cepstra):
    v = hm.get_lattice_vectors(cepstra, reference=REFERENCE_AREA)
    spacing = hm.get_lattice_spacings(v)
    assert spacing.axes_manager.navigation_shape == (2,)
    iy, ix = np.argwhere(LAYOUT == "reference")[0]
    scale = cepstra.axes_manager.signal_axes[0].scale
    assert scale == pytest.approx(1 / (N * DK))
    # Hann window + envelope bias the peak by a few hundredths of a pixel
    np.testing.assert_allclose(spacing.data[:, iy, ix], A * scale, atol=0.05 * scale)
    iy, ix = np.argwhere(LAYOUT == "stretch_x")[0]
    x_vector = int(np.argmax(np.abs(v.data[iy, ix, :, 0])))
    assert spacing.data[x_vector, iy, ix] == pytest.approx(
        1.01 * A * scale, abs=0.05 * scale
    )


def test_labels_follow_the_reference_vectors(cepstra):
    scale = cepstra.axes_manager.signal_axes[0].scale
    given = np.array([[0.0, A], [A, 0.0]]) * scale  # y vector first
    v = cepstra.get_lattice_vectors(reference=given)
    data = v.data.reshape(-1, 2, 2)
    # every position: vector 0 along y, vector 1 along x, same sign as the reference
    assert (data[:, 0, 1] > 0.9 * A * scale).all() and (
        np.abs(data[:, 0, 0]) < 0.5
    ).all()
    assert (data[:, 1, 0] > 0.9 * A * scale).all() and (
        np.abs(data[:, 1, 1]) < 0.5
    ).all()
    # automatic reference: the mean cepstrum gives the same two vectors
    auto = cepstra.get_lattice_vectors()
    ref = np.array(auto.metadata.HyperspyManifold.lattice_vectors.reference)
    assert sorted(np.round(np.abs(ref).max(axis=1) / scale)) == [26, 26]


@pytest.mark.parametrize("lazy_output", [None, False])
def test_lazy_equals_eager(cepstra, lazy_output):
    eager = cepstra.get_lattice_vectors(reference=REFERENCE_AREA)
    lazy_c = cepstra.as_lazy()
    lazy_c.data = da.from_array(np.asarray(cepstra.data), chunks=(1, 2, N, N))
    lazy = lazy_c.get_lattice_vectors(reference=REFERENCE_AREA, lazy_output=lazy_output)
    assert lazy._lazy == (lazy_output is None)
    if lazy._lazy:
        assert lazy.data.chunks[:2] == ((1, 1), (2,))
        strain = hm.get_strain_maps(lazy, reference=REFERENCE_AREA)
        assert strain._lazy
        strain.compute()
        np.testing.assert_allclose(
            strain.data,
            hm.get_strain_maps(eager, reference=REFERENCE_AREA).data,
            atol=1e-12,
        )
        lazy.compute()
    np.testing.assert_allclose(lazy.data, eager.data, rtol=0, atol=1e-12)


def test_model_fit_on_one_pattern_agrees(cepstra):
    v = cepstra.get_lattice_vectors(reference=REFERENCE_AREA)
    iy, ix = np.argwhere(LAYOUT == "stretch_x")[0]
    one = cepstra.inav[ix, iy]
    fitted, models = one.fit_lattice_peaks(v.inav[ix, iy].data)
    assert len(models) == 2
    assert type(models[0]).__name__ == "Model2D"
    assert "CepstralPeak2D" in [type(comp).__name__ for comp in models[0]]
    scale = cepstra.axes_manager.signal_axes[0].scale
    np.testing.assert_allclose(fitted, v.inav[ix, iy].data, atol=0.05 * scale)
    truth = DEFORMATIONS["stretch_x"] @ (np.eye(2) * A) * scale
    # the fitted peak of the x vector at 1.01 A
    x_vector = int(np.argmax(np.abs(fitted[:, 0])))
    assert fitted[x_vector, 0] == pytest.approx(truth[0, 0], abs=0.06 * scale)
    # with a scan, the current navigation index is used
    cepstra.axes_manager.indices = (ix, iy)
    again, _ = cepstra.fit_lattice_peaks(v)
    np.testing.assert_allclose(again, fitted)


def test_errors_for_people(cepstra):
    with pytest.raises(ValueError, match="`n_peaks` must be an integer >= 1"):
        cepstra.get_lattice_vectors(n_peaks=0)
    with pytest.raises(ValueError, match="only 2 peak"):
        cepstra.get_lattice_vectors(n_peaks=3, min_angle=50)
    with pytest.raises(ValueError, match="`reference` holds 1 vectors"):
        cepstra.get_lattice_vectors(reference=np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="odd number >= 3"):
        cepstra.get_lattice_vectors(window=4)
    v = cepstra.get_lattice_vectors()
    with pytest.raises(ValueError, match="parallel"):
        hm.get_strain_maps(v, reference=np.array([[1.0, 0.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="navigation shape"):
        hm.get_strain_maps(v, reference=np.ones((3, 3), dtype=bool))
    with pytest.raises(ValueError, match="get_lattice_vectors"):
        hm.get_strain_maps(cepstra)
