"""What the capture panel says between cans and under a verdict (plain functions of the state).

Threading: pure functions; any thread.
"""
from __future__ import annotations

from app.scores import score_100, thresholds_text
from core.results import CanResult, SideResult
from core.scoring.calibration import Thresholds


def capture_state_text(n: int, done: int) -> str:
    """The banner between cans: what is left to do (never what was true before)."""
    if not n:
        return "Choose a product to inspect."
    if done == n:
        return f"All {n} sides captured: press Inspect."
    if done:
        return f"{done} of {n} sides captured; capture the rest, then press Inspect."
    return f"Capture the {n} sides, then press Inspect."


def banner_detail(result: CanResult, worst: SideResult, t: Thresholds) -> str:
    """The line under PASS / REVIEW / REJECT: which side decided it, on the 0-100 scale."""
    bad = [s for s in result.sides if s.outcome.severity > 0]
    if bad:
        names = ", ".join(s.side for s in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3
                                                      else "")
        lead = f"{len(bad)} of {len(result.sides)} sides: {names}"
    else:
        lead = f"all {len(result.sides)} sides pass"
    text = (f"{lead} · worst: {worst.side}, {score_100(worst.score)} of 100 "
            f"({thresholds_text(t.review, t.reject)})")
    reasons = [s for s in result.sides if getattr(s, "reason", "")]
    if reasons:   # e.g. no can found: the operator must know why, not only that
        text += "\n" + "; ".join(f"{s.side}: {s.reason}" for s in reasons[:3]) + (
            f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    return text
