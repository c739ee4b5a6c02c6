"""Can-level figures: what a plant sees when a can of seven sides is judged by its worst side.

A plant judges cans, not photos: a can is REJECTED when any side is rejected, sent to REVIEW when no
side is rejected but one is in review, and PASSES otherwise. From per-side outcomes of labelled images
this module gives, per 1000 cans:

- at the review threshold (a side is *flagged* when its outcome is review or reject):
  good cans flagged (sent to a person or rejected) and defective cans passed with no flag;
- at the reject threshold (flagged = reject): good cans rejected (overkill) and defective cans not
  rejected (escapes when nobody looks at the review pile);
- good cans sent to review (verdict REVIEW).

How cans are composed (``METHOD`` says the same in every report):

1. **Exact composition** from the per-side rates, sides independent: a good can is ``s`` good sides, a
   defective can is ``s - 1`` good sides plus one defective side (a dent shows on one side). With ``p``
   the share of good sides flagged and ``q`` the share of defective sides flagged:
   good can flagged ``1 - (1 - p)^s``; defective can passed ``(1 - p)^(s-1) (1 - q)`` (a good side that
   is wrongly flagged stops the can too, as it would at the line); good can to review
   ``(1 - r)^s - (1 - r - v)^s`` with ``r`` the reject and ``v`` the review share of good sides.
2. **Intervals**: exact (Clopper-Pearson) binomial intervals of the per-side rates, pushed through these
   formulas, which are monotone in each rate. A figure of one rate keeps the chosen confidence exactly;
   a figure of two rates takes each rate's interval at ``1 - (1 - confidence) / 2`` (Bonferroni), so the
   pair holds with at least the chosen confidence. They show how little a small set proves: 0 of 43 good
   sides rejected still allows up to ~45 % of good cans rejected (95 %, two-sided).
3. **A check by random draws** of real images: ``draws`` cans of each kind, ``s`` different good images
   (``s - 1`` plus one defective image for a defective can), seeded; the worst outcome is the verdict.
   It agrees with (1) up to sampling noise (a few per 1000 at 20 000 draws) and the effect of never
   repeating an image within a can, which (1) ignores: with 5 of 43 good sides flagged the draws give
   about 605 good cans flagged per 1000 where the formula gives 579. A large gap means few images.

numpy only; pure functions, safe on any thread.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from core.sides import SIDES_PER_CAN

CONFIDENCE = 0.95
DRAWS = 20_000
_SEVERITY = {"pass": 0, "review": 1, "reject": 2}
METHOD = ("cans of {s} sides composed from per-side rates (good can = {s} good sides, defective can = "
          "{d} good sides + 1 defective side, sides independent); {c:g} % Clopper-Pearson intervals of "
          "the per-side rates pushed through the can formulas (Bonferroni for figures of two rates); "
          "checked by {n} seeded random draws of real images per kind of can")


# -- exact binomial intervals (numpy only) ----------------------------------------------------------
def _log_binom_pmf_head(k: int, n: int, p: float) -> np.ndarray:
    """log P(X = i) for i = 0..k, X ~ Binomial(n, p), 0 < p < 1."""
    i = np.arange(k + 1, dtype=np.float64)
    log_coef = np.r_[0.0, np.cumsum(np.log(n - i[1:] + 1.0) - np.log(i[1:]))]
    return log_coef + i * math.log(p) + (n - i) * math.log1p(-p)


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if p <= 0.0 or p >= 1.0 or k >= n:
        return 1.0 if p <= 0.0 or k >= n else 0.0
    if k > n // 2:  # sum the shorter tail: P(X <= k) = 1 - P(n - X <= n - k - 1)
        return 1.0 - _cdf(n - k - 1, n, 1.0 - p)
    return float(np.exp(_log_binom_pmf_head(k, n, p)).sum())


def _solve(f: Callable[[float], float], target: float) -> float:
    """p in (0, 1) with the decreasing function f(p) = target, by bisection."""
    lo, hi = 0.0, 1.0
    for _ in range(50):  # 2^-50: far below any rate a data set can show
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@lru_cache(maxsize=4096)  # moving a threshold changes few counts: most intervals are asked again
def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided exact interval for a binomial rate of ``k`` events in ``n`` trials."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else (tail ** (1.0 / n) if k == n else
                              _solve(lambda p: _cdf(k - 1, n, p), 1.0 - tail))
    high = 1.0 if k == n else (1.0 - tail ** (1.0 / n) if k == 0 else
                               _solve(lambda p: _cdf(k, n, p), tail))
    return low, high


def upper_bound(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided exact upper bound of a binomial rate (0 of n: ``1 - (1 - confidence)^(1/n)``)."""
    return clopper_pearson(k, n, 1.0 - 2.0 * (1.0 - confidence))[1]


