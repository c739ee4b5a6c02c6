"""The shell: each role sees only its panels, sign out / switch user rebuild the window, run_gui
starts and ends cleanly, and errors reach a person as the house rules say."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import QApplication, QMessageBox

from core.errors import CameraUnavailable
from db import DatabaseBusy, Role
from gui import app as app_module
from gui.app import SessionFlow, run_gui
from gui.errors import error_text, install_excepthooks, show_error
from gui.main_window import MainWindow
from tests.gui.conftest import PASSWORD

EXPECTED = {
    Role.OPERATOR: ["Capture and inspect", "My inspections"],
    Role.SUPERVISOR: ["Capture and inspect", "Gallery", "Statistics", "Stations"],
    Role.ADMIN: ["Capture and inspect", "Gallery", "Statistics", "Users", "Warehouses",
                 "Products", "Models", "Audit log", "Stations"],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_only_its_panels(qtbot, make_ctx, role):
    window = MainWindow(make_ctx(role))
    qtbot.addWidget(window)
    assert window.panel_titles() == EXPECTED[role]
    assert make_ctx(role).actor.username in window.user_label.text()
    assert role.value in window.user_label.text()
    window.shutdown()


def _sign_in(qtbot, flow: SessionFlow, name: str) -> MainWindow:
    dialog = flow.dialog
    dialog.username.setText(name)
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(flow.window_opened, timeout=5000):
        qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    return flow.window     # the flow owns (and deletes) its windows; not given to qtbot


def test_sign_out_and_switch_user_rebuild_the_window_for_the_new_role(qtbot, world):
    flow = SessionFlow(world.settings, world.station, None, world.log_path)
    ended = []
    flow.ended.connect(lambda: ended.append(True))
    flow.start()
    window = _sign_in(qtbot, flow, "otto")
    assert window.panel_titles() == EXPECTED[Role.OPERATOR]
    assert "Database:" in window.statusBar().findChildren(type(window.user_label))[1].text()

    qtbot.mouseClick(window.sign_out_button, Qt.LeftButton)
    assert flow.window is None and not ended        # back to sign-in, not quitting
    window = _sign_in(qtbot, flow, "sue")
    assert window.panel_titles() == EXPECTED[Role.SUPERVISOR]

    # switch user: cancelling keeps the current session
    qtbot.mouseClick(window.switch_button, Qt.LeftButton)
    qtbot.mouseClick(flow.dialog.cancel_button, Qt.LeftButton)
    assert flow.window is window and not ended
    qtbot.mouseClick(window.switch_button, Qt.LeftButton)
    admin_window = _sign_in(qtbot, flow, "admin")
    assert admin_window is not window
    assert admin_window.panel_titles() == EXPECTED[Role.ADMIN]

    admin_window.close()                              # closing the window quits
    assert ended == [True]
    flow.shutdown()


def test_first_run_leads_into_an_admin_window(qtbot, station, settings):
    flow = SessionFlow(settings, station, None, settings.log_dir / "station.log")
    flow.start()
    dialog = flow.dialog
    dialog.password.setText("first admin pass")
    dialog.confirm.setText("first admin pass")
    with qtbot.waitSignal(flow.window_opened, timeout=5000):
        qtbot.mouseClick(dialog.create_button, Qt.LeftButton)
    assert flow.window.panel_titles() == EXPECTED[Role.ADMIN]
    flow.shutdown()


def test_run_gui_signs_in_and_quits_cleanly(qtbot, world, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    world.station.close()       # run_gui opens its own, as main.py would
    seen = {}

    def drive() -> None:
        dialog = QApplication.activeModalWidget() or next(
            w for w in QApplication.topLevelWidgets() if w.objectName() == "loginDialog"
            and w.isVisible())
        dialog.username.setText("sue")
        dialog.password.setText(PASSWORD)
        dialog.sign_in_button.click()
        QTimer.singleShot(50, close_window)

    def close_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(50, close_window)
            return
        seen["titles"] = windows[0].panel_titles()
        windows[0].close()

    QTimer.singleShot(0, drive)
    assert run_gui(world.settings) == 0
    assert seen["titles"] == EXPECTED[Role.SUPERVISOR]
    assert (world.settings.log_dir / "station.log").exists()


def test_a_database_that_cannot_be_opened_is_explained(qtbot, settings, station, monkeypatch):
    """A real station database whose write lock another station holds: starting waits for it,
    then tells the person the database is busy; once the lock is gone, it opens."""
    import sqlite3

    from db import Station

    shown = {}
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text: shown.update(title=title, text=text))
    real = Station.from_settings.__func__      # the real one, with a short wait for the lock
    monkeypatch.setattr(Station, "from_settings", classmethod(
        lambda cls, s, **kw: real(cls, s, busy_timeout_s=0.2, **kw)))
    log = settings.log_dir / "station.log"
    other = sqlite3.connect(settings.data_dir / "station.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")        # another station holds the write lock
        assert app_module.open_station(settings, log) is None
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert shown["text"] == str(DatabaseBusy())
    assert not log.exists()                     # a person's error: shown, not logged
    opened = app_module.open_station(settings, log)
    assert opened is not None
    opened.close()


def test_errors_for_a_person_are_shown_as_they_are_others_are_logged(qtbot, tmp_path):
    log_path = tmp_path / "logs" / "station.log"
    assert error_text(CameraUnavailable("The camera was unplugged."), log_path) == \
        "The camera was unplugged."
    assert not log_path.exists()
    try:
        {}["missing"]
    except KeyError as exc:
        text = error_text(exc, log_path, "testing")
    assert text.startswith("Something went wrong (KeyError)") and str(log_path) in text
    logged = log_path.read_text()
    assert "Traceback" in logged and "'missing'" in logged
    box = show_error(None, CameraUnavailable("Camera gone."), log_path)
    qtbot.addWidget(box)
    assert box.text() == "Camera gone." and box.icon() == QMessageBox.Warning
    box.close()


def test_excepthooks_log_and_show_uncaught_errors_from_threads(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_path = tmp_path / "logs" / "station.log"
    reporter = install_excepthooks(QApplication.instance(), log_path)
    shown = []
    reporter.raised.connect(shown.append)

    def boom() -> None:
        raise RuntimeError("from a thread")
    t = threading.Thread(target=boom)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(shown), timeout=3000)
    assert isinstance(shown[0], RuntimeError)
    assert "from a thread" in log_path.read_text()
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=3000)
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox):
            assert "Something went wrong (RuntimeError)" in w.text()
            w.close()


def test_every_panel_of_the_admin_opens_without_an_error(qtbot, make_ctx):
    window = MainWindow(make_ctx(Role.ADMIN))
    qtbot.addWidget(window)
    window.show()
    for spec in window.specs:
        panel = window.show_panel(spec.key)
        assert panel.objectName() == f"panel_{spec.key}"
        assert type(panel).__name__.endswith("Panel"), (spec.key, type(panel))
        qtbot.wait(50)
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    for panel in window._built.values():
        busy = getattr(type(panel), "busy", None)
        if isinstance(busy, property):
            qtbot.waitUntil(lambda p=panel: not p.busy, timeout=10000)
    window.close()


def test_bundled_model_is_installed_and_registered_once(station, tmp_path):
    import hashlib

    from app.first_start import install_bundled_model
    from core.model.spec import ModelSpec, spec_json
    from core.scoring.calibration import ScoreScale

    source = tmp_path / "bundle"
    source.mkdir()
    spec = ModelSpec(name="default", kind="cam", backbone="efficientnet_lite0", input_size=224,
                     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                     score_scale=ScoreScale(0.0, 0.5, 1.0), heatmap_scale=ScoreScale(0.0, 0.5, 1.0),
                     version="3")
    weights = b"weights are copied, not read here"
    (source / "model.json").write_text(spec_json(spec, hashlib.sha256(weights).hexdigest()))
    (source / "weights.safetensors").write_bytes(weights)
    models_dir = tmp_path / "data" / "models"
    info = install_bundled_model(station, models_dir, source=source)
    assert info is not None and info.trained_by == "system"
    assert Path(info.folder) == models_dir / "default-3"
    assert (models_dir / "default-3" / "weights.safetensors").read_bytes().startswith(b"weights")
    assert install_bundled_model(station, models_dir, source=source) is None   # once per folder
    admin = station.auth.create_first_admin("admin", PASSWORD)
    assert [(m.name, m.version) for m in station.models.list(admin)] == [("default", "3")]


def test_an_unwritable_data_folder_is_explained(qtbot, tmp_path, monkeypatch):
    from core.settings import Settings
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    shown = {}
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text: shown.update(title=title, text=text))
    assert run_gui(Settings(data_dir=blocker / "data")) == 2
    assert "cannot write to its data folder" in shown["text"]


def test_first_start_of_run_gui_registers_the_bundled_model(qtbot, settings, monkeypatch):
    from app.first_start import bundled_model_folder
    from db import Station
    assert bundled_model_folder() is not None, "resources/models/default is missing from the checkout"
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)

    def create_admin() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if w.objectName() == "firstRunDialog" and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(50, create_admin)
            return
        dialog.password.setText("first admin pass")
        dialog.confirm.setText("first admin pass")
        dialog.create_button.click()
        QTimer.singleShot(50, close_window)

    def close_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(50, close_window)
            return
        windows[0].close()

    QTimer.singleShot(0, create_admin)
    assert run_gui(settings) == 0
    station = Station.open(None, settings.data_dir)
    try:
        admin = station.auth.sign_in("admin", "first admin pass")
        models = station.models.list(admin)
        assert len(models) == 1 and models[0].trained_by == "system"
        assert Path(models[0].folder).parent == settings.models_dir
    finally:
        station.close()
