"""The can locator's pieces (``core.regions.locator``): growing the chosen piece of edge energy into
its weaker parts, trimming its tails, finding the can's other pieces, joining them, and how much
the result stands out from its backdrop.

Pure numpy/OpenCV on the locator's small working copy; thread-safe (no shared state). The values
are the locator's as they were, bit for bit (``tests/core/test_locator_identity.py``).
"""
from __future__ import annotations

import cv2
import numpy as np

from core.regions.morph import (
    bbox,
    close_disc,
    close_padded,
    fill_holes,
    grow_disc,
    histogram,
    line_element,
    min_side,
    open_disc,
)

LOW_LEVEL = 0.5          # the chosen piece grows into energy above this share of Otsu's level
BACKDROP_PERCENTILE = 99  # ... and above this percentile of the energy outside Otsu's mask
QUIET_FACTOR = 3.0        # ... times that percentile
GROW_LIMIT = 0.1         # ... no further than this share of the piece's size from its box


def hysteresis(piece: np.ndarray, e8: np.ndarray, level: float, disc: np.ndarray) -> np.ndarray:
    """The chosen piece grown into the weaker edge energy connected to it.

    Otsu's threshold splits the photo's energy in two; in front of a flat backdrop (no edges at
    all) the two classes are the can's strong and weak parts, and the weak ones (a smooth side, a
    dark rim) would be left out, so the outline would depend on how busy the backdrop is. What
    is above a lower level and touches the piece belongs to it."""
    if LOW_LEVEL >= 1.0:
        return piece
    # Grow only above what the backdrop itself reaches away from the piece (a textured backdrop,
    # a table's grain, a shadow's edge have weak edges too): the backdrop is what lies beyond
    # the piece's box grown by a quarter of its size.
    x, y, bw, bh = bbox(piece)
    g = int(round(0.25 * max(bw, bh)))
    # The histogram of the energy beyond that box: the whole map's less the box's.
    box = e8[max(0, y - g):y + bh + g, max(0, x - g):x + bw + g]
    size = e8.size - box.size
    if size < 0.05 * e8.size:
        return piece
    counts = np.cumsum(histogram(e8) - histogram(box))
    backdrop = float(np.searchsorted(counts, BACKDROP_PERCENTILE / 100.0 * size))
    low = max(level * LOW_LEVEL, QUIET_FACTOR * backdrop)
    if low >= level:
        return piece
    # (e8 > low) for whole numbers e8 is e8 > floor(low): OpenCV's 8-bit threshold
    _, weak = cv2.threshold(e8, low, 1, cv2.THRESH_BINARY)
    weak = cv2.morphologyEx(weak, cv2.MORPH_CLOSE, disc)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    touching = np.bincount(labels[piece], minlength=count) > 0
    touching[0] = False
    if not touching.any():
        return piece
    # ... near it: within its box grown by GROW_LIMIT of its size (a busy backdrop's weak edges
    # touch the can too, and would carry the outline away).
    g = int(round(GROW_LIMIT * max(bw, bh)))
    near = np.s_[max(0, y - g):y + bh + g, max(0, x - g):x + bw + g]
    grown = piece.copy()
    grown[near] |= touching[labels[near]]
    return grown


def trim(mask: np.ndarray, joined: np.ndarray) -> np.ndarray:
    """The can's main piece, filled, without thin tails (a shadow's edge, the end of the
    wall/table line): openings sized to the piece, the largest part kept. ``joined``: ``join(mask)``."""
    size = min_side(mask)
    m = open_disc(joined, max(1, size // 8)).view(np.uint8)
    # A shadow or the table's edge leaves the can sideways as a flat band: cut what is flatter
    # than a third of the object.
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, line_element(1, max(3, int(0.35 * size)) | 1))  # type: ignore[assignment]  # cv2 stubs
    count, labels = cv2.connectedComponents(m, connectivity=8)
    if count <= 1:
        return mask
    areas = np.bincount(labels.ravel(), minlength=count)
    return labels == 1 + int(np.argmax(areas[1:]))


def neighbours(stats: np.ndarray, score: np.ndarray, best: int, body: np.ndarray) -> np.ndarray:
    """Other pieces of the same can: components within the body's columns (a rim, the lower
    half of a can whose middle mirrors the table) and close to it vertically. Grows until
    nothing more joins. A bool per component (``[labels]`` gives the mask)."""
    x0, y0, bw, bh = bbox(body)
    x1, y1 = x0 + bw, y0 + bh
    keep = np.zeros(len(stats), bool)
    # Only pieces that weigh enough can join (the others are never looked at again).
    candidates = [(i, *row) for i, row in enumerate(stats[:, :4].tolist())
                  if i > 0 and i != best and score[i] >= 0.002 * score[best]]
    changed = True
    while changed:
        changed = False
        w, h = x1 - x0, y1 - y0
        for i, xi, yi, wi, hi in candidates:
            if keep[i]:
                continue
            overlap_x = min(x1, xi + wi) - max(x0, xi)
            within_columns = overlap_x >= 0.7 * wi and xi >= x0 - w * 0.15 and xi + wi <= x1 + w * 0.15
            # A can's other pieces (its rim, its lower half) are about as wide as it; a scratch
            # on the table below it is not.
            within_columns &= wi >= 0.4 * w
            gap_y = max(yi - y1, y0 - (yi + hi), 0)
            if within_columns and gap_y <= 0.6 * h:
                keep[i] = True
                x0, y0, x1, y1 = min(x0, xi), min(y0, yi), max(x1, xi + wi), max(y1, yi + hi)
                changed = True
    return keep


def join(mask: np.ndarray) -> np.ndarray:
    """Join the pieces: they lie above one another, so a tall vertical closing, then a small
    round one, then the holes filled."""
    _, _, bw, bh = bbox(mask)
    m = close_padded(mask.view(np.uint8), line_element(1, max(3, int(0.4 * bh)) | 1))
    m = close_disc(m, max(1, min(bw, bh) // 8))
    return fill_holes(m).view(bool)


def confidence(energy: np.ndarray, hull: np.ndarray, mask: np.ndarray) -> float:
    """How much the outline stands out: its mean edge energy against a ring of backdrop around
    it (1 = only the can has edges), times how well the convex outline is filled."""
    h, w = energy.shape
    inside = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(inside, hull, 1)
    _, _, bw, bh = cv2.boundingRect(hull)
    ring = grow_disc(inside, max(1, int(0.5 * min(bw, bh)) // 2))
    inner = inside.view(bool)
    ring &= ~inner
    if not ring.any():
        return 0.0
    e_in, e_ring = float(energy[inner].mean()), float(energy[ring].mean())
    contrast = 1.0 - e_ring / max(e_in, 1e-6)
    solidity = float(np.count_nonzero(mask & inner)) / max(float(np.count_nonzero(inner)), 1.0)
    return float(np.clip(contrast, 0.0, 1.0) * (0.5 + 0.5 * min(1.0, solidity)))
