#!/usr/bin/env python3
"""The fast cascade against its heavy detector alone: time per can and accuracy on the same images.

On the magnetic_tile split of ``benchmarks/bench_detectors.py`` (seed ``--seed``), the shared test
set (images no model saw) is cut in two by a seeded order: the first half places the gate's pass
level (``main.py train CAL --detector cascade --gate G --heavy H``), the second half is judged.
The gate is ``--gate`` (a model folder; ``classical`` builds the classical check from the split's
good training images, in seconds); the heavy detector is ``--heavy`` (PatchCore or segdec).

The judged half is cut into cans of seven photos: every can of seven good photos, and cans of six
good plus one defective photo (each defective photo once). Each model inspects every can
(``Model.inspect_sides``, one can per call, after a warm-up can); the table gives the mean and
median milliseconds per can of each kind, how many sides the heavy detector judged, and image
AUROC, AP, recall and good images flagged at the station's 0.5 on every judged photo.

Usage:  .venv/bin/python benchmarks/bench_cascade.py --out out/bench_detectors \\
            --heavy out/bench_detectors/models/magnetic_tile-patchcore-seed0 --gate classical --threads 1
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_detectors as bd  # a sibling script, not a package

SIDES = 7


def halves(shared: Path, out: Path, seed: int) -> tuple[Path, Path]:
    """(calibration folder, judged folder): the shared test set cut in two, per label, seeded."""
    parts = {"cal": {}, "judged": {}}
    for sub in ("good", "defect"):
        files = sorted((shared / sub).iterdir())
        random.Random(seed).shuffle(files)
        half = len(files) // 2
        parts["cal"][sub], parts["judged"][sub] = files[:half], files[half:]
    folders = []
    for key in ("cal", "judged"):
        folders.append(bd.link_split(out / f"cascade_{key}", [p.resolve() for p in parts[key]["good"]],
                                     [p.resolve() for p in parts[key]["defect"]], None))
    return folders[0], folders[1]


def cans(judged: Path) -> tuple[list[list[Path]], list[list[Path]]]:
    """(cans of seven good photos, cans of six good + one defective photo)."""
    good = sorted((judged / "good").iterdir())
    defect = sorted((judged / "defect").iterdir())
    all_good = [good[i:i + SIDES] for i in range(0, len(good) - SIDES + 1, SIDES)]
    one_bad = [[good[(6 * k + j) % len(good)] for j in range(SIDES - 1)] + [d] for k, d in enumerate(defect)]
    return all_good, one_bad


def judge(model, groups: list[list[Path]], images: dict) -> tuple[list[float], dict[Path, float], int]:
    """Milliseconds per can, every photo's score, and how many sides the heavy detector judged."""
    names = [f"side {i + 1}" for i in range(SIDES)]
    model.inspect_sides([images[p] for p in groups[0]], names)          # warm-up
    times, scores, heavy = [], {}, 0
    for group in groups:
        started = time.perf_counter()
        results = model.inspect_sides([images[p] for p in group], names)
        times.append((time.perf_counter() - started) * 1000.0)
        heavy += getattr(model, "last_heavy_sides", SIDES)
        scores.update({p: r.score for p, r in zip(group, results)})
    return times, scores, heavy


def accuracy(scores: dict[Path, float]) -> dict:
    import numpy as np

    from core.evaluation.metrics import average_precision, roc_auc

    y = np.array([int(p.parent.name == "defect") for p in scores])
    s = np.array(list(scores.values()))
    flagged = s >= 0.5
    return {"image_auroc": round(roc_auc(y, s), 4), "average_precision": round(average_precision(y, s), 4),
            "recall": round(float(flagged[y == 1].mean()), 4), "good_flagged": int(flagged[y == 0].sum()),
            "good": int((y == 0).sum()), "defect": int(y.sum())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(bd.ROOT / "out" / "bench_detectors"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mt-train", type=int, default=500)
    p.add_argument("--mt-test-good", type=int, default=200)
    p.add_argument("--heavy", required=True, help="the heavy model's folder (PatchCore or segdec)")
    p.add_argument("--gate", default="classical", help="the gate model's folder, or 'classical'")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    log = out / "commands.log"
    splits = bd.make_splits("magnetic_tile", out, args.mt_train, args.mt_test_good, args.seed)
    gate = Path(args.gate)
    if args.gate == "classical":
        gate = out / "models" / f"magnetic_tile-classical-seed{args.seed}"
        bd.run([bd.PYTHON, "main.py", "train", str(splits["good_only_train"]), "--out", str(gate),
                "--detector", "classical", "--seed", str(args.seed), "--region", "whole"], log)
    cal, judged = halves(splits["shared_test"], out / "splits", args.seed)
    heavy = Path(args.heavy).resolve()
    cascade = out / "models" / f"cascade-{gate.name}-{heavy.name}"
    build, _ = bd.run([bd.PYTHON, "main.py", "train", str(cal), "--out", str(cascade), "--detector",
                       "cascade", "--gate", str(gate.resolve()), "--heavy", str(heavy),
                       "--threads", str(args.threads)], log)
    print(build.strip())

    import torch

    torch.set_num_threads(args.threads)
    from core.images import load_image
    from core.model.io import load_model

    all_good, one_bad = cans(judged)
    images = {p: load_image(p) for group in all_good + one_bad for p in group}
    rows = {}
    for label, folder in (("heavy alone", heavy), ("cascade", cascade)):
        model = load_model(folder)
        row: dict = {"model": folder.name}
        scores: dict[Path, float] = {}
        for kind, groups in (("seven_good", all_good), ("six_good_one_defective", one_bad)):
            times, s, heavy_sides = judge(model, groups, images)
            scores.update(s)
            row[kind] = {"cans": len(groups), "mean_ms": round(statistics.mean(times), 1),
                         "median_ms": round(statistics.median(times), 1),
                         "heavy_sides_per_can": round(heavy_sides / len(groups), 2)}
        row["accuracy"] = accuracy(scores)
        rows[label] = row
    spec = json.loads((cascade / "model.json").read_text())
    result = {"gate": gate.name, "heavy": heavy.name, "threads": args.threads,
              "pass_below": spec["extra"]["cascade"]["pass_below"],
              "gate_passes_good_calibration": spec["trained_on"]["gate_passes_good"], "rows": rows}
    (out / f"cascade_{gate.name}_{heavy.name}.json").write_text(json.dumps(result, indent=2))
    print(f"\ngate {gate.name}, heavy {heavy.name}: pass below {result['pass_below']} on the gate's "
          f"scale; it passes {result['gate_passes_good_calibration']:.0%} of the good calibration images")
    print("| model | ms per can, 7 good (mean / median) | heavy sides | ms per can, 6 good + 1 defective "
          "| heavy sides | image AUROC | AP | recall@0.5 | good flagged@0.5 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        a, g, b = r["accuracy"], r["seven_good"], r["six_good_one_defective"]
        print(f"| {label} | {g['mean_ms']:.0f} / {g['median_ms']:.0f} ({g['cans']} cans) | "
              f"{g['heavy_sides_per_can']} | {b['mean_ms']:.0f} / {b['median_ms']:.0f} ({b['cans']} cans) | "
              f"{b['heavy_sides_per_can']} | {a['image_auroc']:.3f} | {a['average_precision']:.3f} | "
              f"{a['recall']:.3f} | {a['good_flagged']}/{a['good']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
