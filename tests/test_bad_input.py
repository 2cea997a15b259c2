"""Bad input for every public function and the CLI (issue 6, item 4).

One table per kind of bad input: zero navigation dimensions, 1D and 3D signals,
empty scans, NaN/inf pixels, negative intensities, all-zero and constant
patterns, uint32 counts near 2**32, uint8/uint16 arithmetic, masks and vectors
of the wrong shape, a beam centre off the detector, non-uniform axes, navigation
masks that remove everything, unknown option names and values.

Every case either works, and then its numbers are checked against an
independent computation (a shifted copy of the data, float64 numpy, the clean
data), or raises an error whose message names the parameter and the fix.  Eager
and lazy inputs alike; a case may not crash inside a kernel, hang (a SIGALRM
guard fails it) or return NaN silently.  Property-based tests of the kernels
are in ``test_properties.py``.
"""

import signal as _signal
from pathlib import Path

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import spot_lattice
from hyperspy.signals import LazySignal2D

import hyperspy_manifold as hm
from hyperspy_manifold import cli
from hyperspy_manifold.learn._labels import MASKED
from hyperspy_manifold.learn.manifold import ManifoldResult
from hyperspy_manifold.learn.nmf import NMFResult

DETECTOR = 16
NAV = (3, 4)
TOP32 = 2**32 - 1
#: Ring edges (pixels) of the angular average: the detector centre is 7.5 px
#: from every edge.
RINGS = [1, 3, 6]
SHIFT = 100.0
#: Seconds after which a case counts as hanging: generous, because the first UMAP
#: call of a test process compiles numba code (30 s and more on a busy 2-core CI
#: machine); a real hang never returns at all.
HANG_SECONDS = 300


@pytest.fixture(autouse=True)
def _no_hang():
    def hang(signum, frame):
        raise TimeoutError(f"the call did not return within {HANG_SECONDS} s")

    old = _signal.signal(_signal.SIGALRM, hang)
    _signal.alarm(HANG_SECONDS)
    yield
    _signal.alarm(0)
    _signal.signal(_signal.SIGALRM, old)


# ------------------------------------------------------------------------- the data


def _pattern(kind: int) -> np.ndarray:
    """A central disk and four spots, at radius 5 px for ``kind`` 0 and at 3 px,
    rotated by 45 degrees, for ``kind`` 1."""
    y, x = np.mgrid[:DETECTOR, :DETECTOR] - (DETECTOR - 1) / 2
    out = 50 * np.exp(-(x**2 + y**2) / 2)
    r = 3 if kind else 5
    for k in range(4):
        a = np.radians(90 * k + 45 * kind)
        out += 30 * np.exp(-((x - r * np.cos(a)) ** 2 + (y + r * np.sin(a)) ** 2))
    return out


def scan_data(seed=0) -> np.ndarray:
    """3 x 4 scan of 16 x 16 patterns: two domains (columns 0-1 and 2-3) plus
    noise, every pattern shifted so that its minimum is exactly 0."""
    rng = np.random.default_rng(seed)
    kinds = (np.arange(NAV[1]) >= 2).astype(int)
    data = np.stack([_pattern(k) for k in kinds])[None].repeat(NAV[0], axis=0)
    data = data + rng.random(data.shape)
    return data - data.min(axis=(-2, -1), keepdims=True)


def counts(seed=0) -> np.ndarray:
    """Integer counts 0 .. ~1600 of :func:`scan_data`."""
    return np.rint(scan_data(seed) * 20).astype(np.int64)


def signal(data, lazy=False):
    data = np.asarray(data)
    if lazy and 0 in data.shape:
        # HyperSpy's `as_lazy` divides by zero on an empty signal (upstream bug)
        return LazySignal2D(da.from_array(data))
    s = hs.signals.Signal2D(data)
    return s.as_lazy() if lazy else s


def values(result) -> np.ndarray:
    """The numbers of any result, lazy signals computed."""
    if isinstance(result, ManifoldResult):
        return np.concatenate(
            [np.ravel(result.labels.data), np.ravel(result.embedding.data)]
        )
    if isinstance(result, NMFResult):
        return np.asarray(result.W)
    data = result.data
    return np.asarray(data.compute() if isinstance(data, da.Array) else data)


def assert_close(actual, expected, rtol=1e-5):
    """Equal within ``rtol`` of the largest expected value, all finite."""
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape
    assert np.isfinite(actual).all()
    scale = max(float(np.abs(expected).max()), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


def _two_domains(nav_shape):
    """Label map: 0 in columns 0-1, 1 in columns 2-3."""
    return (np.indices(nav_shape)[-1] >= 2).astype(int)


def _labels_of(s):
    nav = tuple(s.axes_manager.navigation_shape[::-1])
    return _two_domains(nav) if nav else np.zeros((), int)


MD_KWARGS = dict(
    features="radial_variance",
    algorithm="kmeans",
    n_clusters=2,
    random_state=0,
    return_info=True,
)
NMF_KWARGS = dict(
    features="radial_variance",
    n_components=2,
    n_models=2,
    max_iterations=1,
    random_state=0,
    return_info=True,
)

#: Every public function that takes a scan of patterns, called as a user would.
CALLS = {
    "get_cepstrum": lambda s, **kw: hm.get_cepstrum(s, **kw),
    "get_radial_variance": lambda s, **kw: hm.get_radial_variance(s, **kw),
    "get_angular_average": lambda s, **kw: hm.get_angular_average(
        s, rings=RINGS, angle_step=30, in_pixels=True, **kw
    ),
    "get_bragg_features": lambda s, **kw: hm.get_bragg_features(
        s, intensity=True, **kw
    ),
    "manifold_decomposition": lambda s, **kw: hm.manifold_decomposition(
        s, **{**MD_KWARGS, **kw}
    ),
    "get_similarity_loadings": lambda s, **kw: hm.get_similarity_loadings(
        s, _labels_of(s), **kw
    ),
    "bragg_nmf": lambda s, **kw: hm.bragg_nmf(s, **{**NMF_KWARGS, **kw}),
}
TRANSFORMS = [
    "get_cepstrum",
    "get_radial_variance",
    "get_angular_average",
    "get_bragg_features",
]
LEARNERS = ["manifold_decomposition", "get_similarity_loadings", "bragg_nmf"]
#: Public functions that take cepstra.
CEPSTRUM_CALLS = {
    "get_ring_features": lambda c: hm.get_ring_features(c, 1, 4, in_pixels=True),
    "get_lattice_vectors": lambda c: hm.get_lattice_vectors(
        c, reference=[[3.0, 0.0], [0.0, 3.0]], in_pixels=True
    ),
}
ALL = [*CALLS, *CEPSTRUM_CALLS]
lazy_and_eager = pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])


