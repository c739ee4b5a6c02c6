"""Region cuts in training (``core.images.augment.cut_region``, CAM option ``region_cuts``): a
share of augmented views loses a corner or a strip of its judged region, as when the locator
misses part of a can; the rest of the view and the plain views stay as they were."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.detectors import catalogue
from core.images.augment import CORNER_CUT, SIDE_CUT, cut_region
from tests.core.regions_helpers import box_region, can_photo_files, plain_and_changed_views


def test_a_cut_takes_a_corner_or_a_strip_and_nothing_else():
    region = box_region((30, 10, 65, 85))
    x, y, w, h = cv2.boundingRect(region)
    side = max(w, h)
    kinds = set()
    for seed in range(200):
        out = cut_region(region, np.random.default_rng(seed))
        assert out.dtype == region.dtype and out.shape == region.shape
        assert not np.any(out > region), "a cut only removes"
        removed = region.astype(bool) & ~out.astype(bool)
        assert removed.any(), "every call cuts something"
        rows, cols = np.nonzero(removed)
        touches = {"top": rows.min() == y, "bottom": rows.max() == y + h - 1,
                   "left": cols.min() == x, "right": cols.max() == x + w - 1}
        full_rows = removed[rows.min():rows.max() + 1, x:x + w].all()
        full_cols = removed[y:y + h, cols.min():cols.max() + 1].all()
        if full_rows or full_cols:             # a strip along one side
            depth = (rows.max() - rows.min() + 1) if full_rows else (cols.max() - cols.min() + 1)
            assert depth <= round(SIDE_CUT[1] * side) + 1
            kinds.add("strip")
        else:                                  # a triangle in one corner of the box
            assert sum(touches.values()) == 2
            assert (touches["top"] != touches["bottom"]) and (touches["left"] != touches["right"])
            legs = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
            assert legs <= CORNER_CUT[1] * side + 2
            assert removed.sum() <= 0.5 * legs * legs + 2 * legs
            kinds.add("corner")
    assert kinds == {"strip", "corner"}


def test_a_cut_is_drawn_from_its_generator_alone():
    region = box_region((30, 10, 65, 85))
    a = cut_region(region, np.random.default_rng(5))
    b = cut_region(region, np.random.default_rng(5))
    assert np.array_equal(a, b)


def test_tiny_or_empty_regions_are_left_alone():
    empty = np.zeros((32, 32), np.uint8)
    assert np.array_equal(cut_region(empty, np.random.default_rng(0)), empty)
    dot = empty.copy()
    dot[10:12, 10:12] = 1
    assert np.array_equal(cut_region(dot, np.random.default_rng(0)), dot)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return can_photo_files(tmp_path_factory.mktemp("drawn"), 3)


def test_training_views_with_cuts_blank_more_and_keep_the_plain_view(photos):
    more = sum(blank_b > blank_a for blank_a, blank_b in plain_and_changed_views(photos, cut_p=1.0))
    assert more >= 0.8 * len(photos) * 6


def test_region_cuts_is_a_cam_option():
    option = catalogue.get("cam").option("region_cuts")
    assert option.default == 0.0
    assert catalogue.get("cam").converted({"region_cuts": "0.5"}) == {"region_cuts": 0.5}
