#!/usr/bin/env python3
"""Render every screen of the station and save PNGs (for docs/GUI.md and the README).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/images/screens]
        [--size 1024x640] [--only 05,16,19] [--keep-data DIR]
    (or under xvfb-run without the variable)

It builds a demo station in a temporary folder (``scripts/demo_data.py``: real can photos from
``--images``, judged by a real model: ``--model``, else the bundled default, else one trained
here for a few epochs on ``--images``; plus ``--history`` records of those judged cans at other
hours, for the control charts), then shows each screen as a person would and grabs it at
``--size`` (1366×768 by default). Dialogs are drawn over the window they belong to.
``--only`` takes the numbers (or names) of the screens to render; the Models screen evaluates
the model on ``--images`` first, which takes minutes.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt5.QtCore import QSize  # noqa: E402
from PyQt5.QtGui import QPixmap  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402


class Shots:
    """Saves the screens asked for (``--only``) as ``<out>/<name>.png``."""

    def __init__(self, out: Path, only: str | None) -> None:
        self.out = out
        self.only = [o.strip() for o in only.split(",")] if only else None

    def want(self, name: str) -> bool:
        return self.only is None or any(name.startswith(o) for o in self.only)

    def save(self, pixmap: QPixmap, name: str) -> None:
        if not self.want(name):
            return
        path = self.out / f"{name}.png"
        pixmap.save(str(path), "PNG", 0)     # 0: the strongest (lossless) compression
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def find_model(args: argparse.Namespace, work: Path) -> Path:
    from app.first_start import bundled_model_folder
    if args.model:
        return Path(args.model)
    bundled = bundled_model_folder()
    if bundled is not None:
        return bundled
    print("no bundled model: training a small one on the demo photos (a few minutes)…")
    from core.progress import Progress
    from core.training import TrainConfig, scan_dataset, train_model
    model = train_model(scan_dataset(args.images), TrainConfig(epochs=6, patience=3),
                        Progress(lambda d, t, m: print(f"  {m} {d}/{t}", flush=True)), "demo")
    model.save(work / "trained-model")
    return work / "trained-model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "screens")
    parser.add_argument("--images", type=Path, default=ROOT.parent / "shared" / "datasets" / "cans")
    parser.add_argument("--model", help="a model folder (model.json + weights.safetensors)")
    parser.add_argument("--cans", type=int, default=30)
    parser.add_argument("--history", type=int, default=900,
                        help="records for the control charts (the demo's cans again)")
    parser.add_argument("--size", default="1366x768", help="window size, e.g. 1024x640")
    parser.add_argument("--only", help="comma-separated screen numbers or names")
    parser.add_argument("--keep-data", type=Path, metavar="DIR",
                        help="build the demo station in DIR and keep it (then: main.py --data-dir "
                             "DIR/data, users admin / sue.miller / otto.berg, password "
                             "demo station password)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    args.window = QSize(w, h)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    from gui.theme import apply_style
    apply_style(app)
    if args.keep_data is not None:
        args.keep_data.mkdir(parents=True, exist_ok=True)
        shoot_all(app, args, args.keep_data)
        return 0
    with tempfile.TemporaryDirectory(prefix="station-demo-") as tmp:
        shoot_all(app, args, Path(tmp))
    return 0


def shoot_all(app: QApplication, args: argparse.Namespace, work: Path) -> None:
    from core.settings import Settings
    from db import Station
    from gui.inference import InferenceService
    from gui.workers import shutdown_all
    from scripts.demo_data import build_demo
    from scripts.screens import shoot_admin, shoot_operator, shoot_start, shoot_supervisor
    from scripts.screens_regions import shoot_regions

    shots = Shots(args.out, args.only)
    model_dir = find_model(args, work)
    settings = Settings(data_dir=work / "data", station_name="line-1")
    shoot_start(app, shots, work, settings, args.window)
    fresh = not (settings.data_dir / "station.sqlite3").exists()
    station = Station.open(None, settings.data_dir)
    if fresh:
        print(f"building the demo station with {args.cans} real inspections…")
        demo = build_demo(station, settings.models_dir, model_dir, args.images, args.cans,
                          history=args.history)
    else:                 # --keep-data of an earlier run: the same demo, not a second one
        from scripts.demo_data import existing_demo
        demo = existing_demo(station, model_dir)
    inference = InferenceService()
    env = dict(app=app, shots=shots, settings=settings, station=station, demo=demo,
               inference=inference, images=args.images, size=args.window, work=work)
    shoot_operator(**env)
    shoot_supervisor(**env)
    shoot_admin(**env, evaluate=shots.want("14"))
    shoot_regions(**env)
    inference.shutdown()
    shutdown_all()
    station.close()


if __name__ == "__main__":
    sys.exit(main())
