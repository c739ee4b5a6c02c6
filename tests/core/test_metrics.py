"""Metrics on cases small enough to compute by hand (the expected values are worked out in comments)."""
from __future__ import annotations

import numpy as np
import pytest

from core.evaluation import metrics
from core.results import Box


def test_roc_auc_classic_example():
    # Positive 0.35 beats one of two negatives, positive 0.8 beats both: 3 of 4 pairs.
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == 0.5


def test_roc_auc_counts_ties_one_half():
    # Pairs: (0.5 vs 0.2)=1, (0.5 vs 0.5)=1/2, (0.9 vs 0.2)=1, (0.9 vs 0.5)=1 -> 3.5/4.
    assert metrics.roc_auc([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9]) == pytest.approx(0.875)
    assert metrics.roc_auc([0, 1, 0, 1], [0.3] * 4) == pytest.approx(0.5)


def test_roc_auc_matches_pairwise_count_with_many_ties():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    scores = rng.integers(0, 6, 200).astype(float)  # heavy ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    expected = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert metrics.roc_auc(labels, scores) == pytest.approx(expected)


def test_roc_curve_steps_through_ties_at_once():
    fpr, tpr, thr = metrics.roc_curve([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.5, 0.2])


def test_single_class_is_a_clear_error():
    with pytest.raises(ValueError, match="both good and defective"):
        metrics.roc_auc([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="both good and defective"):
        metrics.roc_auc([1, 1], [1, 2])
    with pytest.raises(ValueError, match="at least one defective"):
        metrics.average_precision([0, 0], [0.1, 0.2])


def test_average_precision_by_hand():
    # Ranked: 0.8(defect) 0.4(good) 0.35(defect) 0.1(good).
    # Recall rises by 1/2 at rank 1 (precision 1) and by 1/2 at rank 3 (precision 2/3): AP = 5/6.
    assert metrics.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)
    assert metrics.average_precision([0, 1, 1], [0.1, 0.5, 0.9]) == pytest.approx(1.0)


def test_operating_point_counts_and_rates():
    op = metrics.operating_point([0, 0, 1, 1, 1], [0.1, 0.6, 0.4, 0.7, 0.9], threshold=0.6)
    # Flagged (>= 0.6): 0.6 good, 0.7 and 0.9 defects.
    assert (op.tp, op.fp, op.tn, op.fn) == (2, 1, 1, 1)
    assert op.precision == pytest.approx(2 / 3)
    assert op.recall == pytest.approx(2 / 3)
    assert op.f1 == pytest.approx(2 / 3)
    assert op.balanced_accuracy == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert op.confusion_matrix == [[1, 1], [1, 2]]
    assert op.to_dict()["f1"] == pytest.approx(0.6667, abs=1e-4)


def test_operating_point_without_defects_has_no_recall_but_a_specificity():
    op = metrics.operating_point([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.9], threshold=0.5)
    assert np.isnan(op.recall)
    assert op.precision == 0.0  # one flag, and it was wrong
    assert op.specificity == pytest.approx(0.75)
    assert op.balanced_accuracy == pytest.approx(0.75)
    assert op.to_dict()["recall"] is None
    nothing_flagged = metrics.operating_point([0, 1], [0.1, 0.2], threshold=0.5)
    assert np.isnan(nothing_flagged.precision) and nothing_flagged.recall == 0.0


def test_pixel_auroc_equals_flat_auroc_and_subsamples_reproducibly():
    rng = np.random.default_rng(0)
    masks = [rng.random((20, 30)) > 0.8 for _ in range(3)]
    maps = [m * 0.3 + rng.random(m.shape) for m in masks]
    flat = metrics.roc_auc(np.concatenate([m.ravel() for m in masks]),
                           np.concatenate([a.ravel() for a in maps]))
    assert metrics.pixel_auroc(masks, maps, max_pixels=None) == pytest.approx(flat)
    sub1 = metrics.pixel_auroc(masks, maps, max_pixels=900, seed=1)
    assert sub1 == metrics.pixel_auroc(masks, maps, max_pixels=900, seed=1)
    assert sub1 == pytest.approx(flat, abs=0.08)


def test_binary_mask_thresholds_grey_edges():
    np.testing.assert_array_equal(metrics.binary_mask(np.array([0, 127, 128, 255])),
                                  [False, False, True, True])


def _row_case():
    # One row: region A = pixels 0-1 (area 2), region B = pixel 7 (area 1), pixels 2-6 good.
    mask = np.array([[1, 1, 0, 0, 0, 0, 0, 1]], dtype=bool)
    heat = np.array([[0.9, 0.5, 0.8, 0.1, 0.2, 0.3, 0.4, 0.6]], dtype=np.float32)
    return mask, heat


def test_pro_curve_by_hand():
    mask, heat = _row_case()
    # Each A pixel adds 1/(2 regions * 2) = 0.25 to PRO, the B pixel 0.5, each good pixel 0.2 to FPR.
    fpr, pro = metrics.pro_curve([mask], [heat])
    np.testing.assert_allclose(fpr, [0, 0, 0.2, 0.2, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(pro, [0, 0.25, 0.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0])


def test_aupro_by_hand():
    mask, heat = _row_case()
    # Area up to FPR 0.3: 0.25 * 0.2 (flat at 0.25 to FPR 0.2) + 1.0 * 0.1 = 0.15; / 0.3 = 0.5.
    assert metrics.aupro([mask], [heat]) == pytest.approx(0.5)
    # Up to FPR 1: 0.05 + 0.8 = 0.85.
    assert metrics.aupro([mask], [heat], max_fpr=1.0) == pytest.approx(0.85)


def test_aupro_extremes_and_good_images_add_false_positives_only():
    mask, _ = _row_case()
    perfect = mask.astype(np.float32)
    assert metrics.aupro([mask], [perfect]) == pytest.approx(1.0)
    assert metrics.aupro([mask], [1.0 - perfect]) == pytest.approx(0.0)
    # A good image whose map is hotter than the defects pushes FPR up before any region is found.
    good_mask = np.zeros((1, 5), dtype=bool)
    hot_good = np.full((1, 5), 2.0, dtype=np.float32)
    assert metrics.aupro([mask, good_mask], [perfect, hot_good]) < 1.0
    with pytest.raises(ValueError, match="defect region"):
        metrics.aupro([good_mask], [hot_good])


def test_box_hits_inclusive_corners_and_rate():
    mask = np.zeros((10, 10), dtype=bool)
    mask[1:3, 1:3] = True      # region A
    mask[7:9, 6:9] = True      # region B
    # Boxes are inclusive-exclusive: (0, 0, 2, 2) covers pixel (1, 1) of region A, (0, 0, 1, 1) does not.
    assert metrics.box_hits(mask, [Box(0, 0, 2, 2, 0.9)]) == (1, 2)
    assert metrics.box_hits(mask, [Box(0, 0, 1, 1, 0.9)]) == (0, 2)
    assert metrics.box_hits(mask, [(4, 4, 6, 6)]) == (0, 2)
    assert metrics.box_hits(mask, [(0, 0, 10, 10)]) == (2, 2)
    empty = np.zeros((10, 10), dtype=bool)
    assert metrics.box_hit_rate([mask, empty], [[(2, 2, 4, 4)], [(0, 0, 10, 10)]]) == pytest.approx(0.5)
