"""Transforms give the same numbers under a dask.distributed Client (worker
processes: kernels and operators are pickled) as with the threaded scheduler."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import hyperspy_manifold as hm

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(3)
    data = (rng.random((6, 5, 32, 32)) * 1000).astype(np.uint16)
    s = hs.signals.Signal2D(da.from_array(data, chunks=(4, 3, 32, 32))).as_lazy()
    s.set_signal_type("manifold")
    return s


TRANSFORMS = {
    "cepstrum": lambda s: hm.get_cepstrum(s),
    "radial_variance": lambda s: hm.get_radial_variance(s),
    "angular_average": lambda s: hm.get_angular_average(
        s, rings=[2, 8, 14], in_pixels=True
    ),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_under_client_equals_threaded(client, scan, name):
    with distributed.Client.current().as_current():
        dist = TRANSFORMS[name](scan).data.compute()
    local = TRANSFORMS[name](scan).data.compute(scheduler="threads")
    np.testing.assert_allclose(dist, local, rtol=1e-6)
