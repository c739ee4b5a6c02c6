"""Figures at moved thresholds keep outcomes that did not come from the score (no can found)."""
from __future__ import annotations

from app.model_figures import figure_rows, floors_of, outcomes_at, stored_rows
from core.scoring.calibration import Thresholds


def test_a_no_can_review_survives_moved_thresholds():
    at = Thresholds(0.45, 0.55)
    scores = [0.10, 0.20, 0.50, 0.90]
    # image 1 went to review although its score passes: its can was not found
    outcomes = ["pass", "review", "review", "reject"]
    floors = floors_of(scores, outcomes, at)
    assert floors == ["pass", "review", "pass", "pass"]
    looser = Thresholds(0.50, 0.95)
    assert outcomes_at(scores, looser) == ["pass", "pass", "review", "review"]
    assert outcomes_at(scores, looser, floors) == ["pass", "review", "review", "review"]
    stricter = Thresholds(0.15, 0.50)
    assert outcomes_at(scores, stricter, floors) == ["pass", "review", "reject", "reject"]


def test_stored_rows_at_other_thresholds_keep_the_floors():
    labels = [0] * 6 + [1] * 2
    scores = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9]
    outcomes = ["pass"] * 5 + ["review", "reject", "reject"]
    data = {"thresholds": {"review": 0.45, "reject": 0.55},
            "images": {"labels": labels, "scores": scores, "outcomes": outcomes}}
    moved = stored_rows(data, Thresholds(0.5, 0.95))
    # the defective sides move to review; the good side sent to review (no can found) stays there
    expected = figure_rows(labels, scores, ["pass"] * 5 + ["review"] * 3)
    assert [(r.name, r.value) for r in moved] == [(r.name, r.value) for r in expected]
    lost = figure_rows(labels, scores, ["pass"] * 6 + ["review"] * 2)
    assert [(r.name, r.value) for r in moved] != [(r.name, r.value) for r in lost]