# -- the can formulas ------------------------------------------------------------------------------
def good_can_flagged(p: float, sides: int = SIDES_PER_CAN) -> float:
    return 1.0 - (1.0 - p) ** sides


def defective_can_passed(p: float, q: float, sides: int = SIDES_PER_CAN) -> float:
    return (1.0 - p) ** (sides - 1) * (1.0 - q)


def good_can_to_review(r: float, v: float, sides: int = SIDES_PER_CAN) -> float:
    return (1.0 - r) ** sides - max(0.0, 1.0 - r - v) ** sides


def side_rate_for_can_rate(can_rate: float, sides: int = SIDES_PER_CAN) -> float:
    """Per-side flag rate p with ``1 - (1 - p)^sides = can_rate`` (1 % of cans → 0.1435 % of sides)."""
    if not 0.0 < can_rate < 1.0:
        raise ValueError(f"a can-level rate lies strictly between 0 and 1, got {can_rate}")
    return 1.0 - (1.0 - can_rate) ** (1.0 / sides)


def images_needed(side_rate: float, confidence: float = CONFIDENCE) -> int:
    """Good images, none flagged, needed before the one-sided upper bound falls to ``side_rate``."""
    return math.ceil(math.log(1.0 - confidence) / math.log1p(-side_rate))


# -- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CanFigure:
    """One can-level figure per 1000 cans: the exact composition, its interval, the sampled check."""
    label: str
    per_1000: float
    low: float
    high: float
    sampled_per_1000: float | None
    good_images: int
    defect_images: int

    def to_dict(self) -> dict:
        r = lambda v: None if v is None else round(float(v), 1)
        return {"label": self.label, "per_1000": r(self.per_1000), "low": r(self.low),
                "high": r(self.high), "sampled_per_1000": r(self.sampled_per_1000),
                "good_images": self.good_images, "defect_images": self.defect_images}


@dataclass
class CanLevelReport:
    sides: int
    confidence: float
    draws: int
    seed: int
    side_counts: dict          # {"good": {pass, review, reject}, "defect": {...}}
    figures: dict              # key -> CanFigure | None
    notes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return METHOD.format(s=self.sides, d=self.sides - 1, c=100 * self.confidence, n=self.draws)

    def to_dict(self) -> dict:
        return {"sides": self.sides, "confidence": self.confidence, "draws": self.draws,
                "seed": self.seed, "method": self.method, "side_counts": self.side_counts,
                "figures": {k: None if f is None else f.to_dict() for k, f in self.figures.items()},
                "notes": list(self.notes)}


FIGURE_LABELS = {
    "good_cans_flagged": "good cans sent to review or rejected",
    "good_cans_to_review": "good cans sent to review",
    "good_cans_rejected": "good cans rejected (overkill)",
    "defective_cans_passed": "defective cans passed unflagged (escapes)",
    "defective_cans_not_rejected": "defective cans not rejected",
}


def _levels(outcomes: Sequence) -> np.ndarray:
    return np.array([_SEVERITY[getattr(o, "value", o)] for o in outcomes], dtype=np.int8)


