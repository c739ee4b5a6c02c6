"""Calibration to a can-level target: "at most 1 % of good cans rejected" becomes a reject threshold.

A can of ``sides`` sides is rejected when any side is, so a can-level false-reject rate T needs a
per-side rate p with ``1 - (1 - p)^sides = T`` (1 % of cans: 0.1435 % of sides). The reject threshold
is then placed on the good validation scores (normalised scale) so that at most ``floor(p * n)`` of
the ``n`` good images score at or above it, midway between neighbouring scores.

Honesty about small sets: with ``n`` good images no rate below ``1/n`` can be observed (43 images:
2.3 %). Then the threshold goes ``MARGIN`` above the highest good score, and the result says what the
data do show: the one-sided 95 % Clopper-Pearson upper bound of the can-level rate for the good images
still at or above the threshold, and how many good images it would take to show the target.

The threshold stays within the rule of ``Thresholds`` (0.5 <= reject <= 1): when the target asks for
less (the decision threshold already rejects fewer) or more than the scale allows, it is clipped there
and the note says so. Pure functions, safe on any thread.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from core.evaluation.can_level import (
    good_can_flagged,
    images_needed,
    side_rate_for_can_rate,
    upper_bound,
)
from core.sides import SIDES_PER_CAN

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

MARGIN = 0.03          # normalised units above the highest good score when the rate is unobservable
CONFIDENCE = 0.95


@dataclass(frozen=True)
class CanTargetResult:
    target: float                 # chosen share of good cans rejected
    sides: int
    side_rate: float              # the per-side rate that target means
    reject: float                 # the reject threshold (normalised)
    n_good: int                   # good images it rests on
    n_at_or_above: int            # of them, at or above the reject threshold
    observable: bool              # could the data show a per-side rate that low at all?
    can_rate_estimate: float      # good cans rejected implied by n_at_or_above / n_good
    can_rate_bound: float         # one-sided 95 % upper bound of it
    images_needed: int            # good images (none rejected) that would show the target
    note: str                     # the same, in words for the admin

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("side_rate", "reject", "can_rate_estimate", "can_rate_bound"):
            out[key] = round(float(out[key]), 6)
        return out


def reject_for_can_target(good_scores: ArrayLike, target: float, *, sides: int = SIDES_PER_CAN,
                          confidence: float = CONFIDENCE) -> CanTargetResult:
    """The reject threshold for ``target`` (share of good cans rejected) from normalised good scores."""
    p = side_rate_for_can_rate(target, sides)
    good = np.asarray(good_scores, dtype=np.float64).ravel()
    good = good[np.isfinite(good)]
    n = int(good.size)
    if n == 0:
        raise ValueError("a can-level target needs good validation images")
    allowed = math.floor(p * n)
    values = np.unique(good)
    candidates = np.r_[(values[:-1] + values[1:]) / 2.0, values[-1] + MARGIN]
    flagged = np.array([int(np.sum(good >= c)) for c in candidates])
    raw = float(candidates[np.flatnonzero(flagged <= allowed)[0]])
    # Rounded up to the 0.001 the station's threshold boxes show, so no further good image crosses it.
    reject = float(np.clip(math.ceil(raw * 1000.0 - 1e-9) / 1000.0, 0.5, 1.0))
    k = int(np.sum(good >= reject))
    bound = good_can_flagged(upper_bound(k, n, confidence), sides)
    needed = images_needed(p, confidence)
    words = [(f"{100 * target:g} % of good cans rejected means {100 * p:.3f} % of good sides "
              f"({sides} sides per can).")]
    if allowed == 0:
        words.append(f"With {n} good images no side rate below 1/{n} = {100 / n:.1f} % can be seen: the "
                     f"reject threshold sits {MARGIN:g} above the highest good score.")
    if raw < 0.5:
        words.append("The model's decision threshold 0.5 already rejects fewer: reject stays at 0.5.")
    elif raw > 1.0:
        words.append(f"Good images score up to {good.max():.3f}, beyond the scale: reject is set to its "
                     f"highest value 1.0 and cannot meet the target with this model.")
    words.append(f"{k} of {n} good images score at or above {reject:.3f}; the data show at most "
                 f"{100 * bound:.1f} % of good cans rejected ({100 * confidence:g} % upper bound). Showing "
                 f"{100 * target:g} % takes at least {needed} good images with none rejected.")
    return CanTargetResult(target, sides, p, reject, n, k, allowed > 0,
                           good_can_flagged(k / n, sides), bound, needed, " ".join(words))


def can_target_record(spec: ModelSpec) -> dict[str, Any] | None:
    """A model's can-target record (``CanTargetResult.to_dict()``), wherever its detector's trainer
    keeps the calibration info (``extra["score_calibration"]`` or ``trained_on["calibration"]``)."""
    for info in (spec.extra.get("score_calibration"), spec.trained_on.get("calibration")):
        if isinstance(info, dict) and isinstance(info.get("can_target"), dict):
            return info["can_target"]
    return None
