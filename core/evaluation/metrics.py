"""Detection and localisation metrics in plain numpy (no scikit-learn on the station).

Conventions used throughout:

- ``labels`` are 0 (good) or 1 (defect); ``scores`` are larger for "more anomalous".
- A sample is predicted positive when ``score >= threshold`` (the same rule as ``Thresholds``).
- Metrics that are undefined for a single class (ROC AUC, AP, pixel AUROC, AUPRO) raise
  ``ValueError`` with a sentence that says why, so a caller decides whether to report "n/a".
- Equal scores are handled as ties: the ROC curve steps through them at once (diagonal segment),
  which makes ``roc_auc`` equal to the Mann-Whitney probability with ties counted one half.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike

# The MVTec AD benchmark integrates the per-region overlap up to this false-positive rate.
AUPRO_MAX_FPR = 0.3


def _as_binary_problem(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.size} vs {s.size}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 (good) or 1 (defect)")
    return y.astype(bool), s


def _require_both_classes(y: np.ndarray, what: str) -> None:
    positives = int(y.sum())
    if positives == 0 or positives == y.size:
        raise ValueError(f"{what} needs both good and defective samples; got "
                         f"{y.size - positives} good and {positives} defective")


def _cumulative_counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True/false positive counts when thresholding at each distinct score, highest first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    # Keep only the last index of each run of equal scores: ties enter the prediction together.
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), y_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run].astype(np.float64)
    fps = (last_of_run + 1) - tps
    return tps, fps, s_sorted[last_of_run]


def roc_curve(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(fpr, tpr, thresholds)``, starting at (0, 0) with threshold +inf."""
    y, s = _as_binary_problem(labels, scores)
    _require_both_classes(y, "an ROC curve")
    tps, fps, thresholds = _cumulative_counts(y, s)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, np.r_[np.inf, thresholds]


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve (trapezoids, so ties count one half)."""
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.trapezoid(tpr, fpr))


def average_precision(labels: ArrayLike, scores: ArrayLike) -> float:
    """AP = sum over distinct thresholds of (recall step) x precision, as scikit-learn defines it
    (no interpolation, so it is not optimistic)."""
    y, s = _as_binary_problem(labels, scores)
    if not y.any():
        raise ValueError("average precision needs at least one defective sample")
    tps, fps, _ = _cumulative_counts(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    recall_steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(recall_steps * precision))


@dataclass(frozen=True)
class OperatingPoint:
    """Counts and rates when everything scoring ``>= threshold`` is called defective."""
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float:
        # Undefined when nothing is flagged: NaN (to_dict writes null) rather than scikit-learn's 0,
        # which would read as "every flag was wrong".
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else float("nan")

    @property
    def recall(self) -> float:
        actual = self.tp + self.fn
        return self.tp / actual if actual else float("nan")

    @property
    def specificity(self) -> float:
        actual = self.tn + self.fp
        return self.tn / actual if actual else float("nan")

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else float("nan")

    @property
    def balanced_accuracy(self) -> float:
        rates = [r for r in (self.recall, self.specificity) if not np.isnan(r)]
        return float(np.mean(rates)) if rates else float("nan")

    @property
    def confusion_matrix(self) -> list[list[int]]:
        """Rows are the truth (good, defect), columns the prediction (good, defect)."""
        return [[self.tn, self.fp], [self.fn, self.tp]]

    def to_dict(self) -> dict:
        out = asdict(self)
        for name in ("precision", "recall", "specificity", "f1", "balanced_accuracy"):
            value = getattr(self, name)
            out[name] = None if np.isnan(value) else round(float(value), 4)
        out["confusion_matrix"] = self.confusion_matrix
        return out


def operating_point(labels: ArrayLike, scores: ArrayLike, threshold: float) -> OperatingPoint:
    """Confusion counts at one threshold; defined for any mix of classes (rates may be NaN).

    Precision is NaN when nothing is flagged, recall NaN without defects, specificity NaN
    without good samples; balanced accuracy then averages whichever rates exist.
    """
    y, s = _as_binary_problem(labels, scores)
    predicted = s >= threshold
    return OperatingPoint(threshold=float(threshold),
                          tp=int(np.sum(predicted & y)), fp=int(np.sum(predicted & ~y)),
                          tn=int(np.sum(~predicted & ~y)), fn=int(np.sum(~predicted & y)))


def binary_mask(mask: np.ndarray, level: int = 127) -> np.ndarray:
    """Ground-truth masks are 8-bit with a few grey edges: defect is strictly above ``level``."""
    return np.asarray(mask) > level


def pixel_auroc(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], *,
                max_pixels: int | None = 2_000_000, seed: int = 0) -> float:
    """ROC AUC over all pixels of all images (masks boolean, maps same shape).

    With more than ``max_pixels`` pixels a uniform random subsample of that size (seeded) is used:
    the sort is the expensive part, and a two-million-pixel sample moves the AUC by well under 0.001.
    """
    y = np.concatenate([np.asarray(m, dtype=bool).ravel() for m in masks])
    s = np.concatenate([np.asarray(a, dtype=np.float32).ravel() for a in maps])
    if y.size != s.size:
        raise ValueError("masks and maps must have the same shapes")
    if max_pixels is not None and y.size > max_pixels:
        pick = np.random.default_rng(seed).choice(y.size, size=max_pixels, replace=False)
        y, s = y[pick], s[pick]
    _require_both_classes(y, "pixel AUROC")
    return roc_auc(y, s)


def _regions(mask: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected defect regions, 8-connected as in the MVTec AD evaluation code."""
    count, labelled = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return count - 1, labelled


