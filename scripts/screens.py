"""The screens ``scripts/screenshots.py`` renders, one function per person at the station.

Each shows the screens as that person would reach them and hands the grabs to ``shots.save``;
``shots.want`` skips the slow work of screens that were not asked for.
"""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
from PyQt5.QtCore import QPoint, QSize, Qt
from PyQt5.QtGui import QColor, QImage, QPainter, QPixmap
from PyQt5.QtWidgets import QApplication, QWidget


def wait(app: QApplication, until=lambda: True, timeout: float = 60.0,
         settle: float = 0.3) -> None:
    """Run the event loop until ``until()`` holds, then a little longer for the paint."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)
    end = time.monotonic() + settle
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def over(background: QPixmap | None, dialog: QWidget, size: QSize | None = None) -> QPixmap:
    """``dialog`` drawn centred over ``background`` (dimmed), or over the plain app colour."""
    size = background.size() if background is not None else (size or QSize(1366, 768))
    canvas = QPixmap(size)
    canvas.fill(QColor("#f4f6f8"))
    painter = QPainter(canvas)
    if background is not None:
        painter.drawPixmap(0, 0, background)
        painter.fillRect(canvas.rect(), QColor(0, 0, 0, 90))
    shot = dialog.grab()
    painter.drawPixmap(QPoint((size.width() - shot.width()) // 2,
                              max(0, (size.height() - shot.height()) // 2)), shot)
    painter.end()
    return canvas


def demo_model_id(station, demo) -> int:
    return next(m.id for m in station.models.list(demo.admin)
                if Path(m.folder) == demo.model_folder)


def window_for(app, settings, station, inference, actor, size):
    from gui.context import AppContext
    from gui.main_window import MainWindow

    window = MainWindow(AppContext(settings, station, actor, inference,
                                   settings.log_dir / "station.log"))
    window.resize(size)
    window.show()
    wait(app)
    return window


def shoot_start(app, shots, work: Path, settings, size: QSize) -> None:
    """First start, sign-in (a wrong password, the engine still loading), the splash."""
    from db import Station
    from gui.first_run_dialog import FirstRunDialog
    from gui.login_dialog import LoginDialog
    from gui.startup import StartupSplash, step_text

    log = settings.log_dir / "station.log"
    empty = Station.open(None, work / "empty-first-run")   # never given an account
    first = FirstRunDialog(empty, log)
    first.show()
    wait(app)
    shots.save(over(None, first, size), "01-first-run")
    first.close()
    empty.close()
    station = Station.open(None, work / "login")
    if not station.auth.has_users():
        station.auth.create_first_admin("otto.berg", "a long demo password")
    login = LoginDialog(station, log, station_name="line-1")
    login.set_engine_progress(3, 16, step_text(3, 16, "timm"))
    login.username.setText("otto.berg")
    login.password.setText("not the password")
    login.show()
    login._submit()
    wait(app, lambda: not login.busy)
    shots.save(over(None, login, size), "02-sign-in")
    login.close()
    station.close()
    splash = StartupSplash("line-1", "Signed in as otto.berg. The window opens as soon as the "
                           "inspection engine is ready.")
    splash.set_engine_progress(12, 16, step_text(12, 16, "core.training"))
    splash.show()
    wait(app)
    shots.save(over(None, splash, size), "21-splash")
    splash.close()


def shoot_operator(app, shots, settings, station, demo, inference, images: Path, size,
                   **_: Any) -> None:
    window = window_for(app, settings, station, inference, demo.operators[0], size)
    capture = window.show_panel("capture")
    wait(app)
    shots.save(window.grab(), "03-capture-empty")
    photos = sorted((images / "good").glob("*.jpg"))[:6] + \
        sorted((images / "defect").glob("*.jpg"))[:1]
    capture.import_files([str(p) for p in photos])
    wait(app, lambda: not capture.busy, settle=0.5)
    shots.save(window.grab(), "04-capture-filled")
    capture.select_side(6)
    capture.inspect()
    wait(app, lambda: not capture.busy, timeout=120, settle=0.2)
    capture.alert.stop()                   # the flash is a moment; the picture is the verdict
    wait(app, settle=0.5)
    shots.save(window.grab(), "05-capture-inspected")
    mine = window.show_panel("my_inspections")
    mine.filters.set_dates(None, None)
    wait(app, lambda: not mine.busy, settle=1.0)
    shots.save(window.grab(), "06-my-inspections")
    if shots.want("17"):
        dialog = window.change_password()
        dialog.old.setText("demo-password")
        dialog.new.setText("short")
        dialog.confirm.setText("short")
        dialog.submit()
        wait(app, lambda: not dialog.busy, settle=0.3)
        shots.save(over(window.grab(), dialog), "17-change-password")
        dialog.reject()
    window.close()


def shoot_supervisor(app, shots, settings, station, demo, inference, size, work: Path,
                     **_: Any) -> None:
    window = window_for(app, settings, station, inference, demo.supervisor, size)
    gallery = window.show_panel("gallery")
    gallery.filters.period.setCurrentIndex(gallery.filters.period.findText("Last 7 days"))
    wait(app, lambda: not gallery.busy, settle=1.0)
    shots.save(window.grab(), "07-gallery")
    gallery.filters.verdict.setCurrentIndex(gallery.filters.verdict.findData("reject"))
    wait(app, lambda: not gallery.busy, settle=1.0)
    if gallery.model.rowCount():
        detail = gallery.open_detail(gallery.model.index(0, 0))
        wait(app, lambda: detail.detail is not None and not detail.busy, settle=0.5)
        worst = max(range(detail.strip.count()), key=lambda i: detail.detail.sides[i].info.score)
        detail.strip.setCurrentRow(worst)
        box = detail.corrections
        box.note.setText("a shadow on the seam, not a dent")
        wait(app)
        shots.save(over(window.grab(), detail), "08-inspection-detail")
        box.can_verdict.setCurrentIndex(box.can_verdict.findData("review"))
        box.can_button.click()            # a correction for the shift report
        wait(app, lambda: not detail.busy, settle=0.3)
        detail.close()
    stats = window.show_panel("stats")
    wait(app, lambda: not stats.busy and stats.data is not None, settle=1.0)
    shots.save(window.grab(), "09-statistics")
    if shots.want("19") or shots.want("20"):
        stats.choose_product(demo.product_ids[0])
        stats.period.setCurrentIndex(stats.period.findData(30))
        wait(app, lambda: not stats.busy, settle=0.5)
        stats.tabs.setCurrentWidget(stats.spc)
        stats.spc.period.setCurrentIndex(stats.spc.period.findData("shift"))
        wait(app, settle=1.0)
        shots.save(window.grab(), "19-control-charts")
        task = stats.shift_report(folder=work / "reports")
        wait(app, lambda: task.done, timeout=300, settle=0.5)
        if stats.last_report is not None:
            shots.save(_pdf_page(stats, demo, station, work), "20-shift-report")
    window.close()


def _pdf_page(stats, demo, station, work: Path) -> QPixmap:
    """The shift report's first two pages as the PDF draws them (the same Figures, as PNG)."""
    from app.shift_report import HISTORY_DAYS, _charts_page, _summary_page, shift_rows
    from app.spc import charts
    from db.records import GalleryFilter

    window = stats.shift_window()
    actor = demo.supervisor
    rows = shift_rows(station, actor, window)
    rejected = [r for r in rows if r.verdict == "reject"]
    fixes = station.stats.corrections(actor, window.start, window.end)
    people = station.stats.sign_ins(actor, window.start, window.end)
    summary = _summary_page(window, "line-1", rows, fixes, people, len(rejected),
                            len(rejected), actor)
    history = station.stats.per_hour(actor, GalleryFilter(
        date_from=window.day - timedelta(days=HISTORY_DAYS), date_to=window.end.date()))
    products = {r.product_sku for r in rows}
    chart_page = _charts_page(window, [c for c in charts([h for h in history
                                                           if h.hour < window.end], "shift")
                                       if c.title in products])
    images = []
    for n, fig in enumerate((summary, chart_page)):
        path = work / f"report-page-{n}.png"
        fig.savefig(path, dpi=80)
        images.append(cv2.imread(str(path)))
    both = cv2.hconcat(images) if images[0].shape[0] == images[1].shape[0] else images[0]
    rgb = cv2.cvtColor(both, cv2.COLOR_BGR2RGB)
    qimage = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1],
                    QImage.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaledToWidth(1366, Qt.SmoothTransformation)


