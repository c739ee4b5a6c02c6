"""Scores and outcomes as an operator reads them: words, a 0-100 score, and where on the side.

The engine's side score is normalised so that the model's calibrated decision lies at 0.5, and it
may run below 0 or above 1 (the scale extends linearly). People read it on one scale of 0 to 100
(clamped), with the review and reject thresholds drawn on the same scale.

"Where": every side sent to review or rejected shows where it was judged bad. The engine's boxes
(heatmap above its box level) when there are any; else the outline of the judged region with its
reason when the engine gives one (e.g. no can found); else the hottest spot of the heatmap, so
that a REJECT never comes with "no defect region".

Threading: pure functions on numpy arrays and plain values; any thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from core.results import Box

OUTCOME_WORDS = {"pass": "Pass: no defect found",
                 "review": "Review: a person should look at this side",
                 "reject": "Reject: defect found"}
HOT_FRACTION = 0.8       # the hot spot: where the heat is at least this share of its peak


def score_100(score: float) -> int:
    """The normalised score on a 0-100 scale (0.5 → 50), clamped."""
    if not np.isfinite(score):
        return 100
    return int(round(min(1.0, max(0.0, float(score))) * 100))


def thresholds_text(review: float, reject: float) -> str:
    r, j = score_100(review), score_100(reject)
    return f"reject from {j}" if r >= j else f"review from {r}, reject from {j}"


@dataclass(frozen=True)
class Where:
    boxes: tuple[Box, ...]       # what to draw as rectangles (may be the hot spot)
    outline: tuple[tuple[int, int], ...] | None   # the judged region's outline, image pixels
    reason: str                  # the engine's reason, if it gave one
    kind: str                    # "boxes" | "region" | "hot spot" | "none"

    def describe(self) -> str:
        if self.kind == "boxes":
            n = len(self.boxes)
            boxed = f"{n} defect region{'s' if n != 1 else ''} boxed"
            return f"{boxed}; {self.reason}" if self.reason else boxed
        if self.kind == "region":
            return self.reason or "the judged region is outlined"
        if self.kind == "hot spot":
            return "no region above the box level; the hottest spot is boxed"
        return ""


def hot_spot(heatmap: np.ndarray | None) -> Box | None:
    """A box around the connected area of the heatmap's peak (heat ≥ 80 % of the peak)."""
    if heatmap is None:
        return None
    heat = np.asarray(heatmap, np.float32)
    if heat.ndim != 2 or not heat.size or not np.isfinite(heat).all():
        return None
    peak = float(heat.max())
    if peak <= 0:
        return None
    mask = (heat >= HOT_FRACTION * peak).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    bx, by, bw, bh, _area = (int(v) for v in stats[labels[y, x]])
    return Box(bx, by, bx + bw, by + bh, peak)


def where(outcome: str, boxes: tuple[Box, ...] | list[Box], heatmap: np.ndarray | None,
          region: Any = None, reason: str = "") -> Where:
    """Where to show on a side with this outcome (see the module's rule)."""
    outline = _outline(region)
    if boxes:
        return Where(tuple(boxes), outline, reason, "boxes")
    if outcome == "pass":
        return Where((), outline, reason, "none")
    if outline is not None or reason:
        return Where((), outline, reason, "region")
    spot = hot_spot(heatmap)
    return Where((spot,) if spot else (), None, "", "hot spot" if spot else "none")


def _outline(region: Any) -> tuple[tuple[int, int], ...] | None:
    """A list of [x, y] points (the engine's and the database's form), or None."""
    if region is None:
        return None
    try:
        points = tuple((int(p[0]), int(p[1])) for p in region)
    except (TypeError, ValueError, IndexError):
        return None
    return points if len(points) >= 3 else None
