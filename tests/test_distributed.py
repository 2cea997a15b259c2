"""Everything gives the same numbers under a dask.distributed Client (worker
processes: kernels, operators and file-backed arrays are pickled) as with the
threaded scheduler, and progress stays visible there.

One LocalCluster of two single-threaded worker processes serves the module; a
Client made on it is the default scheduler, so ``threaded()`` selects the local
threaded scheduler explicitly for the reference runs.
"""

import contextlib
import warnings
from itertools import product

import dask
import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from _strategies import SETTINGS, scans
from _strategies import TRANSFORMS as PROPERTY_TRANSFORMS
from conftest import DATA
from hypothesis import given
from hypothesis import strategies as st

import hyperspy_manifold as hm
from hyperspy_manifold import cli
from hyperspy_manifold._chunks import active_client, compute, pattern_stack
from hyperspy_manifold.data import polycrystalline_film

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@contextlib.contextmanager
def threaded():
    """The local threaded scheduler, even while a Client is the default."""
    with dask.config.set(scheduler="threads"):
        yield


@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(3)
    data = (rng.random((6, 5, 32, 32)) * 1000).astype(np.uint16)
    s = hs.signals.Signal2D(da.from_array(data, chunks=(4, 3, 32, 32))).as_lazy()
    s.set_signal_type("manifold")
    return s


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """A 16 x 16 simulated film read lazily from ``.zspy`` in 8 navigation chunks
    (a file-backed array is what a cluster sees in production)."""
    s, truth = polycrystalline_film(shape=(16, 16), detector=64, random_state=0)
    s = s.as_lazy()
    s.data = s.data.rechunk((4, 8, -1, -1))
    path = tmp_path_factory.mktemp("film") / "film.zspy"
    s.save(path)
    loaded = hs.load(path, lazy=True)
    assert loaded.data.chunks[:2] == ((4,) * 4, (8, 8))
    return loaded, truth


def assert_same(dist, local):
    """Equal numbers (to float rounding: BLAS threads differ between processes)."""
    dist, local = np.asarray(dist), np.asarray(local)
    assert dist.shape == local.shape
    if np.issubdtype(local.dtype, np.integer):
        np.testing.assert_array_equal(dist, local)
    else:
        np.testing.assert_allclose(dist, local, rtol=1e-6, atol=1e-12)


TRANSFORMS = {
    "cepstrum": lambda s: hm.get_cepstrum(s),
    "ring_features": lambda s: hm.get_cepstrum(s).get_ring_features(
        3, 12, in_pixels=True
    ),
    "radial_variance": lambda s: hm.get_radial_variance(s),
    "angular_average": lambda s: hm.get_angular_average(
        s, rings=[2, 8, 14], in_pixels=True
    ),
    "angular_average_auto": lambda s: hm.get_angular_average(s),
    "bragg": lambda s: hm.get_bragg_features(s),
    "bragg_intensity": lambda s: hm.get_bragg_features(s, intensity=True),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("data", ["scan", "film"])
def test_transform_under_client_equals_threaded(client, scan, film, name, data):
    s = scan if data == "scan" else film[0]
    if data == "scan" and name.startswith("bragg"):
        pytest.skip("uniform noise has no Bragg disks")
    dist = TRANSFORMS[name](s)
    assert dist._lazy
    dist = dist.data.compute()
    with threaded():
        local = TRANSFORMS[name](s).data.compute()
    assert_same(dist, local)


@SETTINGS
@given(case=scans(), name=st.sampled_from(sorted(PROPERTY_TRANSFORMS)))
def test_eager_equals_distributed_for_any_shape_dtype_chunking(client, case, name):
    """The hypothesis cases of ``test_properties`` (eager == lazy there) once more
    on the worker processes: eager == lazy == distributed."""
    data, chunks = case
    transform = PROPERTY_TRANSFORMS[name]
    with threaded():
        eager = np.asarray(transform(hs.signals.Signal2D(data)).data)
    lazy = hs.signals.Signal2D(da.from_array(data, chunks=chunks)).as_lazy()
    dist = transform(lazy)
    assert dist._lazy
    dist = dist.data.compute()
    assert active_client() is client
    assert dist.shape == eager.shape
    np.testing.assert_allclose(
        dist, eager, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(eager).max())
    )


