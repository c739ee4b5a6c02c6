"""THE threshold rule: which review/reject pairs the station accepts, and what a score then means.

Scores are normalised so that 0.5 is the calibrated decision threshold (``core.scoring``). Two
thresholds on that scale give three outcomes: ``score >= reject`` is a reject, ``review <= score <
reject`` goes to a person for review, anything lower passes. A pair is valid when

    0 <= review <= 0.5 <= reject <= 1     (finite numbers, not booleans)

so the review band always contains the decision threshold and "reject" never starts below it.
``review == reject == 0.5`` is the plain Good/Anomaly decision without a review band.

Used by ``db`` when it stores a product's or a model's thresholds, by
``core.scoring.calibration.Thresholds`` and by the GUI, so what one accepts the others accept.
Pure Python; any thread.
"""
from __future__ import annotations

import math
from typing import Any

DECISION = 0.5
LOWEST, HIGHEST = 0.0, 1.0
KEYS = ("review", "reject")
PASS, REVIEW, REJECT = "pass", "review", "reject"


class ThresholdsInvalid(ValueError):
    """The pair breaks the rule; ``str(exc)`` says why in words fit for an admin."""


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ThresholdsInvalid(f"The {key} threshold must be a number from 0 to 1.")
    return float(value)


def check(review: Any, reject: Any) -> tuple[float, float]:
    """``(review, reject)`` as floats, or :class:`ThresholdsInvalid` saying what is wrong."""
    r, j = _number(review, "review"), _number(reject, "reject")
    if not LOWEST <= r <= HIGHEST or not LOWEST <= j <= HIGHEST:
        raise ThresholdsInvalid("Thresholds are numbers from 0 to 1.")
    if r > DECISION:
        raise ThresholdsInvalid(f"The review threshold cannot be above {DECISION} (the model's "
                                f"decision threshold), got {r:g}.")
    if j < DECISION:
        raise ThresholdsInvalid(f"The reject threshold cannot be below {DECISION} (the model's "
                                f"decision threshold), got {j:g}.")
    return r, j


def check_dict(value: Any) -> dict[str, float]:
    """``{"review": r, "reject": j}`` checked by :func:`check`; exactly those two keys."""
    if not isinstance(value, dict) or set(value) != set(KEYS):
        raise ThresholdsInvalid("Thresholds need exactly a review and a reject value.")
    r, j = check(value["review"], value["reject"])
    return {"review": r, "reject": j}


def is_valid(review: Any, reject: Any) -> bool:
    try:
        check(review, reject)
    except ThresholdsInvalid:
        return False
    return True


def outcome(score: float, review: float, reject: float) -> str:
    """``"pass"``, ``"review"`` or ``"reject"`` for a normalised ``score``."""
    if score >= reject:
        return REJECT
    if score >= review:
        return REVIEW
    return PASS
