"""ManifoldResult.subcluster: one cluster clustered again, the labels kept in a tree.

A simulated scan with a known answer: phase A (a square lattice) on the left
half, phase B (a rectangular lattice) on the right half in two orientations (0
and 35 degrees, top and bottom), Poisson noise.  Two clusters split A | B; the
sub-clustering of B finds its two orientations.
"""

import copy

import numpy as np
import pytest
from conftest import pattern_scan, spot_lattice
from sklearn.metrics import adjusted_rand_score

from hyperspy_manifold.learn._labels import MASKED, NOISE
from hyperspy_manifold.learn.manifold import cluster_result, manifold_decomposition
from hyperspy_manifold.plot.html_report import _tree_table, to_html
from hyperspy_manifold.plot.report import (
    figure_cluster_means,
    figure_label_map,
    save_results,
)

KMEANS = dict(features="raw", algorithm="kmeans", n_clusters=2, random_state=0)


def two_phase_scan(shape=(8, 10), seed=0):
    """Patterns and the 3-region truth: 0 = A, 1 = B at 0 deg, 2 = B at 35 deg."""
    ny, nx = shape
    truth = np.zeros(shape, dtype=int)
    truth[:, nx // 2 :] = 1
    truth[ny // 2 :, nx // 2 :] = 2
    patterns = np.stack(
        [
            spot_lattice((32, 32), g=(8, 8), sigma=1.2),
            spot_lattice((32, 32), g=(6, 10), sigma=1.2),
            spot_lattice((32, 32), g=(6, 10), sigma=1.2, angle=35),
        ]
    )
    rng = np.random.default_rng(seed)
    counts = rng.poisson(20 * patterns[truth] + 0.5).astype(np.float32)
    return pattern_scan(counts), truth


@pytest.fixture(scope="module")
def scan():
    s, truth = two_phase_scan()
    first = manifold_decomposition(s, return_info=True, **KMEANS)
    return s, truth, first


@pytest.fixture(scope="module")
def split(scan):
    s, truth, first = scan
    return first.subcluster(label_of_b(first, truth), s, **KMEANS)


def label_of_b(first, truth):
    return int(np.bincount(first.labels.data[truth > 0]).argmax())


def test_first_clustering_finds_the_two_phases(scan):
    s, truth, first = scan
    assert adjusted_rand_score((truth > 0).ravel(), first.labels.data.ravel()) == 1
    assert first.tree is None and first.names == ["0", "1"]


def test_subcluster_splits_b_into_its_orientations(scan):
    s, truth, first = scan
    b = label_of_b(first, truth)
    before_labels = first.labels.data.copy()
    before_params = copy.deepcopy(first.parameters)
    before_lr = s.learning_results
    before_data = s.data.copy()

    second = first.subcluster(b, s, **KMEANS)

    labels = second.labels.data
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.95
    assert second.n_clusters == 3 and second is not first
    # A keeps its id; B's child 0 keeps B's id, child 1 takes the new id K = 2
    a = 1 - b
    assert (labels[truth == 0] == a).all()
    children = {int(np.bincount(labels[truth == t]).argmax()) for t in (1, 2)}
    assert children == {b, 2}
    assert second.names[a] == str(a)
    assert sorted(second.names[i] for i in children) == [f"{b}.0", f"{b}.1"]
    nodes = {node["path"]: node for node in second.tree}
    assert nodes[str(b)]["id"] is None and nodes[str(b)]["size"] == 40
    assert nodes[str(b)]["children"] == [f"{b}.0", f"{b}.1"]
    assert nodes[f"{b}.0"]["id"] == b and nodes[f"{b}.1"]["id"] == 2
    assert {nodes[f"{b}.{j}"]["parent"] for j in (0, 1)} == {str(b)}
    assert sorted(nodes[f"{b}.{j}"]["size"] for j in (0, 1)) == [20, 20]
    assert nodes[str(a)] == {
        "path": str(a),
        "parent": None,
        "id": a,
        "size": 40,
        "children": [],
        "noise": 0,
    }
    # statistics of the new map, the tree in the parameters (so in summary.json)
    assert second.counts[a] == 40 and second.counts[b] == second.counts[2] == 20
    assert second.parameters["n_clusters"] == 3
    assert second.parameters["tree"] == second.tree
    assert second.parameters["subclusters"][0]["path"] == str(b)
    assert second.estimators["subclusters"][str(b)].n_clusters == 2
    # parent result, signal and its learning_results untouched
    np.testing.assert_array_equal(first.labels.data, before_labels)
    assert first.parameters == before_params and first.tree is None
    assert s.learning_results is before_lr
    np.testing.assert_array_equal(s.data, before_data)


def test_subcluster_recursion_keeps_ids_and_paths(scan, split):
    s, truth, first = scan
    b = label_of_b(first, truth)
    second = split
    third = second.subcluster(f"{b}.1", s, **KMEANS)

    assert third.n_clusters == 4
    names = third.names
    assert sorted(names) == sorted([str(1 - b), f"{b}.0", f"{b}.1.0", f"{b}.1.1"])
    nodes = {node["path"]: node for node in third.tree}
    assert nodes[f"{b}.1"]["id"] is None
    assert nodes[f"{b}.1"]["children"] == [f"{b}.1.0", f"{b}.1.1"]
    # the split child's id goes on to its child 0, the new child takes K = 3
    assert nodes[f"{b}.1.0"]["id"] == 2 and nodes[f"{b}.1.1"]["id"] == 3
    assert nodes[f"{b}.1.0"]["parent"] == f"{b}.1"
    # every leaf is exactly one cluster of the map, with its size
    labels = third.labels.data
    leaves = [node for node in third.tree if node["id"] is not None]
    assert sorted(node["id"] for node in leaves) == [0, 1, 2, 3]
    for node in leaves:
        assert (labels == node["id"]).sum() == node["size"]
        assert names[node["id"]] == node["path"]
    # only the members of the split cluster changed
    changed = third.labels.data != second.labels.data
    assert not changed[second.labels.data != 2].any()
    # the same split by its label as by its path
    by_label = second.subcluster(2, s, **KMEANS)
    np.testing.assert_array_equal(by_label.labels.data, labels)
    assert by_label.tree == third.tree
    assert [node["path"] for node in second.tree] == [str(i) for i in range(2)] + [
        f"{b}.0",
        f"{b}.1",
    ]


def test_hierarchical_names_in_figures_and_report(scan, split, tmp_path):
    import matplotlib.pyplot as plt

    s, truth, first = scan
    b = label_of_b(first, truth)
    second = split
    fig = figure_label_map(second)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == second.names and f"{b}.1" in legend
    fig = figure_cluster_means(second)
    titles = {ax.get_title() for ax in fig.axes}
    assert f"cluster {b}.1" in titles
    fig = second.plot()
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == second.names
    plt.close("all")
    page = to_html(second, tmp_path / "report.html", signal=s).read_text()
    assert 'id="hierarchy"' in page and f"cluster {b}.1" in page
    assert f"<th>{b}.1</th><td>{b}</td>" in _tree_table(second)
    info = save_results(second, tmp_path / "out", figures=False)
    assert info["parameters"]["tree"] == second.tree
    # the linked explorer names the clicked cluster by its path
    explorer = second.explore()
    leaf = int(np.flatnonzero(second.labels.data.ravel() == 2)[0])
    explorer.show_position(np.unravel_index(leaf, truth.shape))
    assert f"Mean of cluster {second.names[2]}" in explorer.ax_pattern.get_title()
    # a flat result: plain labels, no hierarchy section
    assert figure_label_map(first).axes[0].get_legend().get_texts()[1].get_text()
    assert _tree_table(first) == ""
    page = to_html(first, tmp_path / "flat.html").read_text()
    assert 'id="hierarchy"' not in page
    plt.close("all")


def test_subcluster_noise_becomes_noise_and_is_counted(monkeypatch):
    # members the sub-clustering calls noise become noise in the new map; the
    # sub-clustering is stood in for by a known labelling of the members
    import hyperspy_manifold.learn.manifold as manifold

    s, truth = two_phase_scan()
    parent = cluster_result(s, (truth > 0).astype(int))
    known = np.where(truth == 0, MASKED, truth - 1)
    known[0, 5:7] = NOISE

    def fake(signal, navigation_mask=None, return_info=False, **kwargs):
        np.testing.assert_array_equal(navigation_mask, truth == 0)
        return cluster_result(signal, known)

    monkeypatch.setattr(manifold, "manifold_decomposition", fake)
    child = parent.subcluster(1, s)
    labels = child.labels.data
    expected = np.select([truth == 0, known == NOISE, known == 0], [0, NOISE, 1], 2)
    np.testing.assert_array_equal(labels, expected)
    node = next(n for n in child.tree if n["path"] == "1")
    kids = [n for n in child.tree if n["parent"] == "1"]
    assert node["noise"] == 2 and node["size"] == 40
    assert [(n["path"], n["id"], n["size"]) for n in kids] == [
        ("1.0", 1, 18),
        ("1.1", 2, 20),
    ]
    assert child.noise_index == 3 and child.names == ["0", "1.0", "1.1"]


def test_subcluster_finding_no_cluster_is_named():
    s, truth = two_phase_scan()
    parent = cluster_result(s, (truth > 0).astype(int))
    with (
        pytest.warns(UserWarning, match="HDBSCAN labelled every one"),
        pytest.raises(ValueError, match=r"Sub-clustering cluster '1' found no cluster"),
    ):
        parent.subcluster(
            1, s, features="raw", min_cluster_size=40, min_samples=39, random_state=0
        )


@pytest.mark.parametrize(
    "label, error, match",
    [
        (7, ValueError, r"`label` must be a cluster label of the result \(0\.\.1\)"),
        (NOISE, ValueError, r"`label` -1 is noise"),
        (MASKED, ValueError, r"`label` -2 marks masked positions"),
        ("5.1", ValueError, r"`label` '5\.1' is no cluster path"),
        (1.0, TypeError, r"`label` must be a cluster label \(int\)"),
        (True, TypeError, r"`label` must be a cluster label \(int\)"),
    ],
)
def test_subcluster_bad_label(scan, label, error, match):
    s, _, first = scan
    with pytest.raises(error, match=match):
        first.subcluster(label, s, **KMEANS)


def test_subcluster_bad_input():
    s, truth = two_phase_scan(shape=(4, 4))
    labels = np.zeros((4, 4), dtype=int)
    labels[0, :2] = 1  # a cluster of two patterns
    labels[3, 3] = MASKED
    parent = cluster_result(s, labels)
    with pytest.raises(ValueError, match=r"Cluster '1' has 2 member\(s\)"):
        parent.subcluster(1, s, **KMEANS)
    with pytest.raises(ValueError, match=r"`signal` must be the clustered scan"):
        parent.subcluster(0, s.inav[:2], **KMEANS)
    with pytest.raises(TypeError, match=r"`navigation_mask` is set by `subcluster`"):
        parent.subcluster(0, s, navigation_mask=labels < 0, **KMEANS)
    with pytest.raises(TypeError, match=r"`return_info` is set by `subcluster`"):
        parent.subcluster(0, s, return_info=False, **KMEANS)
    split = parent.subcluster(0, s, **KMEANS)
    with pytest.raises(ValueError, match=r"`label` '0' is already split"):
        split.subcluster("0", s, **KMEANS)
    # the masked position stays masked
    assert split.labels.data[3, 3] == MASKED


def test_subcluster_of_a_lazy_scan(scan, split):
    s, truth, first = scan
    lazy = s.as_lazy()
    before = lazy.learning_results
    again = first.subcluster(label_of_b(first, truth), lazy, **KMEANS)
    np.testing.assert_array_equal(again.labels.data, split.labels.data)
    assert again.tree == split.tree
    assert lazy._lazy and lazy.learning_results is before
