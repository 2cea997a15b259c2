"""Property-based tests of the transforms (hypothesis): random shapes, dtypes and
chunkings give eager == lazy results, and physical invariants hold."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from _strategies import SETTINGS, TRANSFORMS, scans
from hypothesis import given
from hypothesis import strategies as st
from scipy import ndimage

import hyperspy_manifold as hm


@SETTINGS
@given(case=scans(), name=st.sampled_from(sorted(TRANSFORMS)))
def test_eager_equals_lazy_for_any_shape_dtype_chunking(case, name):
    data, chunks = case
    eager = hs.signals.Signal2D(data)
    lazy = hs.signals.Signal2D(da.from_array(data, chunks=chunks)).as_lazy()
    a = np.asarray(TRANSFORMS[name](eager).data)
    b = TRANSFORMS[name](lazy).data.compute()
    assert a.shape == b.shape
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(a).max()))


@SETTINGS
@given(case=scans())
def test_radial_variance_is_never_negative(case):
    data, _ = case
    rv = hm.get_radial_variance(hs.signals.Signal2D(data), in_pixels=True).data
    assert (rv >= 0).all()


@SETTINGS
@given(
    value=st.floats(0, 1e6, allow_nan=False),
    shape=st.tuples(st.integers(10, 18), st.integers(10, 18)),
)
def test_features_of_constant_patterns_are_constant(value, shape):
    s = hs.signals.Signal2D(np.full((2, 3, *shape), value))
    rv = hm.get_radial_variance(s, in_pixels=True).data
    np.testing.assert_allclose(rv, 0, atol=1e-6 * max(1, value) ** 2)
    aa = hm.get_angular_average(s, rings=[1, 4], in_pixels=True, angle_step=45).data
    np.testing.assert_allclose(aa, value, rtol=1e-5, atol=1e-30)
    c = hm.get_cepstrum(s, minimum="pattern").data
    np.testing.assert_allclose(
        c, np.broadcast_to(c[:1, :1], c.shape), atol=1e-5 * c.max()
    )


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([16, 17, 24]))
def test_cepstrum_of_transposed_pattern_is_transposed_cepstrum(seed, n):
    rng = np.random.default_rng(seed)
    p = rng.random((1, n, n)) + 0.1
    c = hm.get_cepstrum(hs.signals.Signal2D(p), minimum="pattern").data[0]
    ct = hm.get_cepstrum(
        hs.signals.Signal2D(p.transpose(0, 2, 1).copy()), minimum="pattern"
    ).data[0]
    np.testing.assert_allclose(ct, c.T, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("angle", [30, 45, 90])
def test_cepstrum_of_rotated_pattern_is_rotated_cepstrum(angle):
    n = 65  # odd: zero quefrency (n // 2) is the array centre that rotate() uses
    y, x = np.mgrid[:n, :n] - (n - 1) / 2
    # a smooth hexagonal spot pattern: rotation changes it only by interpolation
    p = np.exp(-(np.hypot(y, x) ** 2) / 400)
    for k in range(6):
        a = np.radians(60 * k + 10)
        p += np.exp(-((x - 14 * np.cos(a)) ** 2 + (y - 14 * np.sin(a)) ** 2) / 8)
    rotated = ndimage.rotate(p, angle, reshape=False, order=3, mode="nearest")
    kw = dict(window="radial_hann", minimum=0.0, epsilon=0.1)
    c = hm.get_cepstrum(hs.signals.Signal2D(np.stack([p, rotated])), **kw).data
    c0 = ndimage.rotate(c[0], angle, reshape=False, order=3)
    ring = (np.hypot(y, x) > 3) & (np.hypot(y, x) < 20)
    corr = np.corrcoef(c0[ring], c[1][ring])[0, 1]
    assert corr > 0.9
