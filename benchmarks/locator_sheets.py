#!/usr/bin/env python3
"""Contact sheets of the can locator on every photo of a data set, to judge it by eye.

    .venv/bin/python benchmarks/locator_sheets.py --out /tmp/locator [--data ../shared/datasets/cans]

Writes OUT/locator_NN.png (36 photos a sheet, the outline in green, the photo's number and the
locator's confidence in red, NONE where no can was found) and OUT/locator.txt (one line per photo:
number, file, found, confidence, box, reason), and prints the CPU time per photo (one OpenCV
thread). The numbers in docs/REGIONS.md refer to the photos' order in the sorted file list
(defect/ first, then good/).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loso_cans import default_data  # noqa: E402

CELL, COLS, PER_SHEET = 200, 6, 36


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(default_data()))
    p.add_argument("--out", required=True)
    args = p.parse_args()
    import cv2
    import numpy as np

    from core.images import load_image
    from core.regions.locator import locate_can

    cv2.setNumThreads(1)
    files = sorted(Path(args.data).glob("*/*.jpg")) + sorted(Path(args.data).glob("*/*.png"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines, seconds = [], []
    for start in range(0, len(files), PER_SHEET):
        chunk = files[start:start + PER_SHEET]
        rows = (len(chunk) + COLS - 1) // COLS
        sheet = np.full((rows * CELL, COLS * CELL, 3), 255, np.uint8)
        for i, path in enumerate(chunk):
            image = load_image(path)
            t0 = time.process_time()
            found = locate_can(image)
            seconds.append(time.process_time() - t0)
            vis = image[:, :, ::-1].copy()
            if found.found:
                cv2.polylines(vis, [found.outline.reshape(-1, 1, 2)], True, (0, 255, 0), 5)
            tile = cv2.resize(vis, (CELL, CELL), interpolation=cv2.INTER_AREA)
            n = start + i
            cv2.putText(tile, f"{n} {found.confidence:.2f}", (2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
            if not found.found:
                cv2.putText(tile, "NONE", (2, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
            r, c = divmod(i, COLS)
            sheet[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL] = tile
            lines.append(f"{n} {path.parent.name}/{path.name} {found.found} {found.confidence:.3f} "
                         f"{found.box} {found.reason}")
        cv2.imwrite(str(out / f"locator_{start // PER_SHEET:02d}.png"), sheet)
    (out / "locator.txt").write_text("\n".join(lines) + "\n")
    ms = np.asarray(seconds) * 1000
    print(f"{len(files)} photos, {sum('True' in line.split()[2] for line in lines)} with a can found; "
          f"CPU per photo: median {np.median(ms):.1f} ms, 90th percentile {np.percentile(ms, 90):.1f} ms")
    print(f"sheets in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