def call(name, s, via_cepstrum=True, **kwargs):
    """Call ``name`` on the scan ``s`` (through its cepstrum for the functions of
    cepstra, unless ``via_cepstrum`` is False) and compute the result, so errors
    raised at compute time count."""
    if name in CEPSTRUM_CALLS:
        result = CEPSTRUM_CALLS[name](hm.get_cepstrum(s) if via_cepstrum else s)
    else:
        result = CALLS[name](s, **kwargs)
    values(result)
    return result


def reference_cepstrum(data, epsilon=0.1):
    """The EWPC in float64 numpy: |FFT2(hann * log(I - min + eps))|, centred."""
    data = np.asarray(data, dtype=np.float64)
    window = np.outer(np.hanning(DETECTOR), np.hanning(DETECTOR))
    log = np.log(data - data.min() + epsilon)
    return np.abs(np.fft.fftshift(np.fft.fft2(window * log), axes=(-2, -1)))


def reference_similarity(data, labels, eps=None):
    """1 / (eps + ||x - mu||) in float64 numpy, one map per cluster."""
    X = np.asarray(data, dtype=np.float64).reshape(labels.size, -1)
    lab = labels.ravel()
    means = np.stack([X[lab == k].mean(axis=0) for k in np.unique(lab)])
    if eps is None:
        eps = 1e-6 * np.linalg.norm(means, axis=1).max()
    d = np.linalg.norm(X[None] - means[:, None], axis=-1)
    return (1 / (eps + d)).reshape((len(means),) + labels.shape)


# -------------------------------------------------------------- shape of the input


def _structure(kind, lazy):
    rng = np.random.default_rng(1)
    if kind == "signal_1d":
        s = hs.signals.Signal1D(rng.random((3, 4, 16)))
    elif kind == "signal_3d":
        s = hs.signals.BaseSignal(rng.random((3, 4, 8, 8, 8))).transpose(signal_axes=3)
    elif kind == "empty_scan":
        return signal(np.zeros((0, 4, 16, 16)), lazy)
    elif kind == "empty_detector":
        return signal(np.zeros((3, 4, 0, 16)), lazy)
    else:
        s = signal(scan_data(), lazy)
        s.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
        return s
    return s.as_lazy() if lazy else s


STRUCTURE_ERRORS = {
    "signal_1d": r"needs a signal with 2 signal axes .* got signal dimension 1\. "
    r"Make .* the signal axes with `s = s\.transpose\(signal_axes=2\)`, then "
    r'`s\.set_signal_type\("manifold"\)`',
    "signal_3d": r"needs a signal with 2 signal axes .* got signal dimension 3",
    "empty_scan": r"got an empty signal of shape \(0, 4, 16, 16\)",
    "empty_detector": r"got an empty signal of shape \(3, 4, 0, 16\)",
    "non_uniform_detector": r"needs uniform signal axes.*convert_to_uniform_axis",
}


@lazy_and_eager
@pytest.mark.parametrize("kind", STRUCTURE_ERRORS)
@pytest.mark.parametrize("name", ALL)
def test_signal_shape_errors_name_the_fix(name, kind, lazy):
    s = _structure(kind, lazy)
    with pytest.raises(ValueError, match=STRUCTURE_ERRORS[kind]):
        call(name, s, via_cepstrum=False)


@lazy_and_eager
@pytest.mark.parametrize("name", [*TRANSFORMS, *CEPSTRUM_CALLS])
def test_single_pattern_equals_its_row_of_a_scan(name, lazy):
    data = scan_data()
    one = values(call(name, signal(data[1, 2], lazy)))
    scan = values(call(name, signal(data, lazy)))
    assert_close(one, scan[1, 2])


@lazy_and_eager
@pytest.mark.parametrize("name", LEARNERS)
def test_learning_needs_a_navigation_axis(name, lazy):
    with pytest.raises(ValueError, match="at least one navigation axis"):
        call(name, signal(scan_data()[1, 2], lazy))


def _scan_axes(result):
    """The axes of a result that hold the scan."""
    if isinstance(result, ManifoldResult):
        return result.labels.axes_manager.signal_axes
    if isinstance(result, NMFResult):
        return result.maps.axes_manager.signal_axes
    am = result.axes_manager
    if am.navigation_axes and am.navigation_axes[0].name == "Cluster index":
        return am.signal_axes  # similarity loadings: one map per cluster
    return am.navigation_axes


@lazy_and_eager
@pytest.mark.parametrize("name", ALL)
def test_non_uniform_navigation_axes_are_kept(name, lazy):
    positions = np.array([0.0, 1.0, 3.0, 7.0])
    uniform = signal(scan_data(), lazy)
    s = signal(scan_data(), lazy)
    ax = s.axes_manager.navigation_axes[0]
    ax.convert_to_non_uniform_axis()
    ax.axis = positions
    result = call(name, s)
    assert_close(values(result), values(call(name, uniform)))
    assert any(
        not ax.is_uniform and np.array_equal(ax.axis, positions)
        for ax in _scan_axes(result)
    )


# ------------------------------------------------------------- values of the pixels


@lazy_and_eager
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", [*CALLS])
def test_non_finite_pixels_raise(name, value, lazy):
    data = scan_data()
    data[1, 2, 5, 9] = value
    with pytest.raises(ValueError, match="NaN or infinite pixels.* (replace|Replace)"):
        call(name, signal(data, lazy))


