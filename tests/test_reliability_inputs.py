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
from hyperspy_manifold.learn.similarity import MASKED

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
