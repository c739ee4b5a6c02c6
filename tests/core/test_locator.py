"""The can locator on photos the tests draw: a ribbed can on a plain and on a cluttered backdrop,
and photos with no can at all."""
from __future__ import annotations

import numpy as np
import pytest

from core.regions.locator import locate_can
from tests.core.regions_helpers import can_photo, iou, mask_box, tall_can_photo


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("box", [(0.38, 0.3, 0.62, 0.78), (0.45, 0.4, 0.55, 0.6), (0.2, 0.1, 0.8, 0.95)],
                         ids=["medium", "small", "large"])
def test_finds_a_can_on_a_plain_backdrop(seed, box):
    image, mask = can_photo(seed, box=box)
    found = locate_can(image)
    assert found.found, found.reason
    # A small can standing across the wall's foot may lose its lower rim (seed 0: about 70 %).
    assert covered(found.box, mask) >= 0.68
    assert area(found.box) <= 2.0 * area(mask_box(mask))
    assert 0.25 <= found.confidence <= 1.0
    # The outline is a closed polygon in image pixels, inside the photo.
    assert found.outline.ndim == 2 and found.outline.shape[1] == 2 and len(found.outline) >= 3
    assert found.outline.min() >= 0 and found.outline.max() < image.shape[0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_finds_a_can_on_a_cluttered_backdrop_without_the_clutter(seed):
    """A yellow sheet at one edge, a brown box at the other, a cable, texture: the outline covers
    the can and reaches neither the box nor the far side of the sheet."""
    image, mask = can_photo(seed, cluttered=True, box=(0.38, 0.3, 0.62, 0.78))
    found = locate_can(image)
    assert found.found, found.reason
    x0, _, x1, _ = found.box
    size = image.shape[1]
    assert x0 > 0.15 * size, "the outline reaches the box at the left edge"
    assert x1 < 0.9 * size, "the outline reaches across the sheet"
    assert covered(found.box, mask) >= 0.85


def test_large_can_on_a_cluttered_backdrop():
    image, mask = can_photo(3, cluttered=True, box=(0.2, 0.1, 0.8, 0.95))
    found = locate_can(image)
    assert found.found and iou(found.box, mask_box(mask)) >= 0.6


@pytest.mark.parametrize("seed", range(6))
def test_a_tall_can_lit_from_one_side_is_found_whole(seed):
    """A can taller than LINE_FRACTION of the photo whose shadowed half is as dark as the wall: its
    sides are long straight lines, which the first two readings take for backdrop (they found the
    lit half or a rib band: IoU 0.06-0.51 on these seeds); the third reading keeps them. It runs
    for models that record it (``RegionSettings.tall_reading``)."""
    image, mask = tall_can_photo(seed)
    found = locate_can(image, tall_reading=True)
    assert found.found, found.reason
    assert iou(found.box, mask_box(mask)) >= 0.9
    assert covered(found.box, mask) >= 0.95
    without = locate_can(image)          # a model trained without it: the locator as it was
    assert not without.found or iou(without.box, mask_box(mask)) < 0.6


def covered(box, mask) -> float:
    """Share of the can's pixels inside ``box``."""
    x0, y0, x1, y1 = box
    return float(mask[max(0, y0):y1, max(0, x0):x1].sum() / mask.sum())


def area(box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


@pytest.mark.parametrize("kind", ["blank", "dark", "noise", "smooth gradient"])
def test_no_can_is_found_with_a_reason(kind):
    rng = np.random.default_rng(0)
    if kind == "blank":
        image = np.full((240, 320, 3), 128, np.uint8)
    elif kind == "dark":
        image = rng.integers(0, 3, (240, 320, 3)).astype(np.uint8)
    elif kind == "noise":
        image = rng.integers(0, 256, (240, 320, 3)).astype(np.uint8)
    else:
        ramp = np.linspace(40, 200, 320)[None, :, None]
        image = np.broadcast_to(ramp, (240, 320, 3)).astype(np.uint8)
    found = locate_can(image)
    assert not found.found
    assert found.outline is None and found.box is None
    assert found.reason.startswith("no can found")


def test_non_square_photos_and_tiny_ones():
    image, mask = can_photo(1, size=320)
    wide = np.concatenate([image, image[:, :160]], axis=1)      # 480 x 320
    found = locate_can(wide)
    assert found.found and covered(found.box, np.concatenate([mask, 0 * mask[:, :160]], axis=1)) >= 0.8
    small = locate_can(image[::8, ::8])                           # 40 x 40, no resizing needed
    assert small.found, small.reason
    assert covered(small.box, mask[::8, ::8]) >= 0.8
    assert area(small.box) < 0.5 * 40 * 40                       # the can, not the whole photo
