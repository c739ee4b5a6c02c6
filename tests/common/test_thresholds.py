"""The one threshold rule (issue 9 item 10): db, core and the GUI use common.thresholds, so what
the records accept the engine accepts (property-based, hypothesis) and the other way round."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.thresholds import ThresholdsInvalid, check, check_dict, is_valid, outcome
from core.scoring.calibration import Thresholds
from db import ValidationError
from db.services._base import check_thresholds as db_check

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                    st.booleans(), st.none(), st.text(max_size=3), st.sampled_from(
                        [0.0, 0.5, 1.0, 0.4999999999, 0.5000000001, 5e-324, -0.0]))


def _engine_accepts(review: object, reject: object) -> bool:
    try:
        Thresholds(review, reject)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
    return True


def _db_accepts(review: object, reject: object) -> bool:
    try:
        db_check({"review": review, "reject": reject})
    except ValidationError:
        return False
    return True


@given(numbers, numbers)
def test_db_and_engine_accept_exactly_the_same_pairs(review: object, reject: object) -> None:
    accepted = _db_accepts(review, reject)
    assert accepted == _engine_accepts(review, reject) == is_valid(review, reject)
    if accepted:
        stored = db_check({"review": review, "reject": reject})
        t = Thresholds(stored["review"], stored["reject"])
        assert 0 <= t.review <= 0.5 <= t.reject <= 1 and math.isfinite(t.review)


@given(st.floats(0, 0.5), st.floats(0.5, 1), st.floats(allow_nan=False, allow_infinity=False))
def test_engine_outcome_is_the_common_rule(review: float, reject: float, score: float) -> None:
    assert Thresholds(review, reject).outcome(score).value == outcome(score, review, reject)


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(ThresholdsInvalid, match="review threshold cannot be above 0.5"):
        check(0.6, 0.7)
    with pytest.raises(ThresholdsInvalid, match="reject threshold cannot be below 0.5"):
        check(0.3, 0.45)
    with pytest.raises(ThresholdsInvalid, match="exactly a review and a reject"):
        check_dict({"review": 0.3})
    assert check_dict({"review": 0, "reject": 1}) == {"review": 0.0, "reject": 1.0}
    assert (outcome(0.49, 0.4, 0.6), outcome(0.6, 0.4, 0.6), outcome(0.39, 0.4, 0.6)) == (
        "review", "reject", "pass")
