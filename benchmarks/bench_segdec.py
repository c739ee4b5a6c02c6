#!/usr/bin/env python3
"""segdec with masks for 0, 5, 20 and all defective training images, beside CAM and PatchCore.

On magnetic_tile (a mask for every defect), the split of ``benchmarks/bench_detectors.py`` (seed
``--seed``): segdec trains on the CAM classifier's labelled images (``--cam-max-per-class`` good and
as many defective), with masks for only the first N of a seeded order of its defective images
(the sets are nested: the 5 are among the 20); every model is evaluated on the shared test set
(good images no model saw, and the defective half no model saw), with all masks for the pixel
figures. CAM and PatchCore rows come from ``bench_detectors.py`` in the same ``--out`` (run with
``--baselines`` to make them; PatchCore builds from ``--mt-train`` good images).

Every figure comes from the station's own commands (``main.py train``, ``evaluate --json``,
``bench --json``), printed as they run; split folders are symlinks under ``--out``.

Usage:  .venv/bin/python benchmarks/bench_segdec.py --out out/bench_detectors [--masks 0 5 20 all]
            [--baselines] [--classical] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_detectors as bd  # a sibling script, not a package


def masked_split(labelled: Path, target: Path, n_masks: int | None, seed: int) -> tuple[Path, int]:
    """``target``: the labelled images (symlinks) and masks for the first ``n_masks`` defective
    images of a seeded order (None = all); returns the folder and the number of masks."""
    good = sorted((labelled / "good").iterdir())
    defect = sorted((labelled / "defect").iterdir())
    order = list(defect)
    random.Random(seed).shuffle(order)
    chosen = order if n_masks is None else order[:n_masks]
    masks_source = bd.DATASETS / "magnetic_tile" / "masks"
    bd.link_split(target, [p.resolve() for p in good], [p.resolve() for p in defect], None)
    folder = target / "masks"
    folder.mkdir(exist_ok=True)
    for image in chosen:
        link = folder / f"{image.stem}.png"
        if not link.exists():
            link.symlink_to((masks_source / f"{image.stem}.png").resolve())
    return target, len(chosen)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(bd.ROOT / "out" / "bench_detectors"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--masks", nargs="*", default=["0", "5", "20", "all"])
    p.add_argument("--mt-train", type=int, default=500)
    p.add_argument("--mt-test-good", type=int, default=200)
    p.add_argument("--cam-max-per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, help="segdec epochs (default: the catalogue's)")
    p.add_argument("--repeats", type=int, default=10, help="bench repeats for the time per can")
    p.add_argument("--threads", type=int)
    p.add_argument("--baselines", action="store_true", help="also (re)run CAM and PatchCore via bench_detectors")
    p.add_argument("--classical", action="store_true",
                   help="also build the classical check from the good training images and judge it alike")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "commands.log"
    common = ["--out", str(out), "--seed", str(args.seed), "--mt-train", str(args.mt_train),
              "--mt-test-good", str(args.mt_test_good), "--repeats", str(args.repeats)]
    if args.threads:
        common += ["--threads", str(args.threads)]
    if args.baselines:
        bd.main(common + ["--datasets", "magnetic_tile", "--detectors", "patchcore", "cam",
                          "--cam-max-per-class", str(args.cam_max_per_class)])
    splits = bd.make_splits("magnetic_tile", out, args.mt_train, args.mt_test_good, args.seed,
                            args.cam_max_per_class)
    results_file = out / "segdec_results.json"
    rows = json.loads(results_file.read_text()) if results_file.exists() else {}
    if args.classical:
        model = out / "models" / f"magnetic_tile-classical-seed{args.seed}"
        _, wall = bd.run([bd.PYTHON, "main.py", "train", str(splits["good_only_train"]), "--out", str(model),
                          "--detector", "classical", "--seed", str(args.seed), "--region", "whole"], log)
        rows["classical"] = {"label": "classical check, good only", "train_command_seconds": round(wall, 1),
                             "shared_test": bd.evaluate(model, splits["shared_test"], log, args),
                             "ms_per_can": bd.time_per_can(model, splits["shared_test"], log, args)}
        results_file.write_text(json.dumps(rows, indent=2))
    for n in args.masks:
        count = None if n == "all" else int(n)
        data, n_masks = masked_split(splits["labelled_train"], splits["labelled_train"].with_name(
            f"{splits['labelled_train'].name}_masks{n}"), count, args.seed)
        model = out / "models" / f"magnetic_tile-segdec-masks{n}-seed{args.seed}"
        # Tiles, not cans: the whole photo is the region (as CAM and PatchCore see it here).
        cmd = [bd.PYTHON, "main.py", "train", str(data), "--out", str(model), "--detector", "segdec",
               "--seed", str(args.seed), "--region", "whole"]
        if args.epochs:
            cmd += ["--epochs", str(args.epochs)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        _, wall = bd.run(cmd, log)
        spec = json.loads((model / "model.json").read_text())
        rows[n] = {"masks": n_masks, "masks_used": spec["trained_on"].get("masks_used"),
                   "train_data": str(data), "train_command_seconds": round(wall, 1),
                   "shared_test": bd.evaluate(model, splits["shared_test"], log, args),
                   "ms_per_can": bd.time_per_can(model, splits["shared_test"], log, args)}
        results_file.write_text(json.dumps(rows, indent=2))
        print_table(out, rows)
    return 0


def print_table(out: Path, rows: dict) -> None:
    baselines = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else []
    print("\n| detector, built from | image AUROC | AP | pixel AUROC | AUPRO@0.3 | box hit | "
          "good flagged@0.5 | recall@0.5 | build s | ms per can |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in baselines:
        if r["dataset"] != "magnetic_tile":
            continue
        label = {"patchcore": "PatchCore, good only", "cam": "CAM, labels"}[r["detector"]]
        _row(f"{label} ({r['shared_test']['model']})", r["shared_test"], r["build_seconds"], r["ms_per_can"])
    for n, r in rows.items():
        label = r.get("label") or f"segdec, labels + {r['masks_used']} masks ({n})"
        _row(f"{label} ({r['shared_test']['model']})", r["shared_test"], r["train_command_seconds"],
             r["ms_per_can"])
    sys.stdout.flush()


def _row(label: str, e: dict, build: float, ms: float) -> None:
    print(f"| {label} | {bd.fmt(e['image_auroc'])} | {bd.fmt(e['average_precision'])} "
          f"| {bd.fmt(e['pixel_auroc'])} | {bd.fmt(e['aupro'])} | {bd.fmt(e['box_hit_rate'])} "
          f"| {e['decision']['fp']}/{e['good']} | {bd.fmt(e['decision']['recall'])} | {build} | {ms:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
