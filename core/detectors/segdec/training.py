"""Training the segmentation-decision network end to end with mixed supervision, then calibrating.

Loss per image (Božić et al. 2021): ``λ·γ·L_seg + δ·(1−λ)·L_cls``, where

- ``L_seg``: binary cross-entropy of the map against the mask on the map grid, every cell weighted
  (``masks.cell_targets``: a rough mask's centre counts fully, its rim hardly); ``γ`` = 1 for good
  images (their mask is empty) and for defective images with a mask, 0 for defective images nobody
  marked, which teach only through the decision;
- ``L_cls``: binary cross-entropy of the image score against the label, classes weighted equally;
- ``λ = 1 − epoch / epochs`` shifts the weight from segmentation to classification over the epochs;
  ``δ`` (option ``delta``) weighs the classification loss.

Every image is seen as inspection will judge it (option ``region``: auto, the can the locator
finds with the outside blanked, through ``core.regions.apply.prepare_side``; whole: the whole
photo); the model records it in ``model.json`` (``preprocessing``), so inspection applies the same
region, and masks are cut to the same window (``data.mask_in_view``).

Why it is fast on a CPU: the backbone stages are frozen, so their features are computed once per
image and view (``views`` per training image, view 0 plain) and cached in half precision; each epoch
runs only the small trainable layers on a random cached view of each image. The model of the epoch
with the lowest validation classification loss in the second half (the decision then dominates the
loss) is kept.

Calibration on the validation split: the decision logit gives the score scale
(``core.scoring.calibration.calibrate``), the map's per-image peaks its heatmap scale
(``peak_heatmap_scale``). Deterministic for a seed. Runs on the calling thread; cancel at any batch.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.detectors import catalogue
from core.detectors.backbones import LITE_MEAN, LITE_STD
from core.detectors.cam.training import region_settings
from core.detectors.segdec.data import Views, split
from core.detectors.segdec.network import DEC_CHANNELS, DEFAULT_LAYERS, SEG_CHANNELS, SegDecNet
from core.evaluation.metrics import roc_auc
from core.evaluation.uncertainty import validation_counts
from core.model.model import Model
from core.model.spec import ModelSpec
from core.progress import Progress
from core.scoring.calibration import ScoreScale, calibrate, peak_heatmap_scale
from core.training.config import LabeledImage, TrainConfig

CHUNK = 16   # images per cached backbone batch
GRAD_CLIP = 5.0   # the map of an unmarked defect may be pulled without bound otherwise


def train_segdec(samples: list[LabeledImage], config: TrainConfig, progress: Progress,
                 name: str) -> Model:
    """A calibrated segdec ``Model``; called by ``core.training.train_model`` (counts checked)."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _train(samples, config, progress, name)
    finally:
        torch.use_deterministic_algorithms(previous)


