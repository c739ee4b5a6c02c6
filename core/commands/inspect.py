"""``inspect IMAGE... --model MODEL_DIR [--out DIR]``: verdicts as JSON, overlays as images.

The network runs in ONNX Runtime or OpenVINO when the model has been exported (the first
inspection exports it, in torch); then this command never imports torch.
Images are taken seven at a time as one can (sides in the product's default order); with more
than seven images the report holds several cans.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands._common import job, load_for_inspection

if TYPE_CHECKING:
    from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "inspect", help="inspect side images of cans; JSON verdicts, heatmap overlays",
        description="Inspect up to seven images per can (in side order) with a model; print the "
                    "verdicts as JSON and, with --out, write each side's heatmap overlay with its "
                    "boxes as <image stem>.overlay.jpg.")
    p.add_argument("images", nargs="+", help="image files (JPEG, PNG, BMP, TIFF)")
    p.add_argument("--model", required=True, help="model folder or the name of an installed model")
    p.add_argument("--out", help="folder for the overlay images")
    p.add_argument("--opacity", type=float, default=0.45, help="heatmap opacity in overlays")
    p.add_argument("--threads", type=int, help="the network's CPU threads (default: the settings)")
    p.add_argument("--runtime", choices=("auto", "onnxruntime", "openvino", "torch"),
                   help="what runs the network (default: the settings' inference_runtime)")
    p.set_defaults(run=run)


@job
def run(args: argparse.Namespace, settings: Settings) -> int:
    from common.atomic import write_bytes
    from core.images import encode_jpeg
    from core.scoring.overlay import render_overlay
    from core.sides import DEFAULT_SIDE_NAMES
    from core.verdict import inspect_can

    # Torch-free when the model's exported network is cached (core.model.runtime).
    model = load_for_inspection(args.model, settings, args.threads, args.runtime)
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    per_can = len(DEFAULT_SIDE_NAMES)
    cans = []
    for start in range(0, len(args.images), per_can):
        paths = args.images[start:start + per_can]
        result = inspect_can(model, paths, DEFAULT_SIDE_NAMES)
        report = result.to_dict()
        for side, path, entry in zip(result.sides, paths, report["sides"]):
            entry["image"] = path
            if out is not None:
                overlay = render_overlay(side.image, side.heatmap, side.boxes, args.opacity, side.region)
                target = out / f"{Path(path).stem}.overlay.jpg"
                write_bytes(target, encode_jpeg(overlay, quality=90))  # whole, or StorageFull
                entry["overlay"] = str(target)
        cans.append(report)
    print(json.dumps(cans[0] if len(cans) == 1 else {"cans": cans}, indent=2))
    return 0