def pro_curve(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-region overlap against false-positive rate, exact at every distinct map value.

    FPR is the share of all defect-free pixels (over every image) at or above the threshold; PRO is
    the mean, over every connected ground-truth region of every image, of the share of that region's
    pixels at or above the threshold. Follows the MVTec AD reference implementation: each pixel adds
    ``1/#good_pixels`` to FPR or ``1/(#regions * region_area)`` to PRO as the threshold passes it.
    """
    fpr_steps, pro_steps, values = [], [], []
    region_total = 0
    for mask, heat in zip(masks, maps):
        mask = np.asarray(mask, dtype=bool)
        heat = np.asarray(heat, dtype=np.float32)
        if mask.shape != heat.shape:
            raise ValueError(f"mask {mask.shape} and map {heat.shape} differ in shape")
        count, labelled = _regions(mask)
        region_total += count
        areas = np.bincount(labelled.ravel(), minlength=count + 1).astype(np.float64)
        weight = np.zeros(labelled.size)
        in_region = labelled.ravel() > 0
        weight[in_region] = 1.0 / areas[labelled.ravel()[in_region]]
        pro_steps.append(weight)
        fpr_steps.append((~mask).ravel().astype(np.float64))
        values.append(heat.ravel())
    if region_total == 0:
        raise ValueError("AUPRO needs at least one defect region in the masks")
    fpr_w, pro_w, s = np.concatenate(fpr_steps), np.concatenate(pro_steps), np.concatenate(values)
    good_pixels = fpr_w.sum()
    if good_pixels == 0:
        raise ValueError("AUPRO needs defect-free pixels to measure false positives")
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s.size - 1]
    fpr = np.cumsum(fpr_w[order])[last_of_run] / good_pixels
    pro = np.cumsum(pro_w[order])[last_of_run] / region_total
    return np.r_[0.0, fpr], np.r_[0.0, pro]


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray],
          max_fpr: float = AUPRO_MAX_FPR) -> float:
    """Area under the PRO curve for FPR in [0, max_fpr], divided by max_fpr (1.0 is perfect)."""
    if not 0.0 < max_fpr <= 1.0:
        raise ValueError("max_fpr must lie in (0, 1]")
    fpr, pro = pro_curve(masks, maps)
    # Cut the curve at max_fpr, interpolating the PRO value there (fpr is non-decreasing).
    keep = fpr <= max_fpr
    cut_fpr, cut_pro = fpr[keep], pro[keep]
    if cut_fpr[-1] < max_fpr and keep.sum() < fpr.size:
        nxt = int(keep.sum())
        x0, x1, y0, y1 = fpr[nxt - 1], fpr[nxt], pro[nxt - 1], pro[nxt]
        y_cut = y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0)
        cut_fpr, cut_pro = np.r_[cut_fpr, max_fpr], np.r_[cut_pro, y_cut]
    return float(np.trapezoid(cut_pro, cut_fpr) / max_fpr)


BoxLike = tuple[int, int, int, int]


def _box_tuple(box: Any) -> BoxLike:
    if hasattr(box, "x0"):
        return int(box.x0), int(box.y0), int(box.x1), int(box.y1)
    x0, y0, x1, y1 = box[:4]
    return int(x0), int(y0), int(x1), int(y1)


def box_hits(mask: np.ndarray, boxes: Iterable) -> tuple[int, int]:
    """``(regions hit, regions)`` for one image: a region is hit when at least one of its pixels
    lies inside a box. Boxes are inclusive-exclusive like ``core.scoring.boxes.find_boxes``: columns
    x0 .. x1-1 and rows y0 .. y1-1."""
    count, labelled = _regions(np.asarray(mask, dtype=bool))
    if count == 0:
        return 0, 0
    hit = np.zeros(count + 1, dtype=bool)
    h, w = labelled.shape
    for box in boxes:
        x0, y0, x1, y1 = _box_tuple(box)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        hit[np.unique(labelled[y0:y1, x0:x1])] = True
    return int(hit[1:].sum()), count


def box_hit_rate(masks: Sequence[np.ndarray], boxes_per_image: Sequence[Iterable]) -> float:
    """Share of all ground-truth regions (over every image) touched by at least one predicted box."""
    hits = regions = 0
    for mask, boxes in zip(masks, boxes_per_image):
        h, r = box_hits(mask, boxes)
        hits += h
        regions += r
    if regions == 0:
        raise ValueError("box hit rate needs at least one defect region in the masks")
    return hits / regions
