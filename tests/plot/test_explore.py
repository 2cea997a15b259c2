"""The matplotlib explorer and its pure linking functions (plot/explore.py)."""

import dask.array as da
import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from matplotlib.path import Path

from hyperspy_manifold.learn._result import ManifoldResult
from hyperspy_manifold.plot.colours import label_rgba
from hyperspy_manifold.plot.explore import (
    ManifoldExplorer,
    cluster_mean_of_selection,
    highlight_image,
    log_scale,
    mean_of_selection,
    navigation_extent,
    position_at,
    select_in_embedding,
)

NAV = (6, 8)  # (ny, nx)
DET = (5, 7)  # (ky, kx)
SCALE, OFFSET = 2.0, 10.0  # nm


def _calibrate(axes_from, axes_to):
    for src, dst in zip(axes_from, axes_to):
        dst.name, dst.scale, dst.offset, dst.units = (
            src.name,
            src.scale,
            src.offset,
            src.units,
        )


def make_scan():
    """Three domains (left, right-top, right-bottom) with distinct patterns."""
    rng = np.random.default_rng(0)
    labels = np.zeros(NAV, dtype=np.int64)
    labels[:3, 4:] = 1
    labels[3:, 4:] = 2
    base = rng.uniform(0, 10, (3,) + DET)
    data = base[labels] + rng.normal(0, 0.5, NAV + DET)
    s = hs.signals.Signal2D(data)
    for ax, name in zip(s.axes_manager.navigation_axes, ("x", "y")):
        ax.name, ax.scale, ax.offset, ax.units = name, SCALE, OFFSET, "nm"
    for ax, name in zip(s.axes_manager.signal_axes, ("kx", "ky")):
        ax.name, ax.scale, ax.offset, ax.units = name, 0.1, -0.3, "1/Å"
    labels[0, 0] = -1  # noise
    labels[5, 7] = -2  # masked
    return s, labels


def make_result(s, labels):
    """A ``ManifoldResult`` with one embedding blob per cluster, noise at the origin."""
    rng = np.random.default_rng(1)
    centres = np.array([[-5.0, 0.0], [5.0, 5.0], [5.0, -5.0]])
    flat = labels.ravel()
    emb = np.zeros((flat.size, 2))
    members = flat >= 0
    emb[members] = centres[flat[members]] + rng.normal(0, 0.5, (members.sum(), 2))
    emb[flat == -2] = np.nan
    patterns = np.asarray(s.data, dtype=np.float64).reshape((-1,) + DET)
    rows = [flat == k for k in range(3)] + [flat == -1]
    means = np.stack([patterns[r].mean(axis=0) for r in rows])
    global_mean = patterns[flat != -2].mean(axis=0)

    def stack(data, title):
        out = hs.signals.Signal2D(data)
        _calibrate(s.axes_manager.signal_axes, out.axes_manager.signal_axes)
        out.metadata.General.title = title
        return out

    def nav_map(data, title):
        out = s._get_navigation_signal(data=data)
        out.metadata.General.title = title
        return out

    embedding = hs.signals.Signal1D(emb.reshape(NAV + (2,)))
    _calibrate(s.axes_manager.navigation_axes, embedding.axes_manager.navigation_axes)
    return ManifoldResult(
        labels=nav_map(labels, "labels"),
        embedding=embedding,
        probabilities=nav_map(np.ones(NAV), "probabilities"),
        cluster_means=stack(means, "means"),
        cluster_stds=stack(np.zeros_like(means), "stds"),
        mean_minus_global=stack(means - global_mean, "difference"),
        global_mean=stack(global_mean, "global mean"),
        counts=np.array([r.sum() for r in rows]),
        n_clusters=3,
        noise_index=3,
        parameters={"algorithm": "hdbscan"},
    )


@pytest.fixture
def scan():
    s, labels = make_scan()
    return s, labels, make_result(s, labels)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ pure functions


