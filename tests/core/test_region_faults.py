"""The locator's faults in training (``core.images.augment.bulge_region``, CAM option
``region_faults``): a share of augmented views has a judged region that bulges into the backdrop
(any view) or, on good photos only, loses a corner or a strip; a defective view's region is never
cut (its defect might be cut away while its label says defect)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.detectors import catalogue
from core.images.augment import BULGE, RegionAugmenter, bulge_region
from tests.core.regions_helpers import box_region, can_photo_files, plain_and_changed_views


def test_a_bulge_only_adds_a_convex_wedge_within_its_reach():
    region = box_region((30, 20, 65, 75))
    x, y, w, h = cv2.boundingRect(region)
    side = max(w, h)
    directions = set()
    for seed in range(200):
        out = bulge_region(region, np.random.default_rng(seed))
        assert out.dtype == region.dtype and out.shape == region.shape
        assert not np.any(out < region), "a bulge only adds"
        added = out.astype(bool) & ~region.astype(bool)
        assert added.any(), "every call adds something"
        rows, cols = np.nonzero(added)
        # The wedge reaches no further past the region's box than BULGE's largest share allows
        # (measured from the box's centre, whose furthest point is at most its half-diagonal).
        reach = max(x - cols.min(), cols.max() - (x + w - 1), y - rows.min(), rows.max() - (y + h - 1))
        assert reach <= BULGE[1] * side + np.hypot(w, h) / 2 - min(w, h) / 2 + 2
        # The result is convex: its hull adds nothing but rasterising differences along its edge.
        contours, _ = cv2.findContours(out, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        assert len(contours) == 1
        hull = np.zeros_like(out)
        cv2.fillConvexPoly(hull, cv2.convexHull(contours[0]), 1)
        assert int((hull.astype(bool) & ~out.astype(bool)).sum()) <= cv2.arcLength(contours[0], True) / 2
        cy, cx = rows.mean() - (y + h / 2), cols.mean() - (x + w / 2)
        directions.add((cy > 0, cx > 0))
    assert len(directions) == 4, "bulges go every way"


def test_a_bulge_is_drawn_from_its_generator_alone_and_spares_tiny_regions():
    region = box_region((30, 20, 65, 75))
    assert np.array_equal(bulge_region(region, np.random.default_rng(5)),
                          bulge_region(region, np.random.default_rng(5)))
    empty = np.zeros((32, 32), np.uint8)
    assert np.array_equal(bulge_region(empty, np.random.default_rng(0)), empty)


def _faults(good: bool, seeds: int = 300) -> tuple[int, int]:
    """(views whose region lost pixels, views whose region gained pixels) with fault_p 1."""
    augmenter = RegionAugmenter(backdrop_p=0.0, fault_p=1.0)
    crop = np.full((96, 96, 3), 90, np.uint8)
    can = box_region((30, 20, 65, 75))
    lost = gained = 0
    for seed in range(seeds):
        # The same draws without the fault give the region the fault starts from.
        plain = RegionAugmenter(backdrop_p=0.0).transform(np.random.default_rng(seed), good)(crop, can, can)[2]
        faulty = augmenter.transform(np.random.default_rng(seed), good)(crop, can, can)[2]
        lost += bool(np.any(faulty < plain))
        gained += bool(np.any(faulty > plain))
    return lost, gained


def test_defective_views_are_never_cut_and_good_views_are_cut_or_bulged():
    lost, gained = _faults(good=False)
    assert lost == 0, "a defective view's region is never cut"
    assert gained >= 290
    lost, gained = _faults(good=True)
    assert 100 <= lost <= 200 and 100 <= gained <= 200     # half and half of 300
    assert lost + gained >= 290


def test_without_the_option_the_views_are_the_same_as_before():
    """fault_p 0 draws nothing more from the generator: the recipes without it train the same."""
    crop = np.full((96, 96, 3), 90, np.uint8)
    can = box_region((30, 20, 65, 75))
    for seed in range(20):
        for good in (False, True):
            a = RegionAugmenter(backdrop_p=0.0).transform(np.random.default_rng(seed))(crop, can, can)
            b = RegionAugmenter(backdrop_p=0.0, fault_p=0.0).transform(
                np.random.default_rng(seed), good)(crop, can, can)
            assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return can_photo_files(tmp_path_factory.mktemp("drawn"), 3)


def test_training_views_with_faults_keep_the_plain_view_and_show_more_or_less(photos):
    fewer_blank = 0
    for blank_a, blank_b in plain_and_changed_views(photos, good=False, fault_p=1.0):
        assert blank_b <= blank_a, "a defective photo's view only bulges"
        fewer_blank += blank_b < blank_a
    assert fewer_blank >= 0.8 * len(photos) * 6


def test_region_faults_is_a_cam_option():
    option = catalogue.get("cam").option("region_faults")
    assert option.default == 0.0
    assert catalogue.get("cam").converted({"region_faults": "0.5"}) == {"region_faults": 0.5}
