"""``bench``: time to inspect one can of seven 640x640 photos, end to end, per backbone.

End to end = decode the seven encoded photos, resize and normalise, one batched forward pass,
heatmaps upsampled to 640x640 and scaled, boxes. Reported: median and 90th percentile over
``--repeats`` runs after warm-up, a per-stage breakdown, and the process's peak resident memory.
The default model and the original design's VGG16-CAM run in the same process on the same
photos; VGG16 uses RANDOM weights (the time does not depend on the weights' values).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import argparse
import json
import sys
from pathlib import Path

from core.commands._common import job, resolve_model, set_threads
from core.sides import SIDES_PER_CAN

SIDES = SIDES_PER_CAN
PHOTO_SIZE = 640
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"

if TYPE_CHECKING:
    from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench", help="time one can of seven 640x640 photos: default model vs VGG16-CAM",
        description=__doc__)
    p.add_argument("--model", default=str(DEFAULT_MODEL),
                   help="model folder to time (default: the shipped default model)")
    p.add_argument("--images", nargs="+", help="photos to use (the first seven; resized to "
                   "640x640 and re-encoded as JPEG). Default: seven synthetic photos")
    p.add_argument("--repeats", type=int, default=15, help="timed runs per backbone")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--vgg-input-size", type=int, default=224,
                   help="input size of the VGG16-CAM baseline (the original design's 224)")
    p.add_argument("--no-vgg", action="store_true", help="skip the VGG16-CAM baseline")
    p.add_argument("--unoptimised", action="store_true",
                   help="also time the default model without BatchNorm folding / channels-last")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--passive-wait", action="store_true",
                   help="set OMP_WAIT_POLICY=PASSIVE before torch starts: idle OpenMP threads sleep "
                        "instead of spinning, which helps a lot when other processes share the "
                        "cores (no effect if torch is already imported)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    p.set_defaults(run=run)


@job
def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.passive_wait:
        import os
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read once, when torch loads its OpenMP runtime
    set_threads(args.threads, settings)
    import torch

    from core.evaluation.benchmarking import bench_model, photos, vgg16_cam_model
    from core.model.io import load_model
    from core.model.model import Model

    jpegs = photos(args.images, SIDES, PHOTO_SIZE)
    model = load_model(resolve_model(args.model, settings))
    rows = [bench_model(f"{model.spec.backbone} ({model.spec.name}, {model.spec.input_size}px)",
                        model, jpegs, args.repeats, args.warmup)]
    if args.unoptimised:
        plain = Model(model.spec, model.network, optimise=False)
        rows.append(bench_model(f"{model.spec.backbone} unoptimised", plain, jpegs,
                                args.repeats, args.warmup))
    if not args.no_vgg:
        vgg = vgg16_cam_model(args.vgg_input_size)
        rows.append(bench_model(f"vgg16-CAM (random weights, {args.vgg_input_size}px)", vgg, jpegs,
                                max(3, args.repeats // 3), 1))
    base = rows[0]["median_ms"]
    import os

    print(f"One can = {SIDES} photos of {PHOTO_SIZE}x{PHOTO_SIZE}, end to end; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'backbone':<46} {'median ms':>9} {'p90 ms':>8} {'vs default':>10} {'peak RSS MB':>11}"
          f"   decode / preprocess / network / heatmaps+boxes (median ms)")
    for r in rows:
        ratio = r["median_ms"] / base
        stages = " / ".join(f"{r['stages_ms'][k]:.1f}" for k in ("decode", "preprocess", "network", "post"))
        print(f"{r['name']:<46} {r['median_ms']:>9.1f} {r['p90_ms']:>8.1f} {ratio:>9.1f}x "
              f"{r['peak_rss_mb']:>11.0f}   {stages}")
        r["times_default"] = round(ratio, 2)
    print("VGG16-CAM uses random weights: timing only. Peak RSS is the process's high-water mark "
          "after that row's runs (it includes the rows above it).")
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    return 0
