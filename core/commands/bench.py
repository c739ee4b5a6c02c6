"""``bench``: one can of seven 640x640 photos, end to end, in torch, ONNX Runtime and OpenVINO.

End to end = decode the seven encoded photos, find each side's region, resize, one batched
forward pass, heatmaps placed in the photos and scaled, boxes. Rows run interleaved in one
process (every repeat runs each row once) for the default model and for a PatchCore model (by
default one built here with ImageNet weights and a bank of the photos' own patches: its time is
a real one's of that bank size). Printed per row: the can's median and 90th-percentile time, the
network's median alone, its FLOPs and the floor (FLOPs over this machine's measured float32 GEMM
rate), each runtime's ratio to the floor, the speed-up over the torch path as it ran before
issue 12, the parity error against torch, and the process's peak resident memory; then each
row's stages inside the same timed cans (decode, regions, network, post).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands._common import job, resolve_model, set_threads
from core.sides import SIDES_PER_CAN

SIDES = SIDES_PER_CAN
PHOTO_SIZE = 640
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"

if TYPE_CHECKING:
    from core.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench", help="time one can of seven 640x640 photos: torch vs ONNX Runtime vs OpenVINO",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(DEFAULT_MODEL),
                   help="model folder to time (default: the shipped default model)")
    p.add_argument("--patchcore", help="a PatchCore model folder (default: one built here)")
    p.add_argument("--no-patchcore", action="store_true", help="skip the PatchCore rows")
    p.add_argument("--patchcore-bank", type=int, default=8192, metavar="N",
                   help="memory bank size of the PatchCore model built here (default 8192, a "
                   "real model's; a small one only checks the table, e.g. in the tests)")
    p.add_argument("--images", nargs="+", help="photos to use (the first seven; resized to "
                   "640x640 and re-encoded as JPEG). Default: seven synthetic photos")
    p.add_argument("--repeats", type=int, default=15, help="timed runs per row")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, help="CPU threads of every runtime (default: the "
                   "settings' torch_threads, else each runtime's choice)")
    p.add_argument("--vgg", action="store_true",
                   help="also time the original design's VGG16-CAM in torch (random weights)")
    p.add_argument("--vgg-input-size", type=int, default=224)
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    p.set_defaults(run=run)


@job
def run(args: argparse.Namespace, settings: Settings) -> int:
    set_threads(args.threads, settings)
    import numpy as np
    import torch

    from core.commands._common import threads_of
    from core.evaluation.benchmarking import photos, vgg16_cam_model
    from core.evaluation.runtime_bench import (
        Row,
        gemm_gflops,
        network_gflop,
        patchcore_for_timing,
        peak_rss_mb,
        rows_for,
        run_interleaved,
    )
    from core.images import load_image
    from core.model.io import load_model

    threads = threads_of(args.threads, settings)
    jpegs = photos(args.images, SIDES, PHOTO_SIZE)
    images = [load_image(b) for b in jpegs]
    model = load_model(resolve_model(args.model, settings))
    groups = [rows_for(model.spec.name, model, images, threads)]
    models = [model]
    if not args.no_patchcore:
        pc = (load_model(resolve_model(args.patchcore, settings)) if args.patchcore
              else patchcore_for_timing(images, args.patchcore_bank))
        groups.append(rows_for(pc.spec.name, pc, images, threads, before=True))
        models.append(pc)
    if args.vgg:
        vgg = vgg16_cam_model(args.vgg_input_size)
        groups.append([Row(f"vgg16-CAM random {args.vgg_input_size}px", "torch", vgg)])
        models.append(vgg)
    rows = [r for g in groups for r in g]
    run_interleaved(rows, jpegs, args.repeats, args.warmup)
    rate = gemm_gflops()
    print(f"One can = {SIDES} photos of {PHOTO_SIZE}x{PHOTO_SIZE}, end to end; rows interleaved, "
          f"{args.repeats} runs each after {args.warmup} warm-up; torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads, runtimes' threads {threads or 'default'}; "
          f"load average {os.getloadavg()[0]:.1f} / {os.cpu_count()} CPUs")
    print(f"GEMM rate (float32 1024x1024 torch.mm, best of 7): {rate:.0f} GFLOP/s")
    print(f"{'model':<28} {'runtime':<14} {'can ms':>7} {'p90':>6} {'net ms':>7} {'GFLOP':>6} "
          f"{'floor':>6} {'net/floor':>9} {'can speed-up':>12} {'parity':>8}")
    out, floors = [], []
    for group, m in zip(groups, models):
        example = m.preprocess([v.pixels for v in m.views(images)])
        net = m.network if m.network is not None else None
        gflop = network_gflop(net.eval(), example) if net is not None else float("nan")
        floor_ms = gflop / rate * 1000.0
        floors.append(floor_ms)
        live = [r for r in group if r.can_s]
        before = next((r for r in live if r.runtime == "torch, before"), live[0])
        base = float(np.median(before.can_s))
        for r in group:
            if not r.can_s:
                print(f"{r.model:<28} {r.runtime:<14} not run: {r.note}")
                continue
            can, p90 = float(np.median(r.can_s)) * 1e3, float(np.quantile(r.can_s, 0.9)) * 1e3
            net_ms = float(np.median(r.net_s)) * 1e3
            print(f"{r.model:<28} {r.runtime:<14} {can:>7.1f} {p90:>6.1f} {net_ms:>7.1f} "
                  f"{gflop:>6.2f} {floor_ms:>6.1f} {net_ms / floor_ms:>8.2f}x "
                  f"{base * 1e3 / can:>11.2f}x {r.parity:>8.1e}")
            stages = {k: round(float(np.median(v)) * 1e3, 2) for k, v in r.stages.items()}
            out.append({"model": r.model, "runtime": r.runtime, "can_median_ms": round(can, 2),
                        "stages_ms": stages,
                        "can_p90_ms": round(p90, 2), "network_median_ms": round(net_ms, 2),
                        "gflop": round(gflop, 3), "floor_ms": round(floor_ms, 2),
                        "network_over_floor": round(net_ms / floor_ms, 2),
                        "can_speedup_vs_torch_before": round(base * 1e3 / can, 2),
                        "parity": r.parity})
    print_stages(rows)
    needs = [n for n in (two_x_need(g, f) for g, f in zip(groups, floors)) if n is not None]
    for n in needs:
        print(f"{n['model']}: 2x the can of its first row ({n['half_ms']:.1f} ms) leaves "
              f"{n['network_ms_left']:.1f} ms for the network after the shared work of its fastest "
              f"row ({n['runtime']}: {n['shared_ms']:.1f} ms of decode, regions and post, the same in "
              f"every runtime); the network's floor is {n['floor_ms']:.1f} ms")
    print(f"Peak resident memory of this process: {peak_rss_mb():.0f} MB (every row's runtime "
          "and torch loaded at once; a torch-free inspection measures alone: see README).")
    print("parity: largest raw difference from torch on these photos / the model's calibrated "
          "raw span (scores and maps). can speed-up: vs the first row of its model (PatchCore: "
          "'torch, before'). floor: the network's FLOPs at the GEMM rate above.")
    if args.json:
        json.dump({"gemm_gflops": round(rate, 1), "load_average": os.getloadavg()[0],
                   "peak_rss_mb": round(peak_rss_mb(), 1), "rows": out, "two_x": needs},
                  sys.stdout, indent=2)
        print()
    return 0


STAGES = ("decode", "regions", "views", "network", "post")


def two_x_need(group: list, floor_ms: float) -> dict | None:
    """What a can twice as fast as its model's first row (PatchCore: 'torch, before') leaves the
    network: half that can's median time less the fastest row's shared work (its can less its
    network stage: decode, finding the can, scores, heatmaps and boxes, which no runtime
    shortens). None without timed stages."""
    import numpy as np

    live = [r for r in group if r.can_s and r.stages.get("network")]
    if len(live) < 2:
        return None
    first = next((r for r in live if r.runtime == "torch, before"), live[0])
    fastest = min(live, key=lambda r: float(np.median(r.can_s)))
    half = float(np.median(first.can_s)) * 1e3 / 2
    shared = (float(np.median(fastest.can_s)) - float(np.median(fastest.stages["network"]))) * 1e3
    return {"model": first.model, "runtime": fastest.runtime, "half_ms": round(half, 2),
            "shared_ms": round(shared, 2), "network_ms_left": round(half - shared, 2),
            "floor_ms": round(floor_ms, 2)}


def print_stages(rows: list) -> None:
    """Each row's stages inside its timed cans (``Model.last_stages``), medians in ms."""
    import numpy as np

    print("Stages of the same cans (median ms): decode and regions are summed over the sides, "
          "which share the model's pool; views = their wall time; network = batch and forward "
          "pass; post = scores, heatmaps, boxes; rest = can - views - network - post")
    print(f"{'model':<28} {'runtime':<14} {'decode':>7} {'regions':>7} {'views':>7} "
          f"{'network':>7} {'post':>7} {'rest':>7}")
    for r in rows:
        if not r.can_s or not r.stages:
            continue
        med = {k: float(np.median(r.stages[k])) * 1e3 for k in STAGES}
        rest = float(np.median(r.can_s)) * 1e3 - med["views"] - med["network"] - med["post"]
        print(f"{r.model:<28} {r.runtime:<14} " + " ".join(f"{med[k]:>7.1f}" for k in STAGES)
              + f" {rest:>7.1f}")
