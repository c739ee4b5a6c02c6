"""The Settings dialog (issue 11 item 4): camera device, resolution and a live test, station
name, CPU threads, where the data is; written to settings.json, used at once where it says so."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt5 import sip
from PyQt5.QtCore import Qt

from core.settings import SETTINGS_FILE, resolve_settings
from db import Role
from gui.capture.panel import CapturePanel
from gui.context import database_text
from gui.main_window import MainWindow
from gui.settings_dialog import SettingsDialog


def _video(path: Path, size=(320, 240), frames: int = 40) -> Path:
    """A real video file: OpenCV reads it through the same VideoCapture as a camera."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, size)
    assert writer.isOpened()
    for n in range(frames):
        img = np.full((size[1], size[0], 3), (n * 5) % 255, np.uint8)
        cv2.circle(img, (size[0] // 2, size[1] // 2), 30, (0, 0, 255), -1)
        writer.write(img)
    writer.release()
    return path


def _dialog(qtbot, ctx) -> SettingsDialog:
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_only_admins_get_settings(qtbot, make_ctx):
    for role, shown in ((Role.ADMIN, True), (Role.SUPERVISOR, False), (Role.OPERATOR, False)):
        window = MainWindow(make_ctx(role))
        qtbot.addWidget(window)
        window.show()
        assert window.settings_button.isVisible() is shown
        window.close()


def test_saving_writes_settings_json_and_the_window_follows(qtbot, make_ctx, world, tmp_path):
    window = MainWindow(make_ctx(Role.ADMIN))
    qtbot.addWidget(window)
    window.show()
    dialog = window.open_settings()
    assert dialog.data_dir.text() == str(world.settings.data_dir)
    assert dialog.database.text().endswith("station.sqlite3")
    dialog.station_name.setText("line-7")
    dialog.device.setEditText("/dev/video-that-a-test-types")
    dialog.resolution.setCurrentIndex(dialog.resolution.findData("1920x1080"))
    dialog.threads.setValue(1)
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sip.isdeleted(dialog) or not dialog.isVisible(), timeout=5000)
    stored = json.loads((world.settings.data_dir / SETTINGS_FILE).read_text())
    assert (stored["station_name"], stored["camera_device"], stored["camera_width"],
            stored["camera_height"], stored["torch_threads"]) == (
        "line-7", "/dev/video-that-a-test-types", 1920, 1080, 1)
    again = resolve_settings(world.settings.data_dir, environ={})
    assert (again.station_name, again.camera_width) == ("line-7", 1920)
    assert world.settings.station_name == "line-7"            # the running station, too
    assert window.station_label.text() == "Station: line-7"
    window.close()


def test_a_refused_name_stays_in_the_dialog(qtbot, make_ctx, world):
    dialog = _dialog(qtbot, make_ctx(Role.ADMIN))
    dialog.station_name.setText("  ")
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert dialog.isVisible() and dialog.errors.label("station_name").isVisible()
    assert dialog.ok_button.isDefault()
    assert not (world.settings.data_dir / SETTINGS_FILE).exists()
    dialog.reject()


def test_live_test_shows_what_the_camera_delivers(qtbot, make_ctx, world, tmp_path):
    video = _video(tmp_path / "line.avi")
    dialog = _dialog(qtbot, make_ctx(Role.ADMIN))
    dialog.device.setEditText(str(video))
    dialog.resolution.setCurrentIndex(dialog.resolution.findData("640x480"))
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_frames >= 2, timeout=10000)
    text = dialog.test_status.text()
    assert text.startswith("The camera works: 320 × 240 frames") and "asked for 640 × 480" in text
    assert dialog.preview.has_image()
    dialog.device.setEditText(str(tmp_path / "no-camera-here"))
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "cannot be opened" in dialog.test_status.text(), timeout=10000)
    dialog.reject()                                   # stops the test feed
    assert dialog.feed is None


def test_the_capture_panel_takes_the_new_camera_at_its_next_start(qtbot, make_ctx, world,
                                                                    tmp_path):
    video = _video(tmp_path / "cam.avi", size=(160, 120))
    ctx = make_ctx(Role.OPERATOR)
    panel = CapturePanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    dialog = _dialog(qtbot, make_ctx(Role.ADMIN))     # the same settings object
    dialog.device.setEditText(str(video))
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    panel.start_camera()
    qtbot.waitUntil(lambda: panel.camera.frame() is not None, timeout=10000)
    assert panel.camera.frame().shape == (120, 160, 3)
    panel.shutdown()


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://station:s3cret@db.plant:5432/cans",
     "postgresql+psycopg://station:***@db.plant:5432/cans"),
    (None, "station.sqlite3")])
def test_the_database_is_shown_without_its_password(world, url, shown):
    text = database_text(world.settings.model_copy(update={"db_url": url}))
    assert text.endswith(shown) and "s3cret" not in text
