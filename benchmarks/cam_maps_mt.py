#!/usr/bin/env python3
"""How fine the CAM classifier's heatmap is: box hit rate and pixel AUROC on magnetic_tile.

    .venv/bin/python benchmarks/cam_maps_mt.py --out /tmp/cam_maps [--threads 2]

magnetic_tile has a mask for every defect, so the localisation can be measured; its photos are
tiles filling the frame, so the region is the whole photo (``train --region whole``). Every
variant is trained and evaluated by the station's own commands on the same seeded split as
``benchmarks/bench_detectors.py`` (CAM on ``--per-class`` good and defective images of the
labelled half, test set = unseen good images plus the other half of the defects) and the
commands are printed, so a row can be rerun by hand. Variants: today's map (192 px, stride 32:
6x6) and the finer ones (stride 16: the backbone's last stride-2 step dilated away).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_detectors  # noqa: E402

VARIANTS = {  # name: (input size, output stride)
    "192px-stride32 (today)": (192, 32),
    "128px-stride16": (128, 16),
    "192px-stride16": (192, 16),
}


def datasets() -> Path:
    for parent in ROOT.parents:
        if (parent / "shared" / "datasets" / "magnetic_tile").is_dir():
            return parent / "shared" / "datasets"
    return ROOT.parent / "shared" / "datasets"


def run(cmd: list[str], log: Path) -> str:
    shown = " ".join(cmd).replace(sys.executable, ".venv/bin/python")
    print(f"$ {shown}", flush=True)
    with log.open("a") as err:
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}), see {log}: {shown}")
    return done.stdout


def box_figures(model_dir: Path, test_dir: Path, threads: int) -> dict:
    """On the masked defect images: how much of the photo the boxes cover, and how much of the
    boxes is defect (a box hit rate alone rewards boxes that cover everything)."""
    import cv2
    import numpy as np
    import torch

    from core.images import load_image
    from core.model.io import load_model

    torch.set_num_threads(threads)
    model = load_model(model_dir)
    area, precision, hit = [], [], []
    for path in sorted((test_dir / "defect").iterdir()):
        mask_path = test_dir / "masks" / f"{path.stem}.png"
        if not mask_path.is_file():
            continue
        image = load_image(path)
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        mask = cv2.resize(mask, (image.shape[1], image.shape[0])) > 127
        res = model.inspect_sides([image], [path.stem])[0]
        boxed = np.zeros(mask.shape, bool)
        for b in res.boxes:
            boxed[b.y0:b.y1, b.x0:b.x1] = True
        area.append(boxed.mean())
        if boxed.any():
            precision.append((boxed & mask).sum() / boxed.sum())
        hit.append(bool((boxed & mask).any()))
    return {"box_area_share": float(np.mean(area)), "box_precision": float(np.mean(precision)) if precision else None,
            "images_with_a_box_on_the_defect": float(np.mean(hit))}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="/tmp/cam_maps_mt")
    p.add_argument("--per-class", type=int, default=150, help="CAM training images per class")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reuse", action="store_true", help="evaluate models already trained under --out")
    args = p.parse_args()
    bench_detectors.DATASETS = datasets()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "commands.log"
    splits = bench_detectors.make_splits("magnetic_tile", out, 500, 200, args.seed, args.per_class)
    results = {}
    for name in args.variants:
        size, stride = VARIANTS[name]
        model = out / "models" / f"cam-{size}-s{stride}"
        if not (args.reuse and (model / "model.json").is_file()):
            run([sys.executable, "main.py", "train", str(splits["labelled_train"]), "--out", str(model),
                 "--region", "whole", "--input-size", str(size), "--output-stride", str(stride),
                 "--seed", str(args.seed), "--threads", str(args.threads)], log)
        report = json.loads(run([sys.executable, "main.py", "evaluate", str(splits["shared_test"]),
                                 "--model", str(model), "--json", "--threads", str(args.threads)], log))
        report.update(box_figures(model, splits["shared_test"], args.threads))
        results[name] = report
        (out / "results.json").write_text(json.dumps(results, indent=1))
    print("\n| CAM map | image AUROC | pixel AUROC | AUPRO@0.3 | box hit rate | photo share in boxes "
          "| box pixels on a defect | good images with a box |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        f = bench_detectors.fmt
        print(f"| {name} | {f(r['image_auroc'])} | {f(r['pixel_auroc'])} | {f(r['aupro'])} "
              f"| {f(r['box_hit_rate'])} | {f(r['box_area_share'])} | {f(r['box_precision'])} "
              f"| {f(r['good_with_boxes'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
