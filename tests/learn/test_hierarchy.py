"""k-means + Ward merging (issue 14 item 2): the tree is Ward's, the automatic
cut finds the phases, any cut is read without refitting."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from test_estimator import _scan, _stripes

import hyperspy_manifold as hm
from hyperspy_manifold.learn.hierarchy import automatic_cut, cut_tree, ward_tree


def test_ward_tree_of_single_points_is_scipys_ward():
    points = np.random.default_rng(0).normal(size=(12, 3))
    ours = ward_tree(points, np.ones(12))
    theirs = linkage(points, "ward")
    np.testing.assert_allclose(ours[:, 2], theirs[:, 2], rtol=1e-10)
    np.testing.assert_array_equal(ours[:, 3], theirs[:, 3])


def test_weights_count_as_repeated_points():
    centroids = np.array([[0.0], [1.0], [10.0]])
    tree = ward_tree(centroids, np.array([5, 1, 1]))
    # the heavy cluster at 0 and the point at 1 merge first (cost 5/6 < 81/2)
    assert set(tree[0, :2].astype(int)) == {0, 1}
    assert tree[0, 2] == pytest.approx(np.sqrt(2 * 5 / 6))
    repeated = linkage(np.array([[0.0]] * 5 + [[1.0], [10.0]]), "ward")
    assert tree[-1, 2] == pytest.approx(repeated[-1, 2])


def test_cuts_and_the_automatic_cut():
    centroids = np.array([[0.0], [0.1], [5.0], [5.1], [20.0]])
    tree = ward_tree(centroids, np.ones(5))
    assert automatic_cut(tree, 4) == 3
    labels = cut_tree(tree, 5, 3)
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert len(set(labels)) == 3
    assert len(set(cut_tree(tree, 5, 5))) == 5 and len(set(cut_tree(tree, 5, 1))) == 1


@pytest.fixture(scope="module")
def hierarchy():
    layout = _stripes(3, shape=(12, 30))
    s = _scan(layout, seed=1)
    return hm.hierarchical_clustering(
        s, n_initial=12, random_state=0, show_progressbar=False
    ), layout


def test_automatic_cut_finds_the_phases(hierarchy):
    h, layout = hierarchy
    assert h.n_clusters == 3
    labels = h.labels()
    assert hm.adjusted_rand(layout.ravel(), np.asarray(labels.data).ravel()) >= 0.95
    assert labels.axes_manager.signal_axes[0].units == "nm"


def test_any_cut_without_refitting(hierarchy):
    h, layout = hierarchy
    two = np.asarray(h.labels(n_clusters=2).data)
    assert len(np.unique(two)) == 2
    three = np.asarray(h.labels().data)
    # the coarser cut merges whole clusters of the finer one
    for c in np.unique(three):
        assert len(np.unique(two[three == c])) == 1
    height = h.tree[-2, 2] * 1.0001  # just above the merge that leaves 2
    by_distance = np.asarray(h.labels(distance=height).data)
    assert hm.adjusted_rand(by_distance.ravel(), two.ravel()) == 1.0
    assert len(np.unique(h.labels(n_clusters=12).data)) == 12


def test_dendrogram_draws(hierarchy):
    h, _ = hierarchy
    fig = h.plot_dendrogram()
    assert "automatic cut" in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_masked_positions_stay_masked():
    layout = _stripes(3, shape=(6, 12))
    s = _scan(layout, seed=2)
    mask = np.zeros(layout.shape, bool)
    mask[0, :3] = True
    h = hm.hierarchical_clustering(s, n_initial=6, navigation_mask=mask, random_state=0)
    labels = np.asarray(h.labels().data)
    assert (labels[mask] == -2).all() and (labels[~mask] >= 0).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_initial": 1}, "n_initial"),
        ({"n_initial": 10_000}, "more than the"),
        ({"max_clusters": 0}, "max_clusters"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    s = _scan(_stripes(3, shape=(4, 6)), seed=3)
    with pytest.raises(ValueError, match=match):
        hm.hierarchical_clustering(s, **kwargs)


def test_bad_cut_is_named(hierarchy):
    h, _ = hierarchy
    with pytest.raises(ValueError, match="n_clusters"):
        h.labels(n_clusters=99)
    with pytest.raises(ValueError, match="not both"):
        h.labels(n_clusters=2, distance=1.0)
