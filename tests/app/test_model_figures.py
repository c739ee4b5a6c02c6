"""Figures at moved thresholds keep outcomes that did not come from the score (no can found)."""
from __future__ import annotations

from app.model_figures import backdrop_record, backdrop_rows, figure_rows, outcomes_at, pinned_of, stored_rows
from core.scoring.calibration import Thresholds


def test_a_no_can_review_survives_moved_thresholds():
    at = Thresholds(0.45, 0.55)
    scores = [0.10, 0.20, 0.50, 0.90, 0.70]
    # images 1 and 4 went to review whatever their score: their can was not found
    outcomes = ["pass", "review", "review", "reject", "review"]
    pinned = pinned_of(scores, outcomes, at)
    assert pinned == [None, "review", None, None, "review"]
    looser = Thresholds(0.50, 0.95)
    assert outcomes_at(scores, looser) == ["pass", "pass", "review", "review", "review"]
    assert outcomes_at(scores, looser, pinned) == ["pass", "review", "review", "review", "review"]
    stricter = Thresholds(0.15, 0.50)
    assert outcomes_at(scores, stricter, pinned) == ["pass", "review", "reject", "reject", "review"]


def test_stored_rows_at_other_thresholds_keep_the_pinned_outcomes():
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


def _check(changed: int, repaints: int = 570, images: int = 57) -> dict:
    changes = [{"image": f"IMG_{i}.jpg", "backdrop": "texture", "before": "pass", "after": "review",
                "score_before": 0.1, "score_after": 0.5} for i in range(changed)]
    return {"images": images, "skipped_no_can": 0, "repaints": repaints, "verdicts_changed": changed,
            "max_score_shift": 0.55, "mean_score_shift": 0.051, "changed_per_backdrop": {},
            "changes": changes, "thresholds": {"review": 0.45, "reject": 0.55}}


def test_the_backdrop_checks_row_counts_its_changes_with_an_interval():
    from core.evaluation.can_level import clopper_pearson

    assert backdrop_rows({}) == [] and backdrop_rows(None) == []      # the check did not run
    (row,) = backdrop_rows({"backdrop_check": _check(2)}, Thresholds(0.45, 0.55))
    low, high = clopper_pearson(2, 570)
    assert row.value == "2 of 570 (0.4 %)"
    assert row.interval == f"{100 * low:.1f} – {100 * high:.1f} %"
    assert row.rests_on == "57 good, repainted"
    assert "IMG_0.jpg on texture" in row.warning and "IMG_1.jpg on texture" in row.warning
    assert "mean 0.051, largest 0.550" in row.warning
    (clean,) = backdrop_rows({"backdrop_check": _check(0)}, Thresholds(0.45, 0.55))
    assert clean.value == "0 of 570 (0.0 %)" and clean.warning == ""
    assert clean.interval == f"0.0 – {100 * clopper_pearson(0, 570)[1]:.1f} %"


def test_the_backdrop_checks_row_says_when_thresholds_moved_or_it_could_not_run():
    (moved,) = backdrop_rows({"backdrop_check": _check(0)}, Thresholds(0.3, 0.55))
    assert "taken at review 0.450, reject 0.550" in moved.warning
    (skipped,) = backdrop_rows({"backdrop_check": backdrop_record(None, None)})   # type: ignore[arg-type]
    assert skipped.value == "n/a" and "no good image" in skipped.warning
    (nothing,) = backdrop_rows({"backdrop_check": _check(0, repaints=0, images=0)})
    assert nothing.value == "n/a" and "no can found" in nothing.warning
    labels, scores, outcomes = [0, 1], [0.1, 0.9], ["pass", "reject"]
    data = {"thresholds": {"review": 0.45, "reject": 0.55}, "backdrop_check": _check(1),
            "images": {"labels": labels, "scores": scores, "outcomes": outcomes}}
    rows = stored_rows(data, None)
    assert rows[-1].name == "Backdrop check: verdicts changed" and rows[-1].value == "1 of 570 (0.2 %)"
    assert [r.name for r in rows[:-1]] == [r.name for r in figure_rows(labels, scores, outcomes)]
