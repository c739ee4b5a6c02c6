"""Heatmap overlays for people: jet colours on the FIXED normalised scale, boxes drawn on top.

Colours are tied to the calibrated scale (0 → blue, 0.5 = box level → green-yellow, >= 1 → red),
never stretched per image, so a good can looks cold and a bad one glows. Pure numpy/OpenCV;
thread-safe.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.results import Box

COLOUR_TOP = 1.0          # normalised heat drawn at full red
BOX_COLOUR = (255, 255, 255)
BOX_OUTLINE = (0, 0, 0)
REGION_COLOUR = (0, 255, 255)   # the judged region's outline: cyan, unlike any heat colour


def heat_colours(heatmap: np.ndarray) -> np.ndarray:
    """RGB uint8 jet colours of a normalised heatmap (0 → blue, COLOUR_TOP and above → red)."""
    level = np.clip(np.asarray(heatmap, np.float32) / COLOUR_TOP, 0.0, 1.0)
    bgr = cv2.applyColorMap(np.round(level * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def render_overlay(image: np.ndarray, heatmap: np.ndarray, boxes: Sequence[Box],
                   opacity: float = 0.45, region: np.ndarray | None = None) -> np.ndarray:
    """``image`` (RGB uint8) blended with the heatmap's colours, boxes and their peak scores drawn;
    ``region`` (``N x 2`` image pixels, the judged region's outline) drawn as a cyan line."""
    h, w = image.shape[:2]
    heat = heatmap if heatmap.shape[:2] == (h, w) else cv2.resize(heatmap, (w, h))
    out = cv2.addWeighted(image, 1.0 - opacity, heat_colours(heat), opacity, 0.0)
    thick = max(1, round(max(h, w) / 320))
    if region is not None and len(region) >= 2:
        cv2.polylines(out, [np.asarray(region, np.int32).reshape(-1, 1, 2)], True, REGION_COLOUR,
                      thick, cv2.LINE_AA)
    for box in boxes:
        # A dark outline under a light line stays visible on red and on blue.
        cv2.rectangle(out, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), BOX_OUTLINE, thick + 2)
        cv2.rectangle(out, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), BOX_COLOUR, thick)
        text = f"{box.score:.2f}"
        scale = 0.4 * thick
        org = (box.x0 + 2 * thick, max(box.y0 + 12 * thick, 12 * thick))
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, BOX_OUTLINE, thick + 2, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, BOX_COLOUR, thick, cv2.LINE_AA)
    return out
