"""Boxes from a normalised heatmap: one box per connected region above the box level.

Several dents give several boxes, each with its own peak score, not one box around everything.
Pure numpy/OpenCV; thread-safe.
"""
from __future__ import annotations

import cv2
import numpy as np

from core.results import Box

BOX_LEVEL = 0.5            # the heatmap scale puts the calibrated box threshold at 0.5
MIN_AREA_FRACTION = 0.001  # regions smaller than 0.1 % of the image are specks, not defects


def find_boxes(heatmap: np.ndarray, level: float = BOX_LEVEL,
               min_area_fraction: float = MIN_AREA_FRACTION) -> list[Box]:
    """Boxes (image pixels, inclusive-exclusive) sorted by peak score, highest first."""
    heat = np.asarray(heatmap, dtype=np.float32)
    mask = heat >= level
    if not mask.any():
        return []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    min_area = max(1, int(round(min_area_fraction * heat.size)))
    boxes = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_area:
            continue
        # Only the region's bounding window is scanned for its peak, not the whole image.
        window = heat[y:y + h, x:x + w]
        peak = float(window[labels[y:y + h, x:x + w] == i].max())
        boxes.append(Box(x, y, x + w, y + h, peak))
    boxes.sort(key=lambda b: b.score, reverse=True)
    return boxes
