"""Real detector files (tests/data, see ATTRIBUTION.md) load lazily through
rosettasciio, become ManifoldDiffraction2D and flow through every transform."""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import DATA

import hyperspy_manifold as hm

FILES = {
    "merlin": ("merlin_4x2/001_4x2_6bit.mib", (2, 4), (256, 256)),
    "merlin_roi": ("merlin_4x2/002_4x2_6bit_roi128.mib", (2, 4), (128, 256)),
    "nanomegas": ("nanomegas_test1.blo", (3, 2), (144, 144)),
    "topspin": ("topspin_test_B.app5", (3, 7), (31, 26)),
}


def load(name):
    path, nav, det = FILES[name]
    s = hs.load(DATA / path, lazy=True)
    if isinstance(s, list):  # app5 also holds survey images; the 4D one comes first
        s = next(
            x for x in s if x.axes_manager.signal_dimension == 2 and x.data.ndim == 4
        )
    s.set_signal_type("manifold")
    if name == "topspin":
        # the subsampled file keeps the calibration of the full detector, which puts
        # the beam centre outside the 26 x 31 crop: use the crop centre (pyxem's way)
        with pytest.raises(ValueError, match="outside the detector"):
            hm.get_radial_variance(s)
        s.calibration.center = None
    return s, nav, det


@pytest.mark.parametrize("name", sorted(FILES))
def test_loads_lazily_as_manifold(name):
    s, nav, det = load(name)
    assert type(s).__name__ == "LazyManifoldDiffraction2D"
    assert s.data.shape == (*nav, *det)


@pytest.mark.parametrize("name", sorted(FILES))
def test_cepstrum_on_real_file(name):
    s, nav, det = load(name)
    c = s.get_cepstrum()
    assert type(c).__name__ == "LazyCepstrum2D"
    data = c.data.compute()
    assert data.shape == (*nav, *det)
    assert np.isfinite(data).all()
    # the cepstrum of a real pattern is centrosymmetric about zero quefrency
    ky, kx = det
    inner = data[..., 1 - ky % 2 :, 1 - kx % 2 :]
    np.testing.assert_allclose(inner, inner[..., ::-1, ::-1], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", sorted(FILES))
def test_polar_transforms_on_real_file(name):
    s, nav, det = load(name)
    rv = s.get_radial_variance()
    aa = s.get_angular_average(
        rings=[2, min(det) // 4, min(det) // 2 - 2], in_pixels=True
    )
    for f in (rv, aa):
        assert f._lazy
        data = f.data.compute()
        assert data.shape[:2] == nav
        assert np.isfinite(data).all()
    assert (rv.data.compute() >= 0).all()


def test_single_frame_file():
    """A lone 24-bit frame (no scan) still gets its per-pattern transforms."""
    s = hs.load(DATA / "test_CL30cm.mib", lazy=True)
    s.set_signal_type("manifold")
    assert s.axes_manager.navigation_dimension == 0
    assert s.data.dtype.itemsize == 4  # 24-bit counts in uint32: no overflow allowed
    c = hm.get_cepstrum(s).data.compute()
    rv = hm.get_radial_variance(s).data.compute()
    assert c.shape == (256, 256) and np.isfinite(c).all()
    assert rv.ndim == 1 and (rv >= 0).all() and np.isfinite(rv).all()


#: Every per-pattern feature of the package, with its default arguments.
DEFAULT_FEATURES = (
    "get_cepstrum",
    "get_radial_variance",
    "get_angular_average",
    "get_bragg_features",
    "get_bright_field_features",
)


def _default_features(s):
    """Run every feature with its defaults; the computed arrays, by name."""
    out = {}
    for name in DEFAULT_FEATURES:
        with warnings.catch_warnings():
            # rings="auto" falls back to equal rings on spot patterns (a warning)
            warnings.filterwarnings("ignore", "`rings='auto'` found no minimum")
            f = getattr(hm, name)(s)
        assert f._lazy == s._lazy
        data = np.asarray(f.data.compute() if f._lazy else f.data)
        assert np.isfinite(data).all(), name
        out[name] = data
    return out


@pytest.mark.parametrize("name", sorted(FILES))
def test_default_features_on_real_file(name):
    s, nav, _ = load(name)
    for data in _default_features(s).values():
        assert data.shape[: len(nav)] == nav


def test_default_features_on_real_single_patterns():
    """The lone Merlin frame and pyxem-demos' amorphous pattern (.hspy, a plain
    Signal2D whose stored calibration puts the beam centre far off the detector)."""
    frame = hs.load(DATA / "test_CL30cm.mib", lazy=True)
    frame.set_signal_type("manifold")
    frame.calibration.center = None
    _default_features(frame)

    s = hs.load(DATA / "amorphous_pattern.hspy")
    assert type(s).__name__ == "Signal2D"
    with pytest.raises(ValueError, match=r"s\.calibration\.center = None"):
        hm.get_radial_variance(s)
    s.set_signal_type("manifold")
    s.calibration.center = None
    features = _default_features(s)
    assert features["get_radial_variance"].shape == (255,)  # 512 x 512, centred
