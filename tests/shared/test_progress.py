"""One progress bar per long call, none for quick ones (issue 13, item 15)."""

import numpy as np
import pytest
from conftest import pattern_scan

import hyperspy_manifold as hm
from hyperspy_manifold import _progress
from hyperspy_manifold._chunks import compute


def _bars(err: str, title: str) -> int:
    """Bars titled ``title`` that were closed (tqdm ends a kept bar with a newline)."""
    return sum(title in line for line in err.split("\n") if line.strip())


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setattr(_progress, "DELAY", 0)


def _scan(lazy=True):
    rng = np.random.default_rng(0)
    data = rng.poisson(3.0, (6, 8, 32, 32)).astype(np.float32)
    data[:, 4:, 12, 12] += 60
    return pattern_scan(data, lazy=lazy, chunks=(3, 4) if lazy else None)


def test_manifold_decomposition_shows_one_bar(no_delay, capsys):
    hm.manifold_decomposition(
        _scan(),
        algorithm="kmeans",
        n_clusters=2,
        random_state=0,
        show_progressbar=True,
    )
    out, err = capsys.readouterr()
    assert "Completed" not in out  # no dask bar per compute
    lines = [line for line in err.replace("\r", "\n").split("\n") if "%" in line]
    assert lines and all("Manifold decomposition" in line for line in lines)
    assert "100%" in lines[-1]
    assert err.count("\n") == 1  # one bar, closed once


def test_bragg_nmf_model_fits_count_on_the_same_bar(no_delay, capsys):
    hm.bragg_nmf(
        _scan(lazy=False),
        features="angular_average",
        n_components=2,
        n_models=2,
        random_state=0,
        show_progressbar=True,
    )
    out, err = capsys.readouterr()
    assert "Completed" not in out
    assert "Iterative NMF" not in err.split("Bragg NMF")[0]
    assert err.count("\n") == 1


def test_silent_call_stays_silent(no_delay, capsys):
    hm.manifold_decomposition(
        _scan(),
        algorithm="kmeans",
        n_clusters=2,
        random_state=0,
        show_progressbar=False,
    )
    assert capsys.readouterr() == ("", "")


def test_quick_call_shows_no_bar(capsys):
    s = _scan()
    hm.get_radial_variance(s, lazy_output=False, show_progressbar=True)
    assert capsys.readouterr() == ("", "")


def test_compute_outside_a_call_keeps_its_own_bar(capsys):
    import dask.array as da

    assert compute(da.ones(10, chunks=5).sum(), show_progressbar=True) == 10
    assert "Completed" in capsys.readouterr().out


def test_nested_public_calls_share_the_outer_bar(no_delay, capsys):
    s = _scan()

    @_progress.one_progress_bar("Outer")
    def outer(show_progressbar=None):
        a = hm.get_radial_variance(s, lazy_output=False, show_progressbar=True)
        b = hm.get_angular_average(s, lazy_output=False, show_progressbar=True)
        return a, b

    outer(show_progressbar=True)
    err = capsys.readouterr().err
    assert "Outer" in err and "Radial variance" not in err
    assert err.count("\n") == 1


def test_passes_over_the_data_are_counted():
    s = _scan()  # lazy, 4 navigation chunks
    kwargs = dict(algorithm="kmeans", n_clusters=2, random_state=0)
    full = hm.manifold_decomposition(s, return_info=True, **kwargs)
    # the features with the cepstrum's global minimum (one read: every chunk
    # holds a 0 count), the cluster statistics, and the chunks holding the two
    # centroid patterns
    assert 2 < full.parameters["data_reads"] < 3
    sub = hm.manifold_decomposition(s, return_info=True, n_fit=20, **kwargs)
    # with n_fit the features of the rest come from memory, not a second read
    assert sub.parameters["data_reads"] == pytest.approx(
        full.parameters["data_reads"], abs=0.5
    )
    with _progress.count_data_reads() as counter:
        hm.get_similarity_loadings(s, full, lazy_output=False)
    assert counter.reads == pytest.approx(1.0)  # the means of the result reused
    with _progress.count_data_reads() as counter:
        hm.get_similarity_loadings(s, full.labels, lazy_output=False)
    assert counter.reads == pytest.approx(2.0)  # means, then distances


@pytest.mark.parametrize("route", ["whole", "n_fit_in_memory", "n_fit_streamed"])
def test_cepstrum_features_of_a_run_take_one_read(monkeypatch, route):
    """The features and their global minimum come from one read (the chunk
    whose own minimum is above the dataset's read again): the same labels and
    embedding as the two-pass route, with fewer passes."""
    from hyperspy_manifold.learn import _features, estimator

    s = _scan()
    above = np.zeros((6, 8, 1, 1), s.data.dtype)
    above[:3, :4] = 4  # the first of the four chunks holds no 0 count
    s.data = s.data + above
    kwargs = dict(algorithm="kmeans", n_clusters=2, random_state=0, return_info=True)
    if route != "whole":
        kwargs["n_fit"] = 20
    if route == "n_fit_streamed":
        monkeypatch.setattr(estimator, "FEATURES_IN_MEMORY_BYTES", 0)
    one = hm.manifold_decomposition(s, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(_features.OneReadCepstrum, "applies", lambda *args: False)
        two = hm.manifold_decomposition(s, **kwargs)
    np.testing.assert_array_equal(one.labels.data, two.labels.data)
    np.testing.assert_allclose(one.embedding.data, two.embedding.data, rtol=1e-5)
    saved = two.parameters["data_reads"] - one.parameters["data_reads"]
    # the global minimum's own pass, less the chunk transformed again
    assert saved == pytest.approx(0.75)
    np.testing.assert_allclose(
        _features.feature_array(one.features).compute(),
        _features.feature_array(two.features).compute(),
        rtol=1e-6,
    )
