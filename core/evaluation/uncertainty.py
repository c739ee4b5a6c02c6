"""How much a figure from few images proves: an interval for the AUROC and warnings on small sets.

An AUROC of 1.000 from 7 validation images says little; the interval says how little. Exact binomial
intervals of rates live in ``core.evaluation.can_level`` (``clopper_pearson``).

numpy and the standard library only; pure functions, safe on any thread.
"""
from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from core.evaluation import metrics

CONFIDENCE = 0.95
# Below this many good or defective images a figure is shown with a warning (issue 11 item 7).
MIN_IMAGES_PER_CLASS = 20


def _hanley_mcneil_variance(theta: float, n_good: int, n_defect: int) -> float:
    """Variance of the Mann-Whitney AUROC when the true AUROC is ``theta`` (Hanley & McNeil 1982,
    exponential approximation: Q1 = theta / (2 - theta), Q2 = 2 theta^2 / (1 + theta))."""
    q1_term = (n_defect - 1) * (1.0 - theta) / (2.0 - theta)
    q2_term = (n_good - 1) * theta / (1.0 + theta)
    return theta * (1.0 - theta) * (1.0 + q1_term + q2_term) / (n_good * n_defect)


def _root(f: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of f in [lo, hi] where f(lo) and f(hi) differ in sign, by bisection."""
    f_lo = f(lo)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if (f(mid) > 0) == (f_lo > 0):
            lo, f_lo = mid, f(mid)
        else:
            hi = mid
    return 0.5 * (lo + hi)


def auroc_interval(labels: ArrayLike, scores: ArrayLike, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(auroc, low, high)``: a score-type interval for the AUROC.

    The limits are the values theta with ``(A - theta)^2 = z^2 V(theta)``, V the Hanley-McNeil variance
    taken at theta itself (as a Wilson interval does for a proportion), so the interval stays honest at
    A = 1.0: 1.000 from 5 good and 2 defective images gives about 0.49-1.00, from 50 and 50 about
    0.96-1.00. ``ValueError`` without both classes (like ``metrics.roc_auc``).
    """
    y = np.asarray(labels).ravel().astype(int)
    auc = metrics.roc_auc(y, scores)
    n_good, n_defect = int(np.sum(y == 0)), int(np.sum(y == 1))
    z2 = NormalDist().inv_cdf(0.5 + confidence / 2.0) ** 2

    def f(theta: float) -> float:
        return (auc - theta) ** 2 - z2 * _hanley_mcneil_variance(theta, n_good, n_defect)

    low = 0.0 if auc <= 0.0 else _root(f, 0.0, auc)
    high = 1.0 if auc >= 1.0 else _root(f, auc, 1.0)
    return auc, low, high


def validation_counts(labels: ArrayLike, scores: ArrayLike) -> dict[str, Any]:
    """What a trainer records beside its validation AUROC: the images per class it rests on and its
    95 % interval (``None`` with one class), so that "1.000" from seven images reads as what it is."""
    y = np.asarray(labels).ravel().astype(int)
    out: dict = {"val_good": int(np.sum(y == 0)), "val_defect": int(np.sum(y == 1))}
    try:
        _, low, high = auroc_interval(y, scores)
        out["val_auroc_interval"] = [round(low, 4), round(high, 4)]
    except ValueError:
        out["val_auroc_interval"] = None
    return out


def small_set_notes(n_good: int, n_defect: int, minimum: int = MIN_IMAGES_PER_CLASS) -> list[str]:
    """Warnings for a figure that rests on fewer than ``minimum`` good or defective images."""
    notes = []
    for n, what in ((n_good, "good"), (n_defect, "defective")):
        if n < minimum:
            notes.append(f"only {n} {what} images (fewer than {minimum}): the figures are rough; "
                         "read the intervals")
    return notes