def _train(samples: list[LabeledImage], config: TrainConfig, progress: Progress, name: str) -> Model:
    size = int(config.input_size or catalogue.get("segdec").input_size)
    epochs, views = int(config.epochs), max(1, int(config.views))
    delta, lr = float(config.option("delta")), float(config.option("head_lr"))
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    deep, smooth = bool(config.option("deep")), float(config.option("smooth"))
    settings = region_settings({**config.options, "region": config.option("region")})
    net = SegDecNet(config.backbone, deep=deep, smooth=smooth, pretrained=config.pretrained).eval()
    torch.manual_seed(config.seed)  # the trainable layers' start depends on the seed alone
    for layer in net.trainable():
        for module in layer.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
                module.reset_parameters()
    arch = {"layers": list(DEFAULT_LAYERS), "seg_channels": SEG_CHANNELS, "dec_channels": DEC_CHANNELS,
            "deep": deep, "smooth": smooth}
    placeholder = ScoreScale(-1.0, 0.0, 1.0)
    spec = ModelSpec(name=name, kind="segdec", backbone=config.backbone, input_size=size,
                     mean=LITE_MEAN, std=LITE_STD, score_scale=placeholder,
                     heatmap_scale=placeholder, extra={"segdec": arch},
                     preprocessing=settings.to_dict() if settings is not None else {})
    helper = Model(spec, net)   # its preprocess() is exactly what inspection does
    labels = np.array([s.label for s in samples])
    parts = split(samples, config.val_fraction, config.seed)
    train_idx, val_idx = parts.train, parts.val
    batches = math.ceil(len(train_idx) / config.batch_size)
    total = len(samples) + len(train_idx) * views + len(val_idx) + epochs * batches
    done = 0

    def step(n: int = 1, message: str = "reading images") -> None:
        nonlocal done
        progress.check()
        done += n
        progress.report(done, total, message)

    with torch.inference_mode():
        grid = tuple(net.backbone_features(helper.preprocess([np.zeros((size, size, 3), np.uint8)])
                                           )[0].shape[-2:])
    data = Views(samples, size, (int(grid[0]), int(grid[1])), settings,
                 backdrops=bool(config.option("backdrops")), step=step)

    def features(pixels: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Half-precision caches of the backbone's stride-8 and deep features (empty if not deep)."""
        fine, coarse = [], []
        for j in range(0, len(pixels), CHUNK):
            with torch.inference_mode():
                f, d = net.backbone_features(helper.preprocess(pixels[j:j + CHUNK]).contiguous())
            fine.append(f.half())
            coarse.append(d.half() if d is not None else torch.zeros(len(f), 0))
            step(len(pixels[j:j + CHUNK]), "computing backbone features")
        return torch.cat(fine), torch.cat(coarse)

    cache, deep_cache, targets, weights = [], [], [], []
    for v in range(views):
        examples = [data.example(int(i), rng if v else None) for i in train_idx]
        fine, coarse = features([e.pixels for e in examples])
        cache.append(fine)
        deep_cache.append(coarse)
        targets.append(np.stack([e.target if e.target is not None else np.zeros(grid, np.float32)
                                 for e in examples]))
        weights.append(np.stack([e.weight if e.weight is not None else np.zeros(grid, np.float32)
                                 for e in examples]))
    train_cache, train_deep = torch.stack(cache), torch.stack(deep_cache)   # [V, N, C, h, w] half
    target_t, weight_t = torch.from_numpy(np.stack(targets)), torch.from_numpy(np.stack(weights))
    gamma = torch.tensor([data.masks[i] is not None for i in train_idx])
    val_cache, val_deep = features([data.plain[i] for i in val_idx])
    y_train = torch.from_numpy(labels[train_idx]).float()
    y_val = torch.from_numpy(labels[val_idx]).float()
    counts = np.bincount(labels[train_idx], minlength=2).astype(np.float32)
    class_weight = torch.from_numpy(counts.sum() / (2.0 * np.maximum(counts, 1.0)))

    for p in net.extractor.parameters():
        p.requires_grad_(False)
    trainable = [p for m in net.trainable() for p in m.parameters()]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(config.seed)
    best: tuple[float, int, dict | None] = (math.inf, -1, None)
    history = []
    for epoch in range(epochs):
        lam = 1.0 - epoch / epochs
        order = torch.randperm(len(train_idx), generator=gen)
        pick = torch.randint(0, views, (len(train_idx),), generator=gen)
        seg_sum = cls_sum = 0.0
        for layer in net.trainable():
            layer.train()   # BatchNorm of the small layers learns batch statistics; the backbone's not
        for b in range(batches):
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            score, seg = net.head(train_cache[pick[idx], idx].float(), _deep(train_deep[pick[idx], idx]),
                                  detach_map=gamma[idx])
            per_cell = F.binary_cross_entropy_with_logits(seg, target_t[pick[idx], idx], reduction="none")
            per_image = (per_cell * weight_t[pick[idx], idx]).mean(dim=(1, 2))
            g = gamma[idx].float()
            seg_loss = (per_image * g).sum() / g.sum().clamp_min(1.0)
            y = y_train[idx]
            cls_loss = (F.binary_cross_entropy_with_logits(score, y, reduction="none")
                        * class_weight[y.long()]).mean()
            loss = lam * seg_loss + delta * (1.0 - lam) * cls_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
            optimizer.step()
            seg_sum += float(seg_loss.detach()) * len(idx)
            cls_sum += float(cls_loss.detach()) * len(idx)
            step(1, f"epoch {epoch + 1}/{epochs}, loss {float(loss.detach()):.3f}")
        net.eval()
        val_loss = _val_loss(net, val_cache, val_deep, y_val, class_weight)
        history.append({"epoch": epoch + 1, "lambda": round(lam, 3),
                        "seg_loss": round(seg_sum / len(train_idx), 4),
                        "cls_loss": round(cls_sum / len(train_idx), 4), "val_cls_loss": round(val_loss, 4)})
        if epoch + 1 >= epochs / 2 and val_loss < best[0]:
            best = (val_loss, epoch + 1, copy.deepcopy(net.state_dict()))
    if best[2] is not None:
        net.load_state_dict(best[2])
    net.eval()
    for p in net.parameters():
        p.requires_grad_(True)
    progress.report(total, total, "calibrating")
    with torch.inference_mode():
        raw_scores, raw_maps = net.head(val_cache.float(), _deep(val_deep))
        raw_maps = net.smooth_map(raw_maps)   # the maps inspection gives
    raw_scores_np, maps_np = raw_scores.numpy(), raw_maps.numpy()
    score_scale, thresholds, score_info = calibrate(raw_scores_np, labels[val_idx],
                                                    can_false_reject=config.can_false_reject)
    heatmap_scale, heat_info = peak_heatmap_scale(maps_np, labels[val_idx])
    masks_used = parts.masks_in_training
    defective_train = int(labels[train_idx].sum())
    metrics = {"val_auroc": _auroc(labels[val_idx], raw_scores_np), "val_images": int(len(val_idx)),
               "best_epoch": best[1], "epochs_run": epochs, "history": history,
               "val_accuracy": round(float(((raw_scores_np >= score_scale.raw_threshold)
                                            == labels[val_idx]).mean()), 4) if len(val_idx) else None,
               } | validation_counts(labels[val_idx], raw_scores_np)
    spec = spec.replace(
        score_scale=score_scale, heatmap_scale=heatmap_scale, thresholds=thresholds, metrics=metrics,
        trained_on={"source": config.source, "n_good": int((labels == 0).sum()),
                    "n_anomaly": int(labels.sum()), "n_train": int(len(train_idx)),
                    "n_val": int(len(val_idx)), "seed": config.seed, "masks_used": masks_used,
                    "defective_train": defective_train,
                    "masks_in_validation": parts.masks_in_validation, "config": config.to_dict()},
        extra={"segdec": arch, "regions_found": f"{data.regions.found} of {len(samples)}",
               "score_calibration": score_info, "heatmap_calibration": heat_info,
               "loss": "lambda*gamma*L_seg + delta*(1-lambda)*L_cls, lambda = 1 - epoch/epochs",
               "delta": delta})
    progress.report(total, total, f"used {masks_used} mask(s) of {defective_train} defective "
                                  "training images")
    return Model(spec, net)


def _deep(cached: torch.Tensor) -> torch.Tensor | None:
    return cached.float() if cached.ndim == 4 else None


def _val_loss(net: SegDecNet, cache: torch.Tensor, deep: torch.Tensor, y: torch.Tensor,
              class_weight: torch.Tensor) -> float:
    if not len(y):
        return 0.0
    with torch.inference_mode():
        score, _ = net.head(cache.float(), _deep(deep))
        return float((F.binary_cross_entropy_with_logits(score, y, reduction="none")
                      * class_weight[y.long()]).mean())


def _auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    try:
        return round(roc_auc(labels, scores), 4)
    except ValueError:
        return None
