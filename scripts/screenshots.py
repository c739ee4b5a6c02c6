#!/usr/bin/env python3
"""Render every screen of the station at 1366×768 and save PNGs (for docs/GUI.md and the README).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/images/screens]
    (or under xvfb-run without the variable)

It builds a demo station in a temporary folder (``scripts/demo_data.py``: real can photos from
``--images``, judged by a real model: ``--model``, else the bundled default, else one trained
here for a few epochs on ``--images``), then shows each screen as a person would and grabs it.
Dialogs are drawn over the window they belong to.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt5.QtCore import QPoint, QSize, Qt  # noqa: E402
from PyQt5.QtGui import QColor, QPainter, QPixmap  # noqa: E402
from PyQt5.QtWidgets import QApplication, QWidget  # noqa: E402

SIZE = QSize(1366, 768)


def wait(app: QApplication, until=lambda: True, timeout: float = 60.0, settle: float = 0.3) -> None:
    """Run the event loop until ``until()`` holds, then a little longer for the paint."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)
    end = time.monotonic() + settle
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def save(pixmap: QPixmap, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    pixmap.save(str(path), "PNG", 0)     # 0: the strongest (lossless) compression
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def over(background: QPixmap | None, dialog: QWidget) -> QPixmap:
    """``dialog`` drawn centred over ``background`` (dimmed), or over the plain app colour."""
    canvas = QPixmap(SIZE)
    canvas.fill(QColor("#f4f6f8"))
    painter = QPainter(canvas)
    if background is not None:
        painter.drawPixmap(0, 0, background)
        painter.fillRect(canvas.rect(), QColor(0, 0, 0, 90))
    shot = dialog.grab()
    painter.drawPixmap(QPoint((SIZE.width() - shot.width()) // 2,
                              (SIZE.height() - shot.height()) // 2), shot)
    painter.end()
    return canvas


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


def demo_model_id(station, demo) -> int:
    return next(m.id for m in station.models.list(demo.admin)
                if Path(m.folder) == demo.model_folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "screens")
    parser.add_argument("--images", type=Path, default=ROOT.parent / "shared" / "datasets" / "cans")
    parser.add_argument("--model", help="a model folder (model.json + weights.safetensors)")
    parser.add_argument("--cans", type=int, default=30)
    parser.add_argument("--keep-data", type=Path, metavar="DIR",
                        help="build the demo station in DIR and keep it (then: main.py --data-dir "
                             "DIR/data, users admin / sue.miller / otto.berg, password "
                             "demo station password)")
    args = parser.parse_args()
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
    from gui.context import AppContext
    from gui.first_run_dialog import FirstRunDialog
    from gui.inference import InferenceService
    from gui.login_dialog import LoginDialog
    from gui.main_window import MainWindow
    from gui.workers import shutdown_all
    from scripts.demo_data import build_demo

    out = args.out
    model_dir = find_model(args, work)
    settings = Settings(data_dir=work / "data", station_name="line-1")
    empty = Station.open(None, work / "empty")
    first = FirstRunDialog(empty, settings.log_dir / "station.log")
    first.show()
    wait(app)
    save(over(None, first), out, "01-first-run")
    first.close()
    empty.close()

    station = Station.open(None, settings.data_dir)
    print(f"building the demo station with {args.cans} real inspections…")
    demo = build_demo(station, settings.models_dir, model_dir, args.images, args.cans)
    login = LoginDialog(station, settings.log_dir / "station.log", station_name="line-1")
    login.username.setText("otto.berg")
    login.password.setText("not the password")
    login.show()
    login._submit()
    wait(app, lambda: not login.busy)
    save(over(None, login), out, "02-sign-in")
    login.close()

    inference = InferenceService()
    log_path = settings.log_dir / "station.log"

    def window_for(actor) -> MainWindow:
        window = MainWindow(AppContext(settings, station, actor, inference, log_path))
        window.resize(SIZE)
        window.show()
        wait(app)
        return window

    # -- operator: capture before and after inspection, own inspections -------------------------
    operator = window_for(demo.operators[0])
    capture = operator.show_panel("capture")
    wait(app)
    save(operator.grab(), out, "03-capture-empty")
    photos = sorted((args.images / "good").glob("*.jpg"))[:6] + \
        sorted((args.images / "defect").glob("*.jpg"))[:1]
    capture.import_files([str(p) for p in photos])
    wait(app, lambda: not capture.busy, settle=0.5)
    save(operator.grab(), out, "04-capture-filled")
    capture.inspect()
    wait(app, lambda: not capture.busy, timeout=120, settle=1.0)
    save(operator.grab(), out, "05-capture-inspected")
    mine = operator.show_panel("my_inspections")
    wait(app, lambda: not mine.busy, settle=1.0)
    save(operator.grab(), out, "06-my-inspections")
    operator.close()

    # -- supervisor: gallery, detail, statistics ---------------------------------------------------
    supervisor = window_for(demo.supervisor)
    gallery = supervisor.show_panel("gallery")
    wait(app, lambda: not gallery.busy, settle=1.0)
    save(supervisor.grab(), out, "07-gallery")
    gallery.filters.verdict.setCurrentIndex(gallery.filters.verdict.findData("reject"))
    wait(app, lambda: not gallery.busy, settle=1.0)
    index = gallery.model.index(0, 0)
    if gallery.model.rowCount():
        detail = gallery.open_detail(index)
        wait(app, lambda: detail.detail is not None and not detail.busy, settle=0.5)
        worst = max(range(detail.strip.count()),
                    key=lambda i: detail.detail.sides[i].info.score)
        detail.strip.setCurrentRow(worst)
        wait(app)
        save(over(supervisor.grab(), detail), out, "08-inspection-detail")
        detail.close()
    stats = supervisor.show_panel("stats")
    wait(app, lambda: not stats.busy and stats.data is not None, settle=1.0)
    save(supervisor.grab(), out, "09-statistics")
    supervisor.close()

    # -- admin: users, warehouses, products (+ a refused edit), models ---------------------------
    admin = window_for(demo.admin)
    for n, key in ((10, "users"), (11, "warehouses"), (12, "products"), (14, "models")):
        panel = admin.show_panel(key)
        wait(app, settle=1.0)
        if key == "models":
            # the Models panel reads best with an evaluation: the model on the demo photos
            panel.select_model(demo_model_id(station, demo))
            job = panel.start_evaluation(str(args.images))
            wait(app, lambda job=job: job is None or job.done, timeout=600, settle=1.0)
        save(admin.grab(), out, f"{n}-{key}")
        if key == "products":
            panel.table.selectRow(0)
            panel.move()
            dialog = panel.dialog
            # move the first product into the cold store, where it does not fit
            dialog.warehouse.setCurrentIndex(dialog.warehouse.findText("Cold store",
                                                                       Qt.MatchStartsWith))
            dialog.submit()
            wait(app, lambda dialog=dialog: not dialog.busy, settle=0.5)
            save(over(admin.grab(), dialog), out, "13-product-refused")
            dialog.reject()
    admin.close()
    inference.shutdown()
    shutdown_all()
    station.close()


if __name__ == "__main__":
    sys.exit(main())
