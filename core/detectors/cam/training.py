"""Fine-tuning the CAM classifier, then calibrating its score and heatmap scales.

Why it is fast on a CPU: the early backbone stages stay frozen, so their output is computed ONCE
per image and augmented view (``config.views`` views per training image, view 0 unaugmented) and
cached; each epoch then runs only the last blocks and the head, on a random cached view of each
image. The head trains alone for ``head_warmup_epochs`` first (a linear probe on ImageNet features
already separates good from dented cans well); fine-tuning the last block then starts from it
instead of from a random head, which on the cans data overfit and lost about 0.05 AUROC. BatchNorm
keeps its ImageNet statistics (batches of a few dozen cans would make them noisy); its affine
weights still train.

Deterministic for a given seed: numpy ``Generator`` and ``torch.Generator`` seeded from it,
deterministic torch algorithms while training.

Thread rule: runs on the calling thread; see ``core.training``.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from core.detectors import catalogue
from core.detectors.cam.network import CamNet
from core.errors import DatasetInvalid
from core.evaluation.metrics import roc_auc
from core.evaluation.uncertainty import validation_counts
from core.model.model import Model
from core.model.spec import ModelSpec
from core.progress import Progress
from core.regions.settings import RegionSettings
from core.regions.views import TrainingViews
from core.scoring.calibration import PEAK_RULE, ScoreScale, calibrate, peak_heatmap_scale
from core.training import LabeledImage, TrainConfig, stratified_split

HEAD_DROPOUT = 0.2


def train_cam(samples: list[LabeledImage], config: TrainConfig, progress: Progress, name: str) -> Model:
    """Called by ``core.training.train_model``, which has checked the counts (catalogue: 2 + 2)."""
    labels = np.array([s.label for s in samples])
    counts = {c: int((labels == c).sum()) for c in (0, 1)}
    previous_det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _train(samples, labels, counts, config, progress, name)
    finally:
        torch.use_deterministic_algorithms(previous_det)


def _train(samples: list[LabeledImage], labels: np.ndarray, counts: dict[int, int], config: TrainConfig,
           progress: Progress, name: str) -> Model:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    # 192 px: held-out AUROC 0.991 on the cans at 16x the speed of VGG16-CAM (224 px: 0.995, 10x);
    # see docs/ENGINE.md. The catalogue holds that default; train_model fills it in.
    size = config.input_size or catalogue.get("cam").input_size
    # margin / context / outside may come in config.options too (benchmarks/loso_cans.py recipes)
    options = {**config.options, **{name: config.option(name) for name in
                                    ("region", "backdrops", "output_stride", "synthetic", "margin",
                                     "region_cuts", "region_faults", "tall_reading", "members", "relocated",
                                     "antialias", "highpass_reading")}}
    settings = region_settings(options)
    stride = int(options.get("output_stride", 32))
    members = max(1, int(options.get("members", 1)))
    antialias = bool(options.get("antialias", False))
    net = CamNet(config.backbone, pretrained=config.pretrained, weights_path=config.backbone_weights,
                 output_stride=stride, antialias=antialias)
    # Building the backbone may or may not draw random numbers (the pretrained weights are cached
    # after the first model), so seed again here: the head's start and dropout then depend on the
    # seed alone.
    torch.manual_seed(config.seed)
    net.head.reset_parameters()
    placeholder = ScoreScale(-1.0, 0.0, 1.0)
    spec = ModelSpec(name=name, kind="cam", backbone=config.backbone, input_size=size,
                     mean=net.norm_mean, std=net.norm_std, score_scale=placeholder,
                     heatmap_scale=placeholder,
                     preprocessing=settings.to_dict() if settings is not None else {})
    helper = Model(spec, net)  # its preprocess() is exactly what inference will do
    train_idx, val_idx = stratified_split(labels, config.val_fraction, config.seed)

    start = net.trainable_from
    n_views = max(1, config.views)
    cache_jobs = len(train_idx) * n_views + len(val_idx)
    batches_per_epoch = math.ceil(len(train_idx) / config.batch_size)
    # One scale for the whole job so a progress bar never jumps back: read, cache, train.
    total = len(samples) + cache_jobs + members * config.epochs * batches_per_epoch
    done = 0

    def read_step() -> None:
        nonlocal done
        progress.check()
        done += 1
        progress.report(done, total, "reading images, finding the cans")

    data = TrainingViews([s.source for s in samples], settings, size,
                         backdrops=bool(options.get("backdrops", True)), step=read_step,
                         cut_p=float(options.get("region_cuts", 0.0)),
                         fault_p=float(options.get("region_faults", 0.0)),
                         relocate_p=float(options.get("relocated", 0.0)),
                         relocate_rng=np.random.default_rng([config.seed, 9]))
    images = data.plain

    def frozen(batch_imgs: list[np.ndarray]) -> torch.Tensor:
        nonlocal done
        progress.check()
        with torch.inference_mode():
            x = helper.preprocess(batch_imgs).contiguous()
            for stage in net.trunk[:start]:
                x = stage(x)
        done += len(batch_imgs)
        progress.report(done, total, "computing frozen features")
        return x.clone()

    net.eval()
    views, view_labels = _training_views(data, labels, train_idx, n_views, float(options.get("synthetic", 0.0)),
                                         rng, np.random.default_rng([config.seed, 8]))
    chunk = 16
    train_cache = torch.stack([torch.cat([frozen(view[j:j + chunk]) for j in range(0, len(view), chunk)])
                               for view in views])  # [V, N, C, h, w]
    val_imgs = [images[i] for i in val_idx]
    val_cache = torch.cat([frozen(val_imgs[j:j + chunk]) for j in range(0, len(val_imgs), chunk)])
    y_views = torch.from_numpy(view_labels).long()  # [V, N]: synthetic views of good photos are 1
    y_val = torch.from_numpy(labels[val_idx]).long()

    # Class weights: each class contributes equally to the loss whatever its count.
    n_train = np.bincount(view_labels.ravel(), minlength=2).astype(np.float32)
    class_weights = torch.from_numpy(n_train.sum() / (2.0 * n_train))
    for p in net.trunk[:start].parameters():
        p.requires_grad_(False)

    def batch_step(text: str) -> None:
        nonlocal done
        progress.check()
        done += 1
        progress.report(done, total, text)

    # Every member starts from the same pretrained blocks and its own head, fits the same cached
    # views and stops on the same validation photos; member 0 is the single model of before.
    start_state = copy.deepcopy(net.state_dict())
    fits = []
    for member in range(members):
        if member:
            net.load_state_dict(start_state)
            torch.manual_seed(member_seed(config.seed, member))
            net.head.reset_parameters()
        fits.append(_fit(net, train_cache, y_views, val_cache, y_val, start, class_weights, config,
                         member_seed(config.seed, member), batch_step,
                         f"member {member + 1}/{members}, " if members > 1 else ""))
    net.load_state_dict(average_states([fit.state for fit in fits]))
    net.eval()
    progress.report(total, total, "calibrating")

    with torch.inference_mode():
        val_maps = net.cam(net.features(val_cache, start))
        val_logits = net.logits(net.features(val_cache, start))
    raw_scores = val_maps.mean(dim=(1, 2)).numpy()
    score_scale, thresholds, score_info = calibrate(raw_scores, labels[val_idx],
                                                    can_false_reject=config.can_false_reject)
    heatmap_scale, heat_info = peak_heatmap_scale(val_maps.numpy(), labels[val_idx])
    predicted = (raw_scores >= score_scale.raw_threshold).astype(int)
    metrics = {
        "val_auroc": round(roc_auc(labels[val_idx], raw_scores), 4),
        "val_accuracy": round(float((predicted == labels[val_idx]).mean()), 4),
        "val_loss": round(float(F.cross_entropy(val_logits, y_val, weight=class_weights)), 4),
        "val_images": int(len(val_idx)), "best_epoch": fits[0].best_epoch,
        "epochs_run": fits[0].epochs_run, "history": fits[0].history,
    } | ({"members": [{"seed": member_seed(config.seed, m), "best_epoch": fit.best_epoch,
                       "epochs_run": fit.epochs_run, "val_loss": round(fit.best_loss, 4)}
                      for m, fit in enumerate(fits)]} if members > 1 else {}) \
        | validation_counts(labels[val_idx], raw_scores)
    spec = spec.replace(
        score_scale=score_scale, heatmap_scale=heatmap_scale, thresholds=thresholds, metrics=metrics,
        trained_on={"source": config.source, "n_good": counts[0], "n_anomaly": counts[1],
                    "n_train": int(len(train_idx)), "n_val": int(len(val_idx)),
                    "seed": config.seed, "config": config.to_dict()},
        extra={"network": {"output_stride": stride, **({"antialias": True} if antialias else {})},
               "regions_found": f"{data.found} of {len(data)}",
               **({"relocated_found": f"{data.relocated_found} of {data.found}"} if data.relocate_p else {}),
               "synthetic_views": int(view_labels.sum() - n_views * labels[train_idx].sum()),
               "score_calibration": score_info, "heatmap_calibration": heat_info,
               "heatmap_rule": PEAK_RULE, "cam": "map = (w_anomaly - w_good) . f(x,y) + (b_anomaly"
               " - b_good); raw score = spatial mean of the map = logit difference"})
    for p in net.parameters():
        p.requires_grad_(True)
    return Model(spec, net)


class _Fit(NamedTuple):
    state: dict[str, torch.Tensor]
    best_epoch: int
    best_loss: float
    epochs_run: int
    history: list[dict]


def _fit(net: CamNet, train_cache: torch.Tensor, y_views: torch.Tensor, val_cache: torch.Tensor,
         y_val: torch.Tensor, start: int, class_weights: torch.Tensor, config: TrainConfig,
         seed: int, step: Callable[[str], None], label: str) -> _Fit:
    """One member: the head alone for ``head_warmup_epochs``, then the last blocks too, on a random
    cached view of each training photo per epoch; early stopping on the validation loss. Returns
    the state of its best epoch (the network is left at its last)."""
    n_views, n_train = train_cache.shape[0], train_cache.shape[1]
    batches_per_epoch = math.ceil(n_train / config.batch_size)
    optimizer = torch.optim.AdamW(
        [{"params": list(net.trunk[start:].parameters()), "lr": config.lr * config.backbone_lr_factor},
         {"params": net.head.parameters(), "lr": config.lr}], weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(seed)

    def set_train_mode() -> None:
        net.eval()  # BatchNorm statistics stay frozen (see module docstring)
        for module in net.trunk[start:].modules():
            if isinstance(module, torch.nn.Dropout):
                module.train()

    best: tuple[float, int, dict[str, torch.Tensor] | None] = (math.inf, -1, None)
    history = []
    epochs_run = 0
    for epoch in range(config.epochs):
        # AdamW scales its decoupled weight decay by lr too, so lr 0 really freezes the blocks.
        optimizer.param_groups[0]["lr"] = (0.0 if epoch < config.head_warmup_epochs
                                           else config.lr * config.backbone_lr_factor)
        set_train_mode()
        order = torch.randperm(n_train, generator=gen)
        view_pick = torch.randint(0, n_views, (n_train,), generator=gen)
        total_loss = 0.0
        for b in range(batches_per_epoch):
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            x = train_cache[view_pick[idx], idx]
            feats = net.features(x, start)
            pooled = F.dropout(feats.mean(dim=(2, 3)), HEAD_DROPOUT, training=True)
            loss = F.cross_entropy(net.head(pooled), y_views[view_pick[idx], idx], weight=class_weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            step(f"{label}epoch {epoch + 1}/{config.epochs}, loss {loss.item():.3f}")
        val_loss = _val_loss(net, val_cache, y_val, start, class_weights)
        history.append({"epoch": epoch + 1, "train_loss": round(total_loss / n_train, 4),
                        "val_loss": round(val_loss, 4)})
        epochs_run = epoch + 1
        if val_loss < best[0] - 1e-4:
            best = (val_loss, epoch + 1, copy.deepcopy(net.state_dict()))
        elif epoch + 1 - best[1] >= config.patience:
            break
    # best[2] is None only when no epoch ran (epochs >= 1 is checked)
    state = best[2] if best[2] is not None else copy.deepcopy(net.state_dict())
    return _Fit(state, best[1], best[0], epochs_run, history)


def member_seed(seed: int, member: int) -> int:
    """The seed of one member of an averaged model: member 0 has the model's own seed, so a model
    of one member is the model of before."""
    return seed if member == 0 else seed * 1000 + 7919 * member


def average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The members' weights averaged, tensor by tensor (a "model soup": members fine-tuned from the
    same pretrained weights stay in one basin, so the average is one network as fast as each);
    integer buffers are taken from the first member. On the cans it was not steadier against new
    backdrops than one member (docs/REGIONS.md, run 8)."""
    if len(states) == 1:
        return states[0]
    out = {}
    for key, first in states[0].items():
        out[key] = (torch.stack([s[key] for s in states]).mean(dim=0) if first.is_floating_point()
                    else first.clone())
    return out


