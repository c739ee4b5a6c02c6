#!/usr/bin/env python3
"""The speed benchmark: one can of seven real 640x640 can photos through the default model and the
VGG16-CAM baseline, end to end. A thin wrapper around ``main.py bench`` that picks seven photos
from the cans data set (the first seven defect photos by name) so runs are comparable.

    .venv/bin/python benchmarks/bench_can.py [--repeats 20] [--threads 2] [--unoptimised]
"""
from __future__ import annotations

import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))

import main  # noqa: E402

DATA = root.parent / "shared" / "datasets" / "cans" / "defect"

if __name__ == "__main__":
    photos = sorted(str(p) for p in DATA.glob("*.jpg"))[:7]
    args = ["bench"] + (["--images", *photos] if photos else []) + sys.argv[1:]
    sys.exit(main.main(args))