@pytest.mark.parametrize("lazy_output", [False, True])
def test_eager_output_is_computed_on_the_cluster(client, film, lazy_output):
    s = film[0]
    ran_before = _tasks_run(client)
    out = hm.get_radial_variance(s, lazy_output=lazy_output)
    data = out.data.compute() if lazy_output else out.data
    assert _tasks_run(client) > ran_before
    with threaded():
        local = hm.get_radial_variance(s, lazy_output=False).data
    assert_same(data, local)


def _tasks_run(client):
    """Tasks the workers have executed so far (all workers)."""
    counts = client.run(
        lambda dask_worker: dask_worker.state.transition_counter, wait=True
    )
    return sum(counts.values())


MANIFOLD = {
    # n_fit route: fit on a subsample, embed and label the rest chunk by chunk
    "kmeans_n_fit": dict(
        algorithm="kmeans", n_clusters=5, n_fit=160, loadings="similarity"
    ),
    "hdbscan": dict(algorithm="hdbscan"),
}


@pytest.mark.parametrize("name", sorted(MANIFOLD))
def test_manifold_decomposition_under_client_equals_threaded(client, film, name):
    s = film[0]
    kwargs = dict(MANIFOLD[name], random_state=0, return_info=True)
    dist = hm.manifold_decomposition(s, **kwargs)
    dist_lr = s.learning_results
    s.learning_results = type(dist_lr)()
    with threaded():
        local = hm.manifold_decomposition(s, **kwargs)
    assert_same(dist.labels.data, local.labels.data)
    assert_same(dist.embedding.data, local.embedding.data)
    assert_same(dist.probabilities.data, local.probabilities.data)
    assert_same(dist.cluster_means.data, local.cluster_means.data)
    assert_same(dist.cluster_stds.data, local.cluster_stds.data)
    assert_same(dist_lr.loadings, s.learning_results.loadings)
    assert_same(dist_lr.factors, s.learning_results.factors)
    assert dist.n_clusters == local.n_clusters >= 2


def test_bragg_nmf_under_client_equals_threaded(client, film):
    s = film[0]
    kwargs = dict(n_models=3, max_iterations=3, random_state=0, return_info=True)
    dist = hm.bragg_nmf(s, **kwargs)
    with threaded():
        local = hm.bragg_nmf(s, **kwargs)
    assert dist.n_components == local.n_components
    assert_same(dist.W, local.W)
    assert_same(dist.H, local.H)
    with threaded():
        local_patterns = np.asarray(local.class_patterns.data)
        dist_patterns = np.asarray(dist.class_patterns.data)
    assert_same(dist_patterns, local_patterns)


def test_similarity_loadings_under_client_equals_threaded(client, film):
    s, truth = film
    dist = hm.get_similarity_loadings(s, labels=truth.labels, lazy_output=False)
    with threaded():
        local = hm.get_similarity_loadings(s, labels=truth.labels, lazy_output=False)
    assert dist.data.shape == (len(np.unique(truth.labels)), 16, 16)
    assert_same(dist.data, local.data)


def test_client_by_scheduler_address(client, film):
    """A second Client connected by address (how users reach a remote cluster)."""
    s = film[0]
    with distributed.Client(client.scheduler.address) as other:
        assert active_client() is other
        dist = hm.get_cepstrum(s, lazy_output=False).data
    with threaded():
        local = hm.get_cepstrum(s, lazy_output=False).data
    assert_same(dist, local)


def test_progress_is_shown_under_a_client(client, film, capsys, monkeypatch):
    """One bar (ours, on stderr) per call, under the Client and locally."""
    from hyperspy_manifold import _progress

    monkeypatch.setattr(_progress, "DELAY", 0)
    s = film[0]
    hm.get_radial_variance(s, lazy_output=False, show_progressbar=True)
    out, err = capsys.readouterr()
    assert "Radial variance" in err and "100%" in err and "Completed" not in out
    hm.get_radial_variance(s, lazy_output=False, show_progressbar=False)
    assert capsys.readouterr() == ("", "")
    with threaded():
        assert active_client() is None
        hm.get_radial_variance(s, lazy_output=False, show_progressbar=True)
    out, err = capsys.readouterr()
    assert err.count("Radial variance") >= 1 and "100%" in err


