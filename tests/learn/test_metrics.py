"""Scores on hand-made label maps with known answers (learn/metrics.py)."""

import hyperspy.api as hs
import numpy as np
import pytest

from hyperspy_manifold.learn.metrics import (
    GRAIN_TABLE_DTYPE,
    adjusted_rand,
    cluster_dissimilarity,
    nmi,
    precision_any,
    tpr_per_grain,
)

# Truth: grains 0 and 1, "no grain" (-1) on the right column.
TRUTH = np.array(
    [
        [0, 0, 1, -1],
        [0, 0, 1, -1],
        [0, 1, 1, -1],
    ]
)


# ------------------------------------------------------------------------- precision_A


def test_precision_any_known_value():
    pred = np.array(
        [
            [5, 5, 7, 7],  # one false positive at (0, 3)
            [5, -1, 7, -1],  # a missed grain position does not lower precision
            [5, 7, 7, -1],
        ]
    )
    # Predicted positive: 9 positions, 8 of them on grains.
    assert precision_any(pred, TRUTH) == pytest.approx(8 / 9)


def test_precision_any_masks_backgrounds_and_booleans():
    pred = np.array([[3, 3, -2], [-1, 3, 3]])
    truth = np.array([[0, 9, 0], [9, 0, 0]])  # 9 = amorphous in the truth
    # (0, 2) masked in pred; positives (0,0) (0,1) (1,1) (1,2): one on amorphous.
    assert precision_any(pred, truth, truth_background=9) == pytest.approx(3 / 4)
    # Boolean maps are "any grain" directly.
    assert precision_any(pred >= 0, truth != 9) == pytest.approx(3 / 4)
    # Nothing predicted: precision 0, not a division error.
    assert precision_any(np.full((2, 3), -1), truth, truth_background=9) == 0.0


# ----------------------------------------------------------------------------- TPR_G


def test_tpr_per_grain_known_table():
    pred = np.array(
        [
            [5, 5, 7, -1],
            [5, 7, 7, -1],
            [5, 7, 7, 7],
        ]
    )
    table, mean_tpr = tpr_per_grain(pred, TRUTH)
    assert table.dtype == GRAIN_TABLE_DTYPE
    assert table["grain"].tolist() == [0, 1]
    assert table["size"].tolist() == [5, 4]
    assert table["matched_class"].tolist() == [5, 7]
    assert table["overlap"].tolist() == [4, 4]
    np.testing.assert_allclose(table["tpr"], [4 / 5, 1.0])
    assert mean_tpr == pytest.approx(0.9)


def test_tpr_one_to_one_penalises_a_single_class():
    everything = np.zeros_like(TRUTH)
    _, best = tpr_per_grain(everything, TRUTH)
    table, one = tpr_per_grain(everything, TRUTH, matching="one_to_one")
    assert best == pytest.approx(1.0)  # the paper's definition: both grains match 0
    # One class can serve one grain only: grain 0 (5 positions) gets it.
    assert table["matched_class"].tolist() == [0, -1]
    assert one == pytest.approx(0.5)


def test_tpr_no_overlap_and_masks():
    pred = np.full(TRUTH.shape, -1)
    table, mean_tpr = tpr_per_grain(pred, TRUTH)
    assert table["matched_class"].tolist() == [-1, -1]
    assert mean_tpr == 0.0
    # Masked positions (-2) leave the grain sizes.
    truth = TRUTH.copy()
    truth[0, 0] = -2
    table, _ = tpr_per_grain(np.zeros_like(truth), truth)
    assert table["size"].tolist() == [4, 4]
    with pytest.raises(ValueError, match="no grain"):
        tpr_per_grain(pred, np.full(TRUTH.shape, -1))


# ------------------------------------------------------------------------ ARI and NMI


def test_adjusted_rand_and_nmi_permutation_invariant():
    truth = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    pred = np.array([4, 4, 4, 0, 0, 0, 9, 9])
    assert adjusted_rand(pred, truth) == pytest.approx(1.0)
    assert nmi(pred, truth) == pytest.approx(1.0)


def test_noise_own_class_or_ignored():
    truth = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, -1, 1, 1, -1])
    # Ignoring noise leaves a perfect match.
    assert adjusted_rand(pred, truth, noise="ignore") == pytest.approx(1.0)
    assert nmi(pred, truth, noise="ignore") == pytest.approx(1.0)
    # As its own class the noise costs: sklearn on the same three-class labelling.
    from sklearn.metrics import adjusted_rand_score

    expected = adjusted_rand_score(truth, pred)
    assert adjusted_rand(pred, truth) == pytest.approx(expected)
    assert adjusted_rand(pred, truth) < 1.0
    assert nmi(pred, truth) < 1.0


