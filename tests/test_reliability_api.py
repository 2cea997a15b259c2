"""The public API keeps its promises: one ``random_state`` policy, results that
coexist in ``learning_results``, the scan picked out of multi-signal files, and
the keywords the README table promises."""

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import DATA

import hyperspy_manifold as hm
from hyperspy_manifold import _random
from hyperspy_manifold.cli import CLIError, load_scan
from hyperspy_manifold.data import (
    polycrystalline_film,
    ronchigram_scan,
    zone_axis_tilt_series,
)
from hyperspy_manifold.plot.html_report import scatter_sample

# --------------------------------------------------------------- random_state


def three_blobs(nav=(8, 10), seed=0):
    """Tiny patterns and a 3-feature signal with three well-separated blobs."""
    rng = np.random.default_rng(seed)
    n = nav[0] * nav[1]
    truth = np.repeat(np.arange(3), -(-n // 3))[:n]
    centres = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], dtype=float)
    X = centres[truth] + rng.normal(scale=0.5, size=(n, 3))
    f = hs.signals.Signal1D(X.reshape(nav + (3,)))
    s = hs.signals.Signal2D(
        rng.random(nav + (8, 8)).astype(np.float32)
        + truth.reshape(nav)[..., None, None]
    )
    return s, f


def fresh(kind, seed):
    """A new ``random_state`` of the given kind made from ``seed``."""
    return {
        "int": lambda: seed,
        "numpy int": lambda: np.int64(seed),
        "Generator": lambda: np.random.default_rng(seed),
        "RandomState": lambda: np.random.RandomState(seed),
    }[kind]()


KINDS = ("int", "numpy int", "Generator", "RandomState")


def manifold_labels(random_state, **kwargs):
    s, f = three_blobs()
    res = hm.manifold_decomposition(
        s, features=f, random_state=random_state, return_info=True, **kwargs
    )
    return res.labels.data


def nmf_maps(random_state):
    s, f = three_blobs()
    info = hm.bragg_nmf(
        s,
        features=f,
        n_components=4,
        n_models=2,
        max_iterations=1,
        random_state=random_state,
        return_info=True,
    )
    return info.W


def film_labels(random_state):
    return polycrystalline_film(
        shape=(6, 6), detector=32, n_grains=3, random_state=random_state
    )[1].labels


def tilt_data(random_state):
    return zone_axis_tilt_series(shape=(6, 6), detector=32, random_state=random_state)[
        0
    ].data


def ronchigram_data(random_state):
    return ronchigram_scan(shape=(6, 6), detector=32, random_state=random_state)[0].data


def report_sample(random_state):
    return scatter_sample(np.arange(1000), 50, random_state=random_state)


#: Every public function with a random step, as ``random_state -> result``.
RANDOM_METHODS = {
    "manifold_decomposition auto": manifold_labels,
    "manifold_decomposition kmeans": lambda r: manifold_labels(
        r, algorithm="kmeans", n_clusters=3
    ),
    "manifold_decomposition spectral": lambda r: manifold_labels(
        r, algorithm="spectral", n_clusters=3
    ),
    "manifold_decomposition hdbscan n_fit": lambda r: manifold_labels(
        r, min_cluster_size=8, n_fit=50
    ),
    "bragg_nmf": nmf_maps,
    "polycrystalline_film": film_labels,
    "zone_axis_tilt_series": tilt_data,
    "ronchigram_scan": ronchigram_data,
    "html report sample": report_sample,
}


@pytest.mark.parametrize("name", RANDOM_METHODS)
def test_same_int_seed_gives_identical_results(name):
    run = RANDOM_METHODS[name]
    np.testing.assert_array_equal(run(3), run(3))


@pytest.mark.parametrize("kind", ["Generator", "RandomState", "numpy int"])
@pytest.mark.parametrize("name", RANDOM_METHODS)
def test_generator_and_random_state_are_accepted_and_deterministic(name, kind):
    run = RANDOM_METHODS[name]
    np.testing.assert_array_equal(run(fresh(kind, 5)), run(fresh(kind, 5)))