def _draw_cans(rng: np.random.Generator, pool: int, count: int, per_can: int) -> np.ndarray:
    """``count`` rows of ``per_can`` indices into ``pool`` images, all different within a row when
    the pool allows (rows with a repeat are drawn again)."""
    idx = rng.integers(0, pool, size=(count, per_can))
    if pool < per_can:
        return idx
    while True:
        s = np.sort(idx, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            return idx
        idx[bad] = rng.integers(0, pool, size=(bad.size, per_can))


def _rate(k: int, n: int, confidence: float) -> tuple[float, float, float]:
    """Point estimate and exact interval of k events in n (0, 0, 0 when there are no trials)."""
    if n == 0:
        return 0.0, 0.0, 0.0
    return (k / n, *clopper_pearson(k, n, confidence))


def can_level(labels: Sequence[int] | np.ndarray, outcomes: Sequence[object], *, sides: int = SIDES_PER_CAN,
              confidence: float = CONFIDENCE, draws: int = DRAWS, seed: int = 0) -> CanLevelReport:
    """Can-level figures from per-image ``labels`` (0 good, 1 defective) and ``outcomes``
    (``Outcome`` or "pass"/"review"/"reject"). See the module docstring for the composition."""
    y = np.asarray(labels, dtype=np.int64).ravel()
    lv = _levels(outcomes)
    if y.size != lv.size:
        raise ValueError(f"{y.size} labels but {lv.size} outcomes")
    if sides < 1 or draws < 1:
        raise ValueError("a can has at least one side and at least one can is drawn")
    good, bad = lv[y == 0], lv[y == 1]
    ng, nd = int(good.size), int(bad.size)
    counts = {name: {o: int(np.sum(arr == v)) for o, v in _SEVERITY.items()}
              for name, arr in (("good", good), ("defect", bad))}
    notes: list[str] = []
    two = 1.0 - (1.0 - confidence) / 2.0   # each rate's level when a figure rests on two rates
    rng = np.random.default_rng(seed)
    figures: dict[str, CanFigure | None] = dict.fromkeys(FIGURE_LABELS)

    def put(key: str, exact: float, low: float, high: float, sampled: float) -> None:
        figures[key] = CanFigure(FIGURE_LABELS[key], 1000 * exact, 1000 * low, 1000 * high,
                                 1000 * sampled, ng, nd if key.startswith("defective") else 0)

    if ng:
        worst = good[_draw_cans(rng, ng, draws, sides)].max(axis=1)
        for key, at in (("good_cans_flagged", 1), ("good_cans_rejected", 2)):
            p, lo, hi = _rate(int(np.sum(good >= at)), ng, confidence)
            put(key, good_can_flagged(p, sides), good_can_flagged(lo, sides),
                good_can_flagged(hi, sides), float(np.mean(worst >= at)))
        r, r_lo, r_hi = _rate(counts["good"]["reject"], ng, two)
        v, v_lo, v_hi = _rate(counts["good"]["review"], ng, two)
        put("good_cans_to_review", good_can_to_review(r, v, sides), good_can_to_review(r_hi, v_lo, sides),
            good_can_to_review(r_lo, v_hi, sides), float(np.mean(worst == 1)))
    else:
        notes.append("no good images: good-can figures undefined; defective cans assume their "
                     f"{sides - 1} good sides pass (the most escapes)")
    if nd:
        bad_draw = rng.integers(0, nd, size=draws)
        good_draw = _draw_cans(rng, ng, draws, sides - 1) if ng and sides > 1 else None
        for key, at in (("defective_cans_passed", 1), ("defective_cans_not_rejected", 2)):
            q, q_lo, q_hi = _rate(int(np.sum(bad >= at)), nd, two)
            p, p_lo, p_hi = _rate(int(np.sum(good >= at)), ng, two)
            worst = bad[bad_draw]
            if good_draw is not None:
                worst = np.maximum(worst, good[good_draw].max(axis=1))
            # Escapes fall as either rate rises: the upper bound takes both lower bounds.
            put(key, defective_can_passed(p, q, sides), defective_can_passed(p_hi, q_hi, sides),
                defective_can_passed(p_lo, q_lo, sides), float(np.mean(worst < at)))
    else:
        notes.append("no defective images: defective-can figures undefined")
    if 0 < ng < sides:
        notes.append(f"only {ng} good images: the drawn cans repeat images")
    return CanLevelReport(sides, confidence, draws, seed, counts, figures, notes)
