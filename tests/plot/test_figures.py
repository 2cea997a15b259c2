"""Figures a microscopist can read (issue 13, item 14): calibrated axes, colour
bars, a gamma scale, a grid layout, the direct beam masked in differences, a
scale bar on line scans and a warning when the chosen k sits at a range edge."""

import warnings
from types import SimpleNamespace

import hyperspy.api as hs
import numpy as np
import pytest
from conftest import pattern_scan

import hyperspy_manifold as hm
from hyperspy_manifold.learn._labels import MASKED, NOISE
from hyperspy_manifold.plot.colours import (
    LEGEND_MAX_CLUSTERS,
    MASKED_COLOR,
    NOISE_COLOR,
    label_rgba,
    legend_handles,
)
from hyperspy_manifold.plot.report import (
    GRID_COLUMNS,
    direct_beam_mask,
    figure_cluster_means,
    figure_k_scan,
    figure_label_map,
    figure_overview,
    figure_similarity,
    k_at_edge,
)

K_SCALE, K_UNITS = 0.02, "Å^-1"


def _disk(shape, centre, radius, height):
    y, x = np.mgrid[: shape[0], : shape[1]]
    return height * ((y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2)


def _scan(n_regions, line=False, size=8):
    """Regions of different spot patterns around a strong direct beam."""
    shape = (32, 32)
    ny = 1 if line else size
    nx = size * n_regions
    data = np.zeros((ny, nx) + shape)
    beam = _disk(shape, (16, 16), 3, 1000.0)
    for region in range(n_regions):
        spot = (4 + 3 * region % 24, 4 + (7 * region) % 24)
        data[:, region * size : (region + 1) * size] = beam + _disk(shape, spot, 1, 30)
    data += np.random.default_rng(0).poisson(1.0, data.shape)
    s = pattern_scan(data[0] if line else data, scale=K_SCALE, units=K_UNITS)
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.units = 1.5, "nm"
    return s


def _result(n_regions, line=False):
    s = _scan(n_regions, line=line)
    return s, hm.manifold_decomposition(
        s,
        algorithm="kmeans",
        n_clusters=n_regions,
        random_state=0,
        return_info=True,
        show_progressbar=False,
    )


@pytest.fixture(scope="module")
def eight():
    return _result(8)


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def test_direct_beam_mask_covers_the_beam_not_the_spots():
    pattern = _disk((64, 64), (30, 34), 5, 100.0) + _disk((64, 64), (10, 10), 2, 8.0)
    mask = direct_beam_mask(pattern)
    assert mask[30, 34] and mask[30, 39] and mask[25, 34]
    assert not mask[10, 10]
    assert mask.sum() < 4 * np.pi * 5**2


def test_direct_beam_mask_of_flat_or_bad_pattern_is_empty():
    assert not direct_beam_mask(np.ones((8, 8))).any()
    assert not direct_beam_mask(np.full((8, 8), np.nan)).any()


def test_cluster_means_grid_is_calibrated_with_colour_bars(eight):
    from matplotlib.colors import PowerNorm

    s, r = eight
    fig = figure_cluster_means(r)
    panels = _image_axes(fig)
    n_rows = r.n_clusters + (r.noise_index is not None)
    assert len(panels) == 2 * n_rows
    # at most GRID_COLUMNS panels per row: 8 clusters wrap onto two rows per stack
    assert len(fig.axes) - len(panels) - 2 == 2 * (2 * GRID_COLUMNS - n_rows)
    ax_x, ax_y = s.axes_manager.signal_axes
    left, right, bottom, top = panels[0].images[0].get_extent()
    assert left == pytest.approx(ax_x.axis[0] - K_SCALE / 2)
    assert right == pytest.approx(ax_x.axis[-1] + K_SCALE / 2)
    assert top == pytest.approx(ax_y.axis[0] - K_SCALE / 2)
    assert any(K_UNITS in ax.get_xlabel() for ax in panels)
    assert isinstance(panels[0].images[0].norm, PowerNorm)
    colour_bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 2


def test_difference_panels_mask_the_direct_beam(eight):
    _, r = eight
    fig = figure_cluster_means(r)
    n_rows = r.n_clusters + (r.noise_index is not None)
    diff_image = _image_axes(fig)[n_rows].images[0]
    shown = diff_image.get_array()
    assert np.ma.is_masked(shown) and shown.mask[16, 16]
    # the colour scale is set by the diffraction, not by the beam
    beam_diff = np.abs(np.asarray(r.mean_minus_global.data)[:, 14:19, 14:19]).max()
    assert diff_image.norm.vmax < beam_diff or beam_diff < 1
    assert diff_image.norm.vmin == -diff_image.norm.vmax


def test_similarity_figure_has_calibrated_maps_and_colour_bar(eight):
    s, r = eight
    sim = hm.get_similarity_loadings(s, r, show_progressbar=False)
    fig = figure_similarity(r, sim)
    panels = _image_axes(fig)
    assert len(panels) == sim.data.shape[0]
    left, right, _, _ = panels[0].images[0].get_extent()
    nav_x = s.axes_manager.navigation_axes[0]
    assert right - left == pytest.approx(nav_x.size * nav_x.scale)
    assert any("nm" in ax.get_xlabel() for ax in panels)
    assert [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_line_scan_figures_have_a_scale_bar_and_draw():
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    s, r = _result(3, line=True)
    fig = figure_label_map(r)
    bars = [a for a in fig.axes[0].artists if isinstance(a, AnchoredSizeBar)]
    assert bars and "nm" in bars[0].txt_label.get_text()
    sim = hm.get_similarity_loadings(s, r, show_progressbar=False)
    for fig in (figure_similarity(r, sim), figure_cluster_means(r)):
        fig.canvas.draw()


class _KScanResult:
    def __init__(self, chosen, k=(5, 10, 20, 40), min_samples=5):
        self.k_scan = hs.signals.Signal1D(np.array([9.0, 6, 4, 2]))
        self.k_scan.axes_manager.signal_axes[0].axis = np.asarray(k, dtype=float)
        axis = self.k_scan.axes_manager.signal_axes[0]
        axis.convert_to_non_uniform_axis()
        axis.axis = np.asarray(k, dtype=float)
        self.k_model = None
        self.parameters = {"min_cluster_size": chosen, "min_samples": min_samples}


@pytest.mark.parametrize(
    "chosen, min_samples, edge",
    [(40, 5, "upper"), (5, 2, "lower"), (5, 5, None), (10, 5, None)],
)
def test_k_scan_edge_is_detected(chosen, min_samples, edge):
    assert k_at_edge(_KScanResult(chosen, min_samples=min_samples)) == edge


def test_k_scan_figure_warns_at_the_upper_edge():
    with pytest.warns(UserWarning, match="upper edge of the scanned range"):
        fig = figure_k_scan(_KScanResult(40))
    assert "k_range" in fig.axes[0].get_title()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure_k_scan(_KScanResult(10))


def _labelled(labels):
    """A result holding a label map, a 2D embedding and no tree."""
    labels = np.asarray(labels)
    result = SimpleNamespace(
        labels=hs.signals.Signal2D(labels),
        embedding=hs.signals.Signal1D(
            np.random.default_rng(0).random(labels.shape + (2,))
        ),
        n_clusters=int(labels.max()) + 1,
        tree=None,
    )
    return result


def test_label_map_and_plot_legends_name_the_same_colours():
    import matplotlib.pyplot as plt

    result = _labelled([[0, 0, 1, 1], [-1, 1, 0, -2]])
    expected = label_rgba(np.array([0, 1, NOISE, MASKED]))
    for fig, panel in ((figure_label_map(result), 0), (figure_overview(result), 1)):
        legend = fig.axes[panel].get_legend()
        assert [t.get_text() for t in legend.get_texts()] == [
            "0",
            "1",
            "noise",
            "masked",
        ]
        colours = [h.get_facecolor() for h in legend.legend_handles]
        np.testing.assert_allclose(colours, expected)
        plt.close(fig)
    assert tuple(expected[2]) == NOISE_COLOR and tuple(expected[3]) == MASKED_COLOR


def test_legend_names_the_first_clusters_of_a_fine_clustering():
    result = _labelled(np.arange(30).reshape(5, 6))
    names = [h.get_label() for h in legend_handles(result)]
    assert names == [str(i) for i in range(LEGEND_MAX_CLUSTERS)]