def test_masked_positions_are_excluded():
    truth = np.array([0, 0, 1, 1, 1])
    pred = np.array([0, 0, 1, 1, -2])
    wrong = np.array([0, 0, 1, 1, 0])
    assert adjusted_rand(pred, truth) == pytest.approx(1.0)
    assert adjusted_rand(wrong, truth) < 1.0
    assert adjusted_rand(wrong, truth, mask_value=None) < 1.0


def test_signals_and_lazy_signals_are_accepted():
    pred = hs.signals.Signal2D(np.array([[1, 1], [0, 0]]))
    truth = hs.signals.Signal2D(np.array([[0, 0], [1, 1]])).as_lazy()
    assert adjusted_rand(pred, truth) == pytest.approx(1.0)
    _, mean_tpr = tpr_per_grain(pred, truth)
    assert mean_tpr == pytest.approx(1.0)


@pytest.mark.parametrize("func", [precision_any, tpr_per_grain, adjusted_rand, nmi])
def test_bad_label_maps(func):
    with pytest.raises(ValueError, match="same shape"):
        func(np.zeros((2, 3), int), np.zeros((3, 2), int))
    with pytest.raises(ValueError, match="integer"):
        func(np.full((2, 2), 0.5), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="masked"):
        func(np.full((2, 2), -2), np.zeros((2, 2), int))


def test_bad_choices():
    with pytest.raises(ValueError, match="noise"):
        adjusted_rand([0, 1], [0, 1], noise="drop")
    with pytest.raises(ValueError, match="matching"):
        tpr_per_grain([0, 1], [0, 1], matching="greedy")


# ---------------------------------------------------------------------- dissimilarity


def test_cluster_dissimilarity_known_values():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    D = cluster_dissimilarity(X, labels=[0, 0, 1, 1])
    # Cluster 0 identical members; cluster 1 members 0.5 from their mean, / sqrt(2).
    np.testing.assert_allclose(D, [0.0, 0.5 / np.sqrt(2)])
    # Noise and masked positions belong to no cluster.
    D = cluster_dissimilarity(X, labels=[0, 0, -1, -2])
    np.testing.assert_allclose(D, [0.0])


def test_cluster_dissimilarity_weights_and_scaling():
    X = np.array([[0.0, 0.0], [2.0, 4.0], [2.0, 0.0]])
    # One-hot weights reproduce labels; scaling makes the units irrelevant.
    w = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        cluster_dissimilarity(X, weights=w), cluster_dissimilarity(X, labels=[0, 0, 1])
    )
    np.testing.assert_allclose(
        cluster_dissimilarity(10 * X, weights=w), cluster_dissimilarity(X, weights=w)
    )
    # Scaled features [[0,0],[1,1],[1,0]]: a cluster of positions 0 and 1 weighted 3:1
    # has mean (0.25, 0.25); distances 0.25*sqrt2 and 0.75*sqrt2.
    D = cluster_dissimilarity(X, weights=np.array([[3.0, 1.0, 0.0]]))
    expected = (3 * 0.25 * np.sqrt(2) + 0.75 * np.sqrt(2)) / (4 * np.sqrt(2))
    np.testing.assert_allclose(D, [expected])
    # NaN (masked) weights count as zero; an empty map has no dissimilarity.
    D = cluster_dissimilarity(X, weights=np.array([[1.0, 1.0, np.nan], [0, 0, 0]]))
    np.testing.assert_allclose(D[0], cluster_dissimilarity(X, labels=[0, 0, -1])[0])
    assert np.isnan(D[1])


def test_cluster_dissimilarity_signals():
    rng = np.random.default_rng(0)
    patterns = hs.signals.Signal2D(rng.random((3, 4, 5, 5)))
    labels = hs.signals.Signal2D(np.array([[0, 0, 1, 1]] * 3))
    D = cluster_dissimilarity(patterns, labels=labels)
    flat = patterns.data.reshape(12, 25)
    np.testing.assert_allclose(
        D, cluster_dissimilarity(flat, labels=labels.data.ravel())
    )
    loadings = hs.signals.BaseSignal(rng.random((2, 3, 4))).transpose(signal_axes=2)
    assert cluster_dissimilarity(patterns, weights=loadings).shape == (2,)


def test_cluster_dissimilarity_bad_input():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="exactly one"):
        cluster_dissimilarity(X)
    with pytest.raises(ValueError, match="exactly one"):
        cluster_dissimilarity(X, labels=[0, 0, 1, 1], weights=np.ones((1, 4)))
    with pytest.raises(ValueError, match="positions"):
        cluster_dissimilarity(X, labels=[0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        cluster_dissimilarity(X, weights=-np.ones((1, 4)))
    with pytest.raises(ValueError, match="no cluster"):
        cluster_dissimilarity(X, labels=[-1, -1, -1, -1])
    with pytest.raises(ValueError, match="n_features"):
        cluster_dissimilarity(np.zeros(4), labels=[0, 0, 1, 1])