@lazy_and_eager
@pytest.mark.parametrize(
    "name", ["get_cepstrum", "get_radial_variance", "get_angular_average"]
)
def test_signal_mask_excludes_non_finite_pixels(name, lazy):
    mask = np.zeros((DETECTOR, DETECTOR), bool)
    mask[5, 9] = True
    bad, other = scan_data(), scan_data()
    bad[..., 5, 9] = np.nan
    other[..., 5, 9] = 1234.0  # a masked pixel never counts, whatever its value
    result = values(call(name, signal(bad, lazy), signal_mask=mask))
    assert_close(result, values(call(name, signal(other, lazy), signal_mask=mask)))


@lazy_and_eager
def test_navigation_mask_excludes_non_finite_patterns(lazy):
    data = scan_data()
    data[0, 0] = np.nan
    mask = np.zeros(NAV, bool)
    mask[0, 0] = True
    s = signal(data, lazy)
    result = hm.manifold_decomposition(
        s, **{**MD_KWARGS, "features": "raw", "navigation_mask": mask}
    )
    labels = np.asarray(result.labels.data)
    assert labels[0, 0] == MASKED
    kept = labels[~mask]
    truth = _two_domains(NAV)[~mask]
    assert hm.adjusted_rand(kept, truth) == 1.0
    assert np.isfinite(result.cluster_means.data).all()
    # the similarity of the unmasked positions does not see the NaN pattern
    sim = values(hm.get_similarity_loadings(s, labels, eps=1.0))
    expected = reference_similarity(data[~mask][None], labels[~mask][None], eps=1)
    assert_close(sim[:, ~mask], expected[:, 0])


def _negative_expectation(name, data, lazy):
    """Result on ``data`` expected from the same data shifted down by SHIFT."""
    result = values(call(name, signal(data, lazy), **_eps(name)))
    return result - SHIFT if name == "get_angular_average" else result


def _eps(name):
    return {"eps": 1.0} if name == "get_similarity_loadings" else {}


@lazy_and_eager
@pytest.mark.parametrize("name", [*CALLS])
def test_negative_intensities_work_like_shifted_ones(name, lazy):
    # cepstrum (global minimum), radial variance, Bragg features (a pattern with
    # negative pixels is lifted to a zero floor), similarity and learning are
    # shift invariant; the angular average shifts with the data
    data = scan_data()
    result = call(name, signal(data - SHIFT, lazy), **_eps(name))
    if isinstance(result, ManifoldResult):
        assert hm.adjusted_rand(result.labels.data, _two_domains(NAV)) == 1.0
    else:
        expected = _negative_expectation(name, data, lazy)
        assert_close(values(result), expected, rtol=1e-4)


@lazy_and_eager
@pytest.mark.parametrize("level", [0.0, 7.0], ids=["zero", "constant"])
@pytest.mark.parametrize("name", [*CALLS])
def test_all_zero_and_constant_patterns(name, level, lazy):
    s = signal(np.full(NAV + (DETECTOR, DETECTOR), level), lazy)
    if name == "manifold_decomposition":
        with pytest.raises(ValueError, match="identical features.*nothing to cluster"):
            call(name, s)
        return
    if name == "bragg_nmf":
        with pytest.raises(ValueError, match="constant.*nothing to factorise"):
            call(name, s)
        return
    result = values(call(name, s))
    if name == "get_cepstrum":
        # log(I - m + eps) = log(eps) everywhere: the transform of the window
        window = np.outer(np.hanning(DETECTOR), np.hanning(DETECTOR))
        pattern = np.abs(np.log(0.1)) * np.abs(np.fft.fftshift(np.fft.fft2(window)))
        expected = np.broadcast_to(pattern, result.shape)
    elif name == "get_angular_average":
        expected = np.full(result.shape, level)
    elif name == "get_similarity_loadings":
        # every pattern is its cluster mean: distance 0, similarity 1 / eps
        norm = level * DETECTOR
        expected = np.full(result.shape, 1 / (1e-6 * norm if norm else 1e-12))
    else:  # radial variance and Bragg features (no peak on a flat pattern)
        expected = np.zeros(result.shape)
    scale = max(float(np.abs(expected).max()), 1.0)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5 * scale)


def test_constant_cepstra_have_no_lattice_peaks():
    c = hm.get_cepstrum(signal(np.ones(NAV + (DETECTOR, DETECTOR))))
    with pytest.raises(ValueError, match="only 0 peak.*lower `n_peaks` or give"):
        hm.get_lattice_vectors(c)


def _pedestal_expectation(name, small, lazy, level):
    """Result expected for ``small + level`` from the float64 differences ``small``."""
    if name == "get_cepstrum":
        return reference_cepstrum(small)
    if name == "get_similarity_loadings":
        return reference_similarity(small + level, _two_domains(NAV))
    result = call(name, signal(small, lazy))
    if name == "get_angular_average":
        return values(result) + level
    return values(result)


@lazy_and_eager
@pytest.mark.parametrize("name", [*CALLS])
def test_uint32_counts_near_the_top_equal_float64(name, lazy):
    # float32 has 24 bits: counts near 2**32 keep their differences only when
    # every step takes the large level out in float64 first
    level = TOP32 - 2000
    small = (2000 - counts()).astype(np.float64)
    big = (TOP32 - counts()).astype(np.uint32)
    assert big.min() > 2**31
    result = call(name, signal(big, lazy))
    expected = _pedestal_expectation(name, small, lazy, level)
    if name == "get_bragg_features":
        # peak finding sees the same pattern: compare with float64 input
        expected = values(call(name, signal(big.astype(np.float64), lazy)))
    assert_close(values(result), expected, rtol=2e-6)
    if name == "manifold_decomposition":
        # a spread of ~1600 counts on a level of 2**32: <x^2> - <x>^2 would
        # have no digit left
        X = big.astype(np.float64).reshape(-1, DETECTOR * DETECTOR)
        lab = np.asarray(result.labels.data).ravel()
        stds = np.stack([X[lab == k].std(axis=0) for k in (0, 1)])
        assert_close(result.cluster_stds.data.reshape(2, -1), stds, rtol=1e-9)


