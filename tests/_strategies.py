"""Hypothesis strategies and settings shared by tests in several folders
(the transforms' property tests and the distributed ones)."""

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import hyperspy_manifold as hm

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TRANSFORMS = {
    "cepstrum": lambda s: hm.get_cepstrum(s),
    "radial_variance": lambda s: hm.get_radial_variance(s, in_pixels=True),
    "angular_average": lambda s: hm.get_angular_average(
        s, rings=[1, 3, 5], in_pixels=True, angle_step=30
    ),
    "bragg": lambda s: hm.get_bragg_features(s, bin_size=2),
}


@st.composite
def scans(draw):
    ny = draw(st.integers(1, 4))
    nx = draw(st.integers(1, 5))
    ky = draw(st.integers(12, 20))
    kx = draw(st.integers(12, 20))
    dtype = draw(
        st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64])
    )
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    top = {np.uint8: 255, np.uint16: 65535, np.int32: 100000}.get(dtype, 1e4)
    data = (rng.random((ny, nx, ky, kx)) * top).astype(dtype)
    chunks = (draw(st.integers(1, ny)), draw(st.integers(1, nx)), -1, -1)
    return data, chunks
