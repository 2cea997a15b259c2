"""Exit-wave power cepstrum: analytic answers, lazy/eager/dtype agreement, errors."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import pattern_scan, spot_lattice, values

import hyperspy_manifold as hm
from hyperspy_manifold.kernels import cepstrum as cepstrum_kernel
from hyperspy_manifold.kernels.cepstrum import cepstrum, cepstrum_window


def _scan(patterns, dk=0.02, units="1/Å"):
    s = hs.signals.Signal2D(np.asarray(patterns))
    for ax in s.axes_manager.signal_axes:
        ax.scale = dk
        ax.units = units
    s.set_signal_type("manifold")
    return s


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"minimum": 0.0},
        {"minimum": "array"},
        {"power": True, "full_plane": False},
        {"mask": "corner"},
        {"window": "hann", "power": True},
    ],
    ids=["pattern_min", "scalar_min", "array_min", "power_half", "mask", "window"],
)
def test_batches_give_the_whole_stack_answer(monkeypatch, kwargs):
    """The kernel works through a stack a few patterns at a time; any batch size
    (here 1 and 3 patterns, not dividing the 2 x 5 stack) gives the same numbers
    as one batch, with per-pattern options sliced along."""
    rng = np.random.default_rng(4)
    x = rng.random((2, 5, 12, 10)) * 50
    kwargs = dict(kwargs)
    if kwargs.get("minimum") == "array":
        kwargs["minimum"] = x.min(axis=(-2, -1), keepdims=True) - rng.random(
            (2, 5, 1, 1)
        )
    if kwargs.get("mask") == "corner":
        mask = np.zeros((12, 10), dtype=bool)
        mask[:3, :2] = True
        kwargs["mask"] = mask
    if kwargs.get("window") == "hann":
        kwargs["window"] = cepstrum_window((12, 10))
    monkeypatch.setattr(cepstrum_kernel, "_BATCH_PIXELS", 1 << 30)
    whole = cepstrum(x, **kwargs)
    for patterns in (1, 3):
        monkeypatch.setattr(cepstrum_kernel, "_BATCH_PIXELS", patterns * 120)
        # equal to float32 rounding (numpy's reductions may group sums by shape)
        np.testing.assert_allclose(
            cepstrum(x, **kwargs), whole, rtol=1e-5, atol=1e-6 * whole.max()
        )
    assert whole.shape == (2, 5, 12, 10 if kwargs.get("full_plane", True) else 6)


def test_no_clip_for_the_data_minimum_changes_nothing():
    x = np.random.default_rng(5).random((4, 16, 16)).astype(np.float32) * 100
    m = float(x.min())
    np.testing.assert_array_equal(
        cepstrum(x, minimum=m, clip=False), cepstrum(x, minimum=m, clip=True)
    )


def _peak_distance(c_pattern, axes, inner):
    ax_x, ax_y = axes
    yy, xx = np.meshgrid(ax_y.axis, ax_x.axis, indexing="ij")
    r = np.hypot(yy, xx)
    masked = np.where(r > inner, c_pattern, -np.inf)
    iy, ix = np.unravel_index(np.argmax(masked), masked.shape)
    return r[iy, ix], (iy, ix)


def test_full_plane_matches_naive_fft():
    rng = np.random.default_rng(1)
    for shape in [(16, 16), (15, 16), (16, 13), (9, 11)]:
        x = rng.random((3, *shape)) + 0.5
        ours = cepstrum(x, epsilon=0.1)
        m = x.min(axis=(-2, -1), keepdims=True)
        naive = np.fft.fftshift(np.abs(np.fft.fft2(np.log(x - m + 0.1))), axes=(-2, -1))
        np.testing.assert_allclose(ours, naive, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("lazy", [False, True])
def test_lattice_peak_at_inverse_spacing(lazy):
    dk, g_px = 0.02, 8.0
    s = _scan([spot_lattice((64, 64), g=(g_px, g_px), sigma=1.2)] * 2, dk=dk)
    if lazy:
        s = s.as_lazy()
    c = s.get_cepstrum()
    assert type(c).__name__ == ("Lazy" if lazy else "") + "Cepstrum2D"
    c.compute() if lazy else None
    ax_x, ax_y = c.axes_manager.signal_axes
    assert ax_x.units == "Å"
    assert ax_x.scale == pytest.approx(1 / (64 * dk))
    # zero quefrency at the centre and it is the largest value
    assert ax_x.axis[32] == pytest.approx(0) and ax_y.axis[32] == pytest.approx(0)
    pattern = np.asarray(c.data[0])
    assert np.unravel_index(np.argmax(pattern), pattern.shape) == (32, 32)
    d, _ = _peak_distance(pattern, (ax_x, ax_y), inner=2 * ax_x.scale)
    assert d == pytest.approx(1 / (g_px * dk), abs=ax_x.scale)


def test_tilt_moves_cepstrum_less_than_pattern():
    def laue(cx, cy):
        return lambda h, k: np.exp(-((h - cx) ** 2 + (k - cy) ** 2) / 4.0)

    base = spot_lattice((64, 64), g=(8, 8), sigma=1.2, weights=laue(0, 0)) + 0.01
    tilted = spot_lattice((64, 64), g=(8, 8), sigma=1.2, weights=laue(1.0, 0.5)) + 0.01
    c = _scan([base, tilted]).get_cepstrum(minimum="pattern")
    a, b = c.data
    ax = c.axes_manager.signal_axes[0]
    r = np.hypot(*np.meshgrid(np.arange(64) - 32, np.arange(64) - 32))
    ring = r >= 3  # lattice peaks, not the zero-quefrency envelope
    raw_change = np.linalg.norm(tilted - base) / np.linalg.norm(base)
    cep_change = np.linalg.norm((b - a)[ring]) / np.linalg.norm(a[ring])
    assert cep_change < 0.5 * raw_change
    # and the lattice peak does not move
    assert _peak_distance(a, c.axes_manager.signal_axes, 2 * ax.scale)[0] == (
        pytest.approx(_peak_distance(b, c.axes_manager.signal_axes, 2 * ax.scale)[0])
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("detector", [(24, 24), (20, 28)])
def test_eager_lazy_dtypes_and_uneven_chunks(dtype, detector):
    rng = np.random.default_rng(0)
    top = 250 if dtype == np.uint8 else 65000
    data = (rng.random((5, 7, *detector)) * top).astype(dtype)
    s = _scan(data)
    eager = s.get_cepstrum()
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1, -1))
    out = lazy.get_cepstrum()
    assert out.data.chunks[:2] == ((2, 2, 1), (3, 3, 1))
    np.testing.assert_allclose(out.data.compute(), eager.data, rtol=1e-5, atol=1e-5)
    ref = _scan(data.astype(np.float64)).get_cepstrum()
    np.testing.assert_allclose(eager.data, ref.data, rtol=1e-4, atol=1e-4)
    assert np.isfinite(eager.data).all()
    assert eager.data.shape == (5, 7, *detector)


def test_lazy_output_and_split_signal_axes():
    rng = np.random.default_rng(0)
    s = _scan(rng.random((4, 4, 16, 16)))
    c = s.get_cepstrum(lazy_output=True)
    assert c._lazy
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((2, 2, 8, 8))
    c2 = lazy.get_cepstrum(lazy_output=False)
    assert not c2._lazy
    np.testing.assert_allclose(c.data.compute(), c2.data, rtol=1e-5)


def test_input_not_modified_and_metadata():
    rng = np.random.default_rng(0)
    data = rng.random((3, 3, 16, 16))
    s = _scan(data.copy())
    s.metadata.General.title = "scan"
    c = s.get_cepstrum(window="radial_hann", minimum=0.0, epsilon=0.5, power=True)
    np.testing.assert_array_equal(s.data, data)
    assert s.metadata.General.title == "scan"
    p = c.metadata.HyperspyManifold.cepstrum
    assert p.window == "radial_hann" and p.epsilon == 0.5 and p.power is True
    assert c.axes_manager.navigation_shape == s.axes_manager.navigation_shape


def test_windows_and_minimum_modes():
    rng = np.random.default_rng(0)
    s = _scan(rng.random((2, 2, 16, 16)) + 1)
    outs = {w: s.get_cepstrum(window=w).data for w in ("hann", "radial_hann", None)}
    assert not np.allclose(outs["hann"], outs[None])
    assert not np.allclose(outs["radial_hann"], outs["hann"])
    g = s.get_cepstrum(minimum="global").data
    p = s.get_cepstrum(minimum="pattern").data
    assert not np.allclose(g, p)
    pw = s.get_cepstrum(power=True).data
    np.testing.assert_allclose(pw, outs["hann"] ** 2, rtol=1e-4)


def test_uncalibrated_detector_gives_pixel_axes():
    s = hs.signals.Signal2D(np.ones((2, 8, 10)))
    c = hm.get_cepstrum(s)
    ax_x = c.axes_manager.signal_axes[0]
    assert ax_x.units == "px" and ax_x.scale == 1 and ax_x.offset == -5


def test_signal_mask_handles_bad_pixels():
    clean = spot_lattice((32, 32), g=(8, 8)) + 0.1
    hot = clean.copy()
    hot[3, 5] = np.nan
    hot[10, 20] = 1e9
    mask = np.zeros((32, 32), bool)
    mask[3, 5] = mask[10, 20] = True
    s = _scan([clean, hot])
    with pytest.raises(ValueError, match="NaN or infinite"):
        s.get_cepstrum()
    c = s.get_cepstrum(signal_mask=mask, minimum="pattern")
    assert np.isfinite(c.data).all()
    lazy = s.as_lazy().get_cepstrum(signal_mask=mask, minimum="pattern")
    np.testing.assert_allclose(lazy.data.compute(), c.data, rtol=1e-5)
    # the hot pixel no longer dominates: the two cepstra are close
    assert np.linalg.norm(c.data[1] - c.data[0]) < 0.2 * np.linalg.norm(c.data[0])


def test_lazy_nan_raises_at_compute():
    s = _scan(np.full((2, 2, 8, 8), np.nan)).as_lazy()
    with pytest.raises(ValueError, match="NaN or infinite"):
        s.get_cepstrum(minimum="pattern").compute()


@pytest.mark.parametrize(
    "make, kwargs, match",
    [
        (lambda: hs.signals.Signal1D(np.ones((3, 8))), {}, "2 signal axes"),
        (lambda: hs.signals.BaseSignal(np.ones((2, 3, 8, 8))).T, {}, "2 signal axes"),
        (
            lambda: _scan(np.ones((2, 8, 8))),
            {"signal_mask": np.ones((4, 4))},
            "signal_mask",
        ),
        (lambda: _scan(np.ones((2, 8, 8))), {"window": "kaiser"}, "window"),
        (lambda: _scan(np.ones((2, 8, 8))), {"epsilon": 0}, "epsilon"),
        (lambda: _scan(np.ones((2, 8, 8))), {"minimum": "median"}, "minimum"),
        (lambda: np.ones((2, 8, 8)), {}, "HyperSpy signal"),
    ],
)
def test_bad_input(make, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        hm.get_cepstrum(make(), **kwargs)


def test_non_uniform_axis_rejected():
    s = _scan(np.ones((2, 8, 8)))
    s.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    with pytest.raises(ValueError, match="non-uniform"):
        hm.get_cepstrum(s)


@pytest.mark.parametrize("lazy", [False, True])
def test_ring_features(lazy):
    dk = 0.02
    s = _scan([spot_lattice((32, 32), g=(8, 8))] * 3, dk=dk)
    c = s.as_lazy().get_cepstrum() if lazy else s.get_cepstrum()
    f = c.get_ring_features(2, 6, in_pixels=True)
    assert type(f).__name__ == ("Lazy" if lazy else "") + "Cepstrum1D"
    full = c.get_ring_features(2, 6, in_pixels=True, half_plane=False)
    n_half, n_full = f.axes_manager.signal_size, full.axes_manager.signal_size
    assert n_full == pytest.approx(2 * n_half, abs=4)
    r = np.hypot(*np.meshgrid(np.arange(32) - 16, np.arange(32) - 16))
    assert n_full == int(((r >= 2) & (r <= 6)).sum())
    # calibrated radii select the same annulus
    scale = c.axes_manager.signal_axes[0].scale
    g = c.get_ring_features(2 * scale, 6 * scale)
    np.testing.assert_allclose(np.asarray(g.data), np.asarray(f.data))
    md = f.metadata.HyperspyManifold.ring_features
    assert len(md.rows) == n_half
    # values are the cepstrum at the stored pixels
    cdata = np.asarray(c.data[0, ...] if not lazy else c.data[0].compute())
    np.testing.assert_allclose(np.asarray(f.data)[0], cdata[md.rows, md.cols])
    sq = c.get_ring_features(2, 6, in_pixels=True, sqrt=True)
    np.testing.assert_allclose(
        np.asarray(sq.data), np.sqrt(np.asarray(f.data)), rtol=1e-5
    )


@pytest.mark.parametrize(
    "inner, outer, match", [(5, 2, "inner < outer"), (100, 200, "no cepstrum pixel")]
)
def test_ring_features_bad_radii(inner, outer, match):
    c = _scan(np.ones((2, 16, 16))).get_cepstrum()
    with pytest.raises(ValueError, match=match):
        c.get_ring_features(inner, outer, in_pixels=True)


def test_dask_graph_keeps_navigation_chunks():
    data = da.random.random((6, 6, 16, 16), chunks=(4, 5, 16, 16))
    s = hs.signals.Signal2D(data).as_lazy()
    c = hm.get_cepstrum(s, minimum="pattern")
    assert c.data.chunks[:2] == ((4, 2), (5, 1))


def test_gaussian_window_is_one_at_the_centre_and_tapers_to_one_percent():
    w = cepstrum_window((33, 65), "gaussian")
    assert w.shape == (33, 65) and w[16, 32] == pytest.approx(1.0)
    np.testing.assert_allclose(w, w[::-1, ::-1], rtol=1e-6)  # symmetric
    # sigma is a sixth of each side: the edge row sits 6 * 16 / 33 sigma out
    edge_y, edge_x = (
        np.exp(-0.5 * (6 * 16 / 33) ** 2),
        np.exp(-0.5 * (6 * 32 / 65) ** 2),
    )
    assert w[0, 32] == pytest.approx(edge_y, rel=1e-5)
    assert w[0, 0] == pytest.approx(edge_y * edge_x, rel=1e-5)
    assert 0.005 < w[0, 32] < 0.02 and w[0, 0] < 1e-3


def test_gaussian_window_finds_the_lattice_peak_of_hann():
    from conftest import spot_lattice

    pattern = spot_lattice((64, 64), g=(8.0, 8.0)) + 0.01
    s = _scan(pattern[None, None].repeat(2, axis=1))
    peaks = {}
    for window in ("hann", "gaussian"):
        c = np.asarray(s.get_cepstrum(window=window).data)[0, 0].copy()
        c[28:37, 28:37] = 0  # the zero-quefrency peak
        peaks[window] = np.unravel_index(np.argmax(c), c.shape)
    assert peaks["gaussian"] == peaks["hann"]
    # the first lattice peak sits 64 / 8 = 8 pixels from the centre
    dy, dx = np.subtract(peaks["gaussian"], (32, 32))
    assert sorted((abs(dy), abs(dx))) in ([0, 8], [8, 8])


# --- one read for the features and their global minimum (issue 15, item 1) ---


def _chunked_counts(offset=0.0, lazy=True):
    """A (6, 8) scan of Poisson counts in four (3, 4) navigation chunks; the
    first chunk shifted by ``offset`` (its own minimum then above the others)."""
    rng = np.random.default_rng(7)
    data = rng.poisson(3.0, (6, 8, 32, 32)).astype(np.float32)
    data[:, 4:, 12, 12] += 60
    data[:3, :4] += offset
    return pattern_scan(data, lazy=lazy, chunks=(3, 4) if lazy else None)


def test_kernel_chunk_minimum_is_the_stack_minimum():
    rng = np.random.default_rng(8)
    x = rng.random((2, 3, 16, 16)).astype(np.float32) * 40 + 5
    np.testing.assert_array_equal(
        cepstrum(x, minimum="chunk"), cepstrum(x, minimum=float(x.min()), clip=False)
    )
    mask = np.zeros((16, 16), bool)
    mask[2, 3] = True
    x[..., 2, 3] = -1000.0  # a masked outlier: below the minimum of the rest
    np.testing.assert_array_equal(
        cepstrum(x, minimum="chunk", mask=mask),
        cepstrum(x, minimum=float(x[..., ~mask].min()), mask=mask, clip=True),
    )
    with pytest.raises(ValueError, match="`minimum` must be a number, 'chunk'"):
        cepstrum(x, minimum="global")


@pytest.mark.parametrize(
    "offset, reads", [(0.0, 1.0), (5.0, 1.25)], ids=["equal_minima", "one_above"]
)
def test_features_and_global_minimum_from_one_read(offset, reads):
    """The cepstrum features of the learning pipeline equal the two-pass answer
    (global minimum first, then the transform) while reading every chunk once,
    plus the one chunk whose own minimum is above the dataset's."""
    from hyperspy_manifold import _progress
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    s = _chunked_counts(offset)
    with _progress.count_data_reads() as counter:
        f = feature_signal(s, "cepstrum")
        X = feature_matrix(f, show_progressbar=False)
    assert counter.reads == pytest.approx(reads)
    with _progress.count_data_reads() as counter:
        expected = values(
            hm.get_cepstrum(s, show_progressbar=False).get_ring_features(
                3, 8, in_pixels=True, lazy_output=False
            )
        ).reshape(48, -1)
    assert counter.reads == pytest.approx(2.0)  # the old cost
    np.testing.assert_allclose(X, expected, rtol=1e-6, atol=0)
    # the signal kept in the result now holds the plain graph with the minimum
    assert f.metadata.HyperspyManifold.cepstrum.minimum_value == 0.0
    np.testing.assert_allclose(values(f).reshape(48, -1), expected, rtol=1e-6)


