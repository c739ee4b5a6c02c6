"""A loaded model: preprocessing, one batched forward pass, heatmaps, boxes, scores, outcomes.

Torch-free: the network runs in an engine (``core.model.runtime``): torch on ``network`` by
default, or an exported graph in ONNX Runtime / OpenVINO with no torch in the process.

The detector network only maps a normalised batch to raw scores and raw maps (see
``core.detectors``); everything a station needs around it lives here, the same for every kind.

Thread rule: a ``Model`` is not thread-safe. One owner thread at a time calls ``inspect_sides``
(the GUI's single inference worker). ``with_thresholds`` returns a new object that shares the
network, so it belongs to the same owner. Inside a call, the sides are decoded and their regions
found on a small pool of the model's own threads (pure OpenCV/numpy/Pillow work on separate
images, one task per side); an ``on_read`` callback runs on those threads.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from common.regions import SideRegion
from core.images import ImageSource, load_image, resize_square
from core.model.spec import ModelSpec
from core.regions.apply import SideView, prepare_side
from core.regions.settings import RegionSettings
from core.results import SideResult
from core.scoring.calibration import Thresholds
from core.scoring.sides import finish_sides as _finish_sides
from core.sides import SIDES_PER_CAN

if TYPE_CHECKING:
    import torch
    from torch import nn

MAX_BATCH = SIDES_PER_CAN  # one can; larger lists are run in chunks of this size
_T = TypeVar("_T")


class Engine(Protocol):
    """What runs the network (``core.model.runtime``): uint8 ``[B, S, S, 3]`` in, raw out."""

    name: str

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class Model:
    def __init__(self, spec: ModelSpec, network: nn.Module | None = None, optimise: bool = True,
                 engine: Engine | None = None) -> None:
        """``network``: the torch module (training, saving; None for a model loaded with an
        exported engine only). ``engine``: what runs it for inspection (default: torch on
        ``network``). ``optimise=False`` runs torch as stored (no BatchNorm folding, default
        memory format); only the benchmark uses it, to show what the optimisation buys."""
        if network is None and engine is None:
            raise ValueError("a model needs a network or an engine")
        self.spec = spec
        self.network = network.eval() if network is not None else None
        self.optimise = optimise
        self._engine = engine
        self._size = (spec.input_size, spec.input_size)
        self.regions: RegionSettings | None = RegionSettings.from_dict(spec.preprocessing)
        self._pool: ThreadPoolExecutor | None = None   # decodes and finds the sides' regions in parallel
        self.last_stages: dict[str, float] = {}   # seconds of the last inspect_sources (the bench prints them)
        self.runtime_note = ""   # why this engine (set by core.model.runtime.loading)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from core.model.runtime.torch_engine import TorchEngine

            assert self.network is not None
            self._engine = TorchEngine(self.network, self.spec.mean, self.spec.std, self.optimise)
        return self._engine

    @property
    def runtime(self) -> str:
        """The engine's name: ``torch``, ``onnxruntime`` or ``openvino``."""
        return self.engine.name

    def with_thresholds(self, thresholds: Thresholds) -> Model:
        other = Model.__new__(Model)
        other.__dict__.update(self.__dict__)
        other.spec = self.spec.replace(thresholds=thresholds)
        return other

    def with_engine(self, engine: Engine | None, optimise: bool | None = None) -> Model:
        """The same model run by another engine (None: torch on its network); shares the network."""
        return Model(self.spec, self.network, self.optimise if optimise is None else optimise,
                     engine)

    # -- inference -----------------------------------------------------------------------------
    def batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Every image resized to the one input size: ``uint8 [B, S, S, 3]`` (what engines take)."""
        return np.stack([resize_square(img, self._size[0]) for img in images])

    def preprocess(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Resized and normalised for torch: ``[B, 3, S, S]`` channels-last (training uses it)."""
        from core.model.runtime.torch_engine import normaliser, to_tensor

        return to_tensor(self.batch(images), *normaliser(self.spec.mean, self.spec.std))

    def raw_outputs(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Raw scores ``[B]`` and raw maps ``[B, h, w]`` (detector units), batched by ``MAX_BATCH``."""
        scores, maps = [], []
        engine = self.engine
        for start in range(0, len(images), MAX_BATCH):
            s, m = engine.run(self.batch(images[start:start + MAX_BATCH]))
            scores.append(s)
            maps.append(m)
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

        if self.regions is None and regions is None:
            return [one(i) for i in range(len(images))]
        return self._map(one, len(images))

    def decoded_views(self, sources: Sequence[ImageSource], labels: Sequence[str | None],
                      regions: Sequence[SideRegion | None] | None = None,
                      on_read: Callable[[int], None] | None = None
                      ) -> tuple[list[np.ndarray], list[SideView]]:
        """Each side decoded (``load_image``, ``labels[i]`` naming a side in its errors) and its
        view prepared (see ``views``) in one task per side, the sides sharing the pool's threads.

        Order is kept; the first side (in order) that cannot be read raises its
        ``UnreadableImage``, as decoding the sides one after the other did. Stage times go to
        ``last_stages`` (``decode``/``regions`` summed over the sides, ``views`` wall time).
        ``on_read(i)`` is called once side ``i`` is decoded, on the pool's thread that decoded it
        (progress; it must be thread-safe and quick).
        """
        if regions is not None and len(regions) != len(sources):
            raise ValueError(f"{len(sources)} images but {len(regions)} regions")

        def one(i: int) -> tuple[np.ndarray, SideView, float, float]:
            t0 = time.perf_counter()
            image = load_image(sources[i], name=labels[i])
            if on_read is not None:
                on_read(i)
            t1 = time.perf_counter()
            view = prepare_side(image, None if regions is None else regions[i], self.regions,
                                self._size[0])
            return image, view, t1 - t0, time.perf_counter() - t1

        t0 = time.perf_counter()
        done = self._map(one, len(sources))
        self.last_stages = {"decode": sum(d[2] for d in done), "regions": sum(d[3] for d in done),
                            "views": time.perf_counter() - t0}
        return [d[0] for d in done], [d[1] for d in done]

    def inspect_sources(self, sources: Sequence[ImageSource], side_names: Sequence[str],
                        regions: Sequence[SideRegion | None] | None = None,
                        labels: Sequence[str | None] | None = None,
                        on_read: Callable[[int], None] | None = None) -> list[SideResult]:
        """``inspect_sides`` on encoded sources (paths, bytes or arrays), each decoded inside its
        side's task (``decoded_views``, which calls ``on_read``). ``labels``: names for errors
        (default: the sources')."""
        if len(sources) != len(side_names):
            raise ValueError(f"{len(sources)} images but {len(side_names)} side names")
        if not sources:
            return []
        images, views = self.decoded_views(sources, labels or [None] * len(sources), regions, on_read)
        return self._judge(images, side_names, views)

    def _judge(self, images: Sequence[np.ndarray], side_names: Sequence[str],
               views: Sequence[SideView]) -> list[SideResult]:
        """One batched forward pass over the prepared views, then scores, heatmaps and boxes;
        their times go to ``last_stages`` (``network``, ``post``)."""
        t0 = time.perf_counter()
        raw_scores, raw_maps = self.raw_outputs([v.pixels for v in views])
        t1 = time.perf_counter()
        results = _finish_sides(self.spec, images, side_names, raw_scores, raw_maps, views)
        self.last_stages.update(network=t1 - t0, post=time.perf_counter() - t1)
        return results

    def _map(self, fn: Callable[[int], _T], count: int) -> list[_T]:
        """``[fn(0), ..., fn(count - 1)]``, on the model's pool when there are two or more."""
        if count < 2:
            return [fn(i) for i in range(count)]
        # Decoding and the locator are OpenCV work that releases the GIL: the sides share the cores.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                            thread_name_prefix="sides")
        return list(self._pool.map(fn, range(count)))

    def inspect_sides(self, images: Sequence[np.ndarray], side_names: Sequence[str],
                      regions: Sequence[SideRegion | None] | None = None) -> list[SideResult]:
        """Inspect RGB uint8 images (one per side) in one batched forward pass.

        ``regions``: the product's region per side (see ``views``). Every result carries its
        judged region's outline (None = whole photo) and, when its can was not found, the reason
        (such a side goes to review, whatever its score).
        """
        if len(images) != len(side_names):
            raise ValueError(f"{len(images)} images but {len(side_names)} side names")
        if not images:
            return []
        self.last_stages = {}     # decoded elsewhere: only network and post are this call's
        return self._judge(images, side_names, self.views(images, regions))

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
