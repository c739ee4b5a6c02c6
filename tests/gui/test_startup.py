"""Start-up (issue 11 item 12): the sign-in dialog is up at once and shows the engine's real
progress; a splash carries it on when someone signs in before the engine is in; the loading
never blocks the event loop for more than one module."""
from __future__ import annotations

import sys
import threading

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import QApplication

from gui.app import SessionFlow, run_gui
from gui.main_window import MainWindow
from gui.startup import EngineLoader, StartupSplash
from tests.gui.conftest import PASSWORD


def test_the_loader_takes_one_module_per_turn_of_the_loop(qtbot):
    loader = EngineLoader(["json", "no_such_module_for_the_station", "csv"])
    seen: list[object] = []
    loader.progress.connect(lambda d, t, n: seen.append((d, t, n)))
    loader.finished.connect(lambda s: seen.append("finished"))
    loader.start()
    QTimer.singleShot(0, lambda: seen.append("other work"))     # queued after the first step
    qtbot.waitUntil(lambda: "finished" in seen, timeout=5000)
    assert seen == [(0, 3, "json"), (1, 3, "no_such_module_for_the_station"),
                    "other work", (2, 3, "csv"), (3, 3, "ready"), "finished"]
    assert "no_such_module_for_the_station" not in sys.modules


def test_signing_in_before_the_engine_is_in_shows_a_splash_until_the_window(qtbot, world):
    flow = SessionFlow(world.settings, world.station, None, world.log_path)
    flow.engine_pending = True
    flow.engine_progress(2, 15, "torch")
    flow.start()
    dialog = flow.dialog
    assert dialog.engine.isVisible() and "torch (3 of 15)" in dialog.engine.label.text()
    assert dialog.engine.bar.value() == 2
    dialog.username.setText("otto")
    dialog.password.setText(PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: flow.splash is not None, timeout=5000)
    splash = flow.splash
    assert splash.isVisible() and flow.window is None
    assert "Signed in as otto" in splash.note and splash.text.endswith("(3 of 15)")
    flow.engine_progress(14, 15, "core.evaluation.evaluate")
    assert splash.done == 14
    with qtbot.waitSignal(flow.window_opened, timeout=5000):
        flow.set_inference(None)
    assert not splash.isVisible() and flow.splash is None
    assert isinstance(flow.window, MainWindow) and "otto" in flow.window.windowTitle()
    flow.shutdown()


def test_run_gui_shows_the_progress_in_the_sign_in_dialog_at_once(qtbot, world, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    world.station.close()
    seen: dict[str, object] = {}

    def drive() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets()
                      if w.objectName() == "loginDialog" and w.isVisible())
        seen["first"] = (dialog.engine.isVisible(), dialog.engine.label.text())
        seen["splashes"] = [w for w in QApplication.topLevelWidgets()
                            if isinstance(w, StartupSplash) and w.isVisible()]
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
        seen["inference"] = windows[0].ctx.inference
        seen["splash after"] = [w for w in QApplication.topLevelWidgets()
                                if isinstance(w, StartupSplash) and w.isVisible()]
        windows[0].close()

    QTimer.singleShot(0, drive)
    assert run_gui(world.settings) == 0
    visible, text = seen["first"]
    from gui.inference import ENGINE_MODULES
    assert visible and text.startswith(f"Loading the inspection engine: {ENGINE_MODULES[0]} (1 of ")
    assert seen["splashes"] == [] and seen["splash after"] == []
    assert seen["inference"] is not None           # the window came with the engine


def test_a_module_that_breaks_on_import_is_skipped(qtbot, tmp_path, monkeypatch):
    (tmp_path / "station_broken_probe.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loader = EngineLoader(["station_broken_probe", "json"])
    done: list[float] = []
    loader.finished.connect(done.append)
    loader.start()
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert loader.done == 2 and "station_broken_probe" not in sys.modules
