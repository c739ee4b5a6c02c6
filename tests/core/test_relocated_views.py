"""Relocated training views (CAM option ``relocated``): the photo repainted outside its can with a
random backdrop, the can found again on it by the locator, and augmented views cut from that."""
from __future__ import annotations

import cv2
import numpy as np

from core.detectors import catalogue
from core.regions.locator import locate_can
from core.regions.settings import RegionSettings
from core.regions.views import TrainingViews, relocated, repaint
from tests.core.regions_helpers import can_photo, can_photo_files, iou, mask_box

SETTINGS = RegionSettings(margin=-0.02)


def _outline_mask(shape, outline: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [outline.reshape(-1, 1, 2)], 1)
    return mask


def test_a_repaint_keeps_the_can_and_changes_what_lies_outside_it():
    for seed in range(6):
        photo, _ = can_photo(seed, size=240, cluttered=bool(seed % 2))
        outline = locate_can(photo).outline
        assert outline is not None
        inside = _outline_mask(photo.shape, outline)
        core = cv2.erode(inside, np.ones((7, 7), np.uint8)).astype(bool)        # away from the seam
        outside = ~cv2.dilate(inside, np.ones((7, 7), np.uint8)).astype(bool)
        a = repaint(photo, outline, np.random.default_rng(seed))
        b = repaint(photo, outline, np.random.default_rng(seed + 100))
        assert a.shape == photo.shape and a.dtype == np.uint8
        assert np.array_equal(a[core], photo[core]) and np.array_equal(b[core], photo[core])
        assert not np.array_equal(a[outside], b[outside]), "each draw paints another backdrop"
        assert np.array_equal(a, repaint(photo, outline, np.random.default_rng(seed))), "drawn from rng alone"


def test_the_locator_finds_the_drawn_can_again_on_its_repaints_and_sometimes_moves():
    moves = 0
    for seed in (0, 2, 4):                                   # a can on a plain backdrop
        photo, mask = can_photo(seed, size=240)
        outline = locate_can(photo).outline
        assert iou(locate_can(photo).box, mask_box(mask)) > 0.9
        found = []
        for draw in range(8):
            again = locate_can(repaint(photo, outline, np.random.default_rng([seed, draw])))
            assert again.found
            found.append(iou(again.box, mask_box(mask)))
        assert sum(v > 0.8 for v in found) >= 6, found
        moves += sum(v < 0.9 for v in found)
    assert moves, "in front of some backdrops the locator moves: what relocated views show training"


def test_a_relocated_source_is_cut_around_the_outline_found_on_the_repaint():
    photo, _ = can_photo(2, size=240)
    outline = locate_can(photo).outline
    rng = np.random.default_rng(7)
    source = relocated(photo, outline, SETTINGS, 96, rng)
    assert source is not None
    small, moved, window = source
    # In the reduced copy's pixels: the window is the outline's square window, inside the copy
    # (grown by the largest jitter) and no larger than twice the input across.
    x0, y0, x1, y1 = window
    assert abs((x1 - x0) - (y1 - y0)) < 1e-6 and x1 - x0 <= 2 * 96 + 1
    assert moved.dtype == np.int32 and moved.shape[1] == 2
    assert x0 <= moved[:, 0].min() and moved[:, 0].max() < x1 and y0 <= moved[:, 1].min() and moved[:, 1].max() < y1
    assert 0 <= moved.min() and moved[:, 0].max() < small.shape[1] and moved[:, 1].max() < small.shape[0]


def test_no_share_changes_nothing_and_a_share_of_one_uses_the_relocated_cans(tmp_path):
    photos = can_photo_files(tmp_path, 4)
    plain = TrainingViews(photos, SETTINGS, 96, backdrops=False)
    none = TrainingViews(photos, SETTINGS, 96, backdrops=False, relocate_p=0.0,
                         relocate_rng=np.random.default_rng(4))
    every = TrainingViews(photos, SETTINGS, 96, backdrops=False, relocate_p=1.0,
                          relocate_rng=np.random.default_rng(4))
    assert every.relocated_found == len(photos) and none.relocated_found == 0
    differ = 0
    for i in range(len(photos)):
        assert np.array_equal(plain.plain[i], every.plain[i]), "inspection's view never changes"
        for seed in range(4):
            a = plain.augmented(i, np.random.default_rng(seed))
            assert np.array_equal(a, none.augmented(i, np.random.default_rng(seed)))
            differ += not np.array_equal(a, every.augmented(i, np.random.default_rng(seed)))
    assert differ == 4 * len(photos)


def test_the_catalogue_offers_the_share_off_by_default():
    option = catalogue.get("cam").option("relocated")
    assert option.default == 0.0 and option.minimum == 0.0 and option.maximum == 1.0