def shoot_admin(app, shots, settings, station, demo, inference, images: Path, size,
                work: Path, evaluate: bool = True, **_: Any) -> None:
    window = window_for(app, settings, station, inference, demo.admin, size)
    for n, key in ((10, "users"), (11, "warehouses"), (12, "products"), (14, "models")):
        if not shots.want(f"{n}"):
            continue
        panel = window.show_panel(key)
        wait(app, settle=1.0)
        if key == "models" and evaluate:
            # the Models panel reads best with an evaluation: the model on the demo photos, with
            # the backdrop check
            panel.select_model(demo_model_id(station, demo))
            panel.backdrop_box.setChecked(True)
            job = panel.start_evaluation(str(images))
            wait(app, lambda job=job: job is None or job.done, timeout=900, settle=1.0)
            panel.view.figures.scrollToBottom()      # the can-level rows and the check's
            wait(app, settle=0.3)
        shots.save(window.grab(), f"{n}-{key}")
        if key == "products" and shots.want("13"):
            panel.table.selectRow(0)
            panel.move()
            dialog = panel.dialog
            # move the first product into the cold store, where it does not fit
            dialog.warehouse.setCurrentIndex(dialog.warehouse.findText("Cold store",
                                                                       Qt.MatchStartsWith))
            dialog.submit()
            wait(app, lambda dialog=dialog: not dialog.busy, settle=0.5)
            shots.save(over(window.grab(), dialog), "13-product-refused")
            dialog.reject()
    gallery = window.show_panel("gallery")
    gallery.filters.set_dates(None, None)
    gallery.filters.verdict.setCurrentIndex(gallery.filters.verdict.findData("review"))
    wait(app, lambda: not gallery.busy, settle=1.0)
    if shots.want("15"):
        dialog = gallery.delete_shown()
        wait(app, lambda: not dialog.busy, settle=0.3)
        dialog.reason.setText("test cans of the line trial")
        wait(app)
        shots.save(over(window.grab(), dialog), "15-delete")
        dialog.reject()
    audit = window.show_panel("audit")
    wait(app, lambda: not audit.busy, settle=1.0)
    shots.save(window.grab(), "16-audit-log")
    if shots.want("18"):
        video = _camera_video(images, work / "camera.avi")
        from gui.settings_dialog import SettingsDialog
        dialog = SettingsDialog(window.ctx, window)
        dialog.device.setEditText(str(video))
        dialog.resolution.setCurrentIndex(dialog.resolution.findData("640x480"))
        dialog.show()
        dialog.test_camera()
        wait(app, lambda: dialog.test_frames >= 3, timeout=20, settle=0.3)
        shots.save(over(window.grab(), dialog), "18-settings")
        dialog.reject()
    window.close()


def _camera_video(images: Path, path: Path) -> Path:
    """A short video of can photos, played through OpenCV as if it were the camera."""
    frames = sorted((images / "good").glob("*.jpg"))[:8]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (640, 480))
    for p in frames:
        img = cv2.imread(str(p))
        h, w = img.shape[:2]
        side = min(h, w * 3 // 4)
        img = img[(h - side) // 2:(h + side) // 2, :]
        writer.write(cv2.resize(img, (640, 480)))
    writer.release()
    return path