def test_chosen_rows_recompute_only_their_chunks():
    """Rows of the two left chunks, one of them above the global minimum: one
    read for all chunk minima and the rows, then the rows' one stale chunk."""
    from hyperspy_manifold import _progress
    from hyperspy_manifold.learn._features import feature_rows, feature_signal

    s = _chunked_counts(5.0)
    rows = np.ravel_multi_index(([0, 2, 4, 5], [1, 3, 0, 2]), (6, 8))
    with _progress.count_data_reads() as counter:
        X = feature_rows(feature_signal(s, "cepstrum"), rows, show_progressbar=False)
    assert counter.reads == pytest.approx(1.25)
    expected = values(
        hm.get_cepstrum(s, show_progressbar=False).get_ring_features(
            3, 8, in_pixels=True
        )
    ).reshape(48, -1)[rows]
    np.testing.assert_allclose(X, expected, rtol=1e-6, atol=0)


def test_one_read_with_signal_and_navigation_masks_and_eager_input():
    """Masked detector pixels are left out of every chunk minimum (here a dead
    pixel far below the data, and a NaN); excluded scan positions (NaN frames)
    are never transformed and come out NaN; eager input gives the same."""
    from hyperspy_manifold.learn._features import feature_rows, feature_signal

    s = _chunked_counts(5.0, lazy=False)
    data = s.data
    data[..., 0, 0] = -50.0
    data[..., 31, 31] = np.nan
    signal_mask = np.zeros((32, 32), bool)
    signal_mask[0, 0] = signal_mask[31, 31] = True
    navigation_mask = np.zeros((6, 8), bool)
    navigation_mask[4, 5] = navigation_mask[0, :2] = True
    data[navigation_mask] = np.nan
    filled = data.copy()  # what the two-pass route transformed: included copies
    filled[navigation_mask] = data[1, 0]
    expected = values(
        hm.get_cepstrum(
            pattern_scan(filled), signal_mask=signal_mask
        ).get_ring_features(3, 8, in_pixels=True)
    ).reshape(48, -1)
    expected[navigation_mask.ravel()] = np.nan
    for lazy in (False, True):
        scan = s.as_lazy() if lazy else s
        if lazy:
            scan.data = scan.data.rechunk((3, 4, -1, -1))
        f = feature_signal(
            scan,
            "cepstrum",
            signal_mask=signal_mask,
            navigation_mask=navigation_mask,
        )
        X = feature_rows(f, show_progressbar=False)  # NaN rows kept
        np.testing.assert_allclose(X, expected, rtol=1e-6, atol=0)


