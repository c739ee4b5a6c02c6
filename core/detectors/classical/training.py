"""Setting up the classical check from a few good images: its floor, then its thresholds.

Split (seeded): the good images are divided into a fitting part and a calibration part
(``val_fraction`` of them, at least one); defective images, if any, only join the calibration.

- floor: the median over the fitting images of each one's ``pixel_quantile`` of its deviation
  inside its region (what an ordinary surface reaches: grain, print, ribs; one odd photo does not
  move it); candidates must rise above it;
- score scale and thresholds: ``core.scoring.calibration.calibrate`` on the calibration images' raw
  scores (max F1 with defects; with good images only, a high quantile of their scores plus a margin);
- heatmap scale: ``peak_heatmap_scale`` of the calibration maps (boxes on flagged images).

Every photo is seen as inspection will judge it (option ``region``: auto, the located can with
the outside blanked to ``FILL_VALUE``, which the check then leaves out; whole: the whole photo),
recorded in ``model.json``'s ``preprocessing``.

Nothing is learned beyond these numbers, so it is ready in seconds. Runs on the calling thread;
reports progress and honours cancel per image.
"""
from __future__ import annotations

import numpy as np

from core.detectors import catalogue
from core.detectors.cam.training import region_settings
from core.detectors.classical.check import CheckParams, deviation
from core.detectors.classical.network import ClassicalNet
from core.evaluation.metrics import operating_point, roc_auc
from core.evaluation.uncertainty import validation_counts
from core.images import load_image
from core.model.model import Model
from core.model.spec import ModelSpec
from core.progress import Progress
from core.regions.apply import FILL_VALUE, prepare_side
from core.regions.settings import RegionSettings
from core.scoring.calibration import ScoreScale, calibrate, peak_heatmap_scale
from core.training.config import LabeledImage, TrainConfig

# The network sees pixels / 255 (mean 0, std 1): the check turns them back into exact grey levels.
MEAN, STD = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
MIN_FIT = 2


def split_good(samples: list[LabeledImage], val_fraction: float, seed: int
               ) -> tuple[list[LabeledImage], list[LabeledImage]]:
    """(fitting images, calibration images); defects only ever calibrate."""
    good = [s for s in samples if s.label == 0]
    order = np.random.default_rng(seed).permutation(len(good))
    n_cal = min(max(1, int(round(val_fraction * len(good)))), max(1, len(good) - MIN_FIT))
    cal = [good[i] for i in order[:n_cal]]
    fit = [good[i] for i in order[n_cal:]] or cal
    return fit, cal + [s for s in samples if s.label == 1]


def train_classical(samples: list[LabeledImage], config: TrainConfig, progress: Progress,
                    name: str) -> Model:
    """A calibrated classical ``Model`` (called by ``core.training.train_model``)."""
    size = int(config.input_size or catalogue.get("classical").input_size)
    quantile = float(config.option("pixel_quantile"))
    settings = region_settings({"region": config.option("region")})
    # Inside a region the check reads the judged pixels as those not blanked to prepare_side's grey.
    params = CheckParams(min_area=float(config.option("min_area")),
                         background=float(config.option("background")),
                         fill=FILL_VALUE if settings is not None else None)
    fit, cal = split_good(samples, config.val_fraction, config.seed)
    unit = ScoreScale(0.0, 0.5, 1.0)
    spec = ModelSpec(name=name, kind="classical", backbone="none", input_size=size,
                     mean=MEAN, std=STD, score_scale=unit, heatmap_scale=unit,
                     extra={"classical": params.to_dict()},
                     preprocessing=settings.to_dict() if settings is not None else {})
    total, done = len(fit) + len(cal), 0
    helper = Model(spec, ClassicalNet(params, MEAN, STD))
    values = []
    for sample in fit:
        progress.check()
        view = _view(helper, sample, settings)
        dev, inside = deviation(view, params)
        values.append(dev[inside])
        done += 1
        progress.report(done, total, "measuring good surfaces")
    # Per image, then the median: a few odd good photos (a bright edge, a stain) must not lift the
    # floor above every defect, as a quantile of all pixels pooled does (measured on magnetic_tile:
    # floor 83 pooled over 375 photos, above the deviation of every defect; 33 per image).
    floor = float(np.median([np.quantile(v, quantile) for v in values if v.size])) if values else 0.0
    params = CheckParams(floor=round(floor, 4), min_area=params.min_area, background=params.background,
                         fill=params.fill)
    spec = spec.replace(extra={"classical": params.to_dict()})
    model = Model(spec, ClassicalNet(params, MEAN, STD))
    scores, maps, labels = [], [], []
    for sample in cal:
        progress.check()
        raw_scores, raw_maps = model.raw_outputs([_view(model, sample, settings)])
        scores.append(float(raw_scores[0]))
        maps.append(raw_maps[0])
        labels.append(int(sample.label))
        done += 1
        progress.report(done, total, "calibrating")
    score_scale, thresholds, info = calibrate(scores, labels, can_false_reject=config.can_false_reject)
    heatmap_scale, heat_info = peak_heatmap_scale(np.stack(maps), labels)
    y, s = np.asarray(labels), np.asarray(scores)
    metrics: dict = {"val_images": len(labels),
                     "val_good_flagged": operating_point(y, s, score_scale.raw_threshold).fp}
    if 0 < y.sum() < y.size:
        metrics["val_auroc"] = round(roc_auc(y, s), 4)
    spec = spec.replace(
        score_scale=score_scale, heatmap_scale=heatmap_scale, thresholds=thresholds,
        metrics=metrics | validation_counts(y, s),
        trained_on={"detector": "classical", "source": config.source, "seed": config.seed,
                    "fit_good": len(fit), "calibration_good": int((y == 0).sum()),
                    "calibration_defect": int(y.sum()), "pixel_quantile": quantile,
                    "calibration": info},
        extra={"classical": params.to_dict(), "heatmap_calibration": heat_info,
               "method": "HSV value, blur, median denoise, |value - smooth background|, Otsu and "
                         "the good images' floor, opening and closing, contours by area"})
    return Model(spec, ClassicalNet(params, MEAN, STD))


def _view(model: Model, sample: LabeledImage, settings: RegionSettings | None) -> np.ndarray:
    """The uint8 view inspection gives the check for this photo (its region, the outside blanked,
    through ``prepare_side`` as inspection does; then the network's own input path)."""
    photo = prepare_side(load_image(sample.source), None, settings, model.spec.input_size).pixels
    x = model.preprocess([photo])
    pixels = (x[0].permute(1, 2, 0) * 255.0).round().clamp(0, 255).byte()
    return np.ascontiguousarray(pixels.numpy())
