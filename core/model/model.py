"""A loaded model: preprocessing, one batched forward pass, heatmaps, boxes, scores, outcomes.

The detector network only maps a normalised batch to raw scores and raw maps (see
``core.detectors``); everything a station needs around it lives here, the same for every kind.

Thread rule: a ``Model`` is not thread-safe. One owner thread at a time calls ``inspect_sides``
(the GUI's single inference worker). ``with_thresholds`` returns a new object that shares the
network, so it belongs to the same owner. Inside a call, the sides' regions are found on a small
pool of the model's own threads (pure OpenCV/numpy work on separate images).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from common.regions import SideRegion
from core.images import resize_square
from core.model.spec import ModelSpec
from core.regions.apply import SideView, prepare_side
from core.regions.settings import RegionSettings
from core.results import SideResult
from core.scoring.calibration import Thresholds
from core.scoring.sides import finish_sides as _finish_sides
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
        self.regions: RegionSettings | None = RegionSettings.from_dict(spec.preprocessing)
        self._pool: ThreadPoolExecutor | None = None   # finds the sides' regions in parallel

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

    def views(self, images: Sequence[np.ndarray],
              regions: Sequence[SideRegion | None] | None = None) -> list[SideView]:
        """Each image's region as this model sees it (``core.regions.apply.prepare_side``).

        ``regions[i]`` is the product's region for side i; None (or no list) = the model's own
        default: the can locator for a model trained on regions, the whole photo for an older one.
        """
        if regions is not None and len(regions) != len(images):
            raise ValueError(f"{len(images)} images but {len(regions)} regions")

        def one(i: int) -> SideView:
            return prepare_side(images[i], None if regions is None else regions[i], self.regions,
                                self._size[0])

        if len(images) < 2 or self.regions is None and regions is None:
            return [one(i) for i in range(len(images))]
        # The locator is OpenCV work that releases the GIL: the sides of a can share the cores.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                            thread_name_prefix="regions")
        return list(self._pool.map(one, range(len(images))))

    def inspect_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str],
                      regions: Sequence[SideRegion | None] | None = None) -> list[SideResult]:
        """Inspect RGB uint8 images (one per side) in one batched forward pass.

        ``regions``: the product's region per side (see ``views``). Every result carries its
        judged region's outline (None = whole photo) and, when its can was not found, the reason
        (such a side goes at least to review).
        """
        if len(images) != len(side_names):
            raise ValueError(f"{len(images)} images but {len(side_names)} side names")
        if not images:
            return []
        views = self.views(images, regions)
        raw_scores, raw_maps = self.raw_outputs([v.pixels for v in views])
        return _finish_sides(self.spec, images, side_names, raw_scores, raw_maps, views)

    def finish_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str],
                     raw_scores: np.ndarray, raw_maps: np.ndarray,
                     views: Sequence[SideView] | None = None) -> list[SideResult]:
        """Scores, outcomes, heatmaps and boxes from raw outputs (``core.scoring.sides``);
        ``views`` None = whole photos (what ``raw_outputs(images)`` saw)."""
        if views is None:
            views = [SideView(np.empty((0, 0, 3), np.uint8), (0.0, 0.0, float(img.shape[1]),
                                                              float(img.shape[0])), None)
                     for img in images]
        return _finish_sides(self.spec, images, side_names, raw_scores, raw_maps, views)

    # -- saving --------------------------------------------------------------------------------
    def save(self, folder: str | Path, half: bool = False) -> str:
        """Same as ``core.model.io.save_model(self, folder, half)``; returns the weights' SHA-256."""
        from core.model.io import save_model

        return save_model(self, folder, half=half)