@lazy_and_eager
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("name", [*CALLS])
def test_small_integer_dtypes_do_not_overflow(name, dtype, lazy):
    top = np.iinfo(dtype).max
    steps = counts() // 30 if dtype == np.uint8 else counts() * 10
    data = (top - steps).astype(dtype)
    assert data.min() > top * 0.7
    as_float = data.astype(np.float64)
    result = call(name, signal(data, lazy))
    if name == "get_cepstrum":
        assert_close(values(result), reference_cepstrum(as_float), rtol=1e-5)
    elif name == "get_similarity_loadings":
        expected = reference_similarity(as_float, _two_domains(NAV))
        assert_close(values(result), expected, rtol=1e-9)
    elif name == "manifold_decomposition":
        assert hm.adjusted_rand(result.labels.data, _two_domains(NAV)) == 1.0
    else:
        expected = values(call(name, signal(as_float, lazy)))
        # uint8/uint16 are exact in float32, float64 takes a float64 path
        rtol = {"bragg_nmf": 1e-3, "get_radial_variance": 1e-5}.get(name, 2e-6)
        assert_close(values(result), expected, rtol=rtol)
    if name == "manifold_decomposition":
        # cluster means and standard deviations are sums in data space
        X = as_float.reshape(-1, DETECTOR * DETECTOR)
        lab = np.asarray(result.labels.data).ravel()
        means = np.stack([X[lab == k].mean(axis=0) for k in (0, 1)])
        stds = np.stack([X[lab == k].std(axis=0) for k in (0, 1)])
        assert_close(result.cluster_means.data.reshape(2, -1), means, rtol=1e-12)
        assert_close(result.cluster_stds.data.reshape(2, -1), stds, rtol=1e-9)
    if name == "bragg_nmf":
        W = result.W.reshape(NAV + (-1,))
        patterns = np.tensordot(W, as_float, axes=([0, 1], [0, 1]))
        patterns /= W.sum(axis=(0, 1))[:, None, None]
        assert_close(result.class_patterns.data, patterns, rtol=1e-9)


# ----------------------------------------------------- masks, vectors, labels, centre


def _object_array(shape, table):
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = np.asarray(table, dtype=float)
    return out


WRONG_INPUTS = [
    (
        "signal_mask_shape",
        lambda s: hm.get_cepstrum(s, signal_mask=np.zeros((15, 16), bool)),
        ValueError,
        r"`signal_mask` must have the detector shape \(16, 16\) \(ky, kx\), got \(15, 16\)",
    ),
    (
        "signal_mask_signal_shape",
        lambda s: hm.get_radial_variance(
            s, signal_mask=hs.signals.Signal2D(np.zeros((16, 15), bool))
        ),
        ValueError,
        r"`signal_mask` must have the detector shape \(16, 16\)",
    ),
    (
        "signal_mask_transposed",
        lambda s: hm.get_angular_average(
            s, rings=RINGS, in_pixels=True, signal_mask=np.zeros((16, 8), bool)
        ),
        ValueError,
        r"`signal_mask` must have the detector shape",
    ),
    (
        "signal_mask_excludes_all",
        lambda s: hm.get_radial_variance(s, signal_mask=np.ones((16, 16), bool)),
        ValueError,
        r"`signal_mask` excludes every detector pixel",
    ),
    (
        "navigation_mask_shape",
        lambda s: hm.manifold_decomposition(
            s, **MD_KWARGS, navigation_mask=np.zeros((4, 3), bool)
        ),
        ValueError,
        r"`navigation_mask` must have the navigation shape \(3, 4\), got \(4, 3\)",
    ),
    (
        "navigation_mask_shape_nmf",
        lambda s: hm.bragg_nmf(s, **NMF_KWARGS, navigation_mask=np.zeros(12, bool)),
        ValueError,
        r"`navigation_mask` must have the navigation shape \(3, 4\), got \(12,\)",
    ),
    (
        "navigation_mask_removes_everything",
        lambda s: hm.manifold_decomposition(
            s, **MD_KWARGS, navigation_mask=np.ones(NAV, bool)
        ),
        ValueError,
        r"`navigation_mask` excludes every scan position",
    ),
    (
        "navigation_mask_removes_everything_nmf",
        lambda s: hm.bragg_nmf(
            s,
            **NMF_KWARGS,
            navigation_mask=hs.signals.BaseSignal(np.ones(NAV, bool)).T,
        ),
        ValueError,
        r"`navigation_mask` excludes every scan position",
    ),
    (
        "navigation_mask_leaves_two",
        lambda s: hm.manifold_decomposition(
            s, **MD_KWARGS, navigation_mask=np.arange(12).reshape(NAV) > 1
        ),
        ValueError,
        r"needs at least 3 unmasked patterns, got 2",
    ),
    (
        "feature_signal_shape",
        lambda s: hm.manifold_decomposition(
            s, features=hs.signals.Signal1D(np.zeros((4, 3, 5)))
        ),
        ValueError,
        r"`features` must have the navigation shape of the data \(3, 4\), got \(4, 3\)",
    ),
    (
        "vectors_navigation_shape",
        lambda s: hm.get_bragg_features(s, vectors=_object_array((4, 3), [[1, 2]])),
        ValueError,
        r"`vectors` must have the navigation shape of the signal \(3, 4\)",
    ),
    (
        "vectors_not_ragged",
        lambda s: hm.get_bragg_features(s, vectors=np.zeros(NAV + (2,))),
        TypeError,
        r"`vectors` given as an array must be a navigation-shaped object array",
    ),
    (
        "vectors_one_column",
        lambda s: hm.get_bragg_features(s, vectors=_object_array(NAV, [[1], [2]])),
        ValueError,
        r"Every peak table needs at least 2 columns, got a table of shape \(2, 1\)",
    ),
    (
        "labels_shape",
        lambda s: hm.get_similarity_loadings(s, np.zeros((4, 3), int)),
        ValueError,
        r"`labels` must have the navigation shape \(3, 4\), got \(4, 3\)",
    ),
    (
        "labels_all_masked",
        lambda s: hm.get_similarity_loadings(s, np.full(NAV, MASKED)),
        ValueError,
        r"`labels` holds no cluster",
    ),
    (
        "labels_not_integer",
        lambda s: hm.get_similarity_loadings(s, np.full(NAV, 0.5)),
        ValueError,
        r"`labels` must hold integer cluster labels",
    ),
    (
        "no_labels_yet",
        lambda s: hm.get_similarity_loadings(s),
        RuntimeError,
        r"No cluster labels found: run `manifold_decomposition`.*or pass `labels`",
    ),
    (
        "center_outside_x",
        lambda s: hm.get_radial_variance(s, center=(16.5, 3)),
        ValueError,
        r"`center` \(16\.5, 3\) \(x, y in pixels\) lies outside the detector of 16 x "
        r"16 pixels\. Give the beam centre in pixels",
    ),
    (
        "center_outside_negative",
        lambda s: hm.get_angular_average(s, rings=RINGS, center=(3, -1)),
        ValueError,
        r"`center` \(3, -1\) .* lies outside the detector",
    ),
    (
        "center_outside_bragg",
        lambda s: hm.get_bragg_features(s, center=(100, 3)),
        ValueError,
        r"`center` \(100, 3\) .* lies outside the detector",
    ),
    (
        "center_not_a_pair",
        lambda s: hm.get_radial_variance(s, center=(1, 2, 3)),
        ValueError,
        r"`center` must be None or a pair \(x, y\) in pixels",
    ),
    (
        "center_on_the_corner",
        lambda s: hm.get_radial_variance(s, center=(0, 0)),
        ValueError,
        r"`radial_range` \(0 to 0 pixels\) is narrower than `radial_step`",
    ),
]


