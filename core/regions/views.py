"""Training views of labelled photos, seen the way inspection will see them.

``TrainingViews`` reads each photo once, finds its region once, and keeps

- the plain view: ``prepare_side``'s pixels, exactly what inspection feeds the network for that
  photo (tested: byte for byte), used for view 0 and for validation / calibration;
- for augmented views, a reduced copy of the photo around its can (at most ``SOURCE_SCALE`` times
  the input size), so a few thousand gallery photos fit in memory; augmented views are made from it
  by ``core.images.augment.RegionAugmenter`` through the same ``prepare_side``;
- small copies of every photo, whose backdrops are pasted behind other photos' cans.
- with ``relocate_p``, a second reduced copy per photo: the photo repainted outside its can with a
  random backdrop and the can found again on it by the locator (``relocated``), so a share of the
  augmented views shows the outline where the locator puts it in front of a new backdrop (it
  moves, and bulges or cuts, as in the backdrop check).

``synthetic`` makes an augmented view with a synthetic defect (``core.images.synthetic``) painted
on the can, inside the judged region, after the augmentation and before the outside is blanked:
training turns a share of the GOOD photos' augmented views into defective ones this way (the CAM
option ``synthetic``); validation and calibration never see them.

Photos without a region (a model trained on whole photos, or no can found) are handled as before
regions existed: the resized photo, and ``core.images.augment.augment`` for augmented views.

Runs on the training thread; not thread-safe (one trainer owns it).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from core.images import load_image, resize_square
from core.images.augment import RegionAugmenter, augment, paste, random_backdrop
from core.images.synthetic import paint_defect
from core.regions.apply import prepare_side, side_outline, square_window
from core.regions.locator import locate_can
from core.regions.settings import RegionSettings

SOURCE_SCALE = 2.0      # augmented views are cut from a copy with at most 2x the input's pixels
BACKDROP_SIDE = 2.0     # backdrop photos are kept at 2x the input size
MAX_WINDOW_GROWTH = 1.35  # the largest jittered window relative to the plain one (scale x shift)


class TrainingViews:
    def __init__(self, sources: Sequence, settings: RegionSettings | None, size: int,
                 backdrops: bool = True, step: Callable[[], None] | None = None,
                 cut_p: float = 0.0, fault_p: float = 0.0, relocate_p: float = 0.0,
                 relocate_rng: np.random.Generator | None = None) -> None:
        """``sources``: paths or encoded bytes; ``step`` is called after each photo (progress);
        ``cut_p``: share of augmented views whose judged region loses a corner or a strip
        (``core.images.augment.cut_region``); ``fault_p``: share of augmented views with one of the
        locator's faults (``RegionAugmenter``: a bulge, or on good photos a bulge or a cut);
        ``relocate_p``: share of augmented views cut from the photo repainted outside its can with
        a random backdrop and the can found again on it by the locator (``relocated``; the
        repaint's backdrop drawn from ``relocate_rng``), so training sees where the locator puts
        the outline in front of a backdrop it has not seen."""
        self.settings, self.size = settings, size
        self.plain: list[np.ndarray] = []
        self._sources: list[tuple[np.ndarray, np.ndarray, tuple] | None] = []
        self._relocated: list[tuple[np.ndarray, np.ndarray, tuple] | None] = []
        self.relocate_p = relocate_p
        relocate_rng = relocate_rng if relocate_rng is not None else np.random.default_rng(0)
        self.relocated_found = 0
        small_photos: list[np.ndarray] = []
        self.found = 0
        for source in sources:
            photo = load_image(source)
            outline = None
            if settings is not None:
                outline, _ = side_outline(photo, None, settings)
            view = prepare_side(photo, None, settings, size, outline=outline) if outline is not None \
                else None
            if view is None or outline is None:
                self.plain.append(resize_square(photo, size))
                self._sources.append(None)
            else:
                self.found += 1
                self.plain.append(view.pixels)
                self._sources.append(_reduced(photo, outline, view.window, size))
            moved = None
            if relocate_p > 0 and outline is not None and view is not None and settings is not None:
                moved = relocated(photo, outline, settings, size, relocate_rng)
                self.relocated_found += moved is not None
            self._relocated.append(moved)
            if backdrops and settings is not None:
                scale = BACKDROP_SIDE * size / max(photo.shape[:2])
                small_photos.append(photo if scale >= 1 else cv2.resize(
                    photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
            if step is not None:
                step()
        self.augmenter = RegionAugmenter(small_photos, backdrop_p=0.75 if backdrops else 0.0, cut_p=cut_p,
                                          fault_p=fault_p)

    def __len__(self) -> int:
        return len(self.plain)

    def augmented(self, i: int, rng: np.random.Generator, good: bool = False) -> np.ndarray:
        """A random training view of photo ``i`` (same size as the plain view); ``good``: photo
        ``i`` is labelled good (see ``RegionAugmenter.transform``)."""
        source = self._sources[i]
        if source is None:
            return augment(self.plain[i], rng)
        moved = self._relocated[i]
        if self.relocate_p > 0 and moved is not None and rng.random() < self.relocate_p:
            source = moved
        photo, outline, window = source
        return prepare_side(photo, None, self.settings, self.size, outline=outline,
                            window=self.augmenter.window(window, rng),
                            transform=self.augmenter.transform(rng, good)).pixels

    def synthetic(self, i: int, rng: np.random.Generator, defect_rng: np.random.Generator
                  ) -> np.ndarray | None:
        """A random training view of photo ``i`` with a synthetic defect on its can (``rng``: the
        augmentation, ``defect_rng``: the defect); None when the photo has no region (whole
        photos: there is no can to paint on)."""
        source = self._sources[i]
        if source is None:
            return None
        photo, outline, window = source
        augment_view = self.augmenter.transform(rng)

        def transform(crop: np.ndarray, can: np.ndarray, region: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            crop, can, region = augment_view(crop, can, region)
            painted, _ = paint_defect(crop, region & can, defect_rng)
            return painted, can, region
        return prepare_side(photo, None, self.settings, self.size, outline=outline,
                            window=self.augmenter.window(window, rng), transform=transform).pixels


def relocated(photo: np.ndarray, outline: np.ndarray, settings: RegionSettings, size: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, tuple] | None:
    """``repaint(photo, outline, rng)`` with the can found again on it by the locator, reduced as
    ``_reduced``; None when no can is found on the repaint."""
    repainted = repaint(photo, outline, rng)
    found = locate_can(repainted, **settings.locator())
    if not found.found or found.outline is None:
        return None
    return _reduced(repainted, found.outline, square_window(found.outline, settings.context), size)


def repaint(photo: np.ndarray, outline: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``photo`` repainted outside its can (``outline``, a one-pixel soft seam, as the backdrop
    check repaints) with a random flat colour, gradient or noise texture
    (``core.images.augment.random_backdrop``: other draws and more kinds than the check's)."""
    h, w = photo.shape[:2]
    backdrop = random_backdrop(max(h, w), rng)[:h, :w]
    can = np.zeros((h, w), np.uint8)
    cv2.fillPoly(can, [outline.reshape(-1, 1, 2)], 1)
    return paste(photo, can, backdrop)


def _reduced(photo: np.ndarray, outline: np.ndarray, window: tuple, size: int
             ) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The photo cut to the largest jittered window and shrunk to at most SOURCE_SCALE x size
    pixels across the plain window; the outline and window in its coordinates."""
    x0, y0, x1, y1 = window
    side = x1 - x0
    grow = side * (MAX_WINDOW_GROWTH - 1.0) / 2.0
    h, w = photo.shape[:2]
    cx0, cy0 = max(0, int(x0 - grow)), max(0, int(y0 - grow))
    cx1, cy1 = min(w, int(np.ceil(x1 + grow))), min(h, int(np.ceil(y1 + grow)))
    cut = photo[cy0:cy1, cx0:cx1]
    scale = min(1.0, SOURCE_SCALE * size / side)
    if scale < 1.0:
        cut = cv2.resize(cut, (max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA)
    fx, fy = cut.shape[1] / (cx1 - cx0), cut.shape[0] / (cy1 - cy0)
    pts = (outline.astype(np.float64) + 0.5 - (cx0, cy0)) * (fx, fy) - 0.5
    moved = ((x0 - cx0) * fx, (y0 - cy0) * fy, (x1 - cx0) * fx, (y1 - cy0) * fy)
    return np.ascontiguousarray(cut), np.round(pts).astype(np.int32), moved

