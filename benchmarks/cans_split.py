#!/usr/bin/env python3
"""Seeded stratified split of a data set into a training part and a held-out part, as symlinks.

    python benchmarks/cans_split.py ../shared/datasets/cans /tmp/cans_split [--holdout 0.3] [--seed 0]

Writes OUT/train/{good,defect} and OUT/holdout/{good,defect} (symlinks, no copies) and
OUT/split.txt (one "part label relative-path" line per image), so the images never enter the
repository and the split can be reproduced and audited.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.training import scan_dataset, stratified_split


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir")
    ap.add_argument("out")
    ap.add_argument("--holdout", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    root = Path(args.data_dir).resolve()
    samples = scan_dataset(root)
    train_idx, hold_idx = stratified_split([s.label for s in samples], args.holdout, args.seed)
    out = Path(args.out)
    lines = []
    for part, idx in (("train", train_idx), ("holdout", hold_idx)):
        for i in idx:
            src = Path(samples[i].source)
            sub = "good" if samples[i].label == 0 else "defect"
            dst = out / part / sub / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            os.symlink(src, dst)
            lines.append(f"{part} {sub} {src.relative_to(root)}")
    (out / "split.txt").write_text("\n".join(lines) + "\n")
    for part, idx in (("train", train_idx), ("holdout", hold_idx)):
        n_bad = sum(samples[i].label for i in idx)
        print(f"{part}: {len(idx)} images ({len(idx) - n_bad} good, {n_bad} defect)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
