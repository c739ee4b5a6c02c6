"""From a network's raw outputs to side results: scores, outcomes, heatmaps and boxes in the photo.

``finish_sides`` is the part of inspection after the network, the same for every detector kind and
every runtime: the raw score goes through the model's score scale and thresholds; the raw map
through the heatmap scale, is placed where its region's window lay in the photo and zeroed
outside the judged region; boxes are found on that heatmap, so neither ever falls outside the
region. A side whose can was not found goes at least to review, with the reason.

Pure numpy/OpenCV; thread-safe.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from core.regions.apply import SideView, heatmap_in_image
from core.results import ANOMALY, GOOD, HEATMAP_PNG_MAX, Box, Outcome, SideResult
from core.scoring.boxes import find_boxes

if TYPE_CHECKING:
    from core.model.spec import ModelSpec

BOX_GRID = 4  # boxes are found on every 4th pixel of the heatmap (edges within 4 px, ~20x cheaper)


def finish_sides(spec: "ModelSpec", images: Sequence[np.ndarray], side_names: Sequence[str],
                 raw_scores: np.ndarray, raw_maps: np.ndarray,
                 views: Sequence[SideView]) -> list[SideResult]:
    """Side results from raw scores ``[B]`` and raw maps ``[B, h, w]`` of the views' pixels."""
    # Scale at the network's resolution, then place: ~100 values per side instead of 400 000.
    heat_small = np.asarray(spec.heatmap_scale.normalise(raw_maps), np.float32)
    results = []
    for img, name, raw, small, view in zip(images, side_names, raw_scores, heat_small, views):
        h, w = img.shape[:2]
        heat = heatmap_in_image(small, view, w, h, ceiling=HEATMAP_PNG_MAX)
        np.clip(heat, 0.0, HEATMAP_PNG_MAX, out=heat)
        score = float(spec.score_scale.normalise(float(raw)))
        outcome = spec.thresholds.outcome(score)
        if not view.found and outcome is Outcome.PASS:
            outcome = Outcome.REVIEW  # never pass a side whose can nobody saw
        results.append(SideResult(
            side=name, score=score, label=ANOMALY if score >= 0.5 else GOOD, outcome=outcome,
            heatmap=heat, boxes=boxes_on_grid(heat), image=img, region=view.region,
            reason=view.reason))
    return results


def boxes_on_grid(heat: np.ndarray, step: int = BOX_GRID) -> list[Box]:
    """Boxes of the full-size heatmap, found on a ``step``-pixel grid of it."""
    h, w = heat.shape
    grid = np.ascontiguousarray(heat[step // 2::step, step // 2::step])
    out = []
    for b in find_boxes(grid):
        out.append(Box(b.x0 * step, b.y0 * step, min(w, b.x1 * step), min(h, b.y1 * step), b.score))
    return out
