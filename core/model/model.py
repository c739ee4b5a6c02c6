"""A loaded model: preprocessing, one batched forward pass, heatmaps, boxes, scores, outcomes.

The detector network only maps a normalised batch to raw scores and raw maps (see
``core.detectors``); everything a station needs around it lives here, the same for every kind.

Thread rule: a ``Model`` is not thread-safe. One owner thread at a time calls ``inspect_sides``
(the GUI's single inference worker). ``with_thresholds`` returns a new object that shares the
network, so it belongs to the same owner.
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from core.scoring.boxes import boxes_from_map
from core.scoring.calibration import Thresholds
from core.images import resize_square
from core.model.spec import ModelSpec
from core.results import ANOMALY, GOOD, HEATMAP_PNG_MAX, SideResult
from core.sides import SIDES_PER_CAN

MAX_BATCH = SIDES_PER_CAN  # one can; larger lists are run in chunks of this size


class Model:
    def __init__(self, spec: ModelSpec, network: nn.Module, optimise: bool = True) -> None:
        """``optimise=False`` runs the network as stored (no BatchNorm folding, default memory
        format); only the benchmark uses it, to show what the optimisation buys."""
        self.spec = spec
        self.network = network.eval()
        self.optimise = optimise
        self._fast: nn.Module | None = None
        size = spec.input_size
        # Fold /255, -mean and /std into one multiply-add per channel.
        std = np.asarray(spec.std, np.float32)
        self._scale = torch.from_numpy(1.0 / (255.0 * std)).reshape(1, 3, 1, 1)
        self._shift = torch.from_numpy(-np.asarray(spec.mean, np.float32) / std).reshape(1, 3, 1, 1)
        self._size = (size, size)

    @property
    def name(self) -> str:
        return self.spec.name

    def with_thresholds(self, thresholds: Thresholds) -> Model:
        other = Model.__new__(Model)
        other.__dict__.update(self.__dict__)
        other.spec = self.spec.replace(thresholds=thresholds)
        return other

    # -- inference -----------------------------------------------------------------------------
    def preprocess(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Resize every image to the one input size and normalise: ``[B, 3, S, S]`` channels-last."""
        resized = [resize_square(img, self._size[0]) for img in images]
        batch = torch.from_numpy(np.stack(resized)).permute(0, 3, 1, 2)  # NHWC memory = channels-last
        return batch.float().mul_(self._scale).add_(self._shift)

    def _inference_network(self, example: torch.Tensor) -> nn.Module:
        if self._fast is None and not self.optimise:
            self._fast = self.network
        if self._fast is None:
            from core.model.fusion import fold_batchnorm

            # A private folded copy: the stored network stays trainable and savable as it is.
            net = fold_batchnorm(self.network, example[:1])
            net = net.to(memory_format=torch.channels_last)
            for p in net.parameters():
                p.requires_grad_(False)
            self._fast = net
        return self._fast

    def raw_outputs(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Raw scores ``[B]`` and raw maps ``[B, h, w]`` (detector units), batched by ``MAX_BATCH``."""
        scores, maps = [], []
        for start in range(0, len(images), MAX_BATCH):
            x = self.preprocess(images[start:start + MAX_BATCH])
            if not self.optimise:
                x = x.contiguous()
            net = self._inference_network(x)
            with torch.inference_mode():
                s, m = net(x)
            scores.append(s.float().numpy())
            maps.append(m.float().numpy())
        return np.concatenate(scores), np.concatenate(maps)

    def inspect_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str]) -> list[SideResult]:
        """Inspect RGB uint8 images (one per side) in one batched forward pass."""
        if len(images) != len(side_names):
            raise ValueError(f"{len(images)} images but {len(side_names)} side names")
        if not images:
            return []
        raw_scores, raw_maps = self.raw_outputs(images)
        return self.finish_sides(images, side_names, raw_scores, raw_maps)

    def finish_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str],
                     raw_scores: np.ndarray, raw_maps: np.ndarray) -> list[SideResult]:
        """Scores, outcomes, heatmaps at image resolution and boxes from the raw outputs."""
        spec = self.spec
        # Scale at the network's resolution, then upsample: 49 values per side instead of 400 000.
        heat_small = np.asarray(spec.heatmap_scale.normalise(raw_maps), np.float32)
        results = []
        for img, name, raw, small in zip(images, side_names, raw_scores, heat_small):
            h, w = img.shape[:2]
            heat = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            np.clip(heat, 0.0, HEATMAP_PNG_MAX, out=heat)
            score = float(spec.score_scale.normalise(float(raw)))
            results.append(SideResult(
                side=name, score=score, label=ANOMALY if score >= 0.5 else GOOD,
                outcome=spec.thresholds.outcome(score), heatmap=heat,
                boxes=boxes_from_map(small, w, h, ceiling=HEATMAP_PNG_MAX), image=img))
        return results

    # -- saving --------------------------------------------------------------------------------
    def save(self, folder: str | Path, half: bool = False) -> str:
        """Same as ``core.model.io.save_model(self, folder, half)``; returns the weights' SHA-256."""
        from core.model.io import save_model

        return save_model(self, folder, half=half)
