"""Texts that must not outlive what they describe (issue 11 item 10)."""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt

from db import Role
from gui.admin.warehouse_dialog import WarehouseDialog
from tests.gui.test_capture import write_photos


def _import(qtbot, panel, paths) -> None:
    handle = panel.import_files([str(p) for p in paths])
    qtbot.waitUntil(lambda: handle.done and not panel.busy, timeout=10000)


def test_banner_follows_the_slots_and_new_can_clears_the_progress(qtbot, panel_with,
                                                                  tmp_path: Path):
    panel = panel_with()
    assert panel.banner.text().startswith("Capture the 7 sides")
    _import(qtbot, panel, write_photos(tmp_path / "a", 3))
    assert "3 of 7 sides captured" in panel.banner.text()
    _import(qtbot, panel, write_photos(tmp_path / "b", 4))
    assert "All 7 sides captured" in panel.banner.text()
    assert "Capture the 7" not in panel.banner.text()
    panel.progress.setFormat("Done")            # as left by an inspection
    panel.progress.setValue(panel.progress.maximum())
    panel.new_can()
    assert panel.progress.format() == "" and panel.progress.value() <= 0
    assert panel.banner.text().startswith("Capture the 7 sides")


def test_two_import_errors_are_two_lines(qtbot, panel_with, tmp_path: Path):
    panel = panel_with()
    bad = [tmp_path / "one.png", tmp_path / "two.png"]
    for p in bad:
        p.write_bytes(b"not a picture")
    _import(qtbot, panel, bad + write_photos(tmp_path / "ok", 1))
    lines = panel.status.text().split("\n")
    assert len(lines) == 2
    assert "one.png" in lines[0] and "two.png" in lines[1]


def test_an_error_goes_away_when_the_field_is_edited(qtbot, make_ctx, world):
    dialog = WarehouseDialog(make_ctx(Role.ADMIN))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("")
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    label = dialog.errors.label("name")
    qtbot.waitUntil(lambda: not dialog.busy and label.isVisible(), timeout=5000)
    assert "empty" in label.text()
    qtbot.keyClicks(dialog.name, "Hall C")
    assert not label.isVisible()
    assert dialog.name.property("invalid") is False