def test_select_in_embedding_rectangle_polygon_and_path():
    emb = np.array(
        [
            [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
            [[3.0, 0.5], [np.nan, np.nan], [1.0, 3.0]],
        ]
    )
    rect = select_in_embedding(emb, (0.5, 2.0, 0.5, 2.0))  # edges included
    np.testing.assert_array_equal(rect, [[False, True, True], [False, False, False]])
    # reversed corners select the same
    np.testing.assert_array_equal(select_in_embedding(emb, (2.0, 0.5, 2.0, 0.5)), rect)
    triangle = [(-0.5, -0.75), (3.5, -0.75), (3.5, 3.25)]  # below y = x - 0.25
    expected = [[False, False, False], [True, False, False]]
    np.testing.assert_array_equal(select_in_embedding(emb, triangle), expected)
    np.testing.assert_array_equal(select_in_embedding(emb, Path(triangle)), expected)
    # the NaN (masked) point is never selected, even by a rectangle over everything
    everything = select_in_embedding(emb, (-1e9, 1e9, -1e9, 1e9))
    assert everything.sum() == 5 and not everything[1, 1]


def test_select_in_embedding_signal_and_one_component(scan):
    s, labels, result = scan
    mask = select_in_embedding(result.embedding, (-8, -2, -3, 3))
    assert mask.shape == NAV
    np.testing.assert_array_equal(mask, labels == 0)
    line = np.array([[0.0], [1.0], [2.0], [3.0]])  # one component: y = 0
    np.testing.assert_array_equal(
        select_in_embedding(line, (0.5, 2.5, -1, 1)), [False, True, True, False]
    )


def test_select_in_embedding_rejects_bad_selection():
    with pytest.raises(ValueError, match="`selection` must be a rectangle"):
        select_in_embedding(np.zeros((3, 2)), [(0, 0), (1, 1)])


def test_position_at_calibrated_coordinates(scan):
    _, _, result = scan
    x, y = OFFSET + 3 * SCALE, OFFSET + 1 * SCALE
    assert position_at(result.labels, x, y) == (1, 3)  # array order (iy, ix)
    assert position_at(result.labels, x + 0.9, y - 0.9) == (1, 3)  # same pixel
    assert position_at(result.labels, OFFSET - 5, y) is None
    assert position_at(result.labels, x, OFFSET + 99) is None
    line = hs.signals.Signal1D(np.zeros(5))
    line.axes_manager[0].scale = 0.5
    assert position_at(line, 1.0) == (2,)
    with pytest.raises(ValueError, match="one coordinate per scan axis"):
        position_at(result.labels, x)


def test_navigation_extent_is_calibrated_pixel_edges(scan):
    _, _, result = scan
    h = SCALE / 2
    assert navigation_extent(result.labels) == pytest.approx(
        (OFFSET - h, OFFSET + 7 * SCALE + h, OFFSET + 5 * SCALE + h, OFFSET - h)
    )


def test_highlight_image_fades_only_unselected(scan):
    _, labels, _ = scan
    base = label_rgba(labels)
    np.testing.assert_allclose(base[5, 7], [1, 1, 1, 1])  # masked: white
    np.testing.assert_allclose(base[0, 0, :3], [0.75] * 3)  # noise: grey
    np.testing.assert_allclose(highlight_image(labels), base)  # nothing selected
    mask = labels == 1
    image = highlight_image(labels, mask)
    assert image.shape == NAV + (4,)
    np.testing.assert_allclose(image[mask], base[mask])
    faded = ~mask & (labels != -2)
    # every unselected colour moved towards white, none of the selected
    assert np.all(image[faded, :3].sum(-1) > base[faded, :3].sum(-1))
    assert highlight_image(labels[0], mask[0]).shape == (1, NAV[1], 4)  # line scan
    with pytest.raises(ValueError, match="navigation shape"):
        highlight_image(labels, mask[:2])


@pytest.mark.parametrize("lazy", [False, True])
def test_mean_of_selection_matches_numpy(scan, lazy):
    s, labels, _ = scan
    mask = np.zeros(NAV, dtype=bool)
    mask[1:4, 2:7] = True
    expected = np.asarray(s.data)[mask].mean(axis=0)
    signal = s.as_lazy() if lazy else s
    if lazy:
        signal.data = signal.data.rechunk((2, 3, -1, -1))
    np.testing.assert_allclose(mean_of_selection(signal, mask), expected)
    with pytest.raises(ValueError, match="selects no scan position"):
        mean_of_selection(signal, np.zeros(NAV, dtype=bool))
    with pytest.raises(ValueError, match="navigation shape"):
        mean_of_selection(signal, mask.T)


class RecordingArray:
    """Array-like that records every region dask reads from it."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self.reads = []

    def __getitem__(self, key):
        self.reads.append(tuple((k.start, k.stop) for k in key[:2]))
        return self.array[key]


def test_mean_of_selection_reads_only_chunks_with_selected_positions(scan):
    s, _, _ = scan
    recorder = RecordingArray(np.asarray(s.data))
    lazy = hs.signals.Signal2D(da.from_array(recorder, chunks=(3, 4, -1, -1))).as_lazy()
    assert lazy.data.numblocks[:2] == (2, 2)
    recorder.reads.clear()  # dask reads an empty slice to learn the dtype
    mask = np.zeros(NAV, dtype=bool)
    mask[0, 5] = mask[2, 6] = True  # both in chunk (0, 1): rows 0-2, columns 4-7
    mean = mean_of_selection(lazy, mask)
    np.testing.assert_allclose(mean, np.asarray(s.data)[mask].mean(axis=0))
    assert set(recorder.reads) == {((0, 3), (4, 8))}
    recorder.reads.clear()
    mask[4, 0] = True  # add chunk (1, 0)
    mean_of_selection(lazy, mask)
    assert set(recorder.reads) == {((0, 3), (4, 8)), ((3, 6), (0, 4))}


def test_cluster_mean_of_selection_weights_cluster_means(scan):
    _, labels, result = scan
    means = np.asarray(result.cluster_means.data)
    np.testing.assert_allclose(cluster_mean_of_selection(result, labels == 2), means[2])
    mask = (labels == 0) | (labels == -1) | (labels == -2)
    n0, n_noise = (labels == 0).sum(), (labels == -1).sum()
    expected = (n0 * means[0] + n_noise * means[3]) / (n0 + n_noise)  # masked: ignored
    np.testing.assert_allclose(cluster_mean_of_selection(result, mask), expected)
    with pytest.raises(ValueError, match="no clustered position"):
        cluster_mean_of_selection(result, labels == -2)


# ---------------------------------------------------------------- the explorer


def _mouse(fig, ax, name, xy, button=1):
    """Send a mouse event at data coordinates ``xy`` of ``ax`` through the canvas."""
    fig.canvas.draw()
    x, y = ax.transData.transform(xy)
    fig.canvas.callbacks.process(name, MouseEvent(name, fig.canvas, x, y, button))


def _drag(fig, ax, points):
    _mouse(fig, ax, "button_press_event", points[0])
    for point in points[1:]:
        _mouse(fig, ax, "motion_notify_event", point)
    _mouse(fig, ax, "button_release_event", points[-1])


def test_explorer_lasso_highlights_map_and_shows_selection_mean(scan):
    s, labels, result = scan
    explorer = result.explore(signal=s)
    assert isinstance(explorer, ManifoldExplorer)
    lasso = [(3, 3), (6, 3), (6, 6), (3, 6), (3, 3.5)]  # around cluster 1
    _drag(explorer.figure, explorer.ax_embedding, lasso)
    np.testing.assert_array_equal(explorer.mask, labels == 1)
    np.testing.assert_allclose(
        explorer._map.get_array(), highlight_image(labels, labels == 1)
    )
    expected = mean_of_selection(s, labels == 1)
    np.testing.assert_allclose(explorer._pattern.get_array(), log_scale(expected))
    assert "Mean of 12 selected patterns" in explorer.ax_pattern.get_title()


def test_explorer_rectangle_drag_on_lazy_signal(scan):
    s, labels, result = scan
    explorer = ManifoldExplorer(result, signal=s.as_lazy(), selector="rectangle")
    _drag(explorer.figure, explorer.ax_embedding, [(3, -6), (6, -3)])  # cluster 2
    np.testing.assert_array_equal(explorer.mask, labels == 2)
    expected = np.asarray(s.data)[labels == 2].mean(axis=0)
    np.testing.assert_allclose(explorer._pattern.get_array(), log_scale(expected))


def test_explorer_click_in_map_marks_point_and_shows_pattern(scan):
    s, labels, result = scan
    explorer = result.explore(signal=s)
    iy, ix = 4, 6
    xy = (OFFSET + ix * SCALE + 0.3, OFFSET + iy * SCALE - 0.4)
    _mouse(explorer.figure, explorer.ax_map, "button_press_event", xy)
    assert explorer.position == (iy, ix)
    point = np.asarray(result.embedding.data)[iy, ix]
    np.testing.assert_allclose(
        np.ravel(explorer._embedding_marker.get_data()), point, rtol=1e-12
    )
    np.testing.assert_allclose(
        explorer._pattern.get_array(), log_scale(np.asarray(s.data)[iy, ix])
    )
    # a click in another panel, or with another button, changes nothing
    _mouse(explorer.figure, explorer.ax_map, "button_press_event", xy, button=3)
    _mouse(explorer.figure, explorer.ax_pattern, "button_press_event", (0, 0))
    assert explorer.position == (iy, ix)


def test_explorer_without_signal_uses_cluster_means(scan):
    _, labels, result = scan
    explorer = result.explore()
    means = np.asarray(result.cluster_means.data)
    explorer.show_position((0, 0))  # noise: the noise row
    np.testing.assert_allclose(explorer._pattern.get_array(), log_scale(means[3]))
    assert "noise" in explorer.ax_pattern.get_title()
    explorer.select((-8, -2, -3, 3))
    np.testing.assert_allclose(explorer._pattern.get_array(), log_scale(means[0]))
    before = explorer._pattern.get_array().copy()
    assert explorer.show_position((5, 7)) is None  # masked: no pattern
    np.testing.assert_allclose(explorer._pattern.get_array(), before)


def test_explorer_rejects_bad_arguments(scan):
    s, _, result = scan
    with pytest.raises(ValueError, match="`selector` must be one of"):
        result.explore(selector="circle")
    with pytest.raises(ValueError, match="navigation shape of the result"):
        result.explore(signal=s.inav[:3])


def test_explorer_on_a_line_scan(scan):
    s, labels, result = scan
    line = ManifoldResult(
        labels=result.labels.isig[:, 3],
        embedding=result.embedding.inav[:, 3],
        probabilities=result.probabilities.isig[:, 3],
        cluster_means=result.cluster_means,
        cluster_stds=result.cluster_stds,
        mean_minus_global=result.mean_minus_global,
        global_mean=result.global_mean,
        counts=result.counts,
        n_clusters=3,
        noise_index=3,
    )
    signal = s.inav[:, 3]
    explorer = line.explore(signal=signal)
    assert explorer._map.get_array().shape == (1, NAV[1], 4)
    # the single row is stretched to a visible strip, without meaningless y ticks
    assert explorer.ax_map.get_box_aspect() == 0.15
    assert list(explorer.ax_map.get_yticks()) == []
    fig = line.plot()
    map_axes = fig.axes[1]
    assert map_axes.get_box_aspect() == 0.15
    assert list(map_axes.get_yticks()) == []
    np.testing.assert_array_equal(map_axes.images[0].get_array().shape, (1, NAV[1], 4))
    _mouse(explorer.figure, explorer.ax_map, "button_press_event", (OFFSET + 12, 0.2))
    assert explorer.position == (6,)
    np.testing.assert_allclose(
        explorer._pattern.get_array(), log_scale(np.asarray(signal.data)[6])
    )
    np.testing.assert_array_equal(explorer.select((-8, -2, -3, 3)), labels[3] == 0)