@pytest.mark.parametrize("bad", [0.5, "0", True, [0]])
@pytest.mark.parametrize("name", RANDOM_METHODS)
def test_bad_random_state_raises_type_error_naming_it(name, bad):
    with pytest.raises(TypeError, match="`random_state` must be None, an int, a numpy"):
        RANDOM_METHODS[name](bad)


def test_a_generator_is_consumed_like_scikit_learn_does():
    """One generator passed twice gives two draws; a fresh one repeats them."""
    rng = np.random.default_rng(1)
    first, second = _random.integer_seeds(rng, 4), _random.integer_seeds(rng, 4)
    assert first != second
    assert _random.integer_seeds(np.random.default_rng(1), 4) == first
    assert _random.integer_seeds(None, 3) == [None, None, None]


def test_int_seeds_are_those_used_before_the_helper():
    """``manifold_decomposition(random_state=int)`` labels are unchanged by the
    helper: it derives the same integer seeds as the code it replaced
    (``SeedSequence(int).generate_state(n)``) and the same generator for the
    partition and the subsample (``default_rng`` of one of them); NMF's
    ``RandomState(int)`` is scikit-learn's ``check_random_state``."""
    old = [int(x) for x in np.random.SeedSequence(7).generate_state(6)]
    assert _random.integer_seeds(7, 6) == old
    assert _random.as_generator(7).random() == np.random.default_rng(7).random()
    assert _random.as_random_state(7).rand() == np.random.RandomState(7).rand()
    g = np.random.default_rng(0)
    assert _random.as_generator(g) is g
    r = np.random.RandomState(0)
    assert _random.as_random_state(r) is r


def old_seeds(random_state, n):
    """The seed derivation ``manifold_decomposition`` had before ``_random``."""
    if random_state is None:
        return [None] * n
    return [int(x) for x in np.random.SeedSequence(int(random_state)).generate_state(n)]


def test_int_seed_gives_the_labels_of_before_the_helper(monkeypatch):
    """Same labels, embedding and partition for ``random_state=0`` with the old
    seed derivation patched back in."""
    from hyperspy_manifold.learn import estimator as manifold

    s, _ = polycrystalline_film(shape=(8, 8), detector=32, n_grains=3)
    new = hm.manifold_decomposition(s, random_state=0, return_info=True)
    monkeypatch.setattr(manifold, "integer_seeds", old_seeds)
    monkeypatch.setattr(manifold, "as_generator", np.random.default_rng)
    old = hm.manifold_decomposition(s, random_state=0, return_info=True)
    np.testing.assert_array_equal(new.labels.data, old.labels.data)
    np.testing.assert_array_equal(new.embedding.data, old.embedding.data)


def test_negative_seed_is_a_value_error():
    with pytest.raises(ValueError, match="`random_state` must be a non-negative"):
        _random.check_random_state(-1)


# ---------------------------------------------------- results that coexist


def small_film():
    s, truth = polycrystalline_film(
        shape=(10, 10), detector=32, n_grains=3, amorphous_fraction=0.0
    )
    return s, truth


def test_bragg_nmf_keeps_the_clusters_of_manifold_decomposition():
    s, _ = small_film()
    hm.manifold_decomposition(
        s, features="raw", algorithm="kmeans", n_clusters=3, random_state=0
    )
    labels = s.get_cluster_labels(merged=True).data.copy()
    expected = hm.get_similarity_loadings(s).data
    hm.bragg_nmf(s, features="raw", n_components=3, n_models=2, random_state=0)
    lr = s.learning_results
    assert lr.decomposition_algorithm == "iterative_nmf"  # the NMF replaced it
    assert s.get_decomposition_loadings().data.shape[0] == lr.loadings.shape[1]
    np.testing.assert_array_equal(s.get_cluster_labels(merged=True).data, labels)
    np.testing.assert_allclose(hm.get_similarity_loadings(s).data, expected)


def test_bragg_nmf_alone_leaves_no_clusters():
    s, _ = small_film()
    hm.bragg_nmf(s, features="raw", n_components=3, n_models=1, random_state=0)
    assert s.learning_results.cluster_labels is None
    with pytest.raises(RuntimeError, match="No cluster labels found"):
        hm.get_similarity_loadings(s)


# ------------------------------------------------- multi-signal files (.app5)

