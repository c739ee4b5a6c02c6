#!/usr/bin/env python3
"""How far the can's outline moves when the backdrop changes: the backdrop check without a model.

    .venv/bin/python benchmarks/locator_stability.py [--data ../shared/datasets/cans] [--seed 0]

Every good photo is repainted outside its can exactly as the backdrop check does
(``core.evaluation.backdrop.repainted``: the locator's outline on the photo, a one-pixel soft seam,
the same backdrops from the same seed), the locator runs again on each repaint, and the new
outline is compared with the photo's own:

- shift: the largest distance from a point of one outline to the other outline (px of the photo);
- box: the largest move of one of the box's four edges (px);
- IoU of the two outlines' insides;
- input: the mean absolute difference (grey levels, 0-255) of the network's inputs
  (``core.regions.apply.prepare_side`` at 192 px with the default region settings), which is what
  a model would see change: the window and the blanked edge follow the outline.

Prints one line per backdrop kind and one for all, and the locator's CPU time per photo (one
OpenCV thread, original photos only).

With ``--model DIR`` it also judges every repaint twice with that model and counts changed
verdicts (pass / review / reject against the photo's own): with the outline found again on the
repaint (what the backdrop check does) and with the photo's own outline (what a locator that
never moved would give: the floor of the check for that model).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loso_cans import default_data  # noqa: E402


def outline_shift(a, b) -> float:
    """The largest distance from a vertex of either outline to the other outline (px)."""
    import cv2

    def one_way(p, q):
        poly = q.reshape(-1, 1, 2).astype("float32")
        return max(abs(cv2.pointPolygonTest(poly, (float(x), float(y)), True)) for x, y in p)

    return max(one_way(a, b), one_way(b, a))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(default_data()))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=192, help="the network's input size for the input figure")
    p.add_argument("--limit", type=int, default=0, help="only the first N good photos (0: all)")
    p.add_argument("--model", help="also count changed verdicts with this model (see above)")
    p.add_argument("--tall-reading", action=argparse.BooleanOptionalAction, default=None,
                   help="the locator's third reading (default: the model's, else new models' default)")
    p.add_argument("--highpass-reading", action=argparse.BooleanOptionalAction, default=None,
                   help="the locator's high-pass reading (default: the model's, else new models' default)")
    args = p.parse_args()
    import cv2
    import numpy as np

    from core.evaluation.backdrop import KINDS, repainted, wall_of
    from core.images import load_image
    from core.regions.apply import prepare_side
    from core.regions.locator import locate_can
    from core.regions.settings import RegionSettings

    cv2.setNumThreads(1)
    files = sorted((Path(args.data) / "good").glob("*.jpg")) + sorted((Path(args.data) / "good").glob("*.png"))
    if args.limit:
        files = files[:args.limit]
    images = [load_image(f) for f in files]
    settings = RegionSettings()
    model = None
    if args.model:
        from core.model.io import load_model

        model = load_model(args.model)
        settings = model.regions or settings
        size = model.spec.input_size
    tall = settings.tall_reading if args.tall_reading is None else args.tall_reading
    highpass = settings.highpass_reading if args.highpass_reading is None else args.highpass_reading
    settings = dataclasses.replace(settings, tall_reading=tall, highpass_reading=highpass)
    print(f"locator: {'three readings' if tall else 'two readings'}{', and the high-pass one' if highpass else ''}")
    locator = settings.locator()
    walls = [wall_of(img, locator) for img in images]     # the check's order: walls first, then one rng
    rng = np.random.default_rng(args.seed)
    changed = {"found again": 0, "own outline": 0}
    rows: dict[str, list] = {k: [] for k in KINDS}
    seconds, lost = [], 0
    for i, image in enumerate(images):
        t0 = time.process_time()
        before = locate_can(image, **locator)
        seconds.append(time.process_time() - t0)
        paints = repainted(image, i, walls, rng, locator)
        if paints is None or not before.found:
            lost += 1
            continue
        h, w = image.shape[:2]
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [before.outline.reshape(-1, 1, 2)], 1)
        view = prepare_side(image, None, settings, args.size, outline=before.outline)
        if model is not None:
            own = [image] + list(paints.values())
            again = list(paints.values())
            views = [prepare_side(im, None, settings, size, outline=before.outline) for im in own]
            views += [prepare_side(im, None, settings, size) for im in again]
            raw_s, raw_m = model.raw_outputs([v.pixels for v in views])
            every = own + again
            results = model.finish_sides(every, ["side"] * len(every), raw_s, raw_m, views)
            first = results[0].outcome
            changed["own outline"] += sum(r.outcome != first for r in results[1:1 + len(paints)])
            changed["found again"] += sum(r.outcome != first for r in results[1 + len(paints):])
        for kind, paint in paints.items():
            after = locate_can(paint, **locator)
            if not after.found:
                rows[kind].append((np.inf, np.inf, 0.0, np.inf, files[i].name))
                continue
            other = np.zeros((h, w), np.uint8)
            cv2.fillPoly(other, [after.outline.reshape(-1, 1, 2)], 1)
            iou = float((inside & other).sum()) / max(float((inside | other).sum()), 1.0)
            box = float(np.abs(np.subtract(before.box, after.box)).max())
            moved = prepare_side(paint, None, settings, args.size, outline=after.outline)
            diff = float(np.abs(view.pixels.astype(np.float32) - moved.pixels.astype(np.float32)).mean())
            rows[kind].append((outline_shift(before.outline, after.outline), box, iou, diff, files[i].name))

    def line(name: str, values: list) -> str:
        a = np.array([v[:4] for v in values], np.float64)
        gone = int(np.isinf(a[:, 0]).sum())
        a = a[np.isfinite(a[:, 0])]
        return (f"{name:<13} n={len(values):3d} no-can={gone}  shift px: median {np.median(a[:, 0]):5.1f} "
                f"p90 {np.percentile(a[:, 0], 90):5.1f} max {a[:, 0].max():5.1f}  box px: median "
                f"{np.median(a[:, 1]):5.1f} max {a[:, 1].max():5.1f}  IoU: mean {a[:, 2].mean():.4f} "
                f"min {a[:, 2].min():.4f}  input |d|: mean {a[:, 3].mean():5.2f} max {a[:, 3].max():5.2f}")

    print(f"{len(images)} good photos x {len(KINDS)} backdrops (seed {args.seed}); {lost} without a can left out")
    for kind in KINDS:
        print(line(kind, rows[kind]))
    everything = [v for k in KINDS for v in rows[k]]
    print(line("all", everything))
    worst = sorted(everything, key=lambda v: -v[0])[:8]
    print("largest shifts: " + ", ".join(f"{v[4]} {v[0]:.1f}px" for v in worst))
    if model is not None:
        print(f"verdicts changed with {args.model}: outline found again on the repaint "
              f"{changed['found again']} of {len(everything)}; the photo's own outline "
              f"{changed['own outline']} of {len(everything)}")
    ms = np.asarray(seconds) * 1000
    print(f"locator CPU per photo: median {np.median(ms):.1f} ms, 90th percentile {np.percentile(ms, 90):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
