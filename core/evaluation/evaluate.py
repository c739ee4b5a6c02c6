"""Evaluate a model on a labelled folder: image-level detection, both thresholds, localisation, speed.

``evaluate_model`` is a long job like training: it takes a ``Progress``, reports every batch and stops
at ``progress.check()``. It runs on whichever thread calls it (a GUI worker, the CLI, a test) and
must be that model's only user while it runs (``Model.inspect_sides`` is not thread-safe).

Scores and heatmaps are evaluated on the model's normalised scale (0.5 = decision threshold), so the
operating points below read the same for every detector. Beside the per-image figures the report gives
the can-level ones (``core.evaluation.can_level``: good cans rejected and defective cans passed per 1000,
with intervals), the AUROC's interval, warnings when a class has few images, and how many of the images
the model was trained or calibrated on (``n_overlap_training``, from the fingerprints it records).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from core.evaluation import metrics
from core.evaluation.can_level import CanLevelReport, can_level
from core.evaluation.uncertainty import auroc_interval, small_set_notes
from core.images.fingerprint import count_seen, image_digest
from core.images.shrink import shrink
from core.progress import Progress
from core.results import Outcome
from core.sides import SIDES_PER_CAN

if TYPE_CHECKING:  # imported for hints only: keep this module light for the GUI
    from core.model.model import Model
    from core.training import LabeledImage

# Pixel metrics run on maps and masks shrunk so their longer side is at most this; the sort behind
# AUROC/AUPRO then stays in memory for a thousand images. Box hits use full resolution.
PIXEL_METRIC_SIDE = 256
MASK_LEVEL = 127


@dataclass
class EvalReport:
    """What ``evaluate`` prints and the GUI draws. Metrics undefined for the data are ``None``."""
    model_name: str
    model_version: str
    detector: str
    data: str
    names: list[str]
    labels: np.ndarray                 # 0 good / 1 defect, per image
    scores: np.ndarray                 # normalised image scores (0.5 = decision threshold)
    outcomes: list[str]                # pass / review / reject per image
    review_threshold: float
    reject_threshold: float
    image_auroc: float | None
    average_precision: float | None
    decision: metrics.OperatingPoint   # at 0.5, the model's threshold
    at_review: metrics.OperatingPoint  # everything at or above the review threshold flagged
    at_reject: metrics.OperatingPoint
    review_share: float                # share of images sent to a person
    latency_ms: float                  # mean inference time per image (batched), loading excluded
    pixel_auroc: float | None = None
    aupro: float | None = None
    box_hit_rate: float | None = None
    good_with_boxes: float | None = None   # share of good images that got at least one box
    masked_images: int = 0
    notes: list[str] = field(default_factory=list)
    image_auroc_interval: tuple[float, float] | None = None   # 95 %, see core.evaluation.uncertainty
    can: CanLevelReport | None = None                 # can-level figures at both thresholds
    n_overlap_training: int | None = None             # images the model saw; None: cannot tell

    @property
    def n_good(self) -> int:
        return int(np.sum(self.labels == 0))

    @property
    def n_defect(self) -> int:
        return int(np.sum(self.labels == 1))

    def to_dict(self, per_image: bool = False) -> dict:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 4)
        out = {
            "model": self.model_name, "model_version": self.model_version,
            "detector": self.detector, "data": self.data,
            "images": len(self.labels), "good": self.n_good, "defect": self.n_defect,
            "image_auroc": r(self.image_auroc), "average_precision": r(self.average_precision),
            "thresholds": {"review": self.review_threshold, "decision": 0.5,
                           "reject": self.reject_threshold},
            "decision": self.decision.to_dict(), "at_review": self.at_review.to_dict(),
            "at_reject": self.at_reject.to_dict(), "review_share": r(self.review_share),
            "outcomes": {o.value: self.outcomes.count(o.value) for o in Outcome},
            "latency_ms_per_image": round(self.latency_ms, 2),
            "masked_images": self.masked_images, "pixel_auroc": r(self.pixel_auroc),
            "aupro": r(self.aupro), "box_hit_rate": r(self.box_hit_rate),
            "good_with_boxes": r(self.good_with_boxes), "notes": list(self.notes),
            "image_auroc_interval": (None if self.image_auroc_interval is None
                                     else [r(v) for v in self.image_auroc_interval]),
            "n_overlap_training": self.n_overlap_training,
            "can_level": None if self.can is None else self.can.to_dict(),
        }
        if per_image:
            out["per_image"] = [
                {"name": n, "label": int(y), "score": round(float(s), 4), "outcome": o}
                for n, y, s, o in zip(self.names, self.labels, self.scores, self.outcomes)]
        return out


def _mask_path(source: str | Path | bytes) -> Path | None:
    """DATA_DIR/defect/x.jpg -> DATA_DIR/masks/x.png, if the data set has masks at all."""
    if not isinstance(source, (str, Path)):
        return None
    path = Path(source)
    return path.parent.parent / "masks" / f"{path.stem}.png"


def _load_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    raw = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if raw is None:
        from core.errors import UnreadableImage
        raise UnreadableImage(path, "not a readable mask image")
    if raw.shape != shape:  # masks describe the image: bring them to its pixels
        raw = cv2.resize(raw, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return metrics.binary_mask(raw, MASK_LEVEL)


def _shrink(mask: np.ndarray, heat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    small_heat, factor = shrink(heat.astype(np.float32), PIXEL_METRIC_SIDE)
    if factor >= 1.0:
        return mask, small_heat
    small_mask, _ = shrink(mask.astype(np.uint8) * 255, PIXEL_METRIC_SIDE)
    return small_mask > MASK_LEVEL, small_heat


def limit_samples(samples: Sequence[LabeledImage], limit: int | None,
                  seed: int = 0) -> list[LabeledImage]:
    """A seeded subset of ``limit`` samples that keeps the good/defect proportions."""
    samples = list(samples)
    if limit is None or limit >= len(samples):
        return samples
    rng = np.random.default_rng(seed)
    chosen: list = []
    for label in (0, 1):
        group = [s for s in samples if s.label == label]
        take = round(limit * len(group) / len(samples))
        if group and take == 0:
            take = 1  # keep both classes so that AUROC stays defined
        chosen += [group[i] for i in sorted(rng.choice(len(group), min(take, len(group)), replace=False))]
    return chosen


def evaluate_model(model: Model, data: str | Path | Sequence[LabeledImage],
                   progress: Progress | None = None, batch: int = SIDES_PER_CAN,
                   limit: int | None = None) -> EvalReport:
    """Run ``model`` over every image of ``data`` (a folder with good/ and defect/, or samples).

    Pixel metrics are computed when the data set has a ``masks/`` folder: good images count as
    all-good pixels, defect images without a mask file are left out of them (and noted).
    """
    from core.images import load_image  # the engine's loader (EXIF, pixel limit, errors)
    from core.training import scan_dataset

    progress = progress or Progress()
    if isinstance(data, (str, Path)):
        label = str(data)
        samples = scan_dataset(data)
    else:
        label = "<samples>"
        samples = list(data)
    samples = limit_samples(samples, limit)
    if not samples:
        raise ValueError("no images to evaluate")
    mask_paths = [_mask_path(s.source) for s in samples]
    has_masks = any(p is not None and p.parent.is_dir() for p in mask_paths)

    names, labels, scores, outcomes, digests = [], [], [], [], []
    pixel_masks, pixel_maps, region_masks, region_boxes, good_boxes = [], [], [], [], []
    notes: list[str] = []
    missing_masks = 0
    inference_s = 0.0
    total = len(samples)
    progress.report(0, total, "Evaluating")
    for start in range(0, total, batch):
        progress.check()
        chunk = samples[start:start + batch]
        images = [load_image(s.source) for s in chunk]
        chunk_names = [Path(s.source).stem if isinstance(s.source, (str, Path)) else f"image {start + i}"
                       for i, s in enumerate(chunk)]
        t0 = time.perf_counter()
        results = model.inspect_sides(images, chunk_names)
        inference_s += time.perf_counter() - t0
        for s, name, image, res, mpath in zip(chunk, chunk_names, images, results,
                                              mask_paths[start:start + batch]):
            names.append(name)
            labels.append(int(s.label))
            digests.append(image_digest(s.source))
            scores.append(float(res.score))
            outcomes.append(res.outcome.value if isinstance(res.outcome, Outcome) else str(res.outcome))
            if not has_masks:
                continue
            shape = image.shape[:2]
            if s.label == 0:
                mask = np.zeros(shape, dtype=bool)
                good_boxes.append(len(res.boxes) > 0)
            elif mpath is not None and mpath.is_file():
                mask = _load_mask(mpath, shape)
                region_masks.append(mask)
                region_boxes.append(list(res.boxes))
            else:
                missing_masks += 1
                continue
            small_mask, small_map = _shrink(mask, np.asarray(res.heatmap))
            pixel_masks.append(small_mask)
            pixel_maps.append(small_map)
        progress.report(min(start + batch, total), total, f"Evaluated {min(start + batch, total)} of {total}")

    y = np.asarray(labels, dtype=np.int64)
    score_array = np.asarray(scores, dtype=np.float64)
    thresholds = model.spec.thresholds
    report = EvalReport(
        model_name=model.spec.name, model_version=str(model.spec.version), detector=model.spec.kind,
        data=label, names=names, labels=y, scores=score_array, outcomes=outcomes,
        review_threshold=float(thresholds.review), reject_threshold=float(thresholds.reject),
        image_auroc=_or_none(metrics.roc_auc, y, score_array, notes, "image AUROC"),
        average_precision=_or_none(metrics.average_precision, y, score_array, notes, "average precision"),
        decision=metrics.operating_point(y, score_array, 0.5),
        at_review=metrics.operating_point(y, score_array, thresholds.review),
        at_reject=metrics.operating_point(y, score_array, thresholds.reject),
        review_share=float(np.mean([o == Outcome.REVIEW.value for o in outcomes])),
        latency_ms=1000.0 * inference_s / total, notes=notes)
    _add_uncertainty(report, getattr(model.spec, "trained_on", {}), digests)
    if has_masks:
        report.masked_images = len(region_masks)
        if missing_masks:
            notes.append(f"{missing_masks} defect image(s) without a mask left out of pixel metrics")
        report.pixel_auroc = _or_none(metrics.pixel_auroc, pixel_masks, pixel_maps, notes, "pixel AUROC")
        report.aupro = _or_none(metrics.aupro, pixel_masks, pixel_maps, notes, "AUPRO")
        report.box_hit_rate = _or_none(metrics.box_hit_rate, region_masks, region_boxes, notes,
                                       "box hit rate")
        report.good_with_boxes = float(np.mean(good_boxes)) if good_boxes else None
    return report


def _add_uncertainty(report: EvalReport, trained_on: dict[str, Any], digests: list[bytes]) -> None:
    """Can-level figures, the AUROC interval, small-set warnings and the training overlap."""
    report.can = can_level(report.labels, report.outcomes)
    if report.image_auroc is not None:
        report.image_auroc_interval = auroc_interval(report.labels, report.scores)[1:]
    report.notes += small_set_notes(report.n_good, report.n_defect)
    report.n_overlap_training = count_seen(trained_on or {}, digests)
    if report.n_overlap_training is None:
        report.notes.append("the model does not record its training images: whether these images "
                            "are new to it cannot be told")
    elif report.n_overlap_training:
        report.notes.append(f"{report.n_overlap_training} of these {len(digests)} images were used to "
                            "train or calibrate the model: its figures here are optimistic")


def _or_none(fn: Callable[..., float], a: Any, b: Any, notes: list[str], what: str) -> float | None:
    """Metrics undefined for this data (one class only, no regions) become None plus a note."""
    try:
        return fn(a, b)
    except ValueError as exc:
        notes.append(f"{what} not defined: {exc}")
        return None
