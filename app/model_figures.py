"""The figures the Models panel shows for a model: per side and per can, each with the images it rests
on and its 95 % interval, and a warning where a class has fewer than ``MIN_IMAGES_PER_CLASS`` images.

Everything is computed from per-image labels, scores and outcomes, so the same rows come from a fresh
evaluation, from one stored in the database (``evaluation_record`` keeps the arrays) and from
thresholds an admin is moving (outcomes recomputed with ``Thresholds.outcome``).

Qt-free, numpy only; pure functions, safe on any thread.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from core.evaluation.can_level import can_level, clopper_pearson
from core.evaluation.uncertainty import MIN_IMAGES_PER_CLASS, auroc_interval
from core.scoring.calibration import Thresholds

if TYPE_CHECKING:
    from core.evaluation.backdrop import BackdropReport
    from core.evaluation.evaluate import EvalReport

LIVE_DRAWS = 4000            # random cans drawn per redraw while thresholds move (the check only)
PER_IMAGE_LIMIT = 20_000     # larger evaluations are stored without their per-image arrays


@dataclass(frozen=True)
class FigureRow:
    name: str
    value: str
    interval: str            # 95 % interval, "" where none applies
    rests_on: str            # the images the figure rests on ("17 good, 45 defective")
    warning: str = ""        # why this figure is rough, "" if it is not


def evaluation_record(report: EvalReport) -> dict[str, Any]:
    """What is stored for an ``EvalReport``: its summary plus the per-image arrays (if not huge)."""
    data = report.to_dict()
    if len(report.labels) <= PER_IMAGE_LIMIT:
        data["images"] = {"labels": [int(v) for v in report.labels],
                          "scores": [round(float(v), 4) for v in report.scores],
                          "outcomes": list(report.outcomes)}
    return data


def arrays(data: dict) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Labels, scores and outcomes of a stored evaluation, or None if it was stored without them."""
    images = data.get("images")
    if not isinstance(images, dict):
        return None
    return (np.asarray(images["labels"], dtype=int), np.asarray(images["scores"], dtype=float),
            list(images["outcomes"]))


def pinned_of(scores: ArrayLike, outcomes: Sequence[str], thresholds: Thresholds) -> list[str | None]:
    """Per image, the outcome that did not come from its score: where the recorded outcome differs
    from what ``thresholds`` give for the score (a side whose can was not found goes to review
    whatever its score), that outcome; else None. Moving thresholds keeps these outcomes."""
    out: list[str | None] = []
    for s, o in zip(np.asarray(scores, float), outcomes):
        by_score = thresholds.outcome(float(s)).value
        out.append(str(o) if str(o) != by_score else None)
    return out


def outcomes_at(scores: ArrayLike, thresholds: Thresholds,
                pinned: Sequence[str | None] | None = None) -> list[str]:
    """Outcomes at ``thresholds``, except each image's pinned one (``pinned_of``)."""
    got = [thresholds.outcome(float(s)).value for s in np.asarray(scores, float)]
    if pinned is None:
        return got
    return [g if p is None else str(p) for g, p in zip(got, pinned)]


def _small(n: int, what: str) -> str:
    return f"too few (under {MIN_IMAGES_PER_CLASS} {what})" if n < MIN_IMAGES_PER_CLASS else ""


def _share_row(name: str, k: int, n: int, what: str) -> FigureRow:
    if n == 0:
        return FigureRow(name, "n/a", "", f"no {what}", f"no {what} images")
    low, high = clopper_pearson(k, n)
    return FigureRow(name, f"{k} of {n} ({100 * k / n:.1f} %)", f"{100 * low:.1f} – {100 * high:.1f} %",
                     f"{n} {what}", _small(n, what))


def figure_rows(labels: ArrayLike, scores: ArrayLike, outcomes: Sequence[str], *,
                draws: int = LIVE_DRAWS) -> list[FigureRow]:
    """Per-side then can-level rows for one set of per-image results."""
    y = np.asarray(labels, dtype=int)
    lv = np.array([{"pass": 0, "review": 1, "reject": 2}[str(o)] for o in outcomes], dtype=int)
    ng, nd = int(np.sum(y == 0)), int(np.sum(y == 1))
    rest = f"{ng} good, {nd} defective"
    warn = "; ".join(w for w in (_small(ng, "good"), _small(nd, "defective")) if w)
    rows = []
    if ng and nd:
        auc, low, high = auroc_interval(y, scores)
        rows.append(FigureRow("Image AUROC", f"{auc:.3f}", f"{low:.3f} – {high:.3f}", rest, warn))
    else:
        rows.append(FigureRow("Image AUROC", "n/a", "", rest, "needs good and defective images"))
    good, bad = lv[y == 0], lv[y == 1]
    rows += [_share_row("Good sides to review or rejected", int(np.sum(good >= 1)), ng, "good"),
             _share_row("Good sides rejected", int(np.sum(good == 2)), ng, "good"),
             _share_row("Defective sides passed unflagged", int(np.sum(bad == 0)), nd, "defective"),
             _share_row("Defective sides not rejected", int(np.sum(bad < 2)), nd, "defective")]
    report = can_level(y, [str(o) for o in outcomes], draws=draws)
    for key, name in (("good_cans_rejected", "Good cans rejected (per 1000)"),
                      ("good_cans_to_review", "Good cans sent to review (per 1000)"),
                      ("defective_cans_passed", "Defective cans passed unflagged (per 1000)"),
                      ("defective_cans_not_rejected", "Defective cans not rejected (per 1000)")):
        f = report.figures[key]
        if f is None:
            rows.append(FigureRow(name, "n/a", "", rest, "needs good and defective images"))
            continue
        both = key.startswith("defective")
        rows.append(FigureRow(name, f"{f.per_1000:.0f}", f"{f.low:.0f} – {f.high:.0f}",
                              f"{f.good_images} good" + (f", {f.defect_images} defective" if both
                                                         else ""),
                              warn if both else _small(ng, "good")))
    return rows


