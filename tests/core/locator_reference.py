"""The can locator exactly as it was at dcec100, before its speed-ups (issue 12): the reference
that ``tests/core/test_locator_identity.py`` compares ``core.regions.locator`` with, output for
output. Do not edit: a change here would hide a change there. It calls the same
``core.regions.refine.refine_outline`` as the locator, so the refinement may change on its own.

One line differs from dcec100 (marked ``ALIGNED``): OpenCV 5's ``cv2.magnitude`` rounds its last
few elements differently depending on where numpy happened to allocate its buffers, so the old
locator's energy maps changed by a unit in the last place from run to run (and, through them, a
confidence's last bits: 1 of the 208 photos in one comparison). Both sides compute it on 64-byte
aligned buffers, so that the comparison is of the same values every run.

One algorithm change since is written here too, in the plain style of the rest (marked
``THIRD``): the third reading of ``locate_can`` (docs/REGIONS.md, run 7), whose energy map keeps
vertical lines shorter than ``TALL_FRACTION`` of the photo (a big can's sides).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.regions.refine import refine_outline

WORK_SIDE = 160          # the locator's working copy: longer side in pixels
MIN_AREA = 0.004         # a can covers at least 0.4 % of the photo (a 40x40 px can in 640x640)
MAX_AREA = 0.92          # ... and leaves some backdrop (else the photo IS the can: use "whole")
MIN_CONFIDENCE = 0.25    # below this the result is "no can found"
BLUR_SIGMA = WORK_SIDE / 64.0   # the energy map's blur, in working pixels
SURE = 0.8               # a first reading this confident is kept without trying the second
LINE_FRACTION = 0.6      # straight structures longer than this share of the photo are backdrop
LOW_LEVEL = 0.5          # the chosen piece grows into energy above this share of Otsu's level
BACKDROP_PERCENTILE = 99  # ... and above this percentile of the energy outside Otsu's mask
QUIET_FACTOR = 3.0        # ... times that percentile
GROW_LIMIT = 0.1         # ... no further than this share of the piece's size from its box
HORIZON_FRACTION = 0.3   # ... horizontal ones reaching the photo's side (the wall's foot) already
TALL_FRACTION = 0.85     # THIRD: vertical lines in the third reading


_Y = np.arange(256, dtype=np.float64) / 255.0
_LIGHTNESS = (255.0 / 100.0 * np.where(_Y > 0.008856, 116.0 * np.cbrt(_Y) - 16.0, 903.3 * _Y)
              ).astype(np.float32)


@dataclass(frozen=True)
class CanLocation:
    """The can in image pixels, or why none was found.

    ``outline``: ``N x 2`` int32 (x, y) points of a closed polygon; ``box``: (x0, y0, x1, y1),
    x1/y1 exclusive; ``confidence`` 0..1. When ``found`` is False, outline and box are None and
    ``reason`` says why in words for an operator.
    """
    found: bool
    outline: np.ndarray | None
    box: tuple[int, int, int, int] | None
    confidence: float
    reason: str = ""

    @staticmethod
    def none(reason: str, confidence: float = 0.0) -> CanLocation:
        return CanLocation(False, None, None, float(confidence), reason)


def energy_maps(small_grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two edge-energy maps of a small grey image (float32, same size), long straight lines removed:

    - the first without lines longer than ``LINE_FRACTION`` of the photo, either way;
    - the second also without horizontal ones longer than ``HORIZON_FRACTION`` that reach the
      photo's side (the wall's foot beside a big can; a big can's ribs stop at its sides)."""
    # Lightness as Lab's L (a cube root of luminance: edges in dark corners count too), from a
    # grey image and a table; a full Lab conversion costs ten times more.
    lab_l = cv2.LUT(small_grey, _LIGHTNESS)
    gx = cv2.Sobel(lab_l, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab_l, cv2.CV_32F, 0, 1, ksize=3)
    mag = _aligned_magnitude(gx, gy)   # ALIGNED (dcec100: cv2.magnitude(gx, gy), see the docstring)
    h, w = mag.shape
    # Thicken across the line first, so a slightly tilted wall/table line survives the opening.
    thick_h = cv2.dilate(mag, np.ones((3, 1), np.uint8))
    long_h = cv2.morphologyEx(thick_h, cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (int(w * LINE_FRACTION), 1)))
    shorter_h = cv2.morphologyEx(thick_h, cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_RECT, (int(w * HORIZON_FRACTION), 1)))
    long_v = cv2.morphologyEx(cv2.dilate(mag, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(h * LINE_FRACTION))))
    lines = np.maximum(long_h, long_v)
    sigma = BLUR_SIGMA
    first = cv2.GaussianBlur(np.maximum(mag - lines, 0.0), (0, 0), sigma)
    more = np.maximum(long_v, _from_the_sides(shorter_h, mag))
    return first, cv2.GaussianBlur(np.maximum(mag - more, 0.0), (0, 0), sigma)


