"""Augmentation that suits photographed cans, and backdrop randomisation for region training.

``augment`` (whole photos, models trained without regions): flips, small rotations and zoom,
brightness, contrast. A dent or rust spot stays a defect under all of these, and they mimic what
changes between real shots (the can's orientation, the lighting). Nothing here moves colour hue:
rust is told apart by its colour.

``RegionAugmenter`` (models trained on inspection regions) makes a training view of a side from
its photo and can outline, through the same ``core.regions.apply.prepare_side`` that inspection
uses: the window around the can is jittered (position and scale), the can is pasted onto another
backdrop (flat colours, gradients, noise textures, or a patch of another training photo: the
backdrop of another session), flipped and slightly rotated, its brightness, contrast and white
balance moved a little, and the judged region's margin grown or shrunk by a few pixels; optionally
(``cut_p``) the judged region loses a corner or a strip along one side, as it does when the
locator, in front of a busy backdrop, misses part of the can (``cut_region``), or (``fault_p``)
it has one of the locator's two faults in front of a busy backdrop: a bulge into the backdrop
(``bulge_region``, any view: it never hides a defect) or, on good views only, a cut (a cut may
remove a defective view's defect, and its label would then teach that a cut is a defect); only
then is the outside blanked. So whatever the margin still shows of the backdrop says nothing about the
label, while the can itself is never recoloured beyond a real lighting change.

Pure numpy/OpenCV on uint8 HxWx3; thread-safe given its own ``rng``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

MAX_ROTATION_DEG = 12.0
ZOOM = (0.92, 1.08)
BRIGHTNESS = 0.12   # +- fraction of full scale
CONTRAST = (0.85, 1.15)
WHITE_BALANCE = 0.05   # +- per-channel gain (a lighting change; hue of rust survives it)
REGION_ROTATION_DEG = 8.0
WINDOW_SCALE = (0.9, 1.12)
WINDOW_SHIFT = 0.06    # +- fraction of the window's side
BACKDROP_P = 0.75      # share of augmented views whose backdrop is replaced
MARGIN_JITTER = 0.02   # +- fraction of the view's side by which the judged region grows
CORNER_CUT = (0.05, 0.3)   # a cut corner's legs, as a share of the region's larger side
SIDE_CUT = (0.02, 0.1)     # a cut strip's depth, same share
BULGE = (0.05, 0.3)        # how far a bulge reaches past the region, same share


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly transformed copy of ``img`` (same size and dtype)."""
    out = img
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if rng.random() < 0.5:
        out = out[::-1]
    h, w = out.shape[:2]
    angle = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    zoom = float(rng.uniform(*ZOOM))
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, zoom)
    # Reflect the border: a constant border would be a tell-tale edge the model could learn.
    out = cv2.warpAffine(np.ascontiguousarray(out), matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
    return photometric(out, rng, white_balance=0.0)


def photometric(img: np.ndarray, rng: np.random.Generator, white_balance: float = WHITE_BALANCE) -> np.ndarray:
    """Brightness, contrast and (optionally) a small white-balance change."""
    contrast = float(rng.uniform(*CONTRAST))
    brightness = float(rng.uniform(-BRIGHTNESS, BRIGHTNESS)) * 255.0
    out = img.astype(np.float32)
    if white_balance:
        out *= rng.uniform(1.0 - white_balance, 1.0 + white_balance, 3).astype(np.float32)
    mean = float(out.mean())
    out = (out - mean) * contrast + mean + brightness
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def random_backdrop(size: int, rng: np.random.Generator,
                    photos: Sequence[np.ndarray] = ()) -> np.ndarray:
    """A ``size x size`` backdrop: a flat colour, a gradient, a noise texture or a photo patch."""
    kinds = 4 if len(photos) else 3
    kind = int(rng.integers(kinds))
    if kind == 0:
        out = np.empty((size, size, 3), np.float32)
        out[:] = rng.uniform(0, 255, 3)
    elif kind == 1:
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(1, size - 1)
        t = np.clip(0.5 + (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle), 0, 1)[..., None]
        out = a * (1 - t) + b * t
    elif kind == 2:
        cells = int(rng.integers(3, 24))
        coarse = rng.normal(0, 1, (cells, cells, 3)).astype(np.float32)
        out = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)  # type: ignore[assignment]  # cv2 stubs
        out = rng.uniform(40, 200, 3) + out * rng.uniform(10, 60)
        out += rng.normal(0, rng.uniform(0, 12), (size, size, 3))
    else:
        photo = photos[int(rng.integers(len(photos)))]
        h, w = photo.shape[:2]
        side = int(min(h, w) * rng.uniform(0.25, 0.8))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out = cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)  # type: ignore[assignment]  # cv2 stubs
        if rng.random() < 0.5:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)
    return np.clip(out, 0, 255).astype(np.uint8)


