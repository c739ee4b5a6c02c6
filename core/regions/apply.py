"""Applying a side's inspection region: what the network sees, and mapping its answer back.

One function, ``prepare_side``, turns a photo and its ``common.regions.SideRegion`` into the
network's input; training, calibration, evaluation and inspection all call it (training adds its
augmentation through the ``transform`` hook, between the crop and the blanking, so its plain view
is byte-for-byte what inspection sees):

1. the region's outline in image pixels: the can locator's (``auto``), the admin's rectangle or
   ellipse (``fixed``), or none (``whole``: the whole photo, resized as before regions existed);
2. a square window around the outline's box, grown by ``context`` on every side (the photo's
   edge is replicated where the window leaves the photo), resized to the model's input size;
3. the judged region = the outline grown by ``margin`` of the can's size (so a locator that hugs
   the can a little too tightly still shows the whole rim), or taken inside it when ``margin`` is
   negative (so the located can's last pixels, where a backdrop shows through a soft edge, are
   not judged; a fixed region is judged as drawn); everything outside it is blanked
   (``fill``: flat grey, which the network's normalisation maps to zero) or blurred (``blur``).

Back from the network, ``heatmap_in_image`` places a raw map where its window lay in the photo and
zeroes it outside the judged region, so heatmaps and boxes never fall outside it.

A model records how it was trained in ``model.json`` (``preprocessing``, see ``RegionSettings``);
a model without that entry (trained before regions existed) sees whole photos, as it always did.

Pure numpy/OpenCV; thread-safe (no shared state).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from common.regions import SideRegion
from core.images import resize_square
from core.regions.locator import CanLocation, locate_can
from core.regions.settings import RegionSettings

FILL_VALUE = 127          # the grey the Lite backbones' normalisation maps to zero

# (crop, can_mask, region_mask) -> the same three; training's augmentation hook.
Transform = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class SideView:
    """One side ready for the network, and how to map its answer back to the photo.

    ``pixels``: ``size x size x 3`` uint8, the network's input. ``window``: the photo rectangle
    (x0, y0, x1, y1; may reach past the photo) that ``pixels`` show. ``region``: the judged
    region's outline (``N x 2`` int32 image pixels), None for the whole photo. ``found``: False
    when the locator found no can (the side is judged on the whole photo and must go to review),
    with ``reason`` saying why. ``can_mask``/``region_mask``: the outline and the judged region in
    ``pixels``' frame (uint8 0/1), None for the whole photo.
    """
    pixels: np.ndarray
    window: tuple[float, float, float, float]
    region: np.ndarray | None
    found: bool = True
    reason: str = ""
    can_mask: np.ndarray | None = None
    region_mask: np.ndarray | None = None


def side_outline(image: np.ndarray, region: SideRegion | None,
                 settings: RegionSettings | None) -> tuple[np.ndarray | None, CanLocation | None]:
    """The outline to judge (image pixels) and, in auto mode, the locator's answer.

    ``(None, None)``: the whole photo (mode whole, or an old model with no region given);
    ``(None, location)`` with ``location.found`` False: no can found.
    """
    mode = region.mode if region is not None else (settings.default if settings else "whole")
    if mode == "whole":
        return None, None
    if mode == "fixed":
        assert region is not None and region.box is not None
        return fixed_outline(region, image.shape[1], image.shape[0]), None
    location = locate_can(image, **(settings.locator() if settings is not None else {}))
    return (location.outline if location.found else None), location


def fixed_outline(region: SideRegion, width: int, height: int) -> np.ndarray:
    """A fixed region's rectangle or ellipse as a polygon in image pixels."""
    x0, y0, x1, y1 = region.box  # type: ignore[misc]
    px0, py0, px1, py1 = x0 * width, y0 * height, x1 * width, y1 * height
    if region.shape == "ellipse":
        centre = (int(round((px0 + px1) / 2)), int(round((py0 + py1) / 2)))
        axes = (max(1, int(round((px1 - px0) / 2))), max(1, int(round((py1 - py0) / 2))))
        return np.asarray(cv2.ellipse2Poly(centre, axes, 0, 0, 360, 5), np.int32)
    return np.array([[px0, py0], [px1 - 1, py0], [px1 - 1, py1 - 1], [px0, py1 - 1]], np.float64
                    ).round().astype(np.int32)


