"""ManifoldClustering: fit once, predict new scans with a novelty score, save and
load without pickle (issue 14, item 1)."""

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import pattern_scan, spot_lattice
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import hyperspy_manifold as hm
from hyperspy_manifold.learn.estimator import NOVEL, ManifoldClustering

PHASES = {  # lattice spacing (pixels) and rotation (degrees) of each phase
    0: ((6.0, 6.0), 0.0),
    1: ((9.0, 9.0), 0.0),
    2: ((7.0, 7.0), 30.0),
    3: ((11.0, 5.0), 15.0),  # the unseen phase
}


def _scan(layout, seed, dose=400.0):
    """Patterns of the phases of ``layout`` (a label image), Poisson noise."""
    rng = np.random.default_rng(seed)
    base = {k: spot_lattice((32, 32), g=g, angle=a) for k, (g, a) in PHASES.items()}
    clean = np.stack([base[k] for k in layout.ravel()]).reshape(layout.shape + (32, 32))
    clean = clean / clean.sum(axis=(-2, -1), keepdims=True) * dose + 0.02
    s = pattern_scan(rng.poisson(clean).astype(np.float32), scale=0.05, units="1/Å")
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.units = 2.0, "nm"
    return s


def _stripes(n_phases, shape=(12, 18)):
    return np.repeat(np.arange(n_phases), shape[1] // n_phases)[None].repeat(
        shape[0], axis=0
    )


def _model(**kwargs):
    kwargs.setdefault("algorithm", "kmeans")
    kwargs.setdefault("n_clusters", 3)
    return ManifoldClustering(random_state=0, **kwargs)


@pytest.fixture(scope="module")
def fitted():
    layout = _stripes(3)
    s = _scan(layout, seed=1)
    return _model().fit(s, show_progressbar=False), s, layout


def _flat(signal):
    return np.asarray(signal.data).ravel()


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_new_scan_of_known_phases_is_labelled_like_a_refit(fitted, seed):
    model, _, _ = fitted
    layout = _stripes(3, shape=(10, 15)).T[:, ::-1]  # another arrangement
    new = _scan(layout, seed=seed)
    predicted = _flat(model.predict(new, show_progressbar=False))
    refit = _flat(clone(model).fit_predict(new, show_progressbar=False))
    assert hm.adjusted_rand(refit, predicted) >= 0.95
    assert hm.adjusted_rand(layout.ravel(), predicted) >= 0.95
    assert (predicted == NOVEL).mean() <= 0.05


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_unseen_phase_is_flagged(fitted, seed):
    model, _, _ = fitted
    layout = _stripes(4, shape=(12, 16))
    new = _scan(layout, seed=seed)
    labels, score = model.predict(new, return_novelty=True, show_progressbar=False)
    labels, score = _flat(labels), _flat(score)
    unseen = layout.ravel() == 3
    assert (labels[unseen] == NOVEL).mean() >= 0.9  # recall
    assert (labels[~unseen] == NOVEL).mean() <= 0.05  # false flags
    assert score[unseen].min() > score[~unseen].max() * 0.5
    known = ~unseen & (labels != NOVEL)
    assert hm.adjusted_rand(layout.ravel()[known], labels[known]) >= 0.95


def test_predicted_signals_keep_the_scan_axes(fitted):
    model, s, _ = fitted
    labels = model.predict(s, show_progressbar=False)
    score = model.score_samples(s, show_progressbar=False)
    assert labels.data.shape == score.data.shape == (12, 18)
    assert labels.axes_manager.signal_axes[0].units == "nm"
    assert np.nanmax(score.data) > 0


def test_navigation_mask_leaves_positions_out(fitted):
    model, s, _ = fitted
    mask = np.zeros((12, 18), bool)
    mask[0, :4] = True
    labels = _flat(model.predict(s, navigation_mask=mask))
    assert (labels[:4] == -2).all() and (labels[4:] != -2).all()
    assert (labels[4:] == NOVEL).mean() <= 0.05  # the fit's own outskirts
    assert np.isnan(_flat(model.score_samples(s, navigation_mask=mask))[:4]).all()


def test_fit_leaves_the_signal_alone(fitted):
    _, _, layout = fitted
    s = _scan(layout, seed=1)
    before = s.learning_results.__dict__.copy()
    _model().fit(s, show_progressbar=False)
    assert s.learning_results.__dict__ == before
    assert s.learning_results.cluster_labels is None


def test_save_and_load_predict_the_same_without_pickle(fitted, tmp_path):
    model, s, _ = fitted
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as f:  # plain arrays only
        assert {"reduced", "labels", "header"} <= set(f.files)
    loaded = ManifoldClustering.load(path)
    assert loaded.get_params() == model.get_params()
    new = _scan(_stripes(4, shape=(12, 16)), seed=8)
    np.testing.assert_array_equal(_flat(loaded.predict(new)), _flat(model.predict(new)))
    np.testing.assert_allclose(
        _flat(loaded.score_samples(new)), _flat(model.score_samples(new))
    )
    with pytest.raises(RuntimeError, match="not saved"):
        loaded.transform(new)


def test_transform_embeds_new_patterns(fitted):
    model, s, _ = fitted
    emb = model.transform(s)
    assert emb.shape == (12 * 18, 2) and np.isfinite(emb).all()


def test_default_automatic_model_fits_and_predicts():
    layout = _stripes(3)
    model = ManifoldClustering(random_state=0).fit(_scan(layout, seed=1))
    assert model.n_clusters_ == 3
    new = _scan(_stripes(3, shape=(10, 15)), seed=9)
    assert (
        hm.adjusted_rand(_stripes(3, (10, 15)).ravel(), _flat(model.predict(new)))
        >= 0.95
    )


def test_sklearn_conventions(fitted):
    model, _, _ = fitted
    params = model.get_params()
    assert params["n_clusters"] == 3 and params["novelty_quantile"] == 0.99
    other = clone(model).set_params(novelty_quantile=0.9)
    assert other.novelty_quantile == 0.9 and not hasattr(other, "reduced_")


def test_unfitted_model_says_so(fitted):
    _, s, _ = fitted
    with pytest.raises(NotFittedError, match="not fitted"):
        ManifoldClustering().predict(s)


def test_other_detector_or_calibration_is_refused(fitted):
    model, s, _ = fitted
    with pytest.raises(ValueError, match="detector is"):
        model.predict(s.isig[:30, :30])
    other = s.deepcopy()
    other.axes_manager.signal_axes[0].scale = 0.1
    with pytest.raises(ValueError, match="calibration"):
        model.predict(other)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_vote": 0}, ValueError, "n_vote"),
        ({"novelty_quantile": 1.5}, ValueError, "novelty_quantile"),
        ({"features": hs.signals.Signal1D(np.ones((2, 3)))}, TypeError, "by name"),
    ],
)
def test_bad_parameters_are_named(fitted, kwargs, error, match):
    _, s, _ = fitted
    with pytest.raises(error, match=match):
        _model(**kwargs).fit(s)


def test_wrong_saved_format_is_refused(fitted, tmp_path):
    import json

    model, _, _ = fitted
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as f:
        arrays = dict(f)
    header = json.loads(str(arrays["header"]))
    header["format"] = 99
    arrays["header"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="format"):
        ManifoldClustering.load(path)
