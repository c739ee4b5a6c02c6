#!/usr/bin/env python3
"""How long after start the first window (sign-in) is up, and when the engine is in.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py [--runs 3] [--root DIR]

``--root`` runs another checkout's station (e.g. an older one, to compare).

Each run is a fresh Python process (cold imports, warm disk cache) that starts ``run_gui`` on a
data folder with one account, notes the moment the sign-in dialog is visible and the moment the
inference worker exists (which is when a signed-in person gets the window), then quits.
Times are from the process's start (``time.perf_counter`` at the first line of the child).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication
from core.settings import Settings
import gui.app as app_module
seen = {}
def poll():
    for w in QApplication.topLevelWidgets():
        if w.objectName() == "loginDialog" and w.isVisible() and "dialog" not in seen:
            seen["dialog"] = time.perf_counter() - t0
    QTimer.singleShot(5, poll)
orig = app_module.InferenceService.__init__
def traced(self, *a, **k):
    orig(self, *a, **k)
    seen["engine"] = time.perf_counter() - t0
    QTimer.singleShot(0, lambda: [w.close() for w in QApplication.topLevelWidgets()
                                  if w.objectName() == "loginDialog"])
app_module.InferenceService.__init__ = traced
QTimer.singleShot(0, poll)
app_module.run_gui(Settings(data_dir=Path(sys.argv[2]), station_name="bench"))
print(json.dumps(seen))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to start")
    args = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        sys.path.insert(0, str(ROOT))
        from db import Station
        station = Station.open(None, Path(tmp))
        station.auth.create_first_admin("admin", "a long bench password")
        station.close()
        results = []
        for n in range(args.runs):
            out = subprocess.run([sys.executable, "-c", CHILD, str(args.root), tmp], env=env,
                                 capture_output=True, text=True, timeout=300)
            line = [t for t in out.stdout.splitlines() if t.startswith("{")]
            if out.returncode != 0 or not line:
                print(out.stdout, out.stderr, file=sys.stderr)
                return 1
            seen = json.loads(line[-1])
            results.append(seen)
            print(f"run {n + 1}: sign-in dialog up after {seen['dialog']:.2f} s, engine in "
                  f"after {seen['engine']:.2f} s")
        for key, what in (("dialog", "first window (sign-in)"), ("engine", "engine in")):
            values = [r[key] for r in results]
            print(f"{what}: median {statistics.median(values):.2f} s "
                  f"(min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
