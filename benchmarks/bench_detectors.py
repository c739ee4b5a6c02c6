#!/usr/bin/env python3
"""CAM classifier vs the good-only PatchCore detector on magnetic_tile and cans, side by side.

Every figure comes from the station's own commands (``main.py train``, ``evaluate --json``,
``bench --json``), run as subprocesses on seeded splits that are written as folders of symlinks
under ``--out`` (the data sets are never copied). The commands are printed as they run, so each
row can be reproduced by hand.

Splits (seed ``--seed``):

- magnetic_tile, PatchCore: built from ``--mt-train`` good images only; evaluated on ALL defective
  images plus good images it never saw (at most ``--mt-test-good``).
- magnetic_tile, CAM (needs labels): trained on the same good images plus half of the defective
  ones; both detectors are then also evaluated on the shared test set (unseen good + the other
  half of the defects), which is what the side-by-side table shows.
- cans: the same scheme with ``--cans-train-good`` of the 57 good photos.

Time per can: ``main.py bench`` on seven test photos of that data set (640x640, end to end).

Usage:  .venv/bin/python benchmarks/bench_detectors.py --out out/bench [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/datasets of the first parent folder that has one (a worktree lies deeper than main).
DATASETS = next((parent / "shared" / "datasets" for parent in ROOT.parents
                 if (parent / "shared" / "datasets").is_dir()), ROOT.parent / "shared" / "datasets")
PYTHON = sys.executable


def link_split(target: Path, good: list[Path], defect: list[Path], masks: Path | None) -> Path:
    """A data folder of symlinks: target/good, target/defect (and target/masks -> the real masks)."""
    for sub, files in (("good", good), ("defect", defect)):
        folder = target / sub
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            link = folder / f.name
            if not link.exists():
                link.symlink_to(f.resolve())
    if masks is not None and not (target / "masks").exists():
        (target / "masks").symlink_to(masks.resolve())
    return target


def make_splits(name: str, out: Path, n_train_good: int, max_test_good: int | None,
                seed: int, cam_cap: int | None = None) -> dict[str, Path]:
    source = DATASETS / name
    rng = random.Random(seed)
    good = sorted((source / "good").iterdir())
    defect = sorted((source / "defect").iterdir())
    rng.shuffle(good)
    rng.shuffle(defect)
    train_good, test_good = good[:n_train_good], good[n_train_good:]
    if max_test_good is not None:
        test_good = test_good[:max_test_good]
    half = len(defect) // 2
    masks = source / "masks" if (source / "masks").is_dir() else None
    # The folder name carries every split parameter: a rerun with other sizes never mixes links.
    base = out / "splits" / f"{name}-train{n_train_good}-testgood{max_test_good or 'all'}-seed{seed}"
    cam_good, cam_defect = train_good[:cam_cap], defect[:half][:cam_cap]  # [:None] keeps all
    return {
        "good_only_train": link_split(base / "good_only_train", train_good, [], None),
        "labelled_train": link_split(base / (f"labelled_train_cap{cam_cap}" if cam_cap else "labelled_train"),
                                     cam_good, cam_defect, None),
        "all_defects_test": link_split(base / "all_defects_test", test_good, defect, masks),
        "shared_test": link_split(base / "shared_test", test_good, defect[half:], masks),
    }


def run(cmd: list[str], log: Path) -> tuple[str, float]:
    """Run a station command; stdout is returned, stderr (progress bars) goes to the log."""
    shown = " ".join(str(c) for c in cmd).replace(PYTHON, ".venv/bin/python")
    print(f"$ {shown}", flush=True)
    started = time.perf_counter()
    with log.open("a") as err:
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}), see {log}: {shown}")
    return done.stdout, seconds


def train(detector: str, data: Path, model: Path, log: Path, args) -> float:
    cmd = [PYTHON, "main.py", "train", str(data), "--out", str(model), "--detector", detector,
           "--seed", str(args.seed)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.quick and detector == "cam":
        cmd += ["--epochs", "3"]
    _, seconds = run(cmd, log)
    return seconds


def evaluate(model: Path, data: Path, log: Path, args) -> dict:
    cmd = [PYTHON, "main.py", "evaluate", str(data), "--model", str(model), "--json"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out, _ = run(cmd, log)
    return json.loads(out)


def time_per_can(model: Path, data: Path, log: Path, args) -> float:
    photos = sorted((data / "defect").iterdir())[:4] + sorted((data / "good").iterdir())[:3]
    cmd = [PYTHON, "main.py", "bench", "--model", str(model), "--no-vgg", "--json",
           "--repeats", str(args.repeats), "--images", *map(str, photos)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out, _ = run(cmd, log)
    rows = json.loads(out[out.index("["):])
    return float(rows[0]["median_ms"])


def fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "out" / "bench_detectors"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mt-train", type=int, default=500, help="good magnetic_tile images to build from")
    p.add_argument("--mt-test-good", type=int, default=200, help="cap on unseen good magnetic_tile images")
    p.add_argument("--cans-train-good", type=int, default=34, help="good cans photos to build from")
    p.add_argument("--datasets", nargs="+", default=["cans", "magnetic_tile"])
    p.add_argument("--detectors", nargs="+", default=["patchcore", "cam"])
    p.add_argument("--repeats", type=int, default=10, help="bench repeats for the time per can")
    p.add_argument("--threads", type=int, help="torch threads for every command")
    p.add_argument("--cam-max-per-class", type=int,
                   help="magnetic_tile: train CAM on at most N good and N defective images of its "
                        "labelled split (CAM training time grows with the images; test set unchanged)")
    p.add_argument("--quick", action="store_true", help="3 CAM epochs (a smoke run, not for figures)")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "commands.log"
    # Rows of earlier runs in the same --out are kept unless this run redoes them.
    results_file = out / "results.json"
    done = json.loads(results_file.read_text()) if results_file.exists() else []
    results = [r for r in done if (r["dataset"], r["detector"]) not in
               {(d, k) for d in args.datasets for k in args.detectors}]
    splits_of = {name: make_splits(name, out, args.mt_train if name == "magnetic_tile" else args.cans_train_good,
                                   args.mt_test_good if name == "magnetic_tile" else None, args.seed,
                                   args.cam_max_per_class if name == "magnetic_tile" else None)
                 for name in args.datasets}
    # Detector by detector, so the good-only figures (the ones the issue asks for) come first.
    for detector in args.detectors:
        for name in args.datasets:
            splits = splits_of[name]
            model = out / "models" / f"{name}-{detector}-seed{args.seed}"
            train_data = splits["good_only_train" if detector == "patchcore" else "labelled_train"]
            wall = train(detector, train_data, model, log, args)
            spec = json.loads((model / "model.json").read_text())
            build = spec.get("metrics", {}).get("build_seconds", round(wall, 1))
            row = {"dataset": name, "detector": detector, "train_data": str(train_data),
                   "build_seconds": build, "train_command_seconds": round(wall, 1),
                   "shared_test": evaluate(model, splits["shared_test"], log, args)}
            if detector == "patchcore":
                row["all_defects_test"] = evaluate(model, splits["all_defects_test"], log, args)
            row["ms_per_can"] = time_per_can(model, splits["shared_test"], log, args)
            results.append(row)
            results_file.write_text(json.dumps(results, indent=2))
            print_table(results)
    return 0


def print_table(results: list[dict]) -> None:
    print("\n| data set | detector | test set | images (good/defect) | image AUROC | pixel AUROC "
          "| AUPRO@0.3 | box hit | recall@0.5 | good flagged@0.5 | review share | build s | ms per can |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for key in ("shared_test", "all_defects_test"):
            if key not in r:
                continue
            e = r[key]
            print(f"| {r['dataset']} | {r['detector']} | {key.replace('_', ' ')} | {e['good']}/{e['defect']} "
                  f"| {fmt(e['image_auroc'])} | {fmt(e['pixel_auroc'])} | {fmt(e['aupro'])} "
                  f"| {fmt(e['box_hit_rate'])} | {fmt(e['decision']['recall'])} "
                  f"| {e['decision']['fp']}/{e['good']} | {fmt(e['review_share'])} | {r['build_seconds']} "
                  f"| {r['ms_per_can']:.0f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