def test_one_read_refuses_non_finite_data_and_warns_for_a_large_epsilon():
    from hyperspy_manifold.learn._features import feature_matrix, feature_signal

    s = _chunked_counts()
    s.data = da.where(da.arange(48).reshape(6, 8, 1, 1) == 30, np.nan, s.data)
    with pytest.raises(ValueError, match="NaN or infinite"):
        feature_matrix(feature_signal(s, "cepstrum"), show_progressbar=False)
    tiny = _chunked_counts()
    tiny.data = tiny.data * np.float32(1e-9)
    with pytest.warns(UserWarning, match=r"`epsilon` \(0.1\) is more than 1000"):
        feature_matrix(feature_signal(tiny, "cepstrum"), show_progressbar=False)


@pytest.mark.parametrize("shape", [(32, 32), (31, 33), (30, 27)])
@pytest.mark.parametrize("power", [False, True])
def test_ring_pixels_from_the_half_plane_equal_the_full_plane(shape, power):
    """``pixels=``: any pixel of the fftshifted full plane (both halves, the
    Nyquist row and column of even sizes) read from the rfft2 half plane, bit
    for bit what the full plane holds."""
    rng = np.random.default_rng(1)
    patterns = rng.poisson(3.0, (5,) + shape).astype(np.float32)
    mask = np.zeros(shape, bool)
    mask[2, 3] = True
    kwargs = dict(window=cepstrum_window(shape, "hann"), power=power, mask=mask)
    full = cepstrum(patterns, **kwargs)
    rows, cols = np.nonzero(rng.random(shape) < 0.3)
    rows, cols = np.r_[rows, 0, 0], np.r_[cols, 0, shape[1] - 1]
    taken = cepstrum(patterns, pixels=(rows, cols), **kwargs)
    np.testing.assert_array_equal(taken, full[:, rows, cols])


def test_fused_ring_features_equal_the_ring_of_the_cepstrum():
    """The learner's cepstrum features (one kernel from patterns to ring pixels)
    are the ring features of ``get_cepstrum``, with the same metadata."""
    from hyperspy_manifold.learn._features import feature_signal

    s = _chunked_counts(5.0)
    f = feature_signal(s, "cepstrum", {"sqrt": True})
    f.compute()
    expected = hm.get_cepstrum(s).get_ring_features(3, 8, in_pixels=True, sqrt=True)
    np.testing.assert_array_equal(values(f), values(expected))
    for key in ("rows", "cols", "inner", "outer", "sqrt"):
        np.testing.assert_array_equal(
            f.metadata.HyperspyManifold.ring_features[key],
            expected.metadata.HyperspyManifold.ring_features[key],
        )
