"""Calibration to a can-level false-reject target, on scores whose answer follows by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.scoring.calibration import calibrate
from core.scoring.can_target import MARGIN, reject_for_can_target


def test_43_good_images_cannot_show_one_percent_and_say_so():
    good = np.linspace(0.05, 0.62, 43)
    result = reject_for_can_target(good, 0.01)
    assert not result.observable
    assert result.reject == pytest.approx(math.ceil((0.62 + MARGIN) * 1000) / 1000)
    assert result.n_at_or_above == 0 and result.can_rate_estimate == 0.0
    # By hand: one-sided 95 % bound of 0 of 43 is 1 - 0.05^(1/43), for 7 sides 1 - 0.05^(7/43).
    assert result.can_rate_bound == pytest.approx(1 - 0.05 ** (7 / 43))
    assert result.images_needed == math.ceil(math.log(0.05) / math.log(1 - result.side_rate))
    assert "no side rate below 1/43" in result.note and str(result.images_needed) in result.note


def test_a_large_set_places_reject_so_few_enough_good_sides_are_flagged():
    good = np.random.default_rng(1).uniform(0.0, 0.8, 10_000)
    result = reject_for_can_target(good, 0.01)
    allowed = math.floor(result.side_rate * 10_000)            # 14 good sides of 10 000
    assert result.observable and allowed == 14
    assert result.n_at_or_above == int(np.sum(good >= result.reject)) <= allowed
    # ... and no higher than it needs: just above the 14th highest good score (up to rounding).
    assert result.reject <= np.sort(good)[::-1][allowed - 1] + 0.001
    assert result.can_rate_bound > 0.01 > result.can_rate_estimate


def test_the_threshold_stays_within_the_rule_and_says_when_clipped():
    low = reject_for_can_target([0.0, 0.05, 0.1], 0.5)
    assert low.reject == 0.5 and "already rejects fewer" in low.note
    high = reject_for_can_target([0.1, 0.2, 1.3], 0.01)
    assert high.reject == 1.0 and high.n_at_or_above == 1 and "cannot meet the target" in high.note
    with pytest.raises(ValueError):
        reject_for_can_target([], 0.01)
    with pytest.raises(ValueError):
        reject_for_can_target([0.1], 1.5)


def test_calibrate_with_a_target_moves_only_the_reject_threshold():
    rng = np.random.default_rng(0)
    raw = np.r_[rng.normal(-2, 0.5, 40), rng.normal(2, 0.5, 40)]
    labels = np.r_[np.zeros(40), np.ones(40)]
    scale, plain, _ = calibrate(raw, labels)
    scale_t, targeted, info = calibrate(raw, labels, can_false_reject=0.01)
    assert scale_t == scale and targeted.review == plain.review
    highest_good = float(scale.normalise(raw[:40].max()))
    assert targeted.reject == pytest.approx(max(0.5, math.ceil((highest_good + MARGIN) * 1000) / 1000))
    assert info["can_target"]["reject"] == targeted.reject and info["can_target"]["n_good"] == 40