def _calibrated_off_detector(lazy):
    s = signal(scan_data(), lazy)
    for ax in s.axes_manager.signal_axes:
        ax.scale, ax.offset = 0.1, 0.5  # zero would be 5 pixels before the first
    return s


@lazy_and_eager
@pytest.mark.parametrize(
    "make, exc, match", [c[1:] for c in WRONG_INPUTS], ids=[c[0] for c in WRONG_INPUTS]
)
def test_wrong_masks_vectors_labels_and_centres(make, exc, match, lazy):
    with pytest.raises(exc, match=match):
        values(make(signal(scan_data(), lazy)))


@lazy_and_eager
@pytest.mark.parametrize("name", ["get_radial_variance", "get_bragg_features"])
def test_calibrated_centre_off_the_detector(name, lazy):
    # pyxem's centre (-offset / scale) is off the detector: say where it came from
    match = r"beam centre \(-5, -5\).*calibration\.center = None"
    with pytest.raises(ValueError, match=match):
        call(name, _calibrated_off_detector(lazy))


# ------------------------------------------------------------ lattice and strain


@pytest.fixture(scope="module")
def lattice():
    """Cepstra of a square spot lattice and the lattice vectors tracked in them."""
    p = spot_lattice((32, 32), g=(6.0, 6.0))
    noise = np.random.default_rng(0).random(NAV + (32, 32)) * 0.01
    c = hm.get_cepstrum(hs.signals.Signal2D(p + noise))
    return c, hm.get_lattice_vectors(c)


LATTICE_ERRORS = [
    (
        "reference_shape",
        lambda c, v: hm.get_lattice_vectors(c, reference=np.zeros(3)),
        r"`reference` must be None, a boolean navigation-shaped array or an "
        r"\(n_peaks, 2\) array",
    ),
    (
        "reference_count",
        lambda c, v: hm.get_lattice_vectors(c, reference=np.ones((3, 2))),
        r"`reference` holds 3 vectors but `n_peaks` is 2",
    ),
    (
        "reference_area_shape",
        lambda c, v: hm.get_lattice_vectors(c, reference=np.ones((4, 3), bool)),
        r"`reference` as a reference area must be a boolean array of the navigation "
        r"shape \(3, 4\)",
    ),
    (
        "reference_area_empty",
        lambda c, v: hm.get_lattice_vectors(c, reference=np.zeros(NAV, bool)),
        r"`reference` selects no scan position",
    ),
    (
        "reference_outside",
        lambda c, v: hm.get_lattice_vectors(
            c, reference=[[100.0, 0.0], [0.0, 3.0]], in_pixels=True
        ),
        r"`reference` vectors \[\[100\.0, 0\.0\]\] lie outside the cepstrum .* "
        r"`in_pixels=True`",
    ),
    (
        "nan_at_a_peak",
        lambda c, v: hm.get_lattice_vectors(_with_nan_at(c, v), reference=None),
        r"NaN or infinite values near the lattice peaks",
    ),
    (
        "strain_reference_shape",
        lambda c, v: hm.get_strain_maps(v, reference=np.zeros((3, 2))),
        r"`reference` vectors must have shape \(2, 2\)",
    ),
    (
        "strain_reference_parallel",
        lambda c, v: hm.get_strain_maps(v, reference=[[1.0, 0.0], [2.0, 0.0]]),
        r"parallel .* Use at least two non-parallel vectors",
    ),
    (
        "strain_area_shape",
        lambda c, v: hm.get_strain_maps(v, reference=np.ones((4, 3), bool)),
        r"navigation shape \(3, 4\)",
    ),
    (
        "strain_area_empty",
        lambda c, v: hm.get_strain_maps(v, reference=np.zeros(NAV, bool)),
        r"`reference` selects no scan position",
    ),
    (
        "strain_single_pattern",
        lambda c, v: hm.get_strain_maps(v.inav[0, 0]),
        r"A single pattern needs explicit `reference` vectors",
    ),
    (
        "strain_of_patterns",
        lambda c, v: hm.get_strain_maps(c),
        r"needs the lattice vectors from `get_lattice_vectors` .* got signal shape "
        r"\(32, 32\)",
    ),
    (
        "strain_of_an_array",
        lambda c, v: hm.get_strain_maps(np.asarray(v.data)),
        r"needs the lattice vectors .* got ndarray",
    ),
    (
        "spacings_of_patterns",
        lambda c, v: hm.get_lattice_spacings(c),
        r"`get_lattice_spacings` needs the lattice vectors",
    ),
]


