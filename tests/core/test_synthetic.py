"""Synthetic defects (core.images.synthetic) on drawn cans: inside the judged region, visible,
the same for the same seed."""
from __future__ import annotations

import numpy as np
import pytest

from core.images.synthetic import KINDS, paint_defect
from core.regions.apply import prepare_side
from core.regions.settings import RegionSettings
from tests.core.regions_helpers import can_photo


def _view(seed: int):
    photo, _ = can_photo(seed, size=320, cluttered=bool(seed % 2))
    view = prepare_side(photo, None, RegionSettings(), 192)
    assert view.found and view.region_mask is not None
    return view


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_defect_lies_inside_the_region_and_shows(kind, seed):
    view = _view(seed)
    region = view.region_mask.astype(bool)
    image, mask = paint_defect(view.pixels, view.region_mask, np.random.default_rng(seed), kind)
    assert image.shape == view.pixels.shape and image.dtype == np.uint8
    changed = (image != view.pixels).any(axis=2)
    assert not changed[~region].any()                          # never outside the judged region
    assert np.array_equal(changed, mask.astype(bool))          # the mask says where
    diff = np.abs(image.astype(int) - view.pixels.astype(int)).max(axis=2)
    assert (diff >= 20).sum() >= 0.003 * region.sum()          # a visible change, not noise
    assert mask.sum() < 0.9 * region.sum()                     # a local defect, not a new can


@pytest.mark.parametrize("kind", [None, *KINDS])
def test_the_same_seed_paints_the_same_defect(kind):
    view = _view(4)
    a = paint_defect(view.pixels, view.region_mask, np.random.default_rng(7), kind)
    b = paint_defect(view.pixels, view.region_mask, np.random.default_rng(7), kind)
    c = paint_defect(view.pixels, view.region_mask, np.random.default_rng(8), kind)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_every_kind_is_drawn_and_the_input_is_left_alone():
    view = _view(5)
    before = view.pixels.copy()
    rng = np.random.default_rng(0)
    for _ in range(12):
        paint_defect(view.pixels, view.region_mask, rng)
    assert np.array_equal(view.pixels, before)


def test_a_region_too_small_or_a_wrong_kind():
    view = _view(6)
    tiny = np.zeros(view.region_mask.shape, np.uint8)
    tiny[10:13, 10:13] = 1
    image, mask = paint_defect(view.pixels, tiny, np.random.default_rng(0), "rust")
    assert np.array_equal(image, view.pixels) and not mask.any()
    with pytest.raises(ValueError, match="unknown synthetic defect"):
        paint_defect(view.pixels, view.region_mask, np.random.default_rng(0), "scratch")
    with pytest.raises(ValueError, match="does not match"):
        paint_defect(view.pixels, view.region_mask[:50], np.random.default_rng(0), "dent")
