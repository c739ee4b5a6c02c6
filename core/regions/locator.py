"""The can locator: where the can is in a photo, without training.

A can is a metal object: ribs, rims, printed lids and specular highlights give it far more fine
edges than the walls, tables and sheets photographed behind it, whatever their colour. So the
locator works on edge energy, not on colour:

1. a copy whose longer side is ``WORK_SIDE`` pixels (all steps below cost ~1 ms on it);
2. gradient magnitude of the lightness (Lab L), minus long straight structures (the line where
   the wall meets the table, the edge of a sheet), which an opening with a long horizontal or
   vertical line keeps and a can's short ribs do not; blurred into an energy map;
3. Otsu's threshold on the energy, a closing that joins the can's ribs into one body, the
   connected components;
4. the component with the most edge energy, weighed by a soft centre prior and against lying
   along the photo's border (a backdrop's edge); nearby pieces of the same object are merged;
5. its convex hull, with holes filled (a lid's smooth middle), is the coarse outline;
6. on a photo larger than the working copy, the coarse outline is snapped to the can's silhouette
   at full resolution (``core.regions.refine``);
7. with ``highpass_reading`` (a model records it), when the first reading is not sure, one more
   reading on the lightness high-passed before its gradient (smooth blobs of a busy backdrop lose
   their edges, the can's sharp ones keep them) is snapped too, and replaces the outline when the
   photo's colours change much more strongly across it (``refine.edge_support``): an outline cut
   across the can or wandering into the backdrop has stretches with no edge.

The array helpers are in ``core.regions.morph``, the shaping of the chosen piece (growing,
trimming, joining, confidence) in ``core.regions.pieces``.

Confidence says how much the can stands out (the share of edge energy inside the outline against
its share of the photo, the outline's solidity). "No can found" comes with its reason: no edges at
all (a blank or out-of-focus photo), nothing that stands out from the backdrop, an object too small
or filling the whole photo.

Pure numpy/OpenCV; thread-safe (no shared state; the caches below hold read-only constants).

Speed (issue 12): the sides of a can are located on a small pool of threads, so the Python and numpy
work that holds the GIL is kept short: OpenCV calls (which release it) where they give the same
values, no copies for type changes (a 0/1 ``uint8`` mask and a ``bool`` mask share their bytes),
``connectedComponents`` without its statistics where they are not needed (OpenCV 5 spends most of
``connectedComponentsWithStats``' time on them), histograms and counts instead of sorting. Every
step gives the same values as before, bit for bit: ``tests/core/test_locator_identity.py`` compares
it, function by function, with the locator as it was (``tests/core/locator_reference.py``) on all
208 photos of the cans data set and on the backdrop check's repaints.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.regions import pieces
from core.regions.morph import (
    bbox,
    border_index,
    ellipse_element,
    gradient,
    line_element,
    min_side,
    minus,
    percentile,
    shrink_disc,
)
from core.regions.refine import edge_support, refine_outline

WORK_SIDE = 160          # the locator's working copy: longer side in pixels
MIN_AREA = 0.004         # a can covers at least 0.4 % of the photo (a 40x40 px can in 640x640)
MAX_AREA = 0.92          # ... and leaves some backdrop (else the photo IS the can: use "whole")
MIN_CONFIDENCE = 0.25    # below this the result is "no can found"
BLUR_SIGMA = WORK_SIDE / 64.0   # the energy map's blur, in working pixels
SURE = 0.8               # a first reading this confident is kept without trying the second
LINE_FRACTION = 0.6      # straight structures longer than this share of the photo are backdrop
HORIZON_FRACTION = 0.3   # ... horizontal ones reaching the photo's side (the wall's foot) already
TALL_FRACTION = 0.85     # ... vertical ones, in the third reading (a big can's sides are long lines)
HIGHPASS_SIGMA = 2.0     # the high-pass reading: lightness minus HIGHPASS_SHARE of its blur of this
HIGHPASS_SHARE = 0.6     # ... sigma (working pixels), before the gradient (docs/REGIONS.md, run 14)
SUPPORT_LOW = 2.0        # it replaces the outline when its edge support is this many times higher
SUPPORT_MEAN = 1.5       # ... at the 20th percentile, and this many times on the mean (rule I, run 14)


_Y = np.arange(256, dtype=np.float64) / 255.0
_LIGHTNESS = (255.0 / 100.0 * np.where(_Y > 0.008856, 116.0 * np.cbrt(_Y) - 16.0, 903.3 * _Y)
              ).astype(np.float32)
_ACROSS_H = np.ones((3, 1), np.uint8)   # thickens across a horizontal line
_ACROSS_V = np.ones((1, 3), np.uint8)   # ... across a vertical one


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
    mag = gradient(cv2.LUT(small_grey, _LIGHTNESS))
    h, w = mag.shape
    # Thicken across the line first, so a slightly tilted wall/table line survives the opening.
    thick_h = cv2.dilate(mag, _ACROSS_H)
    long_h = cv2.morphologyEx(thick_h, cv2.MORPH_OPEN, line_element(int(w * LINE_FRACTION), 1))
    shorter_h = cv2.morphologyEx(thick_h, cv2.MORPH_OPEN, line_element(int(w * HORIZON_FRACTION), 1))
    long_v = cv2.morphologyEx(cv2.dilate(mag, _ACROSS_V), cv2.MORPH_OPEN, line_element(1, int(h * LINE_FRACTION)))
    sigma = BLUR_SIGMA
    first = cv2.GaussianBlur(minus(mag, cv2.max(long_h, long_v)), (0, 0), sigma)
    more = cv2.max(long_v, _from_the_sides(shorter_h, mag))
    return first, cv2.GaussianBlur(minus(mag, more), (0, 0), sigma)


def tall_energy(small_grey: np.ndarray) -> np.ndarray:
    """The third reading's energy map: horizontal lines longer than ``LINE_FRACTION`` of the photo
    removed, vertical ones only when longer than ``TALL_FRACTION`` of it (a big can's sides)."""
    return _without_lines(gradient(cv2.LUT(small_grey, _LIGHTNESS)), TALL_FRACTION)


def highpass_energy(small_grey: np.ndarray) -> np.ndarray:
    """The high-pass reading's energy map: as the first reading's, on the lightness minus
    ``HIGHPASS_SHARE`` of its Gaussian blur (sigma ``HIGHPASS_SIGMA`` working pixels)."""
    lightness = cv2.LUT(small_grey, _LIGHTNESS)
    return _without_lines(gradient(np.ascontiguousarray(
        lightness - HIGHPASS_SHARE * cv2.GaussianBlur(lightness, (0, 0), HIGHPASS_SIGMA), dtype=np.float32)),
        LINE_FRACTION)


def _without_lines(mag: np.ndarray, vertical: float) -> np.ndarray:
    """``mag`` without horizontal lines longer than ``LINE_FRACTION`` of the photo and vertical ones
    longer than ``vertical`` of it, blurred into an energy map."""
    h, w = mag.shape
    long_h = cv2.morphologyEx(cv2.dilate(mag, _ACROSS_H), cv2.MORPH_OPEN, line_element(int(w * LINE_FRACTION), 1))
    long_v = cv2.morphologyEx(cv2.dilate(mag, _ACROSS_V), cv2.MORPH_OPEN, line_element(1, int(h * vertical)))
    return cv2.GaussianBlur(minus(mag, cv2.max(long_h, long_v)), (0, 0), BLUR_SIGMA)


def _from_the_sides(long_h: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Keep the horizontal structures that reach the photo's left or right edge: the wall's foot
    runs out of the photo on both sides of the can, a big can's ribs stop at its sides."""
    level = 0.25 * percentile(mag[::2, ::2], 99)   # a quarter of the pixels is plenty
    count, labels = cv2.connectedComponents((long_h > level).view(np.uint8), connectivity=8)
    if count <= 1:
        return long_h
    # A component reaches the side when it starts in the first three columns (x0 <= 2) or ends
    # in the last three (x0 + width >= w - 2): the labels found there.
    edge = np.zeros(count, bool)
    edge[labels[:, :3]] = True
    edge[labels[:, -3:]] = True
    edge[0] = False
    return np.where(edge[labels], long_h, 0.0)


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


def locate_can(image: np.ndarray, tall_reading: bool = False, highpass_reading: bool = False) -> CanLocation:
    """Find the can in an ``HxWx3`` uint8 RGB photo (see the module docstring).

    Three readings of the backdrop's lines are tried: only lines across most of the photo are
    backdrop; or also shorter horizontal ones that run out of the photo's side (the wall's foot
    beside a big can); or vertical ones only when they are longer than a big can is tall (the
    sides of a can that fills most of the photo's height are long straight lines too, and the
    first two readings take them away: they found only the middle of such a can), this one only
    with ``tall_reading`` (a model records whether it was trained with it: ``RegionSettings``).
    The outline that stands out best from its surroundings is kept. The other readings are
    skipped when the first is already sure (on the cans data set they changed none of those
    outlines). ``highpass_reading``: step 7 of the module docstring, also only when the first
    reading is not sure."""
    small, scale = _small(image)
    reference, shorter = energy_maps(small)
    best = _locate(small, scale, image.shape, reference, reference)
    sure = best.found and best.confidence >= SURE
    if not sure:
        for energy in (shorter, tall_energy(small)) if tall_reading else (shorter,):
            other = _locate(small, scale, image.shape, energy, reference)
            if other.found and (not best.found or other.confidence > best.confidence):
                best = other
    if not best.found or best.outline is None or scale >= 1.0:
        return best     # (a photo no larger than the working copy was located at full resolution)
    outline = refine_outline(image, best.outline)
    confidence = best.confidence
    if highpass_reading and not sure:
        other = _locate(small, scale, image.shape, highpass_energy(small), reference)
        if other.found and other.outline is not None:
            candidate = refine_outline(image, other.outline)
            low, mean = edge_support(image, outline)
            other_low, other_mean = edge_support(image, candidate)
            if other_low > SUPPORT_LOW * low and other_mean > SUPPORT_MEAN * mean:
                outline, confidence = candidate, other.confidence
    x0, y0 = outline.min(axis=0)
    x1, y1 = outline.max(axis=0) + 1
    return CanLocation(True, outline, (int(x0), int(y0), int(x1), int(y1)), confidence)


def _locate(small: np.ndarray, scale: float, shape: tuple, energy: np.ndarray,
            reference: np.ndarray) -> CanLocation:
    h, w = small.shape[:2]
    top = percentile(energy[::2, ::2], 99.5)
    if top < 2.0:
        return CanLocation.none("no can found: the photo has no edges (blank, dark or out of focus)")
    scaled = energy * (255.0 / top)
    e8 = np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)
    level, binary = cv2.threshold(e8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(3, round(min(h, w) / 40)) | 1
    disc = ellipse_element(k)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, disc)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return CanLocation.none("no can found: nothing stands out from the backdrop")
    # (bincount casts to intp and float64 itself, ~5x slower than these casts)
    flat_labels = labels.ravel().astype(np.intp)
    sums = np.bincount(flat_labels, weights=energy.ravel().astype(np.float64), minlength=count)
    ring = max(2, round(min(h, w) * 0.03))
    edge = border_index(h, w, ring)
    on_border = np.bincount(flat_labels[edge], minlength=count) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    cx, cy = centroids[:, 0] / w - 0.5, centroids[:, 1] / h - 0.5
    centre = np.exp(-(cx ** 2 + cy ** 2) / (2 * 0.3 ** 2))
    # Thin curves (the edge of a sheet or a wall) are not cans: weigh by compactness too.
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    compact = np.clip(stats[:, cv2.CC_STAT_AREA] / np.maximum(longest ** 2, 1.0) / 0.25, 0.1, 1.0)
    score = sums * centre * compact * (1.0 - np.clip(on_border * 3.0, 0.0, 0.9))
    score[0] = -1.0
    best = int(np.argmax(score))
    piece = pieces.hysteresis(labels == best, e8, level, disc)
    joined = pieces.join(piece)
    body = pieces.trim(piece, joined)
    others = pieces.neighbours(stats, score, best, body)
    # (with no other piece, the joined piece is the one _trim started from)
    mask = pieces.join(piece | others[labels]) if others.any() else joined.copy()
    # Tails (a shadow, the table's edge) leave the can sideways as flat bands: outside the body's
    # columns, keep only columns that are tall like the can.
    bx, _, bw, bh = bbox(body)
    slack = max(1, int(0.08 * bw))
    tall = np.count_nonzero(mask, axis=0) >= 0.5 * bh
    outside = np.ones(w, bool)
    outside[max(0, bx - slack):bx + bw + slack] = False
    mask[:, outside & ~tall] = False
    area = float(np.count_nonzero(mask)) / (h * w)
    if area < MIN_AREA:
        return CanLocation.none("no can found: the only object that stands out is too small")
    if area > MAX_AREA:
        return CanLocation.none("no can found: the edges cover the whole photo")
    # The energy map was blurred, so the mask reaches past the can's edge by about the blur's
    # width: take it back, so that the outline hugs the can rather than a band of backdrop (less
    # on a small can, whose edges were blurred less far).
    tight = shrink_disc(mask, min(BLUR_SIGMA, 0.08 * min_side(mask)), outside_empty=False)
    if tight.any():
        mask = tight
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(np.concatenate(contours))
    confidence = pieces.confidence(reference, hull, mask)
    if confidence < MIN_CONFIDENCE:
        return CanLocation.none("no can found: nothing stands out clearly from the backdrop", confidence)
    outline = np.round((hull.reshape(-1, 2).astype(np.float32) + 0.5) / scale - 0.5).astype(np.int32)
    height, width = shape[:2]
    outline[:, 0] = np.clip(outline[:, 0], 0, width - 1)
    outline[:, 1] = np.clip(outline[:, 1], 0, height - 1)
    x0, y0 = outline.min(axis=0)
    x1, y1 = outline.max(axis=0) + 1
    return CanLocation(True, outline, (int(x0), int(y0), int(x1), int(y1)), confidence)