def _with_nan_at(c, v):
    """A copy of ``c`` with NaN on the first lattice peak of every cepstrum."""
    ax_x, ax_y = c.axes_manager.signal_axes
    x, y = values(v)[0, 0, 0]
    hole = np.zeros(c.data.shape[-2:], bool)
    hole[ax_y.value2index(y), ax_x.value2index(x)] = True
    out = c.deepcopy()
    out.data = (da if c._lazy else np).where(hole, np.nan, c.data)
    return out


@lazy_and_eager
@pytest.mark.parametrize(
    "make, match", [c[1:] for c in LATTICE_ERRORS], ids=[c[0] for c in LATTICE_ERRORS]
)
def test_lattice_and_strain_errors(lattice, make, match, lazy):
    c, v = lattice
    if lazy:
        c, v = c.as_lazy(), v.as_lazy()
    with pytest.raises(ValueError, match=match):
        values(make(c, v))


@lazy_and_eager
def test_nan_away_from_the_peaks_changes_nothing(lattice, lazy):
    c, v = lattice
    far = c.deepcopy()
    far.data[..., 0, 0] = np.nan  # the corner, far from every lattice peak
    if lazy:
        far = far.as_lazy()
    assert_close(values(hm.get_lattice_vectors(far)), v.data, rtol=1e-9)


@lazy_and_eager
def test_strain_is_nan_only_where_vectors_are(lattice, lazy):
    _, v = lattice
    holes = v.deepcopy()
    holes.data[1, 2] = np.nan  # e.g. a position left out upstream
    if lazy:
        holes = holes.as_lazy()
    strain = values(hm.get_strain_maps(holes))
    assert np.isnan(strain[:, 1, 2]).all()
    others = np.ones(NAV, bool)
    others[1, 2] = False
    reference = np.nanmean(np.asarray(holes.data).reshape(-1, 2, 2), axis=0)
    expected = values(hm.get_strain_maps(v, reference=reference))
    assert_close(strain[:, others], expected[:, others], rtol=1e-9)


def test_strain_of_a_single_pattern_with_a_reference(lattice):
    _, v = lattice
    reference = np.asarray(v.data)[0, 0]
    one = values(hm.get_strain_maps(v.inav[2, 1], reference=reference))
    assert_close(one, values(hm.get_strain_maps(v, reference=reference))[:, 1, 2])


# ------------------------------------------------------------------ option values

OPTION_VALUES = [
    (lambda s: hm.get_cepstrum(s, window="hamming"), "`window` must be one of 'hann', 'radial_hann', 'gaussian', None, got 'hamming'"),
    (lambda s: hm.get_cepstrum(s, minimum="local"), "`minimum` must be one of 'global', 'pattern', got 'local'"),
    (lambda s: hm.get_cepstrum(s, epsilon=0), "`epsilon` must be a number > 0, got 0"),
    (lambda s: hm.get_angular_average(s, rings="autoo"), "`rings` must be 'auto' or a sequence of ring edges, got 'autoo'"),
    (lambda s: hm.get_angular_average(s, rings=RINGS, angle_step=7), "`angle_step` must divide 360 degrees, got 7"),
    (lambda s: hm.get_radial_variance(s, npt_azim=1), "`npt_azim` must be an integer >= 2, got 1"),
    (lambda s: hm.get_bragg_features(s, method="hough"), "`method` must be one of 'local_max', 'template_matching'.*got 'hough'"),
    (lambda s: hm.get_bragg_features(s, bin_size=0.5), "`bin_size` must be a number of detector pixels >= 1, got 0.5"),
    (lambda s: hm.manifold_decomposition(s, features="fft"), "`features` must be one of 'cepstrum', 'radial_variance', 'radial_profile', 'angular_average', 'bragg', 'bright_field', 'raw', got 'fft'"),
    (lambda s: hm.manifold_decomposition(s, algorithm="dbscan"), "`algorithm` must be one of 'hdbscan', 'kmeans', 'spectral', got 'dbscan'"),
    (lambda s: hm.manifold_decomposition(s, scaling="max"), "`scaling` must be one of 'minmax', 'standard', None, got 'max'"),
    (lambda s: hm.manifold_decomposition(s, loadings="pca"), "`loadings` must be one of 'membership', 'similarity', got 'pca'"),
    (lambda s: hm.manifold_decomposition(s, bootstrap_init="random"), "`bootstrap_init` must be one of 'embedding', 'spectral', got 'random'"),
    (lambda s: hm.manifold_decomposition(s, algorithm="kmeans"), "`n_clusters` is required by algorithm='kmeans': give the number of clusters"),
    (lambda s: hm.bragg_nmf(s, features="fft"), "`features` must be one of .*got 'fft'"),
    (lambda s: hm.bragg_nmf(s, scaling="standard"), "`scaling` must be one of 'minmax', None, got 'standard'"),
    (lambda s: hm.bragg_nmf(s, linkage="ward"), "`linkage` must be one of 'single', 'average', 'complete', got 'ward'"),
    (lambda s: hm.bragg_nmf(s, merge_threshold=2), r"`merge_threshold` must be a correlation in \[0, 1\], got 2"),
    (lambda s: hm.bragg_nmf(s, nmf_kwargs={"init": "nndsvd"}), "`nmf_kwargs` may not set 'init'"),
    (lambda s: hm.separate_regions(np.ones((2, 4, 4)), threshold="li"), r"`threshold` must be 'yen', 'otsu' or a fraction in \(0, 1\), got 'li'"),
    (lambda s: hm.adjusted_rand([0, 1], [0, 1], noise="drop"), "`noise` must be one of 'own_class', 'ignore', got 'drop'"),
    (lambda s: hm.nmi([0, 1], [0, 1], noise="drop"), "`noise` must be one of 'own_class', 'ignore', got 'drop'"),
    (lambda s: hm.tpr_per_grain([0, 1], [0, 1], matching="greedy"), "`matching` must be one of 'best', 'one_to_one', got 'greedy'"),
    (lambda s: hm.cluster_dissimilarity([[0.0], [1.0]], labels=[0, 1], scaling="max"), "`scaling` must be one of 'minmax', 'standard', None, got 'max'"),
]  # fmt: skip


