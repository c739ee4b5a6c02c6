"""From a network's raw outputs to side results: scores, outcomes, heatmaps and boxes in the photo.

``finish_sides`` is the part of inspection after the network, the same for every detector kind and
every runtime: the raw score goes through the model's score scale and thresholds; the raw map
through the heatmap scale, is placed where its region's window lay in the photo and zeroed
outside the judged region; boxes are found on that heatmap, so neither ever falls outside the
region. A side whose can was not found goes to review, with the reason, whatever its score: the
score a model trained on located cans gives a photo in which no can was found says nothing either
way (a blank frame scored 0.55 on the default, a reject), so a person decides.

Pure numpy/OpenCV; thread-safe.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from core.regions.apply import SideView, heatmap_in_image
from core.results import ANOMALY, GOOD, HEATMAP_PNG_MAX, Box, Outcome, SideResult
from core.scoring.boxes import find_boxes

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

BOX_GRID = 4  # boxes are found on every 4th pixel of the heatmap (edges within 4 px, ~20x cheaper)


def finish_sides(spec: ModelSpec, images: Sequence[np.ndarray], side_names: Sequence[str],
                 raw_scores: np.ndarray, raw_maps: np.ndarray,
                 views: Sequence[SideView]) -> list[SideResult]:
    """Side results from raw scores ``[B]`` and raw maps ``[B, h, w]`` of the views' pixels.

    The sides in turn: on the model's two-thread pool they took 0.91-0.96x as long as this
    (``benchmarks/bench_can_parts.py``; OpenCV's warp already uses both cores).
    """
    # Scale at the network's resolution, then place: ~100 values per side instead of 400 000.
    heat_small = np.asarray(spec.heatmap_scale.normalise(raw_maps), np.float32)

    def one(i: int) -> SideResult:
        img, view = images[i], views[i]
        h, w = img.shape[:2]
        heat = heatmap_in_image(heat_small[i], view, w, h, ceiling=HEATMAP_PNG_MAX, floor=0.0)
        score = float(spec.score_scale.normalise(float(raw_scores[i])))
        outcome = spec.thresholds.outcome(score)
        if not view.found:
            outcome = Outcome.REVIEW  # nobody saw the can: never passed, never rejected on a guess
        return SideResult(
            side=side_names[i], score=score, label=ANOMALY if score >= 0.5 else GOOD,
            outcome=outcome, heatmap=heat, boxes=boxes_on_grid(heat, bounds=_bounds(view.region, w, h)),
            image=img, region=view.region, reason=view.reason)

    count = min(len(images), len(side_names), len(raw_scores), len(heat_small), len(views))
    return [one(i) for i in range(count)]


def boxes_on_grid(heat: np.ndarray, step: int = BOX_GRID,
                  bounds: tuple[int, int, int, int] | None = None) -> list[Box]:
    """Boxes of the full-size heatmap, found on a ``step``-pixel grid of it and clipped to
    ``bounds`` (x0, y0, x1, y1; default the photo)."""
    h, w = heat.shape
    bx0, by0, bx1, by1 = bounds or (0, 0, w, h)
    grid = np.ascontiguousarray(heat[step // 2::step, step // 2::step])
    out = []
    for b in find_boxes(grid):
        x0, y0 = max(bx0, b.x0 * step), max(by0, b.y0 * step)
        x1, y1 = min(bx1, b.x1 * step), min(by1, b.y1 * step)
        if x1 > x0 and y1 > y0:
            out.append(Box(x0, y0, x1, y1, b.score))
    return out


def _bounds(region: np.ndarray | None, width: int, height: int) -> tuple[int, int, int, int]:
    """The region's bounding box inside the photo (x1, y1 exclusive)."""
    if region is None or len(region) == 0:
        return (0, 0, width, height)
    pts = np.asarray(region)
    return (max(0, int(pts[:, 0].min())), max(0, int(pts[:, 1].min())),
            min(width, int(pts[:, 0].max()) + 1), min(height, int(pts[:, 1].max()) + 1))
