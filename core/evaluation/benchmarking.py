"""Timing helpers for the ``bench`` job: photos, the VGG16-CAM baseline, per-stage timings.

Single-threaded use (the job's own thread).
"""
from __future__ import annotations

import resource
import time
from collections.abc import Sequence

import cv2
import numpy as np

from core.images import encode_jpeg, load_image
from core.model.model import Model
from core.model.spec import ModelSpec
from core.scoring.calibration import ScoreScale
from core.sides import DEFAULT_SIDE_NAMES
from core.verdict import inspect_can


def photos(paths: Sequence[str] | None, count: int, size: int) -> list[bytes]:
    """``count`` JPEG-encoded size x size photos: from ``paths`` (cycled) or synthetic ones."""
    out = []
    if paths:
        for i in range(count):
            img = load_image(paths[i % len(paths)])
            out.append(encode_jpeg(cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)))
        return out
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for _ in range(count):
        # Smooth shading, a bright cylinder and sensor noise: JPEG work like a real photo's.
        img = np.stack([120 + 60 * yy, 110 + 50 * xx, 100 + 40 * (xx + yy) / 2], axis=2)
        x0, x1 = int(size * rng.uniform(0.2, 0.3)), int(size * rng.uniform(0.7, 0.8))
        img[:, x0:x1] = 200 - 80 * np.abs(np.linspace(-1, 1, x1 - x0))[None, :, None]
        img += rng.normal(0, 6, img.shape)
        out.append(encode_jpeg(np.clip(img, 0, 255).astype(np.uint8)))
    return out


def vgg16_cam_model(input_size: int) -> Model:
    """The original design's VGG16-CAM with random weights (for timing only)."""
    from core.detectors.backbones import IMAGENET_MEAN, IMAGENET_STD
    from core.detectors.cam.network import CamNet

    scale = ScoreScale(-1.0, 0.0, 1.0)
    spec = ModelSpec(name="vgg16-cam-random", kind="cam", backbone="vgg16", input_size=input_size,
                     mean=IMAGENET_MEAN, std=IMAGENET_STD, score_scale=scale, heatmap_scale=scale)
    return Model(spec, CamNet("vgg16", pretrained=False))


def _median_p90(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values) * 1000.0
    return float(np.median(arr)), float(np.quantile(arr, 0.9))


def bench_model(name: str, model: Model, jpegs: list[bytes], repeats: int, warmup: int) -> dict:
    """A can's median and p90 time, and its stages from the same runs (``Model.last_stages``):
    ``decode`` and ``preprocess`` (region, crop, resize) summed over the sides, which share the
    model's pool; ``views`` the wall time of both; ``network``; ``post`` (heatmaps, boxes)."""
    names = list(DEFAULT_SIDE_NAMES[:len(jpegs)])
    for _ in range(warmup):
        inspect_can(model, jpegs, names)
    totals = []
    stages: dict[str, list[float]] = {"decode": [], "preprocess": [], "views": [], "network": [],
                                      "post": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        inspect_can(model, jpegs, names)
        totals.append(time.perf_counter() - t0)
        seen = dict(model.last_stages, preprocess=model.last_stages["regions"])
        for key in stages:
            stages[key].append(seen[key])
    median, p90 = _median_p90(totals)
    return {"name": name, "median_ms": round(median, 1), "p90_ms": round(p90, 1),
            "repeats": repeats,
            "stages_ms": {k: round(_median_p90(v)[0], 1) for k, v in stages.items()},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
