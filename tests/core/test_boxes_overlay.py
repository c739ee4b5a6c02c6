"""Boxes per connected region and overlays on the fixed colour scale."""
from __future__ import annotations

import numpy as np

from core.results import Box
from core.scoring.boxes import find_boxes
from core.scoring.overlay import heat_colours, render_overlay


def test_one_box_per_region_each_with_its_own_peak():
    heat = np.zeros((100, 200), np.float32)
    heat[10:30, 20:50] = 0.8
    heat[15, 25] = 1.4                      # the first dent's peak
    heat[60:90, 120:180] = 0.6              # a second, weaker dent
    boxes = find_boxes(heat)
    assert len(boxes) == 2
    assert boxes[0] == Box(20, 10, 50, 30, boxes[0].score) and boxes[0].score == np.float32(1.4)
    assert (boxes[1].x0, boxes[1].y0, boxes[1].x1, boxes[1].y1) == (120, 60, 180, 90)
    assert abs(boxes[1].score - 0.6) < 1e-6


def test_specks_and_cold_maps_give_no_boxes():
    heat = np.full((100, 100), 0.3, np.float32)
    assert find_boxes(heat) == []
    heat[50, 50] = 0.9                      # a single hot pixel is a speck, not a defect
    assert find_boxes(heat) == []
    heat[40:50, 40:50] = 0.7
    assert len(find_boxes(heat)) == 1


def test_overlay_colours_are_fixed_to_the_scale_not_stretched():
    cold = heat_colours(np.full((4, 4), 0.1, np.float32))
    hot = heat_colours(np.full((4, 4), 1.2, np.float32))
    assert cold[0, 0, 2] > cold[0, 0, 0]    # blue dominates a cold map even though it is uniform
    assert hot[0, 0, 0] > hot[0, 0, 2]      # red dominates a hot map
    # A map of small values stays cold: no per-image min-max stretching.
    ramp = heat_colours(np.linspace(0.0, 0.2, 16, dtype=np.float32).reshape(4, 4))
    assert (ramp[:, :, 0] < 60).all()


def test_render_overlay_draws_boxes_and_keeps_size():
    image = np.full((60, 80, 3), 128, np.uint8)
    heat = np.zeros((60, 80), np.float32)
    plain = render_overlay(image, heat, [])
    boxed = render_overlay(image, heat, [Box(10, 10, 40, 40, 0.9)])
    assert plain.shape == image.shape and plain.dtype == np.uint8
    assert (boxed != plain).any(axis=2)[10, 10:40].all()   # the top edge is drawn
    assert (boxed == plain).all(axis=2)[50:, 50:].all()     # far from the box nothing changes
    small = render_overlay(image, np.zeros((6, 8), np.float32), [])
    assert small.shape == image.shape


def test_boxes_from_a_coarse_map_match_full_resolution_boxes_within_the_grid_step():
    import cv2

    from core.scoring.boxes import boxes_from_map

    rng = np.random.default_rng(3)
    for _ in range(20):
        small = (rng.random((7, 7)) * 0.45).astype(np.float32)
        for _ in range(int(rng.integers(1, 3))):  # one or two separate hot cells
            y, x = int(rng.integers(0, 7)), int(rng.integers(0, 7))
            small[y, x] = 0.6 + float(rng.random())
        w, h = int(rng.integers(300, 700)), int(rng.integers(300, 700))
        full = find_boxes(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
        fast = boxes_from_map(small, w, h, step=4)
        assert len(fast) == len(full)
        for a, b in zip(sorted(fast, key=lambda b: (b.x0, b.y0)), sorted(full, key=lambda b: (b.x0, b.y0))):
            assert max(abs(a.x0 - b.x0), abs(a.y0 - b.y0), abs(a.x1 - b.x1), abs(a.y1 - b.y1)) <= 5
            assert 0 <= a.x0 < a.x1 <= w and 0 <= a.y0 < a.y1 <= h
            assert abs(a.score - b.score) < 0.06 * max(1.0, b.score)  # the grid may miss the exact crest
