"""The can locator's speed-ups (issue 12) change no output: compared, function by function, with
the locator as it was (``tests/core/locator_reference.py``) on every photo of the cans data set,
on the backdrop check's repaints, and on drawn and degenerate photos.

Compared bit for bit: the three energy maps (values and dtype), the three readings of ``_locate``
(found, reason, confidence, outline, box) and ``locate_can``'s answer.
"""
from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.backdrop import KINDS, repainted, wall_of
from core.images import load_image
from core.regions import locator, morph
from core.regions.locator import CanLocation
from tests.core import locator_reference as reference
from tests.core.regions_helpers import can_photo, photos


def assert_same(new: CanLocation, old: CanLocation, what: str) -> None:
    assert (new.found, new.reason, new.confidence, new.box) == (old.found, old.reason, old.confidence,
                                                                 old.box), what
    assert type(new.confidence) is type(old.confidence), what
    if old.outline is None:
        assert new.outline is None, what
    else:
        assert new.outline is not None and new.outline.dtype == old.outline.dtype, what
        assert np.array_equal(new.outline, old.outline), what


def assert_identical(image: np.ndarray, what: str) -> None:
    """Every stage of the two locators on ``image``."""
    small, scale = locator._small(image)
    old_small, old_scale = reference._small(image)
    assert scale == old_scale and np.array_equal(small, old_small), what
    maps = locator.energy_maps(small)
    old_maps = reference.energy_maps(old_small)
    for new_map, old_map in zip(maps, old_maps):
        assert new_map.dtype == old_map.dtype and new_map.shape == old_map.shape, what
        assert np.array_equal(new_map, old_map), what
    tall, old_tall = locator.tall_energy(small), reference.tall_energy(old_small)
    assert tall.dtype == old_tall.dtype and np.array_equal(tall, old_tall), what
    # the first reading, the second (shorter horizontal lines removed) and the third (only the
    # tallest vertical lines removed)
    for reading, (energy, old_energy) in enumerate(zip((*maps, tall), (*old_maps, old_tall))):
        assert_same(locator._locate(small, scale, image.shape, energy, maps[0]),
                    reference._locate(old_small, old_scale, image.shape, old_energy, old_maps[0]),
                    f"{what}, reading {reading}")
    for tall in (False, True):
        assert_same(locator.locate_can(image, tall), reference.locate_can(image, tall), f"{what}, tall {tall}")


@pytest.mark.slow
def test_every_photo_of_the_cans_data_set():
    paths = photos()
    assert len(paths) == 208
    for path in paths:
        assert_identical(load_image(path), path.name)


@pytest.mark.slow
def test_the_backdrop_checks_repaints():
    good = [load_image(p) for p in photos("good")]
    walls = [wall_of(image) for image in good]
    rng = np.random.default_rng(0)
    checked = 0
    for i in range(0, len(good), 6):     # 10 photos x 10 backdrops
        paints = repainted(good[i], i, walls, rng)
        assert paints is not None and list(paints) == list(KINDS)
        for kind, paint in paints.items():
            assert_identical(paint, f"good photo {i} on {kind}")
            checked += 1
    assert checked == 10 * len(KINDS)


def test_drawn_and_degenerate_photos():
    rng = np.random.default_rng(3)
    cases = {f"drawn can {seed}": can_photo(seed, size=640)[0] for seed in range(4)}
    cases["drawn can, 300 px"] = can_photo(7, size=300)[0]
    cases["blank"] = np.full((480, 640, 3), 120, np.uint8)
    cases["noise"] = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    cases["stripes"] = np.repeat(((np.arange(640) // 20) % 2 * 200).astype(np.uint8)[None, :, None],
                                 480, axis=0).repeat(3, axis=2)
    cases["tall"] = np.ascontiguousarray(can_photo(1, size=640)[0][:, 160:480])
    cases["wide"] = np.ascontiguousarray(can_photo(2, size=640)[0][200:440])
    cases["small, no resizing"] = can_photo(5, size=640)[0][::8, ::8]       # 80 x 80: scale 1
    cases["turned view"] = can_photo(6, size=640)[0].transpose(1, 0, 2)     # not C-contiguous
    for name, image in cases.items():
        assert_identical(image, name)
    assert not locator.locate_can(cases["blank"]).found                      # both ways are seen
    assert locator.locate_can(cases["drawn can 0"]).found


def test_the_energy_maps_are_the_same_on_every_run():
    """cv2.magnitude's last elements depend on its buffers' alignment (see ``_gradient``): the
    maps must not change with where numpy allocates."""
    image = load_image(photos("defect")[0])
    small, _ = locator._small(image)
    first = locator.energy_maps(small)
    for size in range(1, 40):
        padding = [np.empty(size * 4 + 1, np.uint8) for _ in range(3)]   # moves the next allocations
        again = locator.energy_maps(small)
        assert all(np.array_equal(a, b) for a, b in zip(first, again)), size
        del padding


@pytest.mark.parametrize("shape", [(80, 80), (60, 80), (80, 53), (1, 7), (3, 1), (40, 27)])
def test_the_percentile_is_numpys(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for trial in range(200):
        values = (rng.random(shape) * rng.uniform(0.1, 100)).astype(np.float32)
        if trial % 4 == 1:
            values = np.round(values)                   # ties
        elif trial % 4 == 2:
            values[:] = values.flat[0]                  # all equal
        elif trial % 4 == 3:
            values *= rng.random(shape) > 0.9           # mostly zero
        view = np.repeat(np.repeat(values, 2, axis=0), 2, axis=1)[::2, ::2]   # strided, as used
        for q in (99.5, 99, 50, 0, 100, 0.5, 37.3):
            got = morph.percentile(view, q)
            assert type(got) is float and got == float(np.percentile(view, q)), (trial, q)


def test_the_disc_morphology_on_random_masks():
    """The distance transforms on the mask's box (``_grow_disc``/``_shrink_disc``) against the
    whole-mask ones as they were: blobs, specks, masks touching the edges, empty and full masks."""
    rng = np.random.default_rng(8)
    import cv2

    for trial in range(300):
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.5, 6)))
        mask = noise > np.quantile(noise, rng.uniform(0.3, 0.999)) if trial % 10 else \
            np.full((h, w), trial % 20 == 0)
        if trial % 7 == 3:
            mask[:, : w // 3] = False               # only part of the frame
        for r in (0.5, 1, 2.5, float(rng.uniform(0, 12)), 20):
            assert np.array_equal(morph.grow_disc(mask, r), reference._grow_disc(mask, r)), (trial, r)
            for outside_empty in (False, True):
                assert np.array_equal(morph.shrink_disc(mask, r, outside_empty),
                                      reference._shrink_disc(mask, r, outside_empty)), (trial, r)
            assert np.array_equal(morph.close_disc(mask, r), reference._close_disc(mask, r)), (trial, r)
            assert np.array_equal(morph.open_disc(mask, r), reference._open_disc(mask, r)), (trial, r)
