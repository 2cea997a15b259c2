"""Bad input and faults: a named error or the right answer, nothing lost (issue 13,
items 7-10).

- Labels that are not 0..K-1 (gaps, negative codes other than -1, ids of 1e9)
  give the clusters they name (one convention, ``learn/_labels.py``).
- Tiny scans (1..8 patterns, a handful of fitted points) give a correct answer
  or a ValueError that names the minimum.
- Axis scales of 0, NaN or inf are named; float32 patterns near underflow or
  overflow give the numbers of the unscaled pattern, scaled as the transform
  says.
- A NaN pattern excluded by ``navigation_mask`` works with every feature.

The cases of ``test_bad_input.py`` are not repeated here.
"""

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import spot_lattice

import hyperspy_manifold as hm
from hyperspy_manifold.learn._features import FEATURE_NAMES, feature_signal
from hyperspy_manifold.learn._labels import MASKED

NAV = (3, 4)
DETECTOR = 16
lazy_and_eager = pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])


def two_domains(nav_shape=NAV) -> np.ndarray:
    """Label map: 0 in the left half of the columns, 1 in the right half."""
    columns = np.indices(nav_shape)[-1]
    return (columns >= nav_shape[-1] // 2).astype(int)


def domain_patterns(nav_shape=NAV, seed=0) -> np.ndarray:
    """A scan of two lattices (spacing 4 and 6 pixels) in :func:`two_domains`,
    with a little noise."""
    kinds = [
        spot_lattice((DETECTOR, DETECTOR), g=(g, g), sigma=0.8) * 100
        for g in (4.0, 6.0)
    ]
    data = np.stack(kinds)[two_domains(nav_shape)]
    return data + np.random.default_rng(seed).random(data.shape)


def as_signal(data, lazy=False):
    s = hs.signals.Signal2D(np.asarray(data))
    return s.as_lazy() if lazy else s


def values(signal) -> np.ndarray:
    data = signal.data
    return np.asarray(data.compute() if hasattr(data, "compute") else data)


# ------------------------------------------------------- 10. masked NaN patterns

TRANSFORM_FEATURES = [f for f in FEATURE_NAMES if f != "raw"]


class TestMaskedNaNPatternWithEveryFeature:
    """A NaN pattern left out by ``navigation_mask`` is never transformed (before:
    every feature but "raw" raised "Patterns contain NaN or infinite pixels")."""

    @staticmethod
    def _scan(lazy):
        data = domain_patterns()
        data[0, 0] = np.nan
        mask = np.zeros(NAV, bool)
        mask[0, 0] = True
        return as_signal(data, lazy), mask

    @staticmethod
    def _kept_features(feature, mask):
        """Features of the included patterns alone, as a flat stack."""
        kept = domain_patterns()[~mask]
        return values(feature_signal(as_signal(kept), feature))

    @lazy_and_eager
    @pytest.mark.parametrize("feature", FEATURE_NAMES)
    def test_manifold_decomposition(self, feature, lazy):
        s, mask = self._scan(lazy)
        result = hm.manifold_decomposition(
            s,
            features=feature,
            navigation_mask=mask,
            algorithm="kmeans",
            n_clusters=2,
            random_state=0,
            return_info=True,
        )
        labels = values(result.labels)
        assert labels[0, 0] == MASKED
        assert hm.adjusted_rand(labels[~mask], two_domains()[~mask]) == 1.0
        assert np.isnan(values(result.embedding)[0, 0]).all()
        assert np.isnan(values(result.probabilities)[0, 0])
        assert np.isfinite(values(result.cluster_means)).all()
        assert np.isnan(values(s)[0, 0]).all()  # the input is untouched
        if feature != "raw":
            f = values(result.features)
            assert np.isnan(f[0, 0]).all()
            # the other positions get the features of the included patterns
            # alone: the NaN pattern changes no dataset statistic
            np.testing.assert_allclose(
                f[~mask], self._kept_features(feature, mask), rtol=1e-5, atol=1e-6
            )

    @lazy_and_eager
    @pytest.mark.parametrize("feature", FEATURE_NAMES)
    def test_bragg_nmf(self, feature, lazy):
        s, mask = self._scan(lazy)
        result = hm.bragg_nmf(
            s,
            features=feature,
            navigation_mask=mask,
            n_components=2,
            n_models=2,
            random_state=0,
            return_info=True,
        )
        W = result.W.reshape(NAV + (-1,))
        assert np.isnan(W[0, 0]).all()
        assert np.isfinite(W[~mask]).all() and W[~mask].any()
        assert np.isfinite(values(result.class_patterns)).all()


# ------------------------------------------------------ 7. labels beyond 0..K-1

#: Three clusters (columns 0-1, 2 and 3) in 0..K-1 form.
CANONICAL = np.array([0, 0, 1, 2])[None].repeat(NAV[0], axis=0)
#: The same partition written with other cluster ids.
RENAMED = {
    "gaps": np.array([0, 2, 7]),
    "huge_ids": np.array([0, 10**9, 10**9 + 1]),
    "uint64": np.array([3, 2**40, 2**62], dtype=np.uint64),
    "float_ids": np.array([1.0, 5.0, 9.0]),
}


def renamed(kind):
    return RENAMED[kind][CANONICAL]


def with_noise(labels, code):
    """``labels`` with the first row's first two positions as noise ``code``."""
    out = np.array(labels, dtype=np.int64)
    out[0, :2] = code
    return out


class TestLabelsBeyondZeroToK:
    """Any integer ids name clusters; negative = noise (masked: -2).  Before: a gap
    made empty NaN clusters ({0, 2, 7}: 8 rows), an id of 1e9 a MemoryError
    (961 GiB), and -5 was dropped from the noise row and from `noise="ignore"`."""

    @pytest.fixture(scope="class")
    def scan(self):
        return as_signal(np.random.default_rng(3).random(NAV + (8, 8)))

    @pytest.mark.parametrize("kind", RENAMED)
    def test_similarity_loadings(self, scan, kind):
        expected = hm.get_similarity_loadings(scan, CANONICAL)
        sim = hm.get_similarity_loadings(scan, renamed(kind))
        assert sim.data.shape == (3,) + NAV
        np.testing.assert_allclose(sim.data, expected.data)
        ids = sim.metadata.HyperspyManifold.similarity_loadings.cluster_ids
        assert ids == np.sort(RENAMED[kind]).astype(np.int64).tolist()

    @pytest.mark.parametrize("kind", RENAMED)
    def test_cluster_result(self, scan, kind):
        result = hm.cluster_result(scan, renamed(kind))
        assert result.n_clusters == 3 and result.noise_index is None
        assert result.counts.tolist() == [6, 3, 3]
        np.testing.assert_array_equal(values(result.labels), CANONICAL)
        X = np.asarray(scan.data)
        means = [X[CANONICAL == k].mean(axis=0) for k in range(3)]
        np.testing.assert_allclose(values(result.cluster_means), means)
        assert result.parameters["cluster_ids"] == np.sort(RENAMED[kind]).tolist()

    @pytest.mark.parametrize("code", [-5, -99])
    def test_other_negative_codes_are_noise(self, scan, code):
        noise, other = with_noise(CANONICAL, -1), with_noise(CANONICAL, code)
        expected = hm.get_similarity_loadings(scan, noise)
        sim = hm.get_similarity_loadings(scan, other)
        assert sim.data.shape == (4,) + NAV  # three clusters and the noise row
        np.testing.assert_allclose(sim.data, expected.data)
        result = hm.cluster_result(scan, other)
        assert result.noise_index == 3 and result.counts.tolist() == [4, 3, 3, 2]
        np.testing.assert_array_equal(values(result.labels), noise)
        np.testing.assert_array_equal(values(result.probabilities)[0, :2], 0.0)

    def test_masked_stays_masked(self, scan):
        labels = with_noise(renamed("gaps"), -2)
        result = hm.cluster_result(scan, labels)
        assert (values(result.labels)[0, :2] == MASKED).all()
        assert result.counts.tolist() == [4, 3, 3] and result.noise_index is None

    @pytest.mark.parametrize("kind", RENAMED)
    def test_metrics(self, kind):
        truth = CANONICAL
        pred = renamed(kind)
        assert hm.adjusted_rand(pred, truth) == 1.0
        table, mean_tpr = hm.tpr_per_grain(pred, truth)
        assert table["matched_class"].tolist() == np.sort(RENAMED[kind]).tolist()
        assert mean_tpr == 1.0
        X = np.random.default_rng(0).random((CANONICAL.size, 5))
        np.testing.assert_allclose(
            hm.cluster_dissimilarity(X, labels=pred.ravel()),
            hm.cluster_dissimilarity(X, labels=CANONICAL.ravel()),
        )

    def test_metrics_of_other_negative_codes(self):
        truth = with_noise(CANONICAL, -1)
        pred = with_noise(CANONICAL, -5)
        assert hm.adjusted_rand(pred, truth, noise="ignore") == 1.0
        assert hm.nmi(pred, truth, noise="ignore") == 1.0
        assert hm.adjusted_rand(pred, truth) == 1.0  # one noise class, not two
        # -5 is "no grain": no false positive where the truth has none
        assert hm.precision_any(pred, truth) == 1.0
        assert hm.precision_any(CANONICAL, with_noise(CANONICAL, -5)) == 10 / 12

    def test_label_colours(self):
        from hyperspy_manifold.plot.colours import NOISE_COLOR, label_rgba

        colours = label_rgba(with_noise(renamed("gaps"), -5))
        expected = label_rgba(with_noise(CANONICAL, -1))
        np.testing.assert_array_equal(colours, expected)
        assert tuple(colours[0, 0]) == NOISE_COLOR

    @pytest.mark.parametrize("bad", [np.nan, 0.5, 1e30])
    def test_non_integer_labels_are_named(self, scan, bad):
        labels = CANONICAL.astype(float)
        labels[1, 1] = bad
        with pytest.raises(ValueError, match="`labels` must hold integer cluster"):
            hm.get_similarity_loadings(scan, labels)
        with pytest.raises(ValueError, match="`labels` must hold integer cluster"):
            hm.cluster_dissimilarity(np.zeros((12, 2)), labels=labels.ravel())


# ---------------------------------------------------------------- 8. tiny scans


def line_scan(n, lazy=False):
    """``n`` patterns in a line: the first half (rounded down) of lattice 4, the
    rest of lattice 6; the truth labels."""
    truth = (np.arange(n) >= n // 2).astype(int)
    kinds = domain_patterns((1, 2))[0]
    data = kinds[truth] + np.random.default_rng(n).random((n, DETECTOR, DETECTOR))
    return as_signal(data, lazy), truth


def decompose(s, **kwargs):
    kwargs = {"features": "radial_variance", "random_state": 0, **kwargs}
    return hm.manifold_decomposition(s, return_info=True, **kwargs)


class TestTinyScans:
    """A correct answer or a ValueError naming the minimum.  Before: 3 fitted
    patterns failed in UMAP's spectral layout (scipy TypeError "k >= N"),
    k-means with more clusters than patterns gave sklearn's message, spectral
    clustering with as many clusters as patterns a scipy TypeError, HDBSCAN
    labelled every pattern noise without a word and a one-pattern NMF said "All
    features are constant"."""

    @pytest.mark.parametrize("n", [3, 4, 5, 8])
    @pytest.mark.parametrize("algorithm", ["kmeans", "spectral"])
    def test_few_patterns_are_clustered(self, n, algorithm):
        s, truth = line_scan(n)
        result = decompose(s, algorithm=algorithm, n_clusters=2)
        assert hm.adjusted_rand(result.labels.data, truth) == 1.0

    @pytest.mark.parametrize("n", [1, 2])
    @pytest.mark.parametrize("algorithm", ["hdbscan", "kmeans", "spectral"])
    def test_fewer_than_three_patterns_are_named(self, n, algorithm):
        s, _ = line_scan(n)
        n_clusters = None if algorithm == "hdbscan" else 1
        with pytest.raises(
            ValueError, match=f"needs at least 3 unmasked patterns, got {n}"
        ):
            decompose(s, algorithm=algorithm, n_clusters=n_clusters)

    @lazy_and_eager
    def test_n_fit_of_three_labels_every_position(self, lazy):
        # three fitted patterns are the minimum; the rest are embedded from them
        s = as_signal(domain_patterns(), lazy)
        result = decompose(s, algorithm="kmeans", n_clusters=2, n_fit=3)
        assert set(np.unique(result.labels.data)) <= {0, 1}
        assert np.isfinite(result.embedding.data).all()

    @pytest.mark.parametrize("n_fit", [8, 10])
    @pytest.mark.parametrize("algorithm", ["kmeans", "spectral"])
    def test_few_fitted_patterns_label_the_rest(self, n_fit, algorithm):
        # spectral clustering labels the rest by a vote of the nearest fitted
        # patterns; before, 10 voters of 10 fitted patterns gave every position
        # the majority cluster (ARI 0.4-0.66)
        s = as_signal(domain_patterns())
        result = decompose(s, algorithm=algorithm, n_clusters=2, n_fit=n_fit)
        assert hm.adjusted_rand(result.labels.data, two_domains()) == 1.0

    CLUSTER_COUNTS = [
        (dict(algorithm="kmeans", n_clusters=5), r"`n_clusters` must be at most the number of fitted patterns \(4\) for algorithm='kmeans', got 5"),
        (dict(algorithm="spectral", n_clusters=4), r"`n_clusters` must be smaller than the number of fitted patterns \(4\) for algorithm='spectral', got 4"),
        (dict(algorithm="hdbscan", min_cluster_size=5), r"`min_cluster_size` must be at most the number of fitted patterns \(4\), got 5"),
    ]  # fmt: skip

    @pytest.mark.parametrize("kwargs, match", CLUSTER_COUNTS)
    @pytest.mark.parametrize("route", ["scan", "n_fit"])
    def test_more_clusters_than_patterns_are_named(self, kwargs, match, route):
        if route == "scan":
            s, extra = line_scan(4)[0], {}
        else:
            s, extra = as_signal(domain_patterns()), {"n_fit": 4}
        with pytest.raises(ValueError, match=match + ".*`n_fit`"):
            decompose(s, **kwargs, **extra)

    def test_all_noise_is_not_silent(self):
        s, _ = line_scan(4)
        with pytest.warns(
            UserWarning, match="every one of the 4 fitted patterns noise.*`min_samples`"
        ):
            result = decompose(s, min_cluster_size=2)
        assert (result.labels.data == -1).all()

    def test_nmf_of_one_pattern_is_named(self):
        s, _ = line_scan(1)
        with pytest.raises(
            ValueError, match="`bragg_nmf` needs at least 2 unmasked patterns, got 1"
        ):
            hm.bragg_nmf(s, features="raw", n_components=1)

    @pytest.mark.parametrize("n", [2, 3])
    def test_nmf_of_few_patterns(self, n):
        s, truth = line_scan(n)
        result = hm.bragg_nmf(
            s, features="raw", n_components=2, random_state=0, return_info=True
        )
        assert hm.adjusted_rand(result.W.argmax(axis=1), truth) == 1.0

    @pytest.mark.parametrize("n", [1, 2, 3])
    @pytest.mark.parametrize("feature", TRANSFORM_FEATURES)
    def test_transforms_of_few_patterns(self, n, feature):
        s, _ = line_scan(n)
        f = values(feature_signal(s, feature))
        assert f.shape[0] == n and np.isfinite(f).all()


# ------------------------------------------- 9. axis scales and extreme intensities

CALLS = {
    "get_cepstrum": hm.get_cepstrum,
    "get_radial_variance": hm.get_radial_variance,
    "get_angular_average": lambda s: hm.get_angular_average(
        s, rings=[1, 3, 6], in_pixels=True
    ),
    "get_bragg_features": hm.get_bragg_features,
    "get_bright_field_features": lambda s: hm.get_bright_field_features(
        s, radius=4, in_pixels=True
    ),
    "manifold_decomposition": lambda s: hm.manifold_decomposition(
        s, features="raw", algorithm="kmeans", n_clusters=2, random_state=0
    ),
    "get_similarity_loadings": lambda s: hm.get_similarity_loadings(s, two_domains()),
    "bragg_nmf": lambda s: hm.bragg_nmf(s, features="raw", n_components=2),
}
SCALES = [1e-25, 1e20]


def scaled(factor, lazy=False):
    """:func:`domain_patterns` in float32, times ``factor``."""
    return as_signal((domain_patterns() * factor).astype(np.float32), lazy)


class TestAxisScalesAndExtremeIntensities:
    """Before: an axis scale of 0, NaN or inf went through (radius axes of scale
    0, NaN quefrency axes) or failed deep inside (ZeroDivisionError, "cannot
    convert float NaN to integer"); the radial variance of float32 patterns
    times 1e-25 was all zeros and times 1e20 raised "Patterns contain NaN or
    infinite pixels"; the cepstrum with the default `epsilon` of patterns
    times 1e-25 was that of a flat pattern, without a word."""

    @pytest.mark.parametrize("value", [0.0, np.nan, np.inf])
    @pytest.mark.parametrize("axis", [0, 2], ids=["navigation", "signal"])
    @pytest.mark.parametrize("name", CALLS)
    def test_bad_axis_scale_is_named(self, name, axis, value):
        s = as_signal(domain_patterns())
        s.axes_manager[axis].scale = value
        kind = "navigation" if axis == 0 else "signal"
        match = rf"needs a finite, non-zero scale on every axis, but {kind} axis {axis} .* has scale {value}"
        with pytest.raises(ValueError, match=match):
            CALLS[name](s)

    @pytest.mark.parametrize("name", ["get_cepstrum", "bragg_nmf"])
    def test_bad_axis_offset_is_named(self, name):
        s = as_signal(domain_patterns())
        s.axes_manager[3].offset = np.nan
        with pytest.raises(ValueError, match="finite offset on every axis.*axis 3"):
            CALLS[name](s)

    @lazy_and_eager
    @pytest.mark.parametrize("factor", SCALES)
    def test_cepstrum_of_scaled_float32_patterns(self, factor, lazy):
        # log(c (I - m) + c eps) = log(I - m + eps) + log(c): the cepstrum with
        # epsilon scaled too is the unscaled one plus log(c) times the window's
        # transform
        c = hm.get_cepstrum(scaled(factor, lazy), epsilon=0.1 * factor)
        data = domain_patterns().astype(np.float32).astype(np.float64) * factor
        window = np.outer(np.hanning(DETECTOR), np.hanning(DETECTOR))
        log = np.log((data - data.min()) / factor + 0.1) + np.log(factor)
        expected = np.abs(np.fft.fftshift(np.fft.fft2(window * log), axes=(-2, -1)))
        np.testing.assert_allclose(
            values(c), expected, rtol=0, atol=1e-5 * expected.max()
        )

    def test_epsilon_dwarfing_the_data_warns(self):
        with pytest.warns(
            UserWarning, match=r"`epsilon` \(0.1\) is more than 1000 times"
        ):
            hm.get_cepstrum(scaled(1e-25))

    @lazy_and_eager
    @pytest.mark.parametrize("factor", SCALES)
    def test_radial_variance_scales_with_the_square(self, factor, lazy):
        unscaled = values(hm.get_radial_variance(scaled(1.0, lazy)))
        var = values(hm.get_radial_variance(scaled(factor, lazy)))
        assert var.any()
        np.testing.assert_allclose(var / factor**2, unscaled, rtol=1e-5, atol=0)
        normalized = values(
            hm.get_radial_variance(scaled(factor, lazy), normalize=True)
        )
        expected = values(hm.get_radial_variance(scaled(1.0, lazy), normalize=True))
        np.testing.assert_allclose(normalized, expected, rtol=1e-5, atol=0)

    @pytest.mark.parametrize("factor", SCALES)
    def test_other_features_of_scaled_float32_patterns(self, factor):
        # the angular average and the bright-field cells and intensity scale with
        # the data, the centre of mass and the Bragg features do not
        s, unit = scaled(factor), scaled(1.0)
        angular = CALLS["get_angular_average"]
        np.testing.assert_allclose(
            values(angular(s)) / factor, values(angular(unit)), rtol=1e-5
        )
        np.testing.assert_array_equal(
            values(hm.get_bragg_features(s)), values(hm.get_bragg_features(unit))
        )
        bright = CALLS["get_bright_field_features"]
        f, g = values(bright(s)), values(bright(unit))
        linear = np.r_[np.ones(f.shape[-1] - 3, bool), False, False, True]
        np.testing.assert_allclose(f[..., linear] / factor, g[..., linear], rtol=1e-5)
        np.testing.assert_allclose(
            f[..., ~linear], g[..., ~linear], rtol=1e-4, atol=1e-5
        )

    @pytest.mark.parametrize("factor", SCALES)
    @pytest.mark.parametrize("feature", ["radial_variance", "angular_average", "raw"])
    def test_clustering_of_scaled_float32_patterns(self, feature, factor):
        result = decompose(
            scaled(factor), features=feature, algorithm="kmeans", n_clusters=2
        )
        assert hm.adjusted_rand(result.labels.data, two_domains()) == 1.0
        assert np.isfinite(values(result.cluster_means)).all()