def square_window(outline: np.ndarray, context: float) -> tuple[float, float, float, float]:
    """A square around the outline's box, grown by ``context`` of its larger side on each side."""
    x0, y0 = outline.min(axis=0).astype(np.float64)
    x1, y1 = outline.max(axis=0).astype(np.float64) + 1.0
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * context)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return (cx - side / 2.0, cy - side / 2.0, cx + side / 2.0, cy + side / 2.0)


def prepare_side(image: np.ndarray, region: SideRegion | None, settings: RegionSettings | None,
                 size: int, *, outline: np.ndarray | None = None,
                 window: tuple[float, float, float, float] | None = None,
                 transform: Transform | None = None) -> SideView:
    """The network's view of one side (see the module docstring).

    ``outline`` skips finding it (training computes it once per photo); ``window`` overrides the
    square window (training's crop jitter); ``transform`` edits the crop and masks before the
    outside is blanked (training's backdrop randomisation and augmentation).
    """
    location = None
    if outline is None:
        outline, location = side_outline(image, region, settings)
    if outline is None:
        pixels = resize_square(image, size)
        h, w = image.shape[:2]
        if location is not None:  # auto mode, no can: judge the whole photo, and say so
            return SideView(pixels, (0.0, 0.0, float(w), float(h)), None, False,
                            f"{location.reason} (judged the whole photo)")
        return SideView(pixels, (0.0, 0.0, float(w), float(h)), None)
    settings = settings or RegionSettings()
    window = window or square_window(outline, settings.context)
    crop = crop_window(image, window, size)
    fixed = region is not None and region.mode == "fixed"
    can_mask, region_mask = window_masks(outline, window, size, settings.margin, fixed)
    if transform is not None:
        crop, can_mask, region_mask = transform(crop, can_mask, region_mask)
    pixels = blank_outside(crop, region_mask, settings.outside)
    return SideView(pixels, window, region_outline(region_mask, window), True, "", can_mask, region_mask)


def window_masks(outline: np.ndarray, window: tuple[float, float, float, float], size: int,
                 margin: float, fixed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The outline and the judged region (``margin`` of the can's size grown, or taken in when
    negative; a ``fixed`` region is never taken in) in the ``size x size`` frame of ``window``,
    uint8 0/1."""
    scale = size / (window[2] - window[0])
    can_mask = np.zeros((size, size), np.uint8)
    pts = (outline.astype(np.float64) + 0.5 - np.array(window[:2])) * scale - 0.5
    cv2.fillPoly(can_mask, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], 1)
    extent = np.ptp(outline, axis=0).max() + 1.0
    grow = int(round(margin * extent * scale))
    if grow < 0 and fixed:
        grow = 0    # taken in: the located can's last pixels; an admin's drawn shape is judged as drawn
    return can_mask, grow_mask(can_mask, grow)


def grow_mask(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` (uint8 0/1) grown by a disc of ``radius`` pixels, or taken in by ``-radius``
    pixels when it is negative (a distance transform: the cost does not depend on the radius)."""
    if radius < 0:
        inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
        return (inside > -radius).astype(np.uint8)
    if radius == 0:
        return mask.copy()
    dist = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, 5)
    return (dist <= radius).astype(np.uint8)


