"""Keyboard-first capture (issue 11 item 15): Space captures, Enter inspects, N starts a new
can, ← → choose a side and R retakes it; the keys are on screen; a REJECT flashes the banner
and sounds, unless switched off."""
from __future__ import annotations

import numpy as np
from PyQt5.QtCore import Qt

from core.results import Outcome
from core.settings import resolve_settings
from db import Role
from gui.camera import FakeSource
from gui.capture.alert import FLASH_MS, FLASHES, RejectAlert
from gui.capture.banner import VerdictBanner
from gui.capture.panel import CapturePanel
from tests.gui.test_capture import start_fake_camera
from tests.gui.test_capture_inspect import fill_with_cans, register


def _filled(panel) -> list[bool]:
    return [s.filled for s in panel.slots]


def test_the_keys_are_shown_on_screen(panel_with):
    panel = panel_with()
    hint = panel.key_hint.text()
    for key in ("Space", "Enter", "N", "R", "←"):
        assert f"<b>{key}" in hint
    assert panel.capture_button.text() == "Capture (Space)"
    assert panel.inspect_button.text() == "Inspect (Enter)"
    assert panel.new_can_button.text() == "New can (N)"
    assert "(R" in panel.slots[0].retake_button.toolTip()


def test_space_arrows_r_and_n_drive_a_can(qtbot, panel_with):
    frames = [np.full((48, 64, 3), v, np.uint8) for v in (40, 90, 140)]
    panel = panel_with(source=FakeSource(frames))
    start_fake_camera(qtbot, panel)
    for _ in range(7):
        qtbot.keyClick(panel, Qt.Key_Space)
    assert all(_filled(panel))
    qtbot.keyClick(panel, Qt.Key_R)                 # nothing chosen yet: it says how
    assert all(_filled(panel)) and "Choose a side" in panel.status.text()
    qtbot.keyClick(panel, Qt.Key_Right)             # the first side
    qtbot.keyClick(panel, Qt.Key_Right)
    qtbot.keyClick(panel, Qt.Key_Right)
    qtbot.keyClick(panel, Qt.Key_Left)
    assert panel.selected == 1 and panel.slots[1].selected and not panel.slots[0].selected
    qtbot.keyClick(panel, Qt.Key_R)
    assert _filled(panel) == [True, False] + [True] * 5
    qtbot.keyClick(panel, Qt.Key_Space)             # refills the side that was retaken
    assert all(_filled(panel))
    qtbot.mouseClick(panel.slots[5], Qt.LeftButton)  # a click chooses a side too
    assert panel.selected == 5
    qtbot.keyClick(panel, Qt.Key_N)
    assert not any(_filled(panel))


def test_enter_inspects_and_a_reject_alerts(qtbot, panel, world, tiny_model, tmp_path,
                                            make_ctx, inference):
    register(world, tiny_model)
    # every side at 0.5 or more is a reject: the defective synthetic cans are
    world.station.products.update(world.admin, world.product_id,
                                  thresholds={"review": 0.0, "reject": 0.5})
    panel.product_bar.refresh()
    panel.show()
    fill_with_cans(qtbot, panel, tmp_path)
    qtbot.keyClick(panel, Qt.Key_Return)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Saved #"), timeout=60000)
    assert panel._result.verdict == Outcome.REJECT
    assert panel.alert.fired == 1 and panel.alert.sound_kind in ("effect", "bell")
    assert panel.banner.property("flash") is True or panel.alert.flashing
    qtbot.waitUntil(lambda: not panel.alert.flashing, timeout=5000)
    assert panel.banner.property("flash") is False
    qtbot.keyClick(panel, Qt.Key_Return)            # a second Enter does not inspect again
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    assert world.station.inspections.count(world.admin) == 1
    panel.alert_box.setChecked(False)               # switched off: no alert on the next reject
    qtbot.mouseClick(panel.inspect_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and panel._result is not None, timeout=60000)
    assert panel._result.verdict == Outcome.REJECT and panel.alert.fired == 1
    # and it stays off for this station: kept in settings.json, read by the next panel
    stored = resolve_settings(world.settings.data_dir, environ={})
    assert stored.reject_alert is False
    later = CapturePanel(make_ctx(Role.OPERATOR, inference=inference))
    qtbot.addWidget(later)
    assert not later.alert_box.isChecked() and not later.alert.enabled
    later.shutdown()


def test_the_flash_toggles_and_ends(qtbot):
    banner = VerdictBanner()
    qtbot.addWidget(banner)
    banner.show_verdict(Outcome.REJECT, "test")
    alert = RejectAlert()
    states = []
    alert.fire(banner)
    assert banner.property("flash") is True
    for _ in range(2 * FLASHES):
        qtbot.wait(FLASH_MS)
        states.append(banner.property("flash"))
    qtbot.waitUntil(lambda: not alert.flashing, timeout=2000)
    assert True in states and False in states and banner.property("flash") is False
    alert.enabled = False
    alert.fire(banner)
    assert alert.fired == 1 and not alert.flashing


def test_the_keys_work_from_the_navigation_and_not_from_other_panels(qtbot, make_ctx, tmp_path):
    from db import Role
    from gui.main_window import MainWindow
    from tests.gui.test_capture import write_photos

    window = MainWindow(make_ctx(Role.OPERATOR))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.show_panel("capture")
    handle = panel.import_files([str(p) for p in write_photos(tmp_path, 3)])
    qtbot.waitUntil(lambda: handle.done and not panel.busy, timeout=10000)
    window.show_panel("my_inspections")
    window.nav.setFocus()
    qtbot.keyClick(window.nav, Qt.Key_N)          # capture is hidden: its keys are off
    assert sum(s.filled for s in panel.slots) == 3
    window.show_panel("capture")
    window.nav.setFocus()                         # focus where sign-in leaves it
    qtbot.keyClick(window.nav, Qt.Key_N)
    assert not any(s.filled for s in panel.slots)
    panel.shutdown()
    window.close()
