"""Build a PatchCore model from good images: patch features, coreset memory bank, calibration.

Split (seeded): the good images are divided into a memory-bank part and a calibration part
(``val_fraction``, at least ``MIN_CALIBRATION_GOOD`` when there are enough); defective images in
the training folder never enter the bank, they only join the calibration set. So the model learns
from good cans alone, and uses defects, if any, only to place the threshold.

Scales (recorded in ``spec.extra['patchcore']`` and ``trained_on['calibration']``):

- image score = the maximum of the smoothed distance map; ``core.scoring.calibration.calibrate`` turns the
  calibration scores into the score scale and the review band (F1-max with defects, otherwise a
  high quantile of good scores plus a margin);
- heatmap scale: the same decision threshold (so a region turns "red", 0.5, exactly where the
  image score would cross the threshold: boxes appear on flagged images only) and the same
  upper anchor, with the lower anchor at the median distance of the good calibration pixels, so
  the ordinary surface of a good can sits at 0 (blue).

Long job: reports progress and honours cancel at every feature batch and every 256 coreset picks.
Runs on the caller's thread.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from core.detectors import catalogue
from core.detectors.backbones import LITE_MEAN, LITE_STD
from core.detectors.patchcore.coreset import greedy_coreset
from core.detectors.patchcore.network import DEFAULT_LAYERS, SIGMA_PX, PatchCoreNet
from core.errors import DatasetInvalid
from core.progress import Progress
from core.scoring.calibration import ScoreScale, calibrate
from core.training.config import LabeledImage, TrainConfig

if TYPE_CHECKING:
    from core.model.model import Model

_ENTRY = catalogue.get("patchcore")
MIN_TRAIN_GOOD = _ENTRY.min_good - 1   # the bank's images; the catalogue's minimum leaves one to calibrate on
MIN_CALIBRATION_GOOD = 3


def _default(name: str) -> Any:
    return _ENTRY.option(name).default


@dataclass
class PatchCoreOptions:
    """Knobs of the memory bank; the defaults (declared in the catalogue) were measured on
    magnetic_tile and cans (docs/ANOMALY.md)."""
    coreset_ratio: float = _default("coreset_ratio")  # keep this share of all good patches ...
    max_bank: int = _default("max_bank")              # ... but at most this many (time per can)
    projection_dim: int = _default("projection_dim")  # random projection used only to pick the coreset
    layers: tuple[int, ...] = DEFAULT_LAYERS
    sigma: float = SIGMA_PX


def options_from(config: TrainConfig) -> PatchCoreOptions:
    """``TrainConfig.options`` may override any of the catalogue's PatchCore options; a name it
    does not declare, or a wrong value, raises ``OptionInvalid``."""
    given = _ENTRY.converted(dict(getattr(config, "options", {}) or {}))
    return PatchCoreOptions(**given)


def split_for_patchcore(samples: Sequence, val_fraction: float, seed: int) -> tuple[list, list]:
    """(bank images, calibration images): seeded; defects only ever go to calibration."""
    rng = np.random.default_rng(seed)
    good = [s for s in samples if int(s.label) == 0]
    defects = [s for s in samples if int(s.label) == 1]
    if len(good) < MIN_TRAIN_GOOD + 1:
        raise DatasetInvalid(f"The good-only detector needs at least {MIN_TRAIN_GOOD + 1} good images, "
                         f"got {len(good)}.")
    order = rng.permutation(len(good))
    n_cal = max(MIN_CALIBRATION_GOOD, int(round(val_fraction * len(good))))
    n_cal = min(n_cal, len(good) - MIN_TRAIN_GOOD)
    cal = [good[i] for i in order[:n_cal]]
    bank = [good[i] for i in order[n_cal:]]
    return bank, cal + defects


def _batches(items: list, size: int) -> Iterator[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def train_patchcore(samples: Sequence[LabeledImage], config: TrainConfig, progress: Progress, name: str,
                    options: PatchCoreOptions | None = None) -> Model:
    """A calibrated PatchCore ``Model`` from labelled samples (``LabeledImage``); caller saves it."""
    from core.images import load_image
    from core.model.model import Model
    from core.model.spec import ModelSpec

    options = options or options_from(config)
    started = time.perf_counter()
    seed = int(getattr(config, "seed", 0))
    # 224: the size its benchmarks (docs/ANOMALY.md) were measured at; the catalogue holds it
    size = int(config.input_size or catalogue.get("patchcore").input_size)
    batch = max(1, int(getattr(config, "batch_size", 8)))
    backbone = getattr(config, "backbone", "efficientnet_lite0")
    torch.manual_seed(seed)
    bank_samples, cal_samples = split_for_patchcore(samples, float(getattr(config, "val_fraction", 0.25)), seed)

    net = PatchCoreNet(backbone, bank_size=1, layers=options.layers, sigma=options.sigma,
                       pretrained=True).eval()
    # The Model does the resizing and normalisation; borrow it so training sees exactly what
    # inspection sees. Its spec is a placeholder until calibration fills in the real scales.
    placeholder = ScoreScale(0.0, 0.5, 1.0)
    spec = ModelSpec(name=name, kind="patchcore", backbone=backbone, input_size=size,
                     mean=LITE_MEAN, std=LITE_STD,
                     score_scale=placeholder, heatmap_scale=placeholder)
    preprocess = Model(spec, net).preprocess

    steps = len(bank_samples) + len(cal_samples)
    feats = []
    with torch.inference_mode():
        for start, chunk in _batches(bank_samples, batch):
            progress.check()
            f = net.patch_features(preprocess([load_image(s.source) for s in chunk]))
            feats.append(f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]))
            progress.report(start + len(chunk), steps, "Extracting patch features of good images")
    patches = torch.cat(feats)
    n_patches = int(patches.shape[0])
    bank_size = max(1, min(options.max_bank, int(math.ceil(options.coreset_ratio * patches.shape[0]))))
    coreset_started = time.perf_counter()
    index = greedy_coreset(patches, bank_size, projection_dim=options.projection_dim, seed=seed,
                           progress=progress)
    coreset_s = time.perf_counter() - coreset_started
    net.memory_bank = patches[index].clone()
    del patches, feats

    raw_scores, labels, good_pixels = [], [], []
    with torch.inference_mode():
        for start, chunk in _batches(cal_samples, batch):
            progress.check()
            s, m = net(preprocess([load_image(x.source) for x in chunk]))
            raw_scores += s.tolist()
            labels += [int(x.label) for x in chunk]
            good_pixels += [m[i].flatten()[::7] for i, x in enumerate(chunk) if int(x.label) == 0]
            progress.report(len(bank_samples) + start + len(chunk), steps, "Calibrating thresholds")
    score_scale, thresholds, info = calibrate(
        raw_scores, labels, can_false_reject=getattr(config, "can_false_reject", None))
    heatmap_scale = _heatmap_scale(score_scale, torch.cat(good_pixels).numpy())

    config_record = asdict(options) | {"bank_size": bank_size, "layers": list(options.layers)}
    spec = spec.replace(
        score_scale=score_scale, heatmap_scale=heatmap_scale, thresholds=thresholds,
        extra={"patchcore": config_record | {
            "score": "max of the Gaussian-smoothed nearest-neighbour distance map",
            "heatmap_scale_rule": "threshold and high anchor as the score scale; low anchor at the "
                                  "median distance of good calibration pixels"}},
        trained_on={"detector": "patchcore", "seed": seed, "bank_images": len(bank_samples),
                    "calibration_good": sum(1 for x in labels if x == 0),
                    "calibration_defect": sum(labels), "patches": n_patches,
                    "calibration": info},
        metrics=_calibration_metrics(raw_scores, labels, score_scale.raw_threshold)
        | {"build_seconds": round(time.perf_counter() - started, 2), "coreset_seconds": round(coreset_s, 2)})
    progress.report(steps, steps, "Memory bank ready")
    return Model(spec, net)


def _calibration_metrics(raw_scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    """What the calibration images say (optimistic with defects: the threshold was fitted on them)."""
    from core.evaluation import metrics

    y, s = np.asarray(labels), np.asarray(raw_scores)
    op = metrics.operating_point(y, s, threshold)
    out: dict[str, float] = {"val_images": int(y.size), "val_good_flagged": op.fp}
    if 0 < y.sum() < y.size:
        out |= {"val_auroc": round(metrics.roc_auc(y, s), 4), "val_recall": round(op.recall, 4)}
    from core.evaluation.uncertainty import validation_counts

    return out | validation_counts(y, s)


def _heatmap_scale(score_scale: ScoreScale, good_pixels: np.ndarray) -> ScoreScale:
    low = float(np.median(good_pixels)) if good_pixels.size else score_scale.raw_low
    # The lower anchor must stay below the threshold whatever the calibration data looked like.
    low = min(low, score_scale.raw_low)
    return ScoreScale(low, score_scale.raw_threshold, score_scale.raw_high)