def tall_energy(small_grey: np.ndarray) -> np.ndarray:
    """THIRD: the energy map without horizontal lines longer than ``LINE_FRACTION`` of the photo and
    vertical ones longer than ``TALL_FRACTION`` of it."""
    lab_l = cv2.LUT(small_grey, _LIGHTNESS)
    gx = cv2.Sobel(lab_l, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab_l, cv2.CV_32F, 0, 1, ksize=3)
    mag = _aligned_magnitude(gx, gy)
    h, w = mag.shape
    long_h = cv2.morphologyEx(cv2.dilate(mag, np.ones((3, 1), np.uint8)), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (int(w * LINE_FRACTION), 1)))
    long_v = cv2.morphologyEx(cv2.dilate(mag, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(h * TALL_FRACTION))))
    return cv2.GaussianBlur(np.maximum(mag - np.maximum(long_h, long_v), 0.0), (0, 0), BLUR_SIGMA)


def _aligned_magnitude(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``cv2.magnitude(gx, gy)`` with its inputs and output on 64-byte boundaries."""
    size = gx.size
    buffer = np.empty(3 * (size + 16), np.float32)
    start = (-buffer.ctypes.data % 64) // 4
    stride = -(-size // 16) * 16
    x, y, out = (buffer[start + i * stride:start + i * stride + size].reshape(gx.shape) for i in range(3))
    x[...] = gx
    y[...] = gy
    cv2.magnitude(x, y, out)
    return out


def _from_the_sides(long_h: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Keep the horizontal structures that reach the photo's left or right edge: the wall's foot
    runs out of the photo on both sides of the can, a big can's ribs stop at its sides."""
    level = 0.25 * float(np.percentile(mag[::2, ::2], 99))   # a quarter of the pixels is plenty
    count, labels, stats, _ = cv2.connectedComponentsWithStats((long_h > level).astype(np.uint8), connectivity=8)
    if count <= 1:
        return long_h
    w = long_h.shape[1]
    x0, x1 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH]
    edge = (x0 <= 2) | (x1 >= w - 2)
    edge[0] = False
    return np.where(edge[labels], long_h, 0.0).astype(np.float32)


def _small(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The working copy: grey (converted first, then shrunk: one channel to average instead of
    three), longer side ``WORK_SIDE``; and its scale."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    scale = WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return grey, 1.0
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA), scale


def locate_can(image: np.ndarray, tall_reading: bool = False) -> CanLocation:   # THIRD: tall_reading
    """Find the can in an ``HxWx3`` uint8 RGB photo (see the module docstring).

    Two readings of the backdrop's lines are tried: only lines across most of the photo are
    backdrop, or also shorter horizontal ones that run out of the photo's side (the wall's foot
    beside a big can); the outline that stands out better from its surroundings is kept. The
    second reading is skipped when the first is already sure (on the cans data set it changed
    none of those outlines and runs on about a quarter of the photos)."""
    small, scale = _small(image)
    reference, shorter = energy_maps(small)
    best = _locate(small, scale, image.shape, reference, reference)
    if not (best.found and best.confidence >= SURE):
        other = _locate(small, scale, image.shape, shorter, reference)
        if other.found and (not best.found or other.confidence > best.confidence):
            best = other
        third = _locate(small, scale, image.shape, tall_energy(small), reference) if tall_reading else best
        if third.found and (not best.found or third.confidence > best.confidence):   # THIRD
            best = third
    if not best.found or best.outline is None or scale >= 1.0:
        return best     # (a photo no larger than the working copy was located at full resolution)
    outline = refine_outline(image, best.outline)
    x0, y0 = outline.min(axis=0)
    x1, y1 = outline.max(axis=0) + 1
    return CanLocation(True, outline, (int(x0), int(y0), int(x1), int(y1)), best.confidence)


