#!/usr/bin/env python3
"""How far a model's good scores move when the can's window moves by a pixel, with no new backdrop.

    .venv/bin/python benchmarks/shift_sensitivity.py --model DIR [--model DIR ...] [--data DIR]

For every good photo of the data set the can is located once (``locate_can``) and the side is
judged as inspection does (``prepare_side``: the square window around the outline, the judged
region inside it, the outside blanked), then again with one thing changed:

- ``window +1 px`` / ``+2 px`` / ``+4,+4 px``: the window moved right (and down) by that many pixels
  of the photo, the outline where it was (what a locator that moves by a pixel does to the
  window: the can moves by a fraction of an input pixel, and the judged region's edge is drawn
  again on the input's pixel grid);
- ``content only``: the window moved by 1 px, the judged region drawn as before the move;
- ``region only``: the window as before, the judged region drawn as after a 1 px move.

Printed per model: the absolute change of the score (the model's 0-1 scale, where the review
threshold is) as mean / 90th percentile / largest over the photos, and how many good photos score
within 0.05 of the review threshold (the ones a move of that size can turn to review).

The backdrop check (``main.py evaluate --backdrop-check``) moves the outline by a few pixels on
most repaints (``benchmarks/locator_stability.py``): a model whose scores move this much for one
pixel changes the verdicts of good photos near its threshold whatever the backdrop.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loso_cans import default_data  # noqa: E402


def _moved(window: tuple[float, float, float, float], dx: float, dy: float) -> tuple[float, float, float, float]:
    return (window[0] + dx, window[1] + dy, window[2] + dx, window[3] + dy)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="a model folder (repeatable)")
    p.add_argument("--data", default=str(default_data()))
    args = p.parse_args()
    from core.images import load_image
    from core.model.io import load_model
    from core.regions.apply import blank_outside, crop_window, square_window, window_masks
    from core.regions.locator import locate_can
    from core.training import scan_dataset

    good = [s for s in scan_dataset(args.data) if int(s.label) == 0]
    photos = [load_image(s.source) for s in good]
    outlines = [locate_can(img).outline for img in photos]
    print(f"{len(good)} good photos of {args.data}; scores on each model's 0-1 scale")
    for folder in args.model:
        model = load_model(folder)
        settings, size = model.regions, model.spec.input_size
        if settings is None:
            print(f"{folder}: judges whole photos (no window to move)")
            continue

        rows: dict[str, list[float]] = {k: [] for k in (
            "window +1 px", "window +2 px", "window +4,+4 px", "content only", "region only")}
        base_scores = []
        for img, outline in zip(photos, outlines):
            w0 = square_window(outline, settings.context)
            w1, w2, w4 = (_moved(w0, dx, dy) for dx, dy in ((1, 0), (2, 0), (4, 4)))
            crop0, crop1 = crop_window(img, w0, size), crop_window(img, w1, size)
            r0, r1, r2, r4 = (window_masks(outline, w, size, settings.margin)[1] for w in (w0, w1, w2, w4))
            inputs = [blank_outside(crop0, r0, settings.outside), blank_outside(crop1, r1, settings.outside),
                      blank_outside(crop_window(img, w2, size), r2, settings.outside),
                      blank_outside(crop_window(img, w4, size), r4, settings.outside),
                      blank_outside(crop1, r0, settings.outside), blank_outside(crop0, r1, settings.outside)]
            raw, _ = model.raw_outputs(inputs)
            scores = np.asarray(model.spec.score_scale.normalise(raw), np.float64)
            base_scores.append(scores[0])
            for key, value in zip(rows, scores[1:]):
                rows[key].append(abs(value - scores[0]))
        review = model.spec.thresholds.review
        near = sum(abs(s - review) < 0.05 for s in base_scores)
        print(f"{folder}: {near} of {len(good)} good photos within 0.05 of review ({review:g})")
        for key, values in rows.items():
            v = np.asarray(values)
            print(f"  {key:16s} mean {v.mean():.3f}   p90 {np.percentile(v, 90):.3f}   largest {v.max():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
