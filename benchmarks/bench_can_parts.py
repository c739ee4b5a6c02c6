#!/usr/bin/env python3
"""The parts of a can that issue 12's "fastcan" work changed, each timed against the code it
replaced (kept in the identity tests), interleaved run by run so that load hits both alike:

- decode: ``load_image`` (plain JPEGs through OpenCV) vs the Pillow route as it was
  (``tests/core/test_fast_decode.py: reference``), the seven photos one after the other;
- heatmaps: ``heatmap_in_image`` (the judged region's box only) vs the whole-photo warp, clip and
  mask as they were (``tests/core/test_heatmap_box.py: whole_photo_reference``), seven sides of the
  default model's regions;
- post: ``finish_sides`` (today's heatmaps) on a two-thread pool, one task per side, vs in turn:
  the pool was slower (0.91-0.96x), so the station runs the sides in turn;

and the parts the ``speed`` work changed (same outputs: ``tests/core/test_locator_identity.py``,
``tests/core/test_crop_identity.py``):

- can locator: ``locate_can`` vs the locator as it was (``tests/core/locator_reference.py``), the
  seven sides in turn, and on a pool of two threads as the model runs them (where the GIL shows);
- crop + blank: ``crop_window`` + ``blank_outside`` vs the whole-photo padding and ``np.where``
  they replaced (``tests/core/test_crop_identity.py``), on the seven sides' windows;
- views: a can's seven sides decoded and prepared on a pool of two threads, as
  ``Model.decoded_views`` runs them, with today's ``prepare_side`` vs the same steps with the old
  locator, crop and blank (decoding is today's in both).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_can_parts.py [--repeats 60]

Prints medians (ms for the seven sides) and the ratio old / new, with the load average, and the
process's CPU time for each (less sensitive to other jobs on the machine than the wall time).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CANS = ROOT.parent / "shared" / "datasets" / "cans"
CANS = CANS if CANS.is_dir() else Path("/work/shared/datasets/cans")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    from core.images import load_image
    from core.model.spec import read_spec
    from core.regions.apply import (
        blank_outside,
        crop_window,
        grow_mask,
        heatmap_in_image,
        prepare_side,
        region_outline,
        square_window,
    )
    from core.regions.locator import locate_can
    from core.regions.settings import RegionSettings
    from core.results import HEATMAP_PNG_MAX
    from core.scoring.sides import finish_sides
    from tests.core import locator_reference
    from tests.core.test_crop_identity import reference_blank, reference_crop
    from tests.core.test_fast_decode import reference
    from tests.core.test_heatmap_box import whole_photo_reference

    spec = read_spec(ROOT / "resources" / "models" / "default")
    settings = RegionSettings.from_dict(spec.preprocessing)
    jpegs = [p.read_bytes() for p in sorted((CANS / "defect").glob("*.jpg"))[:7]]
    images = [load_image(b) for b in jpegs]
    views = [prepare_side(img, None, settings, spec.input_size) for img in images]
    rng = np.random.default_rng(0)
    cells = spec.input_size // 32
    raw_maps = rng.uniform(-1.0, 3.0, (7, cells, cells)).astype(np.float32)
    small = np.asarray(spec.heatmap_scale.normalise(raw_maps), np.float32)
    raw_scores = rng.uniform(-1.0, 3.0, 7).astype(np.float32)
    names = [f"side {i}" for i in range(7)]
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    assert settings is not None

    def pooled(fn, n):
        return list(pool.map(fn, range(n)))

    def old_view(data: bytes) -> np.ndarray:
        """prepare_side's steps (auto region) with the locator, crop and blank as they were."""
        image = load_image(data)
        outline = locator_reference.locate_can(image).outline
        window = square_window(outline, settings.context)
        crop = reference_crop(image, window, spec.input_size)
        scale = spec.input_size / (window[2] - window[0])
        can_mask = np.zeros((spec.input_size, spec.input_size), np.uint8)
        pts = (outline.astype(np.float64) + 0.5 - np.array(window[:2])) * scale - 0.5
        cv2.fillPoly(can_mask, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], 1)
        extent = np.ptp(outline, axis=0).max() + 1.0
        region_mask = grow_mask(can_mask, int(round(settings.margin * extent * scale)))
        region_outline(region_mask, window)
        return reference_blank(crop, region_mask, settings.outside)

    def new_view(data: bytes) -> np.ndarray:
        return prepare_side(load_image(data), None, settings, spec.input_size).pixels

    assert all(np.array_equal(old_view(b), new_view(b)) for b in jpegs)

    pairs = {
        "decode (7 JPEGs, in turn)": (lambda: [reference(b) for b in jpegs],
                                      lambda: [load_image(b) for b in jpegs]),
        "heatmaps (7 sides, in turn)": (
            lambda: [whole_photo_reference(s, v, im.shape[1], im.shape[0])
                     for s, v, im in zip(small, views, images)],
            lambda: [heatmap_in_image(s, v, im.shape[1], im.shape[0], ceiling=HEATMAP_PNG_MAX, floor=0.0)
                     for s, v, im in zip(small, views, images)]),
        "can locator (7 sides, in turn)": (lambda: [locator_reference.locate_can(im) for im in images],
                                           lambda: [locate_can(im) for im in images]),
        "can locator (7 sides, 2 threads)": (lambda: list(pool.map(locator_reference.locate_can, images)),
                                             lambda: list(pool.map(locate_can, images))),
        "crop + blank (7 sides)": (
            lambda: [reference_blank(reference_crop(im, v.window, spec.input_size), v.region_mask,
                                     settings.outside) for im, v in zip(images, views)],
            lambda: [blank_outside(crop_window(im, v.window, spec.input_size), v.region_mask,
                                   settings.outside) for im, v in zip(images, views)]),
        "views (7 sides, 2 threads)": (lambda: list(pool.map(old_view, jpegs)),
                                       lambda: list(pool.map(new_view, jpegs))),
        "post: in turn / on a pool": (
            lambda: finish_sides(spec, images, names, raw_scores, raw_maps, views),
            lambda: pooled(lambda i: finish_sides(spec, images[i:i + 1], names[i:i + 1],
                                                  raw_scores[i:i + 1], raw_maps[i:i + 1],
                                                  views[i:i + 1]), len(images))),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    cpu: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    for i in range(args.repeats + 3):
        for key, (old, new) in pairs.items():
            for fn, out, used in ((old, times[key][0], cpu[key][0]), (new, times[key][1], cpu[key][1])):
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                if i >= 3:
                    out.append(time.perf_counter() - t0)
                    used.append(time.process_time() - c0)
    print(f"{args.repeats} interleaved runs; load average {os.getloadavg()[0]:.1f} / {os.cpu_count()} CPUs; "
          "wall and the process's CPU time (all its threads, OpenCV's too), medians")
    print(f"{'part':<34} {'before ms':>10} {'now ms':>8} {'before/now':>11} {'CPU before':>11} {'CPU now':>8}")
    for key, (old, new) in times.items():
        a, b = float(np.median(old)) * 1e3, float(np.median(new)) * 1e3
        ca, cb = (float(np.median(c)) * 1e3 for c in cpu[key])
        print(f"{key:<34} {a:>10.2f} {b:>8.2f} {a / b:>10.2f}x {ca:>11.2f} {cb:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
