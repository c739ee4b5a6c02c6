"""The AUROC interval: not degenerate at 1.0, narrows with more images, covers the truth."""
from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from core.evaluation.uncertainty import (
    _hanley_mcneil_variance,
    auroc_interval,
    small_set_notes,
    validation_counts,
)


def _perfect(n_good: int, n_defect: int) -> tuple[list[int], list[float]]:
    return [0] * n_good + [1] * n_defect, [0.1] * n_good + [0.9] * n_defect


def test_a_perfect_auroc_from_few_images_has_a_wide_interval():
    auc, low, high = auroc_interval(*_perfect(5, 2))
    assert auc == 1.0 and high == 1.0
    assert low < 0.6
    # The lower limit solves (1 - theta)^2 = z^2 V(theta).
    z = NormalDist().inv_cdf(0.975)
    assert (1 - low) ** 2 == pytest.approx(z * z * _hanley_mcneil_variance(low, 5, 2), rel=1e-6)
    assert auroc_interval(*_perfect(50, 50))[1] > 0.95


def test_the_interval_covers_the_true_auroc_about_as_often_as_promised():
    rng = np.random.default_rng(7)
    true_auc = 0.85
    shift = NormalDist().inv_cdf(true_auc) * 2 ** 0.5   # two unit normals this far apart
    covered = 0
    for _ in range(300):
        scores = np.r_[rng.normal(0, 1, 25), rng.normal(shift, 1, 15)]
        _, low, high = auroc_interval([0] * 25 + [1] * 15, scores)
        covered += low <= true_auc <= high
    assert 0.92 <= covered / 300 <= 0.995


def test_the_interval_holds_the_estimate_and_needs_both_classes():
    labels, scores = [0, 0, 0, 1, 1, 1], [0.1, 0.4, 0.6, 0.3, 0.7, 0.8]
    auc, low, high = auroc_interval(labels, scores)
    assert auc == pytest.approx(7 / 9)
    assert 0 < low < auc < high < 1
    with pytest.raises(ValueError):
        auroc_interval([0, 0], [0.1, 0.2])


def test_small_sets_are_named():
    notes = small_set_notes(5, 30)
    assert len(notes) == 1 and "only 5 good images" in notes[0]
    assert small_set_notes(20, 20) == []


def test_trainers_record_the_counts_and_interval_beside_the_validation_auroc():
    out = validation_counts(*_perfect(5, 2))
    assert (out["val_good"], out["val_defect"]) == (5, 2)
    assert out["val_auroc_interval"][1] == 1.0 and out["val_auroc_interval"][0] < 0.6
    assert validation_counts([0, 0], [0.1, 0.2])["val_auroc_interval"] is None
