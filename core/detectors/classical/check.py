"""The classical check, in numpy and OpenCV alone: defect candidates where the surface departs
from its own smooth background.

Per view (uint8 RGB at the model's input size):

1. the HSV value channel (max of R, G, B), a light Gaussian blur and a median filter (denoise);
2. the smooth background: a wide Gaussian blur of the value inside the judged region, divided by
   the blur of the region itself (so the blanked outside of an inspection region does not bleed
   in); the deviation ``D = |value - background|``;
3. candidates: ``D`` above both Otsu's threshold of ``D`` inside the region and the ``floor`` (the
   ``pixel_quantile`` of good images' ``D``, learned from a few good images), then an opening
   (specks) and a closing (broken scratches);
4. contours of the candidates; those smaller than ``min_area`` (share of the view) are dropped.
   A contour's strength is its excess ``sum(D - floor)`` over its pixels, per view side length;
   the image's raw score is the strongest contour's (0 without any), the raw map ``D - floor``
   inside kept contours and 0 elsewhere.

``raw_outputs(spec, pixels)`` is the catalogue's ``numpy_outputs`` hook (no torch): parameters come
from ``spec.extra["classical"]``. Pure functions; thread-safe.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

MEDIAN = 5              # px, the denoising median filter
BACKGROUND = 0.06       # the background blur's sigma, as a share of the view's side
KERNEL = 3              # px, opening and closing


@dataclass(frozen=True)
class CheckParams:
    floor: float = 0.0            # deviation a good surface reaches (grey levels), from good images
    min_area: float = 0.0005      # smallest candidate, as a share of the view's pixels
    background: float = BACKGROUND
    fill: int | None = None       # the grey an inspection region leaves outside (None: whole view)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> CheckParams:
        """``ValueError`` with the reason for anything that is not a sane parameter set."""
        if not isinstance(data, dict):
            raise ValueError("extra.classical must be a JSON object")
        out = cls(**{k: data[k] for k in ("floor", "min_area", "background", "fill") if k in data})
        for name, low, high in (("floor", 0.0, 255.0), ("min_area", 0.0, 0.5), ("background", 0.005, 1.0)):
            value = getattr(out, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"extra.classical.{name} must be a number from {low} to {high}")
        if out.fill is not None and (type(out.fill) is not int or not 0 <= out.fill <= 255):
            raise ValueError("extra.classical.fill must be a grey level from 0 to 255 or null")
        return out


def inside_mask(view: np.ndarray, fill: int | None) -> np.ndarray:
    """bool HxW: the judged region (pixels not blanked to ``fill``), shrunk by the opening kernel."""
    if fill is None:
        return np.ones(view.shape[:2], bool)
    outside = np.all(view == fill, axis=2).astype(np.uint8)
    return cv2.erode(1 - outside, np.ones((KERNEL + 2, KERNEL + 2), np.uint8)) > 0


def deviation(view: np.ndarray, params: CheckParams) -> tuple[np.ndarray, np.ndarray]:
    """(D float32 HxW, inside bool HxW) of one uint8 RGB view."""
    inside = inside_mask(view, params.fill)
    value = view.max(axis=2)
    value = cv2.medianBlur(cv2.GaussianBlur(value, (0, 0), 1.0), MEDIAN).astype(np.float32)
    weight = inside.astype(np.float32)
    sigma = max(1.0, params.background * view.shape[0])
    smooth = cv2.GaussianBlur(value * weight, (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    background = smooth / np.maximum(norm, 1e-3)
    dev = np.abs(value - background) * weight
    return dev.astype(np.float32), inside


def candidates(dev: np.ndarray, inside: np.ndarray, params: CheckParams) -> tuple[float, np.ndarray]:
    """(raw score, raw map) of one view from its deviation."""
    raw_map = np.zeros(dev.shape, np.float32)
    if not inside.any():
        return 0.0, raw_map
    level = np.clip(dev, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(level[inside].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = ((dev > max(float(otsu), params.floor)) & inside).astype(np.uint8)
    kernel = np.ones((KERNEL, KERNEL), np.uint8)
    binary = cv2.morphologyEx(cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    min_pixels = params.min_area * dev.size
    excess = np.maximum(dev - params.floor, 0.0)
    best = 0.0
    # Per component: its excess mass (one bincount instead of a loop over contours).
    mass = np.bincount(labels.ravel(), weights=excess.ravel(), minlength=count)
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] < min_pixels:
            continue
        keep = labels == i
        raw_map[keep] = excess[keep]
        best = max(best, float(mass[i]) / dev.shape[0])
    return best, raw_map


def check_views(pixels: np.ndarray, params: CheckParams) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores [B] and raw maps [B, S, S] of uint8 RGB views [B, S, S, 3]."""
    scores, maps = [], []
    for view in pixels:
        dev, inside = deviation(np.ascontiguousarray(view), params)
        score, raw_map = candidates(dev, inside, params)
        scores.append(score)
        maps.append(raw_map)
    return np.asarray(scores, np.float32), np.stack(maps).astype(np.float32)


def raw_outputs(spec: ModelSpec, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The catalogue's numpy hook: the model's parameters from ``spec.extra['classical']``."""
    return check_views(pixels, CheckParams.from_dict(spec.extra.get("classical", {})))