def _locate(small: np.ndarray, scale: float, shape: tuple, energy: np.ndarray,
            reference: np.ndarray) -> CanLocation:
    h, w = small.shape[:2]
    top = float(np.percentile(energy[::2, ::2], 99.5))
    if top < 2.0:
        return CanLocation.none("no can found: the photo has no edges (blank, dark or out of focus)")
    e8 = np.clip(energy * (255.0 / top), 0, 255).astype(np.uint8)
    level, binary = cv2.threshold(e8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(3, round(min(h, w) / 40)) | 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, disc)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return CanLocation.none("no can found: nothing stands out from the backdrop")
    sums = np.bincount(labels.ravel(), weights=energy.ravel(), minlength=count)
    ring = max(2, round(min(h, w) * 0.03))
    border = np.zeros((h, w), bool)
    border[:ring], border[-ring:], border[:, :ring], border[:, -ring:] = True, True, True, True
    on_border = np.bincount(labels[border], minlength=count) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    cx, cy = centroids[:, 0] / w - 0.5, centroids[:, 1] / h - 0.5
    centre = np.exp(-(cx ** 2 + cy ** 2) / (2 * 0.3 ** 2))
    # Thin curves (the edge of a sheet or a wall) are not cans: weigh by compactness too.
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    compact = np.clip(stats[:, cv2.CC_STAT_AREA] / np.maximum(longest ** 2, 1.0) / 0.25, 0.1, 1.0)
    score = sums * centre * compact * (1.0 - np.clip(on_border * 3.0, 0.0, 0.9))
    score[0] = -1.0
    best = int(np.argmax(score))
    piece = _hysteresis(labels == best, e8, level, disc)
    body = _trim(piece)
    mask = _join(piece | _neighbours(labels, stats, score, best, body))
    # Tails (a shadow, the table's edge) leave the can sideways as flat bands: outside the body's
    # columns, keep only columns that are tall like the can.
    bx, _, bw, bh = _bbox(body)
    slack = max(1, int(0.08 * bw))
    tall = mask.sum(axis=0) >= 0.5 * bh
    outside = np.ones(w, bool)
    outside[max(0, bx - slack):bx + bw + slack] = False
    mask[:, outside & ~tall] = False
    area = float(mask.sum()) / (h * w)
    if area < MIN_AREA:
        return CanLocation.none("no can found: the only object that stands out is too small")
    if area > MAX_AREA:
        return CanLocation.none("no can found: the edges cover the whole photo")
    # The energy map was blurred, so the mask reaches past the can's edge by about the blur's
    # width: take it back, so that the outline hugs the can rather than a band of backdrop (less
    # on a small can, whose edges were blurred less far).
    tight = _shrink_disc(mask, min(BLUR_SIGMA, 0.08 * _size(mask)), outside_empty=False)
    if tight.any():
        mask = tight
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(np.concatenate(contours))
    confidence = _confidence(reference, hull, mask)
    if confidence < MIN_CONFIDENCE:
        return CanLocation.none("no can found: nothing stands out clearly from the backdrop", confidence)
    outline = np.round((hull.reshape(-1, 2).astype(np.float32) + 0.5) / scale - 0.5).astype(np.int32)
    height, width = shape[:2]
    outline[:, 0] = np.clip(outline[:, 0], 0, width - 1)
    outline[:, 1] = np.clip(outline[:, 1], 0, height - 1)
    x0, y0 = outline.min(axis=0)
    x1, y1 = outline.max(axis=0) + 1
    return CanLocation(True, outline, (int(x0), int(y0), int(x1), int(y1)), confidence)


def _hysteresis(piece: np.ndarray, e8: np.ndarray, level: float, disc: np.ndarray) -> np.ndarray:
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
    x, y, bw, bh = _bbox(piece)
    g = int(round(0.25 * max(bw, bh)))
    far = np.ones_like(piece)
    far[max(0, y - g):y + bh + g, max(0, x - g):x + bw + g] = False
    values = e8[far]
    if values.size < 0.05 * far.size:
        return piece
    counts = np.cumsum(np.bincount(values, minlength=256))
    backdrop = float(np.searchsorted(counts, BACKDROP_PERCENTILE / 100.0 * values.size))
    low = max(level * LOW_LEVEL, QUIET_FACTOR * backdrop)
    if low >= level:
        return piece
    weak = cv2.morphologyEx((e8 > low).astype(np.uint8), cv2.MORPH_CLOSE, disc)
    _, labels = cv2.connectedComponents(weak, connectivity=8)
    ids = np.unique(labels[piece])
    ids = ids[ids > 0]
    if not len(ids):
        return piece
    # ... near it: within its box grown by GROW_LIMIT of its size (a busy backdrop's weak edges
    # touch the can too, and would carry the outline away).
    x, y, bw, bh = _bbox(piece)
    g = int(round(GROW_LIMIT * max(bw, bh)))
    near = np.zeros_like(piece)
    near[max(0, y - g):y + bh + g, max(0, x - g):x + bw + g] = True
    return piece | (np.isin(labels, ids) & near)