def stored_rows(data: dict, thresholds: Thresholds | None) -> list[FigureRow]:
    """Rows of a stored evaluation at ``thresholds`` (the model's current ones), from its arrays;
    a summary stored without them gives the can-level rows it was stored with."""
    got = arrays(data)
    if got is not None:
        labels, scores, outcomes = got
        stored = Thresholds(data["thresholds"]["review"], data["thresholds"]["reject"])
        if thresholds is not None and thresholds != stored:
            outcomes = outcomes_at(scores, thresholds, pinned_of(scores, outcomes, stored))
        return figure_rows(labels, scores, outcomes) + backdrop_rows(data, thresholds)
    rows = []
    for f in (data.get("can_level") or {}).get("figures", {}).values():
        if f is not None:
            rows.append(FigureRow(f["label"] + " (per 1000)", f"{f['per_1000']:.0f}",
                                  f"{f['low']:.0f} – {f['high']:.0f}",
                                  f"{f['good_images']} good, {f['defect_images']} defective"))
    return rows + backdrop_rows(data, thresholds)


def backdrop_record(check: BackdropReport | None, report: EvalReport) -> dict[str, Any]:
    """What is stored of a backdrop check: its summary, the thresholds its verdicts were taken at
    (the evaluation's), or why it did not run (no good image in the folder)."""
    if check is None:
        return {"skipped": "the folder has no good image to repaint"}
    return {**check.to_dict(),
            "thresholds": {"review": report.review_threshold, "reject": report.reject_threshold}}


def backdrop_rows(data: dict | None, thresholds: Thresholds | None = None) -> list[FigureRow]:
    """The backdrop check's row of a stored evaluation (none if it did not run): verdicts changed
    of the repaints, with a 95 % interval, resting on the good images repainted. Its verdicts were
    taken at the evaluation's thresholds; when ``thresholds`` differ, the row says so."""
    check = (data or {}).get("backdrop_check")
    if not isinstance(check, dict):
        return []
    name = "Backdrop check: verdicts changed"
    if "skipped" in check:
        return [FigureRow(name, "n/a", "", "no good images", str(check["skipped"]))]
    n, k = int(check["repaints"]), int(check["verdicts_changed"])
    rests = f"{check['images']} good, repainted"   # (how often: the value, k of n repaints)
    if n == 0:
        return [FigureRow(name, "n/a", "", rests, "no can found on any good image")]
    warnings = []
    if k:
        worst = ", ".join(f"{c['image']} on {c['backdrop']}" for c in check.get("changes", [])[:3])
        warnings.append(f"the verdict depends on what is behind the can ({worst}); score shift mean "
                        f"{check['mean_score_shift']:.3f}, largest {check['max_score_shift']:.3f}")
    at = check.get("thresholds")
    if thresholds is not None and at and (float(at["review"]), float(at["reject"])) != (
            thresholds.review, thresholds.reject):
        warnings.append(f"taken at review {float(at['review']):.3f}, reject {float(at['reject']):.3f}: "
                        "evaluate again for these thresholds")
    low, high = clopper_pearson(k, n)
    return [FigureRow(name, f"{k} of {n} ({100 * k / n:.1f} %)", f"{100 * low:.1f} – {100 * high:.1f} %",
                      rests, "; ".join(warnings))]


def can_summary(rows: list[FigureRow]) -> str:
    """One line of the two can-level figures a plant watches, for the activation dialog."""
    by_name = {r.name: r for r in rows}
    parts = []
    for name, words in (("Good cans rejected (per 1000)", "good cans rejected"),
                        ("Defective cans passed unflagged (per 1000)", "defective cans passed")):
        r = by_name.get(name)
        if r is not None and r.value != "n/a":
            parts.append(f"{r.value} {words} per 1000 (95 %: {r.interval})")
    return "; ".join(parts)
