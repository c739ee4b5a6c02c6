"""Shrinking an image so that it fits a size, keeping its proportions: one rule for thumbnails,
report photos, display copies and the pixel metrics' maps. Never enlarges. Thread-safe."""
from __future__ import annotations

import cv2
import numpy as np


def shrink_factor(shape: tuple[int, ...], longest: int, fit: tuple[int, int] | None = None) -> float:
    """The factor (at most 1) that brings the longer side to ``longest`` and, if given, the image
    inside ``fit`` (width, height)."""
    h, w = shape[:2]
    factor = min(1.0, longest / max(h, w))
    if fit is not None and fit[0] > 0 and fit[1] > 0:
        factor = min(factor, fit[0] / w, fit[1] / h)
    return factor


def shrink(array: np.ndarray, longest: int, interpolation: int = cv2.INTER_AREA,
           fit: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """``array`` scaled by ``shrink_factor`` (the same array when it already fits), and the factor."""
    factor = shrink_factor(array.shape, longest, fit)
    if factor >= 1.0:
        return array, 1.0
    h, w = array.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(array, size, interpolation=interpolation), factor