def _trim(mask: np.ndarray) -> np.ndarray:
    """The can's main piece, filled, without thin tails (a shadow's edge, the end of the
    wall/table line): openings sized to the piece, the largest part kept."""
    size = _size(mask)
    m = _open_disc(_join(mask), max(1, size // 8)).astype(np.uint8)
    # A shadow or the table's edge leaves the can sideways as a flat band: cut what is flatter
    # than a third of the object.
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((max(3, int(0.35 * size)) | 1, 1), np.uint8))  # type: ignore[assignment]  # cv2 stubs
    count, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if count <= 1:
        return mask
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _neighbours(labels: np.ndarray, stats: np.ndarray, score: np.ndarray, best: int,
                body: np.ndarray) -> np.ndarray:
    """Other pieces of the same can: components within the body's columns (a rim, the lower
    half of a can whose middle mirrors the table) and close to it vertically. Grows until
    nothing more joins."""
    x0, y0, bw, bh = _bbox(body)
    x1, y1 = x0 + bw, y0 + bh
    keep: set[int] = set()
    changed = True
    while changed:
        changed = False
        w, h = x1 - x0, y1 - y0
        for i in range(1, len(stats)):
            if i == best or i in keep or score[i] < 0.002 * score[best]:
                continue
            xi, yi, wi, hi = (int(v) for v in stats[i, :4])
            overlap_x = min(x1, xi + wi) - max(x0, xi)
            within_columns = overlap_x >= 0.7 * wi and xi >= x0 - w * 0.15 and xi + wi <= x1 + w * 0.15
            # A can's other pieces (its rim, its lower half) are about as wide as it; a scratch
            # on the table below it is not.
            within_columns &= wi >= 0.4 * w
            gap_y = max(yi - y1, y0 - (yi + hi), 0)
            if within_columns and gap_y <= 0.6 * h:
                keep.add(i)
                x0, y0, x1, y1 = min(x0, xi), min(y0, yi), max(x1, xi + wi), max(y1, yi + hi)
                changed = True
    return np.isin(labels, list(keep))


def _join(mask: np.ndarray) -> np.ndarray:
    """Join the pieces: they lie above one another, so a tall vertical closing, then a small
    round one, then the holes filled."""
    _, _, bw, bh = _bbox(mask)
    m = _close(mask.astype(np.uint8), np.ones((max(3, int(0.4 * bh)) | 1, 1), np.uint8))
    m = _close_disc(m, max(1, min(bw, bh) // 8))
    return _fill_holes(m).astype(bool)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """x, y, width, height of a mask's non-zero pixels."""
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return x, y, w, h


def _size(mask: np.ndarray) -> int:
    _, _, bw, bh = _bbox(mask)
    return int(min(bw, bh))


# Morphology with discs through distance transforms: the cost does not grow with the disc (an
# OpenCV ellipse kernel of a big can's size costs ~10 ms on a 160 px mask; this ~0.2 ms).
def _grow_disc(mask: np.ndarray, r: float) -> np.ndarray:
    dist = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, 5)
    return dist <= r


def _shrink_disc(mask: np.ndarray, r: float, outside_empty: bool) -> np.ndarray:
    m = mask.astype(np.uint8)
    if outside_empty:
        m = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # type: ignore[assignment]  # cv2 stubs
    dist = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    inner = dist > r
    return inner[1:-1, 1:-1] if outside_empty else inner


def _close_disc(mask: np.ndarray, r: float) -> np.ndarray:
    """Closing with a disc of radius ``r``; outside the photo counts as empty (the mask may grow
    past the photo's edge and shrink back, as with a padded OpenCV closing)."""
    pad = int(np.ceil(r)) + 2
    m = cv2.copyMakeBorder(mask.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    closed = _shrink_disc(_grow_disc(m, r), r, outside_empty=True)
    return closed[pad:-pad, pad:-pad].astype(np.uint8)


def _open_disc(mask: np.ndarray, r: float) -> np.ndarray:
    """Opening with a disc of radius ``r`` (a piece cut by the photo's edge keeps that edge)."""
    return _grow_disc(_shrink_disc(mask, r, outside_empty=False), r)


def _close(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A closing that treats outside the photo as empty (OpenCV's default border would let the
    mask grow into the photo's edges)."""
    py, px = kernel.shape[0], kernel.shape[1]
    padded = cv2.copyMakeBorder(mask, py, py, px, px, cv2.BORDER_CONSTANT, value=0)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
    return closed[py:-py, px:-px]


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled


def _confidence(energy: np.ndarray, hull: np.ndarray, mask: np.ndarray) -> float:
    """How much the outline stands out: its mean edge energy against a ring of backdrop around
    it (1 = only the can has edges), times how well the convex outline is filled."""
    h, w = energy.shape
    inside = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(inside, hull, 1)
    _, _, bw, bh = cv2.boundingRect(hull)
    ring = _grow_disc(inside, max(1, int(0.5 * min(bw, bh)) // 2))
    inner = inside.astype(bool)
    ring &= ~inner
    if not ring.any():
        return 0.0
    e_in, e_ring = float(energy[inner].mean()), float(energy[ring].mean())
    contrast = 1.0 - e_ring / max(e_in, 1e-6)
    solidity = float(np.count_nonzero(mask & inner)) / max(float(inner.sum()), 1.0)
    return float(np.clip(contrast, 0.0, 1.0) * (0.5 + 0.5 * min(1.0, solidity)))
