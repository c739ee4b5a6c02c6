"""calibrate(): threshold, score scale and review band from validation scores, incl. degenerate input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.results import Outcome
from core.scoring.calibration import Thresholds, calibrate


def _valid(scale, thresholds):
    assert scale.raw_low < scale.raw_threshold < scale.raw_high
    assert 0.0 <= thresholds.review <= 0.5 <= thresholds.reject <= 1.0


def test_separable_classes_threshold_between_them():
    rng = np.random.default_rng(0)
    good, bad = rng.normal(0, 1, 50), rng.normal(10, 1, 30)
    scale, thr, info = calibrate(np.r_[good, bad], np.r_[np.zeros(50), np.ones(30)])
    _valid(scale, thr)
    assert good.max() < scale.raw_threshold < bad.min()
    assert info["val_f1"] == 1.0 and "F1" in info["rule"]
    assert (scale.normalise(good) < 0.5).all() and (scale.normalise(bad) >= 0.5).all()
    assert scale.normalise(float(np.median(good))) == pytest.approx(0.0)
    assert thr.outcome(scale.normalise(float(bad.min()))) in (Outcome.REJECT, Outcome.REVIEW)


def test_threshold_is_a_midpoint_maximising_f1():
    scores = [0.0, 1.0, 2.0, 3.0, 2.5, 4.0, 5.0]
    labels = [0, 0, 0, 0, 1, 1, 1]
    scale, _, info = calibrate(scores, labels)
    # Flagging >= 2.25 catches all 3 anomalies with one false alarm (F1 6/7); >= 3.5 gives 2/3 (F1 0.8).
    assert scale.raw_threshold == pytest.approx(2.25)
    assert info["val_f1"] == pytest.approx(6 / 7, abs=1e-4)


def test_good_only_uses_a_high_quantile_plus_margin_and_flags_almost_none():
    good = np.random.default_rng(1).normal(5, 2, 400)
    scale, thr, info = calibrate(good, np.zeros(400))
    _valid(scale, thr)
    assert "good only" in info["rule"]
    assert scale.raw_threshold > np.quantile(good, 0.99)
    assert (good >= scale.raw_threshold).mean() < 0.01
    assert thr == Thresholds(0.4, 0.6)  # the modest fallback band


def test_all_equal_scores_never_flag_everything():
    scale, thr, info = calibrate([3.0] * 6, [0, 1, 0, 1, 0, 1])
    _valid(scale, thr)
    assert scale.raw_threshold > 3.0 and "equal" in info["rule"]


def test_anomalies_only_and_single_sample():
    scale, thr, info = calibrate([7.0], [1])
    _valid(scale, thr)
    assert scale.raw_threshold <= 7.0 and "anomalies only" in info["rule"]


def test_nan_scores_are_ignored_and_counted():
    scale, thr, info = calibrate([0.0, np.nan, 1.0, 9.0, np.inf, 10.0], [0, 0, 0, 1, 1, 1])
    _valid(scale, thr)
    assert info["n_ignored_nonfinite"] == 2
    assert 1.0 < scale.raw_threshold < 9.0
    assert all(math.isfinite(v) for v in (scale.raw_low, scale.raw_high))
    with pytest.raises(ValueError):
        calibrate([np.nan, np.nan], [0, 1])
    with pytest.raises(ValueError):
        calibrate([1.0, 2.0], [0])


def test_review_band_follows_the_overlap():
    rng = np.random.default_rng(2)
    good, bad = rng.normal(0, 1, 300), rng.normal(2.5, 1, 300)  # overlapping classes
    scale, thr, _ = calibrate(np.r_[good, bad], np.r_[np.zeros(300), np.ones(300)])
    _valid(scale, thr)
    # Wide overlap: the band opens to its maximum on both sides.
    assert thr.review == pytest.approx(0.3) and thr.reject == pytest.approx(0.7)
    far_bad = rng.normal(40, 1, 300)
    scale2, thr2, _ = calibrate(np.r_[good, far_bad], np.r_[np.zeros(300), np.ones(300)])
    assert thr2.review == pytest.approx(0.45) and thr2.reject <= 0.7


def test_one_outcome_rule_for_one_score_and_for_many():
    t = Thresholds(review=0.3, reject=0.7)
    scores = np.array([0.0, 0.29, 0.3, 0.5, 0.69, 0.7, 1.5, np.nan])
    expected = [Outcome.PASS, Outcome.PASS, Outcome.REVIEW, Outcome.REVIEW, Outcome.REVIEW,
                Outcome.REJECT, Outcome.REJECT, Outcome.PASS]
    assert [t.outcome(float(s)) for s in scores] == expected
    assert t.severities(scores).tolist() == [o.severity for o in expected]