def _training_views(data: TrainingViews, labels: np.ndarray, train_idx: np.ndarray, n_views: int,
                    share: float, rng: np.random.Generator, defect_rng: np.random.Generator
                    ) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """The cached views ``[view][photo]`` and their labels ``[V, N]``. View 0 is the plain photo;
    of a good photo's augmented views, a ``share`` (drawn from ``defect_rng``) carry a synthetic
    defect and the label 1. With share 0 nothing is drawn from ``defect_rng`` and the views are
    the same as without the option."""
    view_labels = np.tile(labels[train_idx], (n_views, 1))
    views = []
    for v in range(n_views):
        row = []
        for j, i in enumerate(train_idx):
            if v == 0:
                row.append(data.plain[i])
                continue
            if share > 0 and labels[i] == 0 and defect_rng.random() < share:
                painted = data.synthetic(i, rng, defect_rng)
                if painted is not None:
                    row.append(painted)
                    view_labels[v, j] = 1
                    continue
            row.append(data.augmented(i, rng, good=bool(labels[i] == 0)))
        views.append(row)
    return views, view_labels


def region_settings(options: dict) -> RegionSettings | None:
    """The training options' region: "auto" (the default: train on the located can) or "whole"
    (the whole photo, as before regions existed), with optional margin / context / outside /
    tall_reading / highpass_reading."""
    mode = options.get("region", "auto")
    if mode == "whole":
        return None
    if mode != "auto":
        raise DatasetInvalid(f"unknown training region {mode!r} (use auto or whole)")
    defaults = RegionSettings()
    return RegionSettings(margin=float(options.get("margin", defaults.margin)),
                          context=float(options.get("context", defaults.context)),
                          outside=str(options.get("outside", defaults.outside)),
                          tall_reading=bool(options.get("tall_reading", defaults.tall_reading)),
                          highpass_reading=bool(options.get("highpass_reading", defaults.highpass_reading)))


def _val_loss(net: CamNet, cache: torch.Tensor, y: torch.Tensor, start: int,
              weights: torch.Tensor) -> float:
    net.eval()
    with torch.inference_mode():
        return float(F.cross_entropy(net.logits(net.features(cache, start)), y, weight=weights))

