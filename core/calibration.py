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

import numpy as np

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

    def normalise(self, raw):
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
    def from_dict(cls, data: dict) -> "ScoreScale":
        return cls(float(data["raw_low"]), float(data["raw_threshold"]), float(data["raw_high"]))


@dataclass(frozen=True)
class Thresholds:
    """Normalised thresholds: score >= reject → REJECT; review <= score < reject → REVIEW; else PASS.

    ``review == reject == 0.5`` means no review band: the plain Good/Anomaly decision.
    """
    review: float = 0.5
    reject: float = 0.5

    def __post_init__(self) -> None:
        if not (0.0 <= self.review <= 0.5 <= self.reject <= 1.0):
            raise ValueError(
                f"thresholds need 0 <= review <= 0.5 <= reject <= 1, got review={self.review}, "
                f"reject={self.reject}")

    def outcome(self, score: float) -> Outcome:
        if score >= self.reject:
            return Outcome.REJECT
        if score >= self.review:
            return Outcome.REVIEW
        return Outcome.PASS

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Thresholds":
        return cls(float(data.get("review", 0.5)), float(data.get("reject", 0.5)))
