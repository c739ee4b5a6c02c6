"""What an inspection returns: per side and per can. numpy only, no torch, so any layer can hold it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

import cv2
import numpy as np

GOOD = "Good"
ANOMALY = "Anomaly"
# Heatmaps are stored as 16-bit PNG over this range of the normalised scale (0.5 = box threshold).
HEATMAP_PNG_MAX = 2.0


class Outcome(str, Enum):
    PASS = "pass"
    REVIEW = "review"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        return {"pass": 0, "review": 1, "reject": 2}[self.value]

    @classmethod
    def worst(cls, outcomes: Iterable[Outcome]) -> Outcome:
        outcomes = list(outcomes)
        if not outcomes:
            raise ValueError("a verdict needs at least one side")
        return max(outcomes, key=lambda o: o.severity)


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int
    score: float  # peak of the normalised heatmap inside the region

    def to_dict(self) -> dict:
        return {"x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1, "score": round(self.score, 4)}


@dataclass
class SideResult:
    side: str
    score: float              # normalised: 0.5 is the decision threshold
    label: str                # GOOD or ANOMALY
    outcome: Outcome
    heatmap: np.ndarray       # float32 HxW at the image's resolution, normalised (0.5 = box level)
    boxes: list[Box]
    image: np.ndarray         # the RGB image that was inspected
    # The judged region's outline, N x 2 int32 (x, y) image pixels; None = the whole photo.
    region: np.ndarray | None = None
    reason: str = ""          # why the outcome is what it is beyond the score ("no can found: ...")

    def to_dict(self) -> dict:
        out = {"side": self.side, "score": round(self.score, 4), "label": self.label,
               "outcome": self.outcome.value, "boxes": [b.to_dict() for b in self.boxes]}
        out["region"] = None if self.region is None else np.asarray(self.region).tolist()
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class CanResult:
    sides: list[SideResult]
    model_name: str
    model_version: str
    started: datetime
    finished: datetime
    verdict: Outcome = field(init=False)

    def __post_init__(self) -> None:
        self.verdict = Outcome.worst(s.outcome for s in self.sides)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict.value, "model": self.model_name,
                "model_version": self.model_version, "started": self.started.isoformat(),
                "finished": self.finished.isoformat(), "sides": [s.to_dict() for s in self.sides]}


def heatmap_to_png16(heat: np.ndarray) -> bytes:
    """Encode a normalised heatmap losslessly enough for display and review (step ~3e-5)."""
    scaled = np.clip(np.asarray(heat, dtype=np.float32) / HEATMAP_PNG_MAX, 0.0, 1.0) * 65535.0
    ok, buf = cv2.imencode(".png", np.round(scaled).astype(np.uint16))
    if not ok:
        raise ValueError("could not encode heatmap")
    return buf.tobytes()


def heatmap_from_png16(data: bytes) -> np.ndarray:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 2:
        raise ValueError("not a 16-bit single-channel heatmap PNG")
    return arr.astype(np.float32) / 65535.0 * HEATMAP_PNG_MAX
