#!/usr/bin/env python3
"""Heatmap overlays of a model on a few images, for judging by eye where the map sits.

Each output is the photo and, beside it, the station's overlay (jet heatmap on the normalised
scale, boxes at 0.5) with the ground-truth mask outlined in white where ``DATA_DIR/masks`` has one.

Usage:  .venv/bin/python benchmarks/patchcore_overlays.py MODEL_DIR IMAGE [IMAGE ...] --out DIR
        [--height 240] [--quality 80]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("images", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--height", type=int, default=240, help="height of the saved JPEG")
    p.add_argument("--quality", type=int, default=80)
    args = p.parse_args(argv)

    from core.images import encode_jpeg, load_image
    from core.model.io import load_model
    from core.scoring.overlay import render_overlay

    model = load_model(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.images:
        path = Path(name)
        image = load_image(path)
        result = model.inspect_sides([image], [path.stem])[0]
        overlay = np.ascontiguousarray(render_overlay(image, result.heatmap, result.boxes))
        mask_file = path.parent.parent / "masks" / f"{path.stem}.png"
        if mask_file.is_file():
            mask = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE)
            mask = cv2.resize(mask, image.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 127
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(overlay, contours, -1, (255, 255, 255), 2)
        pair = np.concatenate([image, overlay], axis=1)
        scale = args.height / pair.shape[0]
        pair = cv2.resize(pair, (round(pair.shape[1] * scale), args.height), interpolation=cv2.INTER_AREA)
        target = out / f"{model.spec.kind}_{path.stem}.jpg"
        target.write_bytes(encode_jpeg(pair, quality=args.quality))
        print(f"{target}  score {result.score:.2f} ({result.outcome.value}), {len(result.boxes)} box(es)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
