"""The can's outline follows the can, not the backdrop: snapped to its silhouette, and found again
in the same place when everything outside it is repainted (what the backdrop check does)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.evaluation.backdrop import KINDS, repainted, wall_of
from core.regions.locator import locate_can
from core.regions.refine import refine_outline
from tests.core.regions_helpers import can_photo


def inside(outline: np.ndarray, shape: tuple) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [outline.reshape(-1, 1, 2)], 1)
    return mask


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / max(float((a | b).sum()), 1.0)


def test_a_loose_outline_snaps_to_the_silhouette():
    image = np.full((400, 400, 3), (70, 80, 60), np.uint8)
    cv2.rectangle(image, (150, 100), (249, 299), (190, 190, 200), -1)
    truth = np.zeros((400, 400), np.uint8)
    truth[100:300, 150:250] = 1
    for grow in (-7, 6):    # a coarse outline inside the can, and one outside it
        coarse = np.array([[150 - grow, 100 - grow], [249 + grow, 100 - grow], [249 + grow, 299 + grow],
                           [150 - grow, 299 + grow]], np.int32)
        snapped = refine_outline(image, coarse)
        assert overlap(inside(snapped, image.shape), truth) > 0.95     # (the coarse ones: 0.80, 0.84)
        assert np.abs(snapped.min(axis=0) - (150, 100)).max() <= 2
        assert np.abs(snapped.max(axis=0) - (249, 299)).max() <= 2


@pytest.mark.parametrize("backdrop", [(20, 20, 20), (200, 200, 200), (230, 230, 230), (230, 140, 30)])
def test_the_silhouette_wins_over_a_stronger_rim_inside_it(backdrop):
    """A bright can whose bottom 12 px are a darker rim in shadow: the rim's upper edge (body to
    rim) is the strongest edge across the bottom; the silhouette (rim to backdrop) is 0.64-0.95 as
    strong, depending on the backdrop. The outline must end at the silhouette on every backdrop
    (the strongest edge alone would take the rim's edge, 11 px inside, on all four)."""
    image = np.full((400, 400, 3), backdrop, np.uint8)
    cv2.rectangle(image, (150, 100), (249, 299), (235, 235, 240), -1)
    cv2.rectangle(image, (150, 288), (249, 299), (110, 105, 100), -1)   # the rim, inside the can
    coarse = np.array([[150, 100], [249, 100], [249, 293], [150, 293]], np.int32)  # bottom between
    snapped = refine_outline(image, coarse)
    assert abs(int(snapped[:, 1].max()) - 299) <= 2, snapped[:, 1].max()
    assert np.abs(snapped.min(axis=0) - (150, 100)).max() <= 2
    assert abs(int(snapped[:, 0].max()) - 249) <= 2


def test_a_sliver_is_left_as_it_is():
    image = np.full((200, 200, 3), 90, np.uint8)
    sliver = np.array([[50, 100], [150, 100], [150, 102], [50, 102]], np.int32)
    assert np.array_equal(refine_outline(image, sliver), sliver)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_outline_hugs_the_drawn_can(seed):
    image, mask = can_photo(seed, size=640)
    found = locate_can(image)
    assert found.found, found.reason
    # The coarse outline alone (160 px working copy, blurred energy) overlaps about 0.88-0.90.
    assert overlap(inside(found.outline, image.shape), mask) > 0.95


def test_the_outline_stays_put_when_the_backdrop_is_repainted():
    photos = [can_photo(seed, size=640)[0] for seed in range(3)]
    walls = [wall_of(p) for p in photos]
    rng = np.random.default_rng(0)
    scores: dict[str, list[float]] = {k: [] for k in KINDS}
    for i, image in enumerate(photos):
        before = inside(locate_can(image).outline, image.shape)
        paints = repainted(image, i, walls, rng)
        assert paints is not None and list(paints) == list(KINDS)
        for kind, paint in paints.items():
            after = locate_can(paint)
            assert after.found, f"{kind}: {after.reason}"
            scores[kind].append(overlap(before, inside(after.outline, image.shape)))
    everything = [v for values in scores.values() for v in values]
    assert np.median(everything) > 0.97, scores
    assert min(everything) > 0.85, scores
