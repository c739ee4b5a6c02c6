"""Score normalisation and the two decision thresholds.

Every detector produces a raw score with its own units (a logit, a patch distance). The model's
``ScoreScale`` maps it piecewise-linearly so that the calibrated decision threshold lands on 0.5,
whatever the detector; heatmaps get a scale of their own with the same meaning (0.5 = the level at
which a region is boxed). Two thresholds on that scale give three outcomes: pass, review (a person
decides), reject.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from common.thresholds import check as check_thresholds
from common.thresholds import outcome as threshold_outcome
from core.results import Outcome


@dataclass(frozen=True)
class ScoreScale:
    """raw_low → 0, raw_threshold → 0.5, raw_high → 1, linear between, extended linearly beyond."""
    raw_low: float
    raw_threshold: float
    raw_high: float

    def __post_init__(self) -> None:
        values = (self.raw_low, self.raw_threshold, self.raw_high)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"score scale must be finite, got {values}")
        if not (self.raw_low < self.raw_threshold < self.raw_high):
            raise ValueError(f"score scale needs raw_low < raw_threshold < raw_high, got {values}")

    def normalise(self, raw: Any) -> Any:
        """Works on floats and numpy arrays of any shape; returns the same kind."""
        arr = np.asarray(raw, dtype=np.float64)
        lower = 0.5 * (arr - self.raw_low) / (self.raw_threshold - self.raw_low)
        upper = 0.5 + 0.5 * (arr - self.raw_threshold) / (self.raw_high - self.raw_threshold)
        out = np.where(arr < self.raw_threshold, lower, upper)
        if np.isscalar(raw) or arr.ndim == 0:
            return float(out)
        return out.astype(np.float32)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ScoreScale:
        return cls(float(data["raw_low"]), float(data["raw_threshold"]), float(data["raw_high"]))


@dataclass(frozen=True)
class Thresholds:
    """Normalised thresholds: score >= reject → REJECT; review <= score < reject → REVIEW; else PASS.

    ``review == reject == 0.5`` means no review band: the plain Good/Anomaly decision.
    """
    review: float = 0.5
    reject: float = 0.5

    def __post_init__(self) -> None:
        # The one rule (common.thresholds), which db applies when it stores thresholds too;
        # ThresholdsInvalid is a ValueError.
        check_thresholds(self.review, self.reject)

    def outcome(self, score: float) -> Outcome:
        return Outcome(threshold_outcome(score, self.review, self.reject))

    def severities(self, scores: np.ndarray | float) -> np.ndarray:
        """``outcome``'s rule (common.thresholds) for many scores at once: the severity per score
        (0 pass, 1 review, 2 reject)."""
        s = np.asarray(scores, dtype=float)
        return np.where(s >= self.reject, 2, np.where(s >= self.review, 1, 0))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Thresholds:
        return cls(float(data.get("review", 0.5)), float(data.get("reject", 0.5)))


# -- calibration from validation scores ------------------------------------------------------------
# Rules (also written into each model's JSON through ``info``):
# * decision threshold: with both classes, the raw score maximising F1 on validation, placed at the
#   midpoint between the two neighbouring scores (ties: the middle of the best run); with good images
#   only, the GOOD_QUANTILE of good scores plus a margin of half the spread between that quantile and
#   the median, so roughly 1 % of good images are flagged, never all of them.
# * raw_low / raw_high: the good / anomaly medians, kept strictly outside the threshold.
# * review band: review at the REVIEW_QUANTILE of anomaly scores (nearly all anomalies above it),
#   reject at the REJECT_QUANTILE of good scores (nearly no good image above it), each clipped to a
#   band of BAND_MIN..BAND_MAX away from 0.5; with one class missing, the modest FALLBACK_BAND.
GOOD_QUANTILE = 0.99
REVIEW_QUANTILE = 0.02
REJECT_QUANTILE = 0.98
BAND_MIN, BAND_MAX = 0.05, 0.2
FALLBACK_BAND = 0.1


def calibrate(val_scores_raw: ArrayLike, val_labels: ArrayLike,
              can_false_reject: float | None = None) -> tuple[ScoreScale, Thresholds, dict]:
    """Score scale and thresholds from validation raw scores (labels 0 good, 1 anomaly).

    ``can_false_reject`` (e.g. 0.01: at most 1 % of good cans rejected) replaces the reject threshold
    by the one ``core.scoring.can_target`` derives from the good validation scores; what the data can
    and cannot show about it goes into ``info["can_target"]``.
    Non-finite scores are ignored (counted in ``info``); ``ValueError`` if none is left.
    Thread-safe (pure function).
    """
    scores = np.asarray(val_scores_raw, dtype=np.float64).ravel()
    labels = np.asarray(val_labels).ravel().astype(int)
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.size} scores but {labels.size} labels")
    finite = np.isfinite(scores)
    info: dict = {"n_good": int(((labels == 0) & finite).sum()),
                  "n_anomaly": int(((labels == 1) & finite).sum()),
                  "n_ignored_nonfinite": int((~finite).sum())}
    scores, labels = scores[finite], labels[finite]
    if scores.size == 0:
        raise ValueError("no finite validation scores to calibrate on")
    good, bad = scores[labels == 0], scores[labels == 1]
    # A scale unit that is never zero, even when every score is equal.
    spread = max(float(np.quantile(scores, 0.9) - np.quantile(scores, 0.1)),
                 1e-3 * max(1.0, float(np.abs(scores).max())))
    if good.size and bad.size:
        threshold, f1 = _best_f1_threshold(scores, labels)
        if threshold is None:  # every score equal: nothing separates the classes
            threshold = float(scores.max()) + spread
            info["rule"] = "all scores equal: threshold above them (nothing flagged)"
        else:
            info["rule"] = "max F1 on validation, midpoint between neighbouring scores"
            info["val_f1"] = round(f1, 4)
    elif good.size:
        q, med = float(np.quantile(good, GOOD_QUANTILE)), float(np.median(good))
        threshold = q + max(0.5 * (q - med), 1e-3 * spread)
        info["rule"] = (f"good only: {GOOD_QUANTILE:g} quantile of good scores + "
                        "half its distance to the median")
    else:
        q, med = float(np.quantile(bad, 1 - GOOD_QUANTILE)), float(np.median(bad))
        threshold = q - max(0.5 * (med - q), 1e-3 * spread)
        info["rule"] = (f"anomalies only: {1 - GOOD_QUANTILE:g} quantile of anomaly scores - "
                        "half its distance to the median")
    raw_low = float(np.median(good)) if good.size else threshold - spread
    raw_high = float(np.median(bad)) if bad.size else threshold + spread
    raw_low = min(raw_low, threshold - 0.25 * spread)
    raw_high = max(raw_high, threshold + 0.25 * spread)
    scale = ScoreScale(raw_low, float(threshold), raw_high)
    thresholds = _review_band(scale, good, bad)
    info["threshold_raw"] = float(threshold)
    if can_false_reject is not None:
        from core.scoring.can_target import reject_for_can_target

        target = reject_for_can_target(scale.normalise(good), can_false_reject)
        thresholds = Thresholds(thresholds.review, target.reject)
        info["can_target"] = target.to_dict()
    return scale, thresholds, info


def _best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float | None, float]:
    values = np.unique(scores)
    if values.size < 2:
        return None, 0.0
    candidates = (values[:-1] + values[1:]) / 2.0
    flagged = scores[None, :] >= candidates[:, None]
    tp = (flagged & (labels == 1)).sum(axis=1)
    fp = (flagged & (labels == 0)).sum(axis=1)
    fn = (labels == 1).sum() - tp
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    best = np.flatnonzero(f1 == f1.max())
    # Among equally good thresholds take the middle one: the widest margin to both classes.
    pick = best[len(best) // 2]
    return float(candidates[pick]), float(f1[pick])


def _review_band(scale: ScoreScale, good: np.ndarray, bad: np.ndarray) -> Thresholds:
    if good.size == 0 or bad.size == 0:
        return Thresholds(0.5 - FALLBACK_BAND, 0.5 + FALLBACK_BAND)
    review = float(np.quantile(scale.normalise(bad), REVIEW_QUANTILE))
    reject = float(np.quantile(scale.normalise(good), REJECT_QUANTILE))
    review = float(np.clip(review, 0.5 - BAND_MAX, 0.5 - BAND_MIN))
    reject = float(np.clip(reject, 0.5 + BAND_MIN, 0.5 + BAND_MAX))
    return Thresholds(round(review, 4), round(reject, 4))


PEAK_RULE = ("heatmap scale: threshold = max-F1 split of per-image map peaks on validation (good peaks "
             "below, defective above), raw_low = median of good maps, raw_high = median defective peak; "
             "one fixed scale for every image")


def peak_heatmap_scale(maps: np.ndarray, labels: ArrayLike) -> tuple[ScoreScale, dict]:
    """A heatmap scale from validation maps ``[N, h, w]`` (raw units) and their image labels.

    A region turns "red" (0.5) where the map rises as high as the peaks that separate defective
    from good validation images, so boxes appear on flagged images; a good image's ordinary surface
    sits near 0 (``PEAK_RULE``). Thread-safe (pure function).
    """
    maps = np.asarray(maps, dtype=np.float64)
    y = np.asarray(labels).ravel().astype(int)
    peaks = maps.reshape(len(maps), -1).max(axis=1)
    peak_scale, _, info = calibrate(peaks, y)
    threshold = peak_scale.raw_threshold
    good = maps[y == 0]
    low = float(np.median(good)) if good.size else peak_scale.raw_low
    spread = peak_scale.raw_high - threshold
    low = min(low, threshold - 0.25 * spread)
    info = dict(info, rule=PEAK_RULE, peak_rule=info.get("rule"))
    return ScoreScale(low, threshold, peak_scale.raw_high), info
