"""The locator's high-pass reading (docs/REGIONS.md, run 14): an outline with no edge along a
stretch loses to one the can's edges support all round; on the backdrop check's noise texture the
reading finds the can the first two readings lose; recorded in the model and read back."""
from __future__ import annotations

import cv2
import numpy as np

from core.evaluation.backdrop import repainted, wall_of
from core.images import load_image
from core.regions.locator import locate_can
from core.regions.refine import edge_support
from core.regions.settings import RegionSettings
from tests.core.regions_helpers import photos


def _drawn_can() -> np.ndarray:
    image = np.full((400, 400, 3), (70, 80, 60), np.uint8)
    cv2.rectangle(image, (150, 100), (249, 299), (190, 190, 200), -1)
    return image


def test_the_cans_own_edge_supports_its_outline_better_than_a_cut_or_a_bulge():
    image = _drawn_can()
    true = np.array([[150, 100], [249, 100], [249, 299], [150, 299]], np.int32)
    cut = np.array([[249, 120], [249, 299], [150, 299], [150, 220]], np.int32)   # a third cut off, across the can
    bulge = np.array([[150, 100], [200, 20], [249, 100], [249, 299], [150, 299]], np.int32)  # into the backdrop
    low, mean = edge_support(image, true)
    assert low > 100 and mean > 100         # the colours differ by ~200 all round
    for wrong in (cut, bulge):
        wrong_low, wrong_mean = edge_support(image, wrong)
        assert wrong_low < 0.5 * low and wrong_mean < 0.85 * mean
    assert edge_support(image, np.array([[5, 5], [6, 5], [6, 6]], np.int32)) == (0.0, 0.0)


def test_without_the_option_nothing_changes_and_a_drawn_can_is_found_either_way():
    image = _drawn_can()
    plain, highpass = locate_can(image), locate_can(image, highpass_reading=True)
    assert plain.found and highpass.found
    assert np.array_equal(plain.outline, locate_can(image, highpass_reading=False).outline)
    assert abs(int(highpass.box[0]) - 150) <= 3 and abs(int(highpass.box[3]) - 300) <= 3


def test_on_the_checks_noise_texture_it_finds_the_can_the_other_readings_lose():
    """IMG_20221108_092514 repainted as the backdrop check repaints it (the check's order and seed):
    on the noise texture the first two readings' outline bulges into a dark blob above the lid (41
    px from the photo's own outline); the high-pass reading's is within 15 px and is kept."""
    from benchmarks.locator_stability import outline_shift

    good = photos("good")
    names = [p.name for p in good]
    target = names.index("IMG_20221108_092514.jpg")
    images = [load_image(p) for p in good]
    walls = [wall_of(image) for image in images]
    rng = np.random.default_rng(0)
    for i in range(target + 1):
        paints = repainted(images[i], i, walls, rng)
    assert paints is not None
    own = locate_can(images[target]).outline
    assert np.array_equal(own, locate_can(images[target], highpass_reading=True).outline)
    texture = paints["texture"]
    assert outline_shift(own, locate_can(texture).outline) > 30
    found = locate_can(texture, highpass_reading=True).outline
    assert outline_shift(own, found) < 15
    # A model that records the reading judges the side inside that outline; one that does not, not.
    from core.regions.apply import side_outline

    assert np.array_equal(side_outline(texture, None, RegionSettings(highpass_reading=True))[0], found)
    assert not np.array_equal(side_outline(texture, None, RegionSettings(highpass_reading=False))[0], found)


def test_a_model_records_the_reading_and_old_models_do_not_have_it():
    from core.detectors.cam.training import region_settings

    settings = RegionSettings(margin=-0.02, highpass_reading=True)
    again = RegionSettings.from_dict(settings.to_dict())
    assert again == settings and again.locator() == {"tall_reading": False, "highpass_reading": True}
    assert RegionSettings.from_dict({"margin": -0.02}).highpass_reading is False
    for bad in ({"highpass_reading": "yes"}, {"highpass_reading": 1}):
        try:
            RegionSettings.from_dict(bad)
        except ValueError as exc:
            assert "highpass_reading" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
    assert region_settings({"highpass_reading": True}).highpass_reading is True
    assert region_settings({}).highpass_reading is RegionSettings().highpass_reading