APP5 = DATA / "topspin_test_B.app5"


def test_load_scan_picks_the_scan_out_of_an_app5_file():
    loaded = hs.load(APP5, lazy=True)
    assert isinstance(loaded, list) and len(loaded) == 4  # scan + survey images
    s = load_scan(APP5)
    assert type(s).__name__ == "LazyManifoldDiffraction2D"
    assert s.data.shape == (3, 7, 31, 26)
    assert load_scan(APP5, signal_index=0).data.shape == (3, 7, 31, 26)


def test_load_scan_names_the_signals_when_the_index_is_not_a_scan():
    with pytest.raises(CLIError, match=r"holds no 4D-STEM scan.*\(6, 8\)"):
        load_scan(APP5, signal_index=1)
    with pytest.raises(CLIError, match=r"out of range.*0: .*\(7, 3\|26, 31\)"):
        load_scan(APP5, signal_index=4)


def test_load_scan_asks_to_choose_between_two_scans(monkeypatch, tmp_path):
    path = tmp_path / "two.hspy"
    path.touch()
    a = hs.signals.Signal2D(np.zeros((2, 3, 8, 8)))
    b = hs.signals.Signal2D(np.ones((4, 8, 8)))
    b.metadata.General.title = "second scan"
    monkeypatch.setattr(hs, "load", lambda *args, **kwargs: [a, b])
    with pytest.raises(
        CLIError,
        match=r"2 stacks of 2D patterns; choose one with --signal-index: "
        r"0: .*\(3, 2\|8, 8\); 1: second scan \(4\|8, 8\)",
    ):
        load_scan(path)
    assert load_scan(path, signal_index=1).data.shape == (4, 8, 8)


# ------------------------------------------------- keywords the README promises

KEYWORDS = (
    "navigation_mask",
    "signal_mask",
    "show_progressbar",
    "lazy_output",
    "random_state",
)
README = DATA.parent.parent / "README.md"


