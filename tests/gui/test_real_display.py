"""The station in a real X server (Xvfb through Qt's xcb plugin), as ./start.sh runs it on a
desktop: the sign-in dialog, the engine loading meanwhile, the window. Everything else in the
GUI tests runs offscreen; only this one loads Qt's X11 and OpenGL integration, where importing
torch (triton) after the first window crashed the process."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from db import Role, Station
from gui.platform_check import missing_packages
from tests.gui.conftest import FAST_HASHER, PASSWORD

ROOT = Path(__file__).resolve().parents[2]

DRIVER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication
from core.settings import resolve_settings
from gui import app as app_module
from gui.main_window import MainWindow
seen = []
def first():
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if w.objectName() == "loginDialog" and w.isVisible())
    seen.append("dialog")
    dialog.username.setText("otto")
    dialog.password.setText(sys.argv[3])
    dialog.sign_in_button.click()
    QTimer.singleShot(100, wait_window)
def wait_window():
    windows = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, MainWindow) and w.isVisible()]
    if not windows:
        QTimer.singleShot(100, wait_window)
        return
    seen.append(f"window {QApplication.platformName()}")
    windows[0].close()
QTimer.singleShot(0, first)
rc = app_module.run_gui(resolve_settings(sys.argv[2], environ={}))
print("seen:", ", ".join(seen), "rc", rc)
"""


@pytest.mark.slow
def test_the_station_starts_in_a_real_x_server(tmp_path: Path) -> None:
    assert shutil.which("xvfb-run"), "xvfb-run is needed (./test.sh installs it)"
    assert not missing_packages(), f"Qt's X11 libraries are missing: {missing_packages()}"
    station = Station.open(None, tmp_path / "data", password_hasher=FAST_HASHER)
    admin = station.auth.create_first_admin("admin", PASSWORD)
    station.users.create(admin, "otto", PASSWORD, Role.OPERATOR)
    station.close()
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "QT_XCB_GL_INTEGRATION", "DISPLAY")}
    run = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1366x768x24", sys.executable, "-c",
                          DRIVER, str(ROOT), str(tmp_path / "data"), PASSWORD],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "seen: dialog, window xcb rc 0" in run.stdout, run.stdout + run.stderr[-2000:]
