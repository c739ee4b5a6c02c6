"""Snapping the locator's coarse outline to the can's own silhouette, at full resolution.

The locator works on a 160 px copy and a blurred energy map, so on a larger photo its outline is
a few pixels off the can's edge, and by how much depends on the backdrop's edges too: in front of
another backdrop it moved by 4-12 px of a 640 px photo, which moved the judged window and its
blanked edge. The can's silhouette does not move. So each point of the coarse outline looks along
its normal, a narrow band either way, for the can's silhouette: the outermost colour edge at least
``OUTER`` as strong as the strongest there (a difference of colours, not only of lightness: a grey
can in front of a green sheet of the same lightness has an edge too). Not simply the strongest:
inside the silhouette a can has strong lines of its own (a rim, a rib, the dark band of a bottom
rim in shadow) that compete with it, and which of them wins depended on the backdrop's colour, so
the outline jumped between the rim and the silhouette from one backdrop to the next (7-11 px of a
640 px photo; ``benchmarks/locator_stability.py``: median shift 8.5 -> 4.6 px). The offsets are
smoothed along the outline (a median, so a few points caught by a rib or the wall's foot follow
their neighbours) and the snapped points' convex hull is the new outline.

Cost: a few thousand bilinear samples and some numpy, about half a millisecond on a 640 px photo.
Pure numpy/OpenCV; thread-safe (no shared state).
"""
from __future__ import annotations

import cv2
import numpy as np

POINTS = 96              # points along the outline
BAND = 0.04              # the search band either way, as a share of the outline's larger side
MIN_BAND, MAX_BAND = 4, 24   # ... in photo pixels
SMOOTH = 7               # the median's width along the outline (points)
OUTER = 0.6              # the silhouette: the outermost edge at least this share of the strongest


def refine_outline(image: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """The coarse ``outline`` (``N x 2`` int32, image pixels, convex) snapped along its normals to
    the outermost colour edge at least ``OUTER`` as strong as the strongest there (the silhouette);
    ``N' x 2`` int32, convex, inside the photo."""
    h, w = image.shape[:2]
    extent = float(np.ptp(outline, axis=0).max()) + 1.0
    band = int(np.clip(round(BAND * extent), MIN_BAND, MAX_BAND))
    if float(np.ptp(outline, axis=0).min()) + 1.0 < 4 * band:
        return outline      # a sliver (a rim seen alone): its normals would cross it
    points, normals = _resample(outline.astype(np.float64), POINTS)
    if points is None:
        return outline
    # The photo sampled along the normals (bilinear: the sampling itself smooths a little; the
    # edge is the difference two steps apart, which ignores single noisy pixels).
    steps = np.arange(-band - 1, band + 2, dtype=np.float64)
    xs = points[:, 0:1] + normals[:, 0:1] * steps[None, :]
    ys = points[:, 1:2] + normals[:, 1:2] * steps[None, :]
    profile = cv2.remap(image, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32)   # POINTS x (2 band + 3) x 3
    strength = np.linalg.norm(profile[:, 2:] - profile[:, :-2], axis=2)   # offsets -band..band
    strong = strength >= OUTER * strength.max(axis=1, keepdims=True)
    outermost = strength.shape[1] - 1 - np.argmax(strong[:, ::-1], axis=1)
    offsets = outermost.astype(np.float64) - band
    offsets = _circular_median(offsets, SMOOTH)
    snapped = points + normals * offsets[:, None]
    snapped[:, 0] = np.clip(snapped[:, 0], 0, w - 1)
    snapped[:, 1] = np.clip(snapped[:, 1], 0, h - 1)
    hull = cv2.convexHull(np.round(snapped).astype(np.int32).reshape(-1, 1, 2))
    return hull.reshape(-1, 2).astype(np.int32)


def edge_support(image: np.ndarray, outline: np.ndarray) -> tuple[float, float]:
    """How strongly the photo's colours change across ``outline``: at ``POINTS`` points along it,
    the difference (0-255 per channel, Euclidean over RGB) of the mean colours 2-4 px outside and
    2-4 px inside; its 20th percentile (a stretch with no edge, where an outline cuts across the
    can or wanders into the backdrop, pulls it down) and its mean. (0, 0) for a degenerate outline."""
    points, normals = _resample(outline.astype(np.float64), POINTS)
    if points is None:
        return 0.0, 0.0
    steps = np.array([-4.0, -3.0, -2.0, 2.0, 3.0, 4.0])
    xs = points[:, 0:1] + normals[:, 0:1] * steps[None, :]
    ys = points[:, 1:2] + normals[:, 1:2] * steps[None, :]
    profile = cv2.remap(image, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32)   # POINTS x 6 x 3
    across = np.linalg.norm(profile[:, 3:].mean(axis=1) - profile[:, :3].mean(axis=1), axis=1)
    return float(np.percentile(across, 20)), float(across.mean())


def _resample(outline: np.ndarray, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """``n`` points equally spaced along the closed polygon, and their outward unit normals."""
    closed = np.vstack([outline, outline[:1]])
    seg = np.diff(closed, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    total = float(length.sum())
    if total < 8 or len(outline) < 3:
        return None, np.zeros((0, 2))
    along = np.concatenate([[0.0], np.cumsum(length)])
    at = np.linspace(0.0, total, n, endpoint=False)
    x = np.interp(at, along, closed[:, 0])
    y = np.interp(at, along, closed[:, 1])
    points = np.stack([x, y], axis=1)
    # Tangent from the neighbours (central difference along the outline), normal perpendicular,
    # turned to point away from the outline's centre.
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    outward = np.sum(normal * (points - points.mean(axis=0)), axis=1) < 0
    normal[outward] *= -1.0
    return points, normal


def _circular_median(values: np.ndarray, width: int) -> np.ndarray:
    half = width // 2
    padded = np.concatenate([values[-half:], values, values[:half]])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.median(windows, axis=1)