def paste(crop: np.ndarray, can_mask: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The can of ``crop`` on ``backdrop``, with a soft one-pixel seam (a hard seam would be a cue
    that real photos never show)."""
    alpha = cv2.GaussianBlur(can_mask.astype(np.float32), (0, 0), 1.0)[..., None]
    return (crop * alpha + backdrop * (1.0 - alpha) + 0.5).astype(np.uint8)


class RegionAugmenter:
    """Training views of sides seen through their region (see the module docstring)."""

    def __init__(self, photos: Sequence[np.ndarray] = (), backdrop_p: float = BACKDROP_P,
                 cut_p: float = 0.0, fault_p: float = 0.0) -> None:
        self.photos = photos          # other training photos: their backdrops are pasted behind cans
        self.backdrop_p = backdrop_p
        self.cut_p = cut_p            # share of views whose judged region loses a corner or a strip
        self.fault_p = fault_p        # share of views with a bulge, or (good views) a bulge or a cut

    def window(self, window: tuple[float, float, float, float],
               rng: np.random.Generator) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = window
        side = (x1 - x0) * float(rng.uniform(*WINDOW_SCALE))
        cx = (x0 + x1) / 2 + float(rng.uniform(-WINDOW_SHIFT, WINDOW_SHIFT)) * (x1 - x0)
        cy = (y0 + y1) / 2 + float(rng.uniform(-WINDOW_SHIFT, WINDOW_SHIFT)) * (y1 - y0)
        return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)

    def transform(self, rng: np.random.Generator, good: bool = False) -> Callable[
            [np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """A ``prepare_side`` transform hook drawing its randomness from ``rng``; ``good``: the
        view is of a good photo (only then may ``fault_p`` cut its region)."""
        def apply(crop: np.ndarray, can: np.ndarray,
                  region: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            size = crop.shape[0]
            if rng.random() < self.backdrop_p:
                crop = paste(crop, can, random_backdrop(size, rng, self.photos))
            if rng.random() < 0.5:
                crop, can, region = crop[:, ::-1], can[:, ::-1], region[:, ::-1]
            angle = float(rng.uniform(-REGION_ROTATION_DEG, REGION_ROTATION_DEG))
            m = cv2.getRotationMatrix2D((size / 2.0, size / 2.0), angle, 1.0)
            crop = cv2.warpAffine(np.ascontiguousarray(crop), m, (size, size), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REFLECT_101)
            can = cv2.warpAffine(np.ascontiguousarray(can), m, (size, size), flags=cv2.INTER_NEAREST)
            region = cv2.warpAffine(np.ascontiguousarray(region), m, (size, size), flags=cv2.INTER_NEAREST)
            grow = int(round(float(rng.uniform(-MARGIN_JITTER, MARGIN_JITTER)) * size))
            if grow:
                kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(grow) + 1,) * 2)
                region = (cv2.dilate if grow > 0 else cv2.erode)(region, kernel)
                region = np.maximum(region, cv2.erode(can, np.ones((3, 3), np.uint8)))
            if self.cut_p and rng.random() < self.cut_p:
                region = cut_region(region, rng)
            if self.fault_p and rng.random() < self.fault_p:
                cut = good and rng.random() < 0.5
                region = cut_region(region, rng) if cut else bulge_region(region, rng)
            return photometric(crop, rng), can, region
        return apply


def cut_region(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``region`` (uint8 0/1) without one of its box's corners (a triangle whose legs are
    ``CORNER_CUT`` of its larger side; 60 % of cuts) or a strip along one side (``SIDE_CUT``).

    What the locator does to a can in front of a busy backdrop or with a dark rim in shadow:
    the convex outline cuts a corner diagonally or the bottom edge moves up. Training on such
    regions, good and defective views alike (so a cut says nothing about the label), keeps the
    verdict from depending on which corner the locator kept. A cut never empties the region."""
    x, y, w, h = cv2.boundingRect(region)
    if w < 4 or h < 4:
        return region
    side = max(w, h)
    out = region.copy()
    if rng.random() < 0.6:
        right, bottom = bool(rng.integers(2)), bool(rng.integers(2))
        cx, cy = (x + w if right else x), (y + h if bottom else y)
        a, b = (float(rng.uniform(*CORNER_CUT)) * side for _ in range(2))
        sx, sy = (-1 if right else 1), (-1 if bottom else 1)
        triangle = np.round([[cx, cy], [cx + sx * a, cy], [cx, cy + sy * b]]).astype(np.int32)
        cv2.fillPoly(out, [triangle.reshape(-1, 1, 2)], 0)
    else:
        depth = max(1, int(round(float(rng.uniform(*SIDE_CUT)) * side)))
        which = int(rng.integers(4))
        if which == 0:
            out[y:y + depth] = 0
        elif which == 1:
            out[y + h - depth:y + h] = 0
        elif which == 2:
            out[:, x:x + depth] = 0
        else:
            out[:, x + w - depth:x + w] = 0
    return out if out.any() else region


def bulge_region(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``region`` (uint8 0/1) grown into a bulge: its convex hull with one more point, ``BULGE``
    of its larger side beyond its furthest point in a random direction (inside the view).

    What the locator does in front of a busy backdrop: a piece of the backdrop's edges joins the
    can, and the convex outline reaches out to it, so the judged region shows a wedge of backdrop.
    Never removes anything, so it is safe for defective views too."""
    points = cv2.findNonZero(region)
    if points is None or len(points) < 3:
        return region
    pts = points.reshape(-1, 2).astype(np.float64)
    x, y, w, h = cv2.boundingRect(points)
    centre = np.array([x + w / 2.0, y + h / 2.0])
    angle = float(rng.uniform(0.0, 2.0 * np.pi))
    direction = np.array([np.cos(angle), np.sin(angle)])
    reach = float(((pts - centre) @ direction).max()) + float(rng.uniform(*BULGE)) * max(w, h)
    size_h, size_w = region.shape[:2]
    tip = np.clip(centre + direction * reach, 0, [size_w - 1, size_h - 1])
    hull = cv2.convexHull(np.vstack([pts, tip[None, :]]).round().astype(np.int32).reshape(-1, 1, 2))
    out = region.copy()
    cv2.fillConvexPoly(out, hull, 1)
    return out
