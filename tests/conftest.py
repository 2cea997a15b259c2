"""Shared fixtures and the numba warm-up; headless plots and quiet progress bars
come from ``hyperspy_manifold/conftest.py``, shared with the doctests."""

from pathlib import Path

import numpy as np
import pytest

from hyperspy_manifold.conftest import _quiet_progress_bars  # noqa: F401

DATA = Path(__file__).parent / "data"


def pytest_configure(config):
    """Compile the numba code of orix and UMAP once, in the pytest-xdist
    controller, before the workers start.

    orix and UMAP cache their numba functions next to their sources.  In a fresh
    environment two xdist workers compiling the same function at once can leave a
    half-written cache file that the other reads, and numba segfaults on it.
    """
    if hasattr(config, "workerinput"):
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import orix.plot  # noqa: F401
        import orix.quaternion  # noqa: F401
        import umap

        # > 4096 points: UMAP takes pynndescent's (cached) approximate search path
        x = np.random.default_rng(0).random((4200, 3))
        umap.UMAP(n_neighbors=5, n_epochs=5, random_state=0).fit(x).transform(x[:10])


@pytest.fixture
def data_dir():
    return DATA


def spot_lattice(
    shape=(64, 64),
    g=(8.0, 8.0),
    sigma=1.0,
    center=None,
    angle=0.0,
    scale=(1.0, 1.0),
    weights=None,
):
    """A square lattice of Gaussian spots with spacing ``g`` (pixels) about ``center``.

    ``weights`` is a callable of the integer lattice indices (h, k) returning a spot
    height, so intensity changes (a tilt) leave positions untouched.
    """
    ky, kx = shape
    cy, cx = ((ky - 1) / 2, (kx - 1) / 2) if center is None else center
    y, x = np.mgrid[:ky, :kx].astype(float)
    out = np.zeros(shape)
    n = int(max(ky, kx) / min(g)) + 2
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    for h in range(-n, n + 1):
        for k in range(-n, n + 1):
            px, py = h * g[1] * scale[1], k * g[0] * scale[0]
            sx, sy = cx + c * px - s * py, cy + s * px + c * py
            if not (-3 < sx < kx + 2 and -3 < sy < ky + 2):
                continue
            w = 1.0 if weights is None else weights(h, k)
            out += w * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * sigma**2))
    return out


def pattern_scan(
    patterns, lazy=False, chunks=None, scale=None, units=None, offset=None
):
    """A ``manifold`` signal of ``(*navigation, ky, kx)`` patterns, detector axes
    calibrated when ``scale`` is given, lazy with navigation ``chunks`` on request."""
    import hyperspy.api as hs

    s = hs.signals.Signal2D(np.asarray(patterns))
    if scale is not None:
        for ax in s.axes_manager.signal_axes:
            ax.scale, ax.units = scale, units
            if offset is not None:
                ax.offset = offset
    s.set_signal_type("manifold")
    if lazy:
        s = s.as_lazy()
        if chunks is not None:
            s.data = s.data.rechunk(chunks + (-1, -1))
    return s


def values(signal):
    """The data of an eager or lazy signal as a numpy array."""
    return np.asarray(signal.data.compute() if signal._lazy else signal.data)