def test_compute_returns_what_dask_compute_returns(client):
    x = da.arange(100, chunks=10)
    single = compute(x.sum(), show_progressbar=True)
    pair = compute((x.sum(), x * 2), show_progressbar=True)
    assert single == 4950
    assert isinstance(pair, tuple) and pair[0] == 4950
    np.testing.assert_array_equal(pair[1], np.arange(100) * 2)


def test_eager_scan_is_cut_into_chunks_sized_for_float_work():
    """Kernels hold float32/float64 and complex copies of a chunk: an eager uint16
    scan is chunked as if it were float64, so those stay near dask's chunk size."""
    s = hs.signals.Signal2D(np.zeros((64, 64, 32, 32), dtype=np.uint16))
    with dask.config.set({"array.chunk-size": "1MiB"}):
        data = pattern_stack(s)
    assert data.chunks[-2:] == ((32,), (32,))
    assert max(np.prod(c) for c in product(*data.chunks)) * 8 <= 2**20
    assert data.numblocks[0] * data.numblocks[1] >= 32


CLI_ARGS = ["cluster", str(DATA / "nanomegas_test1.blo"), "--quiet", "--out"]


def _cluster_labels(out_dir):
    r = hs.load(out_dir / "results.zspy")
    sim = r.metadata.HyperspyManifold.results.similarity_loadings.data
    return np.asarray(r.data), np.asarray(sim)


@pytest.mark.slow
def test_cli_with_a_scheduler_address_equals_threaded(client, tmp_path):
    address = client.scheduler.address
    assert cli.main([*CLI_ARGS, str(tmp_path / "dist"), "--scheduler", address]) == 0
    with threaded():
        assert cli.main([*CLI_ARGS, str(tmp_path / "local")]) == 0
    labels_d, sim_d = _cluster_labels(tmp_path / "dist")
    labels_l, sim_l = _cluster_labels(tmp_path / "local")
    assert_same(labels_d, labels_l)
    assert_same(sim_d, sim_l)


@pytest.mark.slow
def test_cli_with_local_workers_equals_threaded(tmp_path):
    """``--workers 2`` starts (and closes) a LocalCluster of its own."""
    assert cli.main([*CLI_ARGS, str(tmp_path / "w2"), "--workers", "2"]) == 0
    with threaded():
        assert cli.main([*CLI_ARGS, str(tmp_path / "local")]) == 0
    labels_w, sim_w = _cluster_labels(tmp_path / "w2")
    labels_l, sim_l = _cluster_labels(tmp_path / "local")
    assert_same(labels_w, labels_l)
    assert_same(sim_w, sim_l)


def test_small_chunks_under_a_client_warn_and_say_how_to_rechunk(client, scan):
    # the module's scan has 4 x 3 patterns of 32 x 32 uint16 per chunk: 24 kB
    with pytest.warns(UserWarning, match=r"chunks below 16 MB .* s\.data\.rechunk"):
        hm.get_radial_variance(scan, lazy_output=False, show_progressbar=False)
    with threaded(), warnings.catch_warnings():
        warnings.simplefilter("error")  # no Client: no warning
        hm.get_cepstrum(scan, lazy_output=False, show_progressbar=False)


def test_large_enough_chunks_under_a_client_do_not_warn(client):
    data = da.zeros((8, 16, 256, 256), chunks=(8, 16, -1, -1), dtype=np.float32)
    s = hs.signals.Signal2D(data).as_lazy()  # one chunk: nothing to schedule
    s.set_signal_type("manifold")
    s.calibration.center = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hm.get_cepstrum(s, lazy_output=True, show_progressbar=False)


def test_cepstrum_features_from_one_read_under_client(client, scan):
    """The features and their global minimum from one read on the workers
    (the chunks above the global minimum transformed again) equal the two-pass
    answer of the threaded scheduler."""
    from hyperspy_manifold import _progress
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    above = np.zeros((6, 5, 1, 1), np.uint16)
    above[:4, :3] = 7  # the first of the four chunks: its own minimum is 7
    s = scan._deepcopy_with_new_data(scan.data + above)
    with _progress.count_data_reads() as counter:
        X = feature_matrix(feature_signal(s, "cepstrum"), show_progressbar=False)
    assert counter.reads == pytest.approx(1.25)
    with threaded():
        expected = hm.get_cepstrum(s).get_ring_features(
            3, 8, in_pixels=True, lazy_output=False
        )
    assert_same(X, expected.data.reshape(X.shape))
