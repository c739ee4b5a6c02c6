"""Can-level figures on data with answers worked out by hand (and exact intervals against scipy)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta

from core.evaluation.can_level import (
    _draw_cans,
    can_level,
    clopper_pearson,
    defective_can_passed,
    good_can_to_review,
    images_needed,
    side_rate_for_can_rate,
    upper_bound,
)
from core.results import Outcome


def _data(good: dict[str, int], defect: dict[str, int]) -> tuple[list[int], list[str]]:
    labels, outcomes = [], []
    for label, counts in ((0, good), (1, defect)):
        for outcome, n in counts.items():
            labels += [label] * n
            outcomes += [outcome] * n
    return labels, outcomes


@pytest.mark.parametrize("k,n", [(1, 43), (4, 43), (5, 20), (17, 30), (3, 1000), (42, 43)])
def test_clopper_pearson_matches_the_beta_quantiles(k, n):
    low, high = clopper_pearson(k, n, 0.95)
    assert low == pytest.approx(beta.ppf(0.025, k, n - k + 1), abs=1e-9)
    assert high == pytest.approx(beta.ppf(0.975, k + 1, n - k), abs=1e-9)


def test_clopper_pearson_ends_have_closed_forms():
    assert clopper_pearson(0, 43) == (0.0, pytest.approx(1 - 0.025 ** (1 / 43)))
    assert clopper_pearson(43, 43) == (pytest.approx(0.025 ** (1 / 43)), 1.0)
    assert upper_bound(0, 43) == pytest.approx(1 - 0.05 ** (1 / 43))
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)


def test_no_good_side_rejected_of_43_still_allows_many_good_cans_rejected():
    labels, outcomes = _data({"pass": 43}, {"reject": 10})
    fig = can_level(labels, outcomes).figures["good_cans_rejected"]
    assert fig.per_1000 == 0.0 and fig.low == 0.0 and fig.sampled_per_1000 == 0.0
    # By hand: the per-side upper bound 1 - 0.025^(1/43), seven independent sides.
    assert fig.high == pytest.approx(1000 * (1 - 0.025 ** (7 / 43)), abs=1e-6)
    assert 440 < fig.high < 460
    assert fig.good_images == 43 and fig.defect_images == 0


def test_one_good_side_rejected_of_43_is_about_one_good_can_in_seven():
    labels, outcomes = _data({"pass": 42, Outcome.REJECT: 1}, {"reject": 5})
    report = can_level(labels, outcomes)
    fig = report.figures["good_cans_rejected"]
    assert fig.per_1000 == pytest.approx(1000 * (1 - (42 / 43) ** 7))
    assert 1000 / 7.5 < fig.per_1000 < 1000 / 6.5
    low, high = clopper_pearson(1, 43)
    assert fig.low == pytest.approx(1000 * (1 - (1 - low) ** 7))
    assert fig.high == pytest.approx(1000 * (1 - (1 - high) ** 7))
    assert report.side_counts["good"] == {"pass": 42, "review": 0, "reject": 1}


def test_escapes_rest_on_both_rates_with_bonferroni_intervals():
    # 20 good sides (1 in review), 10 defective sides of which 3 pass and 1 goes to review.
    labels, outcomes = _data({"pass": 19, "review": 1}, {"pass": 3, "review": 1, "reject": 6})
    report = can_level(labels, outcomes)
    passed = report.figures["defective_cans_passed"]          # flagged = review or reject
    assert passed.per_1000 == pytest.approx(1000 * (19 / 20) ** 6 * (3 / 10))
    p_lo, p_hi = clopper_pearson(1, 20, 0.975)
    q_lo, q_hi = clopper_pearson(7, 10, 0.975)
    assert passed.low == pytest.approx(1000 * (1 - p_hi) ** 6 * (1 - q_hi))
    assert passed.high == pytest.approx(1000 * (1 - p_lo) ** 6 * (1 - q_lo))
    not_rejected = report.figures["defective_cans_not_rejected"]  # flagged = reject only
    assert not_rejected.per_1000 == pytest.approx(1000 * 4 / 10)   # no good side is rejected
    assert (passed.good_images, passed.defect_images) == (20, 10)


def test_good_cans_to_review_is_none_rejected_but_one_in_review():
    labels, outcomes = _data({"pass": 17, "review": 2, "reject": 1}, {"reject": 4})
    fig = can_level(labels, outcomes).figures["good_cans_to_review"]
    assert fig.per_1000 == pytest.approx(1000 * ((19 / 20) ** 7 - (17 / 20) ** 7))
    assert good_can_to_review(0.05, 0.1) == pytest.approx(0.95 ** 7 - 0.85 ** 7)
    assert fig.low <= fig.per_1000 <= fig.high


def test_random_draws_of_real_images_agree_with_the_formula_on_a_large_set():
    labels, outcomes = _data({"pass": 950, "review": 20, "reject": 30}, {"pass": 40, "reject": 960})
    report = can_level(labels, outcomes, draws=40_000, seed=3)
    for key, fig in report.figures.items():
        assert fig.sampled_per_1000 == pytest.approx(fig.per_1000, abs=8.0), key
    assert report.figures["defective_cans_passed"].per_1000 == pytest.approx(
        1000 * defective_can_passed(0.05, 0.96))


def test_drawn_cans_never_repeat_an_image_and_are_seeded():
    rng = np.random.default_rng(0)
    rows = _draw_cans(rng, 9, 5000, 7)
    assert all(len(set(r)) == 7 for r in rows.tolist())
    labels, outcomes = _data({"pass": 30, "reject": 3}, {"pass": 2, "reject": 8})
    a, b = can_level(labels, outcomes, seed=5), can_level(labels, outcomes, seed=5)
    assert a.to_dict() == b.to_dict()


def test_one_class_missing_gives_undefined_figures_and_says_why():
    only_defects = can_level(*_data({}, {"pass": 1, "reject": 9}))
    assert only_defects.figures["good_cans_rejected"] is None
    assert only_defects.figures["defective_cans_passed"].per_1000 == pytest.approx(100.0)
    assert any("no good images" in n for n in only_defects.notes)
    only_good = can_level(*_data({"pass": 5}, {}))
    assert only_good.figures["defective_cans_passed"] is None
    assert any("repeat images" in n for n in only_good.notes)
    assert only_good.to_dict()["figures"]["defective_cans_passed"] is None
    with pytest.raises(ValueError):
        can_level([0, 1], ["pass"])


def test_a_can_target_becomes_a_side_rate_and_an_image_count():
    p = side_rate_for_can_rate(0.01)
    assert p == pytest.approx(0.001435, abs=1e-6)
    assert 1 - (1 - p) ** 7 == pytest.approx(0.01)
    n = images_needed(p)
    assert upper_bound(0, n) <= p < upper_bound(0, n - 1)
    assert n == math.ceil(math.log(0.05) / math.log(1 - p))
    with pytest.raises(ValueError):
        side_rate_for_can_rate(0.0)