def readme_keyword_table():
    """``{method name: set of keywords ticked}`` from the README's table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| method |"))
    header = [c.strip(" `") for c in lines[start].strip("|").split("|")]
    assert tuple(header[1:]) == KEYWORDS
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip(" `") for c in line.strip("|").split("|")]
        table[cells[0]] = {k for k, c in zip(KEYWORDS, cells[1:]) if c == "✓"}
    return table


def public_methods():
    """``{table name: callable}`` of every method our signal classes add."""
    import inspect

    from hyperspy_manifold.signals import Cepstrum2D, ManifoldDiffraction2D

    out = {}
    for cls, prefix in ((ManifoldDiffraction2D, ""), (Cepstrum2D, "Cepstrum2D.")):
        for name, value in vars(cls).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                out[prefix + name] = value
    return out


def test_readme_table_lists_every_method_with_its_exact_keywords():
    import inspect

    table = readme_keyword_table()
    methods = public_methods()
    assert set(table) == set(methods)
    for name, method in methods.items():
        params = set(inspect.signature(method).parameters)
        assert params & set(KEYWORDS) == table[name], name
        # the method is the public function of the same name
        assert method.__wrapped__ is getattr(hm, name.split(".")[-1]), name


def beam_and_spot_scan(nav=(2, 3)):
    """A bright direct beam at the centre and one weak spot at (10, 20)."""
    data = np.zeros(nav + (32, 32))
    data[..., 16, 16] = 5.0
    data[..., 10, 20] = 1.0
    beam = np.zeros((32, 32), bool)
    beam[14:19, 14:19] = True
    return hs.signals.Signal2D(data), beam


@pytest.mark.parametrize("lazy", [False, True])
def test_bragg_features_signal_mask_hides_the_direct_beam(lazy):
    s, beam = beam_and_spot_scan()
    s = s.as_lazy() if lazy else s
    both = hm.get_bragg_features(s, bin_size=4, lazy_output=False)
    spot = hm.get_bragg_features(s, bin_size=4, signal_mask=beam, lazy_output=False)
    np.testing.assert_array_equal(both.data.sum(axis=-1), 2.0)
    np.testing.assert_array_equal(spot.data.sum(axis=-1), 1.0)
    # the spot keeps its bins; the beam's bins are empty
    assert set(np.flatnonzero(spot.data[0, 0])) < set(np.flatnonzero(both.data[0, 0]))


def test_bragg_features_signal_mask_with_vectors_is_refused():
    s, beam = beam_and_spot_scan(nav=(2,))
    vectors = np.empty(2, dtype=object)
    vectors[:] = [np.array([[10.0, 20.0]])] * 2
    with pytest.raises(ValueError, match="`signal_mask` masks the peak search"):
        hm.get_bragg_features(s, vectors=vectors, signal_mask=beam)


def decoy_scan(nav=(8, 10), seed=0):
    """Two structures that differ in the two left columns of the detector, and a
    random split of the scan that differs in the six others (a flickering
    region, three times as many features): masking those must find the first."""
    rng = np.random.default_rng(seed)
    n = nav[0] * nav[1]
    truth = (np.arange(n) >= n // 2).astype(int)
    decoy = rng.permutation(truth)
    data = rng.normal(10, 0.05, size=(n, 8, 8))
    data[:, :, :2] += truth[:, None, None] * 1.0
    data[:, :, 2:] += decoy[:, None, None] * 50.0
    mask = np.zeros((8, 8), bool)
    mask[:, 2:] = True
    s = hs.signals.Signal2D(data.reshape(nav + (8, 8)))
    return s, mask, truth.reshape(nav), decoy.reshape(nav)


def same_partition(a, b):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(np.ravel(a), np.ravel(b)) == 1.0


def test_manifold_decomposition_signal_mask_leaves_the_pixels_out():
    s, mask, truth, decoy = decoy_scan()
    kwargs = dict(features="raw", algorithm="kmeans", n_clusters=2, random_state=0)
    plain = hm.manifold_decomposition(s, return_info=True, **kwargs)
    masked = hm.manifold_decomposition(
        s, signal_mask=mask, return_info=True, loadings="similarity", **kwargs
    )
    assert same_partition(plain.labels.data, decoy)
    assert same_partition(masked.labels.data, truth)
    # the similarity loadings are those of get_similarity_loadings with the mask
    sim = hm.get_similarity_loadings(s, masked.labels, signal_mask=mask)
    np.testing.assert_allclose(
        s.learning_results.loadings.T, sim.data.reshape(2, -1), rtol=1e-10
    )


def test_bragg_nmf_signal_mask_leaves_the_pixels_out():
    s, mask, _, _ = decoy_scan()
    info = hm.bragg_nmf(
        s,
        features="raw",
        signal_mask=mask,
        n_components=2,
        n_models=2,
        max_iterations=0,
        random_state=0,
        return_info=True,
    )
    H = info.H.reshape(-1, 8, 8)
    assert np.all(H[:, mask] == 0) and H[:, ~mask].max() > 0


def test_similarity_loadings_signal_mask_is_the_distance_over_kept_pixels():
    s, mask, truth, _ = decoy_scan()
    sim = hm.get_similarity_loadings(s, truth, eps=1e-3, signal_mask=mask)
    X = s.data.reshape(truth.size, -1)[:, ~mask.ravel()]
    means = np.stack([X[truth.ravel() == c].mean(axis=0) for c in (0, 1)])
    d = np.linalg.norm(X[None] - means[:, None], axis=-1)
    np.testing.assert_allclose(sim.data.reshape(2, -1), 1 / (1e-3 + d), rtol=1e-8)


def test_signal_mask_errors_name_the_fix():
    s, mask, _, _ = decoy_scan()
    f = hs.signals.Signal1D(np.zeros(s.data.shape[:2] + (3,)))
    with pytest.raises(ValueError, match="can not apply to a given `features`"):
        hm.manifold_decomposition(s, features=f, signal_mask=mask)
    with pytest.raises(ValueError, match="`signal_mask` is given twice"):
        hm.bragg_nmf(
            s,
            features="radial_variance",
            feature_kwargs={"signal_mask": mask},
            signal_mask=mask,
        )
    with pytest.raises(ValueError, match="`signal_mask` must have the detector shape"):
        hm.get_similarity_loadings(s, np.zeros((8, 10), int), signal_mask=mask[:4])
