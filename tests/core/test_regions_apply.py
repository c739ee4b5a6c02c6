"""Applying a side's region: the recipe's modes, blanking, mapping heat back, the model's record."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from common.regions import SideRegion
from core.images import resize_square
from core.regions.apply import FILL_VALUE, heatmap_in_image, prepare_side
from core.regions.settings import RegionSettings
from tests.core.regions_helpers import can_photo, mask_box

SIZE = 96


def inside(outline: np.ndarray, shape) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [outline.reshape(-1, 1, 2)], 1)
    return mask.astype(bool)


def test_whole_photo_is_the_resized_photo_as_before_regions():
    image, _ = can_photo(0)
    for region, settings in ((SideRegion("whole"), RegionSettings()), (None, None)):
        view = prepare_side(image, region, settings, SIZE)
        assert view.region is None and view.found and not view.reason
        assert np.array_equal(view.pixels, resize_square(image, SIZE))
        assert view.window == (0.0, 0.0, 320.0, 320.0)


def test_auto_region_crops_to_the_can_and_blanks_the_rest():
    image, mask = can_photo(1)
    view = prepare_side(image, None, RegionSettings(), SIZE)
    assert view.found and view.pixels.shape == (SIZE, SIZE, 3)
    judged = inside(view.region, image.shape)
    assert judged[mask.astype(bool)].mean() > 0.9          # the can is judged...
    assert judged.mean() < 0.5                              # ...not the photo
    outside = view.region_mask == 0
    assert outside.any() and np.all(view.pixels[outside] == FILL_VALUE)
    # The window is square and holds the whole can.
    x0, y0, x1, y1 = view.window
    assert abs((x1 - x0) - (y1 - y0)) < 1e-6
    cx0, cy0, cx1, cy1 = mask_box(mask)
    assert x0 <= cx0 and y0 <= cy0 and x1 >= cx1 and y1 >= cy1


def test_blur_outside_keeps_no_sharp_backdrop():
    image, _ = can_photo(2, cluttered=True)
    view = prepare_side(image, None, RegionSettings(outside="blur"), SIZE)
    outside = view.region_mask == 0
    assert not np.all(view.pixels[outside] == FILL_VALUE)
    assert np.array_equal(view.pixels[~outside], prepare_side(image, None, RegionSettings(), SIZE).pixels[~outside])


@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_fixed_region_is_the_drawn_shape_grown_by_the_margin(shape):
    image, _ = can_photo(0)
    box = (0.25, 0.2, 0.75, 0.9)
    view = prepare_side(image, SideRegion("fixed", shape, box), RegionSettings(margin=0.0), SIZE)
    judged = inside(view.region, image.shape)
    x0, y0, x1, y1 = (int(v * 320) for v in box)
    drawn = np.zeros((320, 320), bool)
    if shape == "rect":
        drawn[y0:y1, x0:x1] = True
    else:
        cv2.ellipse(drawn.view(np.uint8), ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2),
                    0, 0, 360, 1, -1)
    agreement = (judged & drawn).sum() / (judged | drawn).sum()
    assert agreement > 0.9
    grown = prepare_side(image, SideRegion("fixed", shape, box), RegionSettings(margin=0.1), SIZE)
    assert inside(grown.region, image.shape).sum() > judged.sum()


def test_no_can_found_judges_the_whole_photo_and_says_so():
    blank = np.full((200, 300, 3), 90, np.uint8)
    view = prepare_side(blank, None, RegionSettings(), SIZE)
    assert not view.found and view.region is None
    assert view.reason.startswith("no can found") and "whole photo" in view.reason
    assert np.array_equal(view.pixels, resize_square(blank, SIZE))
    # A fixed or whole region never needs the locator.
    assert prepare_side(blank, SideRegion("whole"), RegionSettings(), SIZE).found


def test_heat_goes_back_to_its_window_and_is_zero_outside_the_region():
    image, _ = can_photo(1)
    view = prepare_side(image, None, RegionSettings(), SIZE)
    small = np.zeros((6, 6), np.float32)
    small[1, 4] = 1.0                                       # one hot cell, upper right of the window
    heat = heatmap_in_image(small, view, 320, 320)
    assert heat.shape == (320, 320)
    judged = inside(view.region, image.shape)
    assert np.all(heat[~judged] == 0.0)
    x0, y0, x1, _ = view.window
    cell = (x1 - x0) / 6
    peak_y, peak_x = np.unravel_index(np.argmax(np.where(judged, heat, -1)), heat.shape)
    assert abs(peak_x - (x0 + 4.5 * cell)) <= cell and abs(peak_y - (y0 + 1.5 * cell)) <= cell
    # A whole-photo view maps like a plain resize.
    whole = prepare_side(image, SideRegion("whole"), None, SIZE)
    ramp = np.arange(36, dtype=np.float32).reshape(6, 6)
    np.testing.assert_allclose(heatmap_in_image(ramp, whole, 320, 320),
                               cv2.resize(ramp, (320, 320), interpolation=cv2.INTER_LINEAR), atol=1e-4)


def test_settings_round_trip_and_refusals():
    settings = RegionSettings(margin=0.1, context=0.2, outside="blur")
    assert RegionSettings.from_dict(settings.to_dict()) == settings
    assert RegionSettings.from_dict({}) is None and RegionSettings.from_dict(None) is None
    assert RegionSettings.from_dict({"margin": -0.02}).margin == -0.02
    # The locator's third reading is recorded; a model from before the key has it off.
    tall = RegionSettings(margin=-0.02, tall_reading=True)
    assert RegionSettings.from_dict(tall.to_dict()) == tall and tall.to_dict()["tall_reading"] is True
    assert RegionSettings.from_dict({"margin": -0.02}).tall_reading is False
    for bad in ({"outside": "paint"}, {"default": "fixed"}, {"margin": 2}, {"colour": 1},
                {"version": 99}, {"margin": "wide"}, {"margin": -0.2}, {"tall_reading": "yes"},
                {"tall_reading": 1}):
        with pytest.raises(ValueError):
            RegionSettings.from_dict(bad)


def test_a_negative_margin_keeps_the_cans_last_pixels_out():
    """Taken inside the outline, the judged region does not show the can's edge, where the
    backdrop check's soft seam mixes the new backdrop in: with the same outline, a repaint outside
    it leaves the network's input byte for byte as it was."""
    image, _ = can_photo(1, size=640)
    view = prepare_side(image, None, RegionSettings(), SIZE)
    outline = inside(view.region, image.shape).astype(np.uint8)
    alpha = cv2.GaussianBlur(outline.astype(np.float32), (0, 0), 1.0)[..., None]
    repaint = (image * alpha + np.array([235, 140, 30]) * (1.0 - alpha) + 0.5).astype(np.uint8)
    for margin, same in ((0.0, False), (-0.02, True)):
        settings = RegionSettings(margin=margin)
        a = prepare_side(image, None, settings, SIZE, outline=view.region)
        b = prepare_side(repaint, None, settings, SIZE, outline=view.region)
        assert np.array_equal(a.pixels, b.pixels) == same, margin
        if margin < 0:
            assert a.region_mask.sum() < view.region_mask.sum()
            assert np.all(a.region_mask <= view.region_mask)
    # An admin's drawn region is judged as drawn.
    fixed = SideRegion("fixed", "rect", (0.3, 0.2, 0.7, 0.8))
    assert np.array_equal(prepare_side(image, fixed, RegionSettings(margin=-0.02), SIZE).region_mask,
                          prepare_side(image, fixed, RegionSettings(), SIZE).region_mask)