@lazy_and_eager
@pytest.mark.parametrize(
    "make, match", OPTION_VALUES, ids=[m.split("`")[1] for _, m in OPTION_VALUES]
)
def test_unknown_option_values_name_the_allowed_ones(make, match, lazy):
    with pytest.raises(ValueError, match=match):
        values(make(signal(scan_data(), lazy)))


UNKNOWN_KEYWORDS = [
    (hm.get_cepstrum, "windw"),
    (hm.get_radial_variance, "npt"),
    (hm.get_angular_average, "ring"),
    (hm.get_bragg_features, "binsize"),
    (hm.manifold_decomposition, "n_cluster"),
    (hm.get_similarity_loadings, "label"),
    (hm.bragg_nmf, "n_component"),
    (hm.get_ring_features, "half"),
    (hm.get_lattice_vectors, "npeaks"),
    (hm.get_strain_maps, "ref"),
    (hm.separate_regions, "thresh"),
    (hm.adjusted_rand, "noice"),
    (hm.nmi, "noice"),
    (hm.precision_any, "backgrnd"),
    (hm.tpr_per_grain, "match"),
    (hm.cluster_dissimilarity, "weight"),
]


@pytest.mark.parametrize(
    "func, keyword", UNKNOWN_KEYWORDS, ids=[k for _, k in UNKNOWN_KEYWORDS]
)
def test_unknown_keywords_are_named(func, keyword):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{keyword}'"):
        func(signal(scan_data()), **{keyword: 1})


# ------------------------------------------------------------- separate_regions


def _two_squares():
    maps = np.zeros((1, 8, 8))
    maps[0, 1:4, 1:4] = 1.0
    maps[0, 5:8, 5:8] = 0.8
    return maps


REGION_ERRORS = [
    (np.ones(5), {}, r"`maps` must be one map \(ny, nx\) or a stack .* got shape \(5,\)"),
    (np.ones((0, 4, 4)), {}, r"got shape \(0, 4, 4\)"),
    (np.where(np.eye(4) > 0, np.inf, 0.0), {}, r"`maps` contain infinite values.*NaN"),
    (np.ones((2, 4, 4)), {"exclude_components": [5]}, r"`exclude_components` must be map indices below 2"),
    (np.ones((2, 4, 4)), {"threshold": 1.5}, r"`threshold` must be .* a fraction in \(0, 1\), got 1.5"),
    (np.ones((2, 4, 4)), {"min_size": 0}, r"`min_size` must be a positive integer"),
    (np.ones((2, 4, 4)), {"closing": -1}, r"`closing` must be a non-negative integer"),
    (np.ones((2, 4, 4)), {"scale": -1}, r"`scale` must be positive"),
    (hs.signals.Signal1D(np.ones((2, 4, 4))), {}, r"`maps` must have two signal axes .* `maps\.transpose\(signal_axes=2\)`"),
]  # fmt: skip


@pytest.mark.parametrize("maps, kwargs, match", REGION_ERRORS)
def test_separate_regions_errors(maps, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hm.separate_regions(maps, **kwargs)


def test_separate_regions_of_masked_maps_is_all_masked():
    regions = hm.separate_regions(np.full((2, 4, 4), np.nan))
    assert (regions.labels == -2).all()
    assert regions.table.size == 0 and regions.masks.shape == (0, 4, 4)


@pytest.mark.parametrize("shift", [-5.0, 1e6])
def test_separate_regions_is_shift_invariant(shift):
    maps = _two_squares()
    expected = hm.separate_regions(maps, min_size=2)
    shifted = hm.separate_regions(maps + shift, min_size=2)
    np.testing.assert_array_equal(shifted.labels, expected.labels)
    np.testing.assert_allclose(shifted.table["area"], expected.table["area"])


def test_separate_regions_of_a_flat_map_finds_nothing():
    regions = hm.separate_regions(np.full((1, 4, 4), 3.0))
    assert (regions.labels == -1).all() and regions.table.size == 0


@lazy_and_eager
def test_separate_regions_of_a_non_uniform_scan(lazy):
    maps = hs.signals.Signal2D(_two_squares())
    maps.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    if lazy:
        maps = maps.as_lazy()
    with pytest.raises(ValueError, match="non-uniform scan axes.*give `scale` and"):
        hm.separate_regions(maps, min_size=2)
    regions = hm.separate_regions(maps, min_size=2, scale=0.5, offset=0)
    expected = hm.separate_regions(_two_squares(), min_size=2, scale=0.5)
    np.testing.assert_array_equal(regions.labels.data, expected.labels)
    np.testing.assert_array_equal(regions.table, expected.table)
    assert not regions.labels.axes_manager.signal_axes[0].is_uniform


# --------------------------------------------------------------------- metrics

METRIC_ERRORS = [
    (lambda: hm.adjusted_rand(np.zeros(4, int), np.zeros(5, int)), r"`pred` and `truth` must have the same shape, got \(4,\) and \(5,\)"),
    (lambda: hm.nmi(np.zeros(0, int), np.zeros(0, int)), r"`pred` is empty"),
    (lambda: hm.adjusted_rand(np.full(4, MASKED), np.zeros(4, int)), r"Every position is masked: nothing to score"),
    (lambda: hm.nmi(np.full(4, -1), np.zeros(4, int), noise="ignore"), r"Every position is noise or masked"),
    (lambda: hm.adjusted_rand(np.full(4, np.nan), np.zeros(4, int)), r"`pred` must hold integer class labels"),
    (lambda: hm.precision_any(np.zeros(4, int), np.zeros((2, 2), int)), r"same shape"),
    (lambda: hm.tpr_per_grain(np.zeros(4, int), np.full(4, -1)), r"`truth` contains no grain"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2))), r"Give exactly one of `labels` or `weights`"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2)), labels=[0, 1]), r"`labels` has 2 values for 4 positions of `X`"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2)), weights=np.ones((2, 3))), r"`weights` must be maps with 4 positions each"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2)), weights=-np.ones((2, 4))), r"`weights` must be non-negative"),
    (lambda: hm.cluster_dissimilarity(np.full((4, 2), np.nan), labels=[0, 0, 1, 1]), r"`X` contains NaN or infinite values.*Leave those positions out"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2, 2)), labels=[0, 0, 1, 1]), r"`X` must be a \(n_positions, n_features\) array or a signal"),
    (lambda: hm.cluster_dissimilarity(np.zeros((4, 2)), labels=[-1, -1, -2, -2]), r"`labels` contains no cluster"),
]  # fmt: skip