def crop_window(image: np.ndarray, window: tuple[float, float, float, float], size: int) -> np.ndarray:
    """``size x size`` pixels of the photo's ``window`` (edges replicated past the photo).

    Only the part of the window past the photo's edge is padded (not the whole photo): each
    pixel there takes the nearest edge pixel's value either way."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in window)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty window {window} for a {w}x{h} image")
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:    # the window misses the photo: its nearest edge, replicated
        pad = max(0, -x0, -y0, x1 - w, y1 - h)
        src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        return resize_square(np.ascontiguousarray(src[y0 + pad:y1 + pad, x0 + pad:x1 + pad]), size)
    patch = image[cy0:cy1, cx0:cx1]
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
        patch = cv2.copyMakeBorder(patch, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1, cv2.BORDER_REPLICATE)
    return resize_square(patch, size)


def blank_outside(crop: np.ndarray, region_mask: np.ndarray, outside: str) -> np.ndarray:
    """``crop`` inside the region (``region_mask`` non-zero), flat grey or blurred outside it."""
    if outside == "blur":
        sigma = max(2.0, crop.shape[0] / 16.0)
        other = cv2.GaussianBlur(crop, (0, 0), sigma)
    else:
        other = np.full_like(crop, FILL_VALUE)
    keep = region_mask if region_mask.dtype == np.uint8 else region_mask.astype(bool).view(np.uint8)
    cv2.copyTo(crop, keep, other)     # (OpenCV, without the GIL; what np.where(keep, crop, other) gives)
    return other


def region_outline(region_mask: np.ndarray, window: tuple[float, float, float, float]) -> np.ndarray:
    """The judged region's outline in image pixels (from its mask in the crop's frame)."""
    contours, _ = cv2.findContours(region_mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros((0, 2), np.int32)
    points = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    scale = (window[2] - window[0]) / region_mask.shape[1]
    return np.round((points + 0.5) * scale - 0.5 + np.array(window[:2])).astype(np.int32)


def heatmap_in_image(small: np.ndarray, view: SideView, width: int, height: int,
                     ceiling: float | None = None, floor: float | None = None) -> np.ndarray:
    """A network map placed at its window in a ``height x width`` photo, zero outside the region.

    Linear interpolation between map cells (cell centres mapped to the window's pixel centres,
    as ``cv2.resize`` does); float32, clipped to ``[floor, ceiling]`` (either may be None).
    Only the judged region's bounding box is warped, clipped and masked (the rest is zero): the
    same values as warping the whole photo (``tests/core/test_heatmap_box.py``), see ``_warp``.
    """
    small = np.asarray(small, np.float32)
    sh, sw = small.shape
    x0, y0, x1, y1 = view.window
    sx, sy = sw / (x1 - x0), sh / (y1 - y0)
    # Inverse map: image pixel centre -> map coordinates.
    inverse = np.array([[sx, 0.0, (0.5 - x0) * sx - 0.5], [0.0, sy, (0.5 - y0) * sy - 0.5]])
    if view.region is None:
        heat = _warp(small, inverse, width, height)
        if ceiling is not None or floor is not None:
            np.clip(heat, floor, ceiling, out=heat)
        return heat
    region = np.asarray(view.region).reshape(-1, 2)
    heat = np.zeros((height, width), np.float32)
    if len(region) == 0:
        return heat
    bx0, by0 = max(0, int(region[:, 0].min())), max(0, int(region[:, 1].min()))
    bx1, by1 = min(width, int(region[:, 0].max()) + 1), min(height, int(region[:, 1].max()) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return heat
    box = _warp(small, inverse, bx1, by1, width)[by0:, bx0:bx1]
    if ceiling is not None or floor is not None:
        np.clip(box, floor, ceiling, out=box)
    inside = np.zeros(box.shape, np.uint8)
    cv2.fillPoly(inside, [region.astype(np.int32).reshape(-1, 1, 2)], 1, offset=(-bx0, -by0))
    np.multiply(box, inside, out=heat[by0:by1, bx0:bx1])
    return heat


# OpenCV's warpAffine (linear, float32) computes each output pixel from its own (x, y) and the
# matrix alone in its vector loop; only the last columns of a row (the tail after the last full
# vector step) go through a scalar loop that rounds differently. So an output that keeps the
# photo's origin and is cut at (cols, rows) holds the same values as the whole photo's, provided
# the columns kept stay in the vector loop: the warp runs ``_WARP_SLACK`` columns further (more than
# any unroll: 2 x 16 float lanes with AVX-512), or to the photo's edge, where the tails coincide.
_WARP_SLACK = 64


def _warp(small: np.ndarray, inverse: np.ndarray, cols: int, rows: int,
          width: int | None = None) -> np.ndarray:
    """The photo's first ``rows`` rows and (at least) ``cols`` columns of the placed map."""
    width = cols if width is None else width
    cols = width if cols + _WARP_SLACK >= width else cols + _WARP_SLACK
    return cv2.warpAffine(small, inverse, (cols, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
