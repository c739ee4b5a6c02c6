"""Scores as an operator reads them (issue 11 item 6): one 0-100 scale, words, and where."""
from __future__ import annotations

import numpy as np

from app.scores import hot_spot, score_100, thresholds_text, where
from core.results import Box


def test_scores_are_0_to_100_and_never_negative() -> None:
    assert [score_100(v) for v in (-0.7, 0.0, 0.234, 0.5, 0.55, 1.0, 1.8)] == [
        0, 0, 23, 50, 55, 100, 100]
    assert score_100(float("nan")) == 100          # an unusable score is never a pass
    assert thresholds_text(0.4, 0.55) == "review from 40, reject from 55"
    assert thresholds_text(0.5, 0.5) == "reject from 50"


def test_hot_spot_boxes_the_connected_peak() -> None:
    heat = np.zeros((100, 120), np.float32)
    heat[10:20, 30:50] = 0.45                        # the peak's area
    heat[70:90, 5:15] = 0.3                          # cooler elsewhere: not part of it
    heat[14, 40] = 0.48
    spot = hot_spot(heat)
    assert (spot.x0, spot.y0, spot.x1, spot.y1) == (30, 10, 50, 20)
    assert spot.score == np.float32(0.48)
    assert hot_spot(np.zeros((8, 8), np.float32)) is None and hot_spot(None) is None


def test_every_reject_or_review_shows_where() -> None:
    heat = np.zeros((50, 50), np.float32)
    heat[5:9, 5:9] = 0.4
    box = Box(1, 2, 3, 4, 0.9)
    assert where("reject", [box], heat).kind == "boxes"
    shown = where("reject", [], heat)             # no box above the box level: the hot spot
    assert shown.kind == "hot spot" and (shown.boxes[0].x0, shown.boxes[0].x1) == (5, 9)
    region = [[0, 0], [40, 0], [40, 40], [0, 40]]
    by_region = where("review", [], heat, region, "no can found")
    assert by_region.kind == "region" and by_region.outline == ((0, 0), (40, 0), (40, 40), (0, 40))
    assert by_region.describe() == "no can found"
    assert where("pass", [], heat).boxes == ()    # a pass is not marked
    assert where("review", [], heat, [[1, 2]], "").kind == "hot spot"   # not an outline