@pytest.mark.parametrize("make, match", METRIC_ERRORS)
def test_metric_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("shape", [(12,), (3, 4), (2, 3, 2), ()])
def test_metrics_take_label_maps_of_any_dimension(shape):
    truth = np.arange(int(np.prod(shape))).reshape(shape) % 3
    pred = (truth + 1) % 3  # the same partition, other names
    assert hm.adjusted_rand(pred, truth) == pytest.approx(1.0)
    assert hm.nmi(pred, truth) == pytest.approx(1.0)
    assert hm.tpr_per_grain(pred, truth)[1] == pytest.approx(1.0)
    if shape:
        lazy = hs.signals.BaseSignal(pred).as_lazy()
        assert hm.adjusted_rand(lazy, truth) == pytest.approx(1.0)


def test_metrics_of_small_integer_labels_do_not_wrap():
    truth = np.repeat(np.arange(3), 100)
    pred = truth.astype(np.uint8) + np.uint8(250)  # 250 .. 252: close to overflow
    assert hm.adjusted_rand(pred, truth) == pytest.approx(1.0)
    table, mean_tpr = hm.tpr_per_grain(pred, truth)
    assert table["matched_class"].tolist() == [250, 251, 252] and mean_tpr == 1.0


def test_dissimilarity_of_constant_and_huge_features():
    assert hm.cluster_dissimilarity(np.ones((4, 2)), labels=[0, 0, 1, 1]).tolist() == [
        0.0,
        0.0,
    ]
    X = np.array([[0, 0], [0, 0], [1, 1], [0, 1]], dtype=np.uint32) + np.uint32(
        TOP32 - 1
    )
    np.testing.assert_allclose(
        hm.cluster_dissimilarity(X, labels=[0, 0, 1, 1]), [0.0, np.sqrt(2) / 4]
    )


# ------------------------------------------------------------------------ the CLI


def _save(tmp_path, s, name="scan.zspy") -> Path:
    path = tmp_path / name
    s.save(path, overwrite=True)
    return path


def run_cli(capsys, *args):
    code = cli.main([*map(str, args), "--quiet"])
    err = capsys.readouterr().err.strip()
    return code, err


CLI_FILES = {
    "single_pattern": (
        lambda: hs.signals.Signal2D(scan_data()[0, 0]),
        "no 4D-STEM scan",
    ),
    "signal_1d": (lambda: hs.signals.Signal1D(scan_data()[..., 0]), "no 4D-STEM scan"),
    "signal_3d": (
        lambda: hs.signals.BaseSignal(np.zeros((3, 4, 4, 4, 4))).transpose(
            signal_axes=3
        ),
        "no 4D-STEM scan",
    ),
    "nan_pixel": (
        lambda: hs.signals.Signal2D(np.where(np.eye(16) > 0, np.nan, scan_data())),
        "NaN or infinite pixels",
    ),
    "all_zero": (
        lambda: hs.signals.Signal2D(np.zeros(NAV + (16, 16))),
        "identical features",
    ),
    "non_uniform_detector": (lambda: _structure("non_uniform", False), "uniform signal axes"),
}  # fmt: skip


@pytest.mark.parametrize("kind", CLI_FILES)
def test_cli_bad_files_fail_in_one_line(tmp_path, capsys, kind):
    make, match = CLI_FILES[kind]
    path = _save(tmp_path, make())
    code, err = run_cli(capsys, "cluster", path, "--out", tmp_path / "o")
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("hyperspy-manifold: error:")
    assert match in err
    assert not (tmp_path / "o" / "results.zspy").exists()


CLI_OPTIONS = [
    (["--foo"], "unrecognized arguments: --foo"),
    (["--features", "fft"], "argument --features: invalid choice: 'fft'"),
    (["--method", "dbscan"], "argument --method: invalid choice: 'dbscan'"),
    (["--seed", "one"], "argument --seed: invalid int value: 'one'"),
    (["--center", "40,3"], "--center (40.0, 3.0) lies outside the 16 x 16 detector"),
    (["--center", "x"], "--center must be 'auto' or 'X,Y' in pixels"),
    (["--mask", "MASK"], "--mask must have the detector shape (16, 16), got (15, 16)"),
    (["--n-fit", "1"], "--n-fit: must be an integer >= 3"),
    (["--signal-index", "3"], "--signal-index 3 is out of range"),
]


@pytest.mark.parametrize("args, match", CLI_OPTIONS, ids=[a[0] for a, _ in CLI_OPTIONS])
def test_cli_bad_options_fail_in_one_line(tmp_path, capsys, args, match):
    path = _save(tmp_path, hs.signals.Signal2D(scan_data()))
    mask = tmp_path / "mask.npy"
    np.save(mask, np.zeros((15, 16), bool))
    args = [str(mask) if a == "MASK" else a for a in args]
    code, err = run_cli(capsys, "cluster", path, "--out", tmp_path / "o", *args)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("hyperspy-manifold: error:")
    assert match in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_cli_uint32_counts_near_the_top(tmp_path, capsys):
    big = (TOP32 - counts()).astype(np.uint32)
    labels = {}
    for name, data in (("u32", big), ("f64", big.astype(np.float64))):
        path = _save(tmp_path, hs.signals.Signal2D(data), f"{name}.zspy")
        out = tmp_path / name
        assert run_cli(capsys, "cluster", path, "--out", out)[0] == 0
        labels[name] = hs.load(out / "results.zspy").data
    np.testing.assert_array_equal(labels["u32"], labels["f64"])
