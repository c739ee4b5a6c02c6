"""Array helpers of the can locator (``core.regions.locator``): exact, GIL-light equivalents.

Each gives the same values, bit for bit, as the plain numpy/OpenCV it replaces (tested against the
locator as it was: ``tests/core/test_locator_identity.py``), with less Python and numpy holding the
GIL, so two sides located at once on the model's pool both run: a gradient on aligned buffers (the
same on every run), percentiles by partition, histograms, cached structuring elements, and
morphology with discs through distance transforms on the mask's box.

Pure numpy/OpenCV; thread-safe (the caches hold read-only constants).
"""
from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np


def gradient(lab_l: np.ndarray) -> np.ndarray:
    """The gradient's magnitude (3x3 Sobel) of a float32 map, the same on every run.

    OpenCV 5's ``magnitude`` computes the last elements of its output in a scalar loop whose
    start depends on where its buffers lie in memory, and that loop rounds differently (measured:
    the last row's 158th pixel of a 160 px map, by one unit in the last place, on half of the
    calls with numpy's own buffers; the energy maps around that corner then differed from run to
    run). So the derivatives and the magnitude are written to buffers that start on a 64-byte
    boundary: the same elements take the same loop every time."""
    gx, gy, mag = aligned(3, lab_l.shape)
    cv2.Sobel(lab_l, cv2.CV_32F, 1, 0, dst=gx, ksize=3)
    cv2.Sobel(lab_l, cv2.CV_32F, 0, 1, dst=gy, ksize=3)
    cv2.magnitude(gx, gy, mag)
    return mag


def aligned(count: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    """``count`` float32 arrays of ``shape``, each starting on a 64-byte boundary (one allocation)."""
    size = math.prod(shape)
    stride = -(-size // 16) * 16      # floats, a multiple of 64 bytes
    buffer = np.empty(count * stride + 16, np.float32)
    start = (-buffer.ctypes.data % 64) // 4
    return [buffer[start + i * stride:start + i * stride + size].reshape(shape) for i in range(count)]


def minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``max(a - b, 0)`` of two float32 maps (what ``np.maximum(a - b, 0.0)`` gives), in place of
    the difference."""
    diff = cv2.subtract(a, b)
    return np.maximum(diff, 0.0, out=diff)


@lru_cache(maxsize=64)
def line_element(width: int, height: int) -> np.ndarray:
    """A rectangular structuring element (``getStructuringElement(MORPH_RECT, ...)``); read-only."""
    element = cv2.getStructuringElement(cv2.MORPH_RECT, (width, height))
    element.flags.writeable = False
    return element


@lru_cache(maxsize=64)
def ellipse_element(k: int) -> np.ndarray:
    """``getStructuringElement(MORPH_ELLIPSE, (k, k))``; read-only."""
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    element.flags.writeable = False
    return element


def percentile(values: np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` (linear method, a float32 array, no NaN) for the same
    values, bit for bit, without numpy's general machinery (~10x faster on these small maps):
    the two order statistics around the virtual index, interpolated in float32 as numpy does
    for a Python ``q`` (``_lerp`` with a weak Python-float weight)."""
    flat = values.ravel()
    n = flat.size
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(flat.max())
    k = math.floor(virtual)
    part = np.partition(flat, (k, k + 1))
    a, b = part[k], part[k + 1]
    t = virtual - k
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def histogram(values: np.ndarray) -> np.ndarray:
    """Counts of each value 0..255 of a uint8 array (int64; exact below 2**24 pixels)."""
    return cv2.calcHist([values], [0], None, [256], [0, 256]).ravel().astype(np.int64)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """x, y, width, height of a mask's non-zero pixels (``bool`` or ``uint8``)."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8) if mask.dtype == bool else mask)
    return x, y, w, h


@lru_cache(maxsize=16)
def border_index(h: int, w: int, ring: int) -> np.ndarray:
    """Flat indices of the ``ring`` pixels along the edges of an ``h x w`` map; read-only."""
    border = np.zeros((h, w), bool)
    border[:ring], border[-ring:], border[:, :ring], border[:, -ring:] = True, True, True, True
    index = np.flatnonzero(border)
    index.flags.writeable = False
    return index


def min_side(mask: np.ndarray) -> int:
    """The shorter side of a mask's box (pixels)."""
    _, _, bw, bh = bbox(mask)
    return int(min(bw, bh))


def u8(mask: np.ndarray) -> np.ndarray:
    """A 0/1 mask as ``uint8`` (a ``bool`` mask's bytes viewed, not copied)."""
    return mask.view(np.uint8) if mask.dtype == bool else mask


# Morphology with discs through distance transforms: the cost does not grow with the disc (an
# OpenCV ellipse kernel of a big can's size costs ~10 ms on a 160 px mask; this ~0.2 ms).
# Masks are ``bool`` or 0/1 ``uint8`` (the same bytes: ``.view`` turns one into the other).
#
# The distance transforms run on the mask's box grown by what can change (the same values: a
# chamfer distance is at least the Chebyshev distance, so nothing further than ``r + 1`` from the
# mask is within ``r``; a pixel's nearest empty pixel is never behind the first empty ring around
# the box, and a shortest chamfer path stays in the box of its two ends).
def grow_disc(mask: np.ndarray, r: float) -> np.ndarray:
    m = u8(mask)
    x, y, w, h = cv2.boundingRect(m)
    if w == 0:
        _, empty = cv2.threshold(m, 0, 1, cv2.THRESH_BINARY_INV)
        return cv2.distanceTransform(empty, cv2.DIST_L2, 5) <= r
    g = int(r) + 2
    box = np.s_[max(0, y - g):y + h + g, max(0, x - g):x + w + g]
    _, empty = cv2.threshold(m[box], 0, 1, cv2.THRESH_BINARY_INV)
    grown = np.zeros(m.shape, bool)
    grown[box] = cv2.distanceTransform(empty, cv2.DIST_L2, 5) <= r
    return grown


def shrink_disc(mask: np.ndarray, r: float, outside_empty: bool) -> np.ndarray:
    m = u8(mask)
    if outside_empty:
        m = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    x, y, w, h = cv2.boundingRect(m)
    inner = np.zeros(m.shape, bool)
    if w:
        box = np.s_[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2]
        inner[box] = cv2.distanceTransform(m[box], cv2.DIST_L2, 5) > r
    return inner[1:-1, 1:-1] if outside_empty else inner


def close_disc(mask: np.ndarray, r: float) -> np.ndarray:
    """Closing with a disc of radius ``r``; outside the photo counts as empty (the mask may grow
    past the photo's edge and shrink back, as with a padded OpenCV closing). 0/1 ``uint8``."""
    pad = math.ceil(r) + 2
    m = cv2.copyMakeBorder(u8(mask), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    closed = shrink_disc(grow_disc(m, r), r, outside_empty=True)
    return closed[pad:-pad, pad:-pad].view(np.uint8)


def open_disc(mask: np.ndarray, r: float) -> np.ndarray:
    """Opening with a disc of radius ``r`` (a piece cut by the photo's edge keeps that edge)."""
    return grow_disc(shrink_disc(mask, r, outside_empty=False), r)


def close_padded(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A closing that treats outside the photo as empty (OpenCV's default border would let the
    mask grow into the photo's edges)."""
    py, px = kernel.shape[0], kernel.shape[1]
    padded = cv2.copyMakeBorder(mask, py, py, px, px, cv2.BORDER_CONSTANT, value=0)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
    return closed[py:-py, px:-px]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    m = u8(mask)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(m.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled
