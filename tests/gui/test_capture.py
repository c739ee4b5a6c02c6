"""The capture panel driven as an operator would: camera capture (Space, button, retake), an
unplugged camera, imports (files, folder, drag and drop), and the no-model message."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PyQt5.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt5.QtGui import QDragEnterEvent, QDropEvent

from db import Role
from gui.camera import FakeSource
from gui.capture.panel import CapturePanel


def write_photos(folder: Path, n: int, size: int = 64) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = np.full((size, size, 3), 20 * i, np.uint8)
        path = folder / f"side_{i}.png"
        cv2.imwrite(str(path), img)
        paths.append(path)
    return paths


def filled(panel: CapturePanel) -> list[bool]:
    return [s.filled for s in panel.slots]


def start_fake_camera(qtbot, panel: CapturePanel) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.start_camera()
    qtbot.waitUntil(lambda: panel.camera.feed.latest_frame() is not None, timeout=5000)
    qtbot.waitUntil(panel.capture_button.isEnabled, timeout=5000)


def test_slots_are_named_after_the_products_sides_with_a_next_hint(panel_with):
    panel = panel_with()
    assert [s.side for s in panel.slots][:2] == ["Lid", "Bottom"] and len(panel.slots) == 7
    assert panel.next_slot() == 0 and "next" in panel.slots[0].title.text()
    assert not panel.inspect_button.isEnabled()


def test_space_and_the_button_capture_into_the_next_slot_and_retake_refills_one(qtbot, panel_with):
    frames = [np.full((48, 64, 3), v, np.uint8) for v in (50, 100, 150)]
    panel = panel_with(source=FakeSource(frames))
    start_fake_camera(qtbot, panel)
    qtbot.keyClick(panel, Qt.Key_Space)
    assert filled(panel) == [True] + [False] * 6
    assert "next" in panel.slots[1].title.text()
    for _ in range(6):
        qtbot.mouseClick(panel.capture_button, Qt.LeftButton)
    assert all(filled(panel))
    assert panel.slots[3].image.shape == (48, 64, 3)
    qtbot.keyClick(panel, Qt.Key_Space)  # a full can: nothing is overwritten
    assert "All sides are captured" in panel.status.text()

    qtbot.mouseClick(panel.slots[2].retake_button, Qt.LeftButton)
    assert filled(panel) == [True, True, False, True, True, True, True]
    assert panel.next_slot() == 2
    qtbot.keyClick(panel, Qt.Key_Space)
    assert all(filled(panel))


def test_an_unplugged_camera_says_so_and_keeps_the_captured_sides(qtbot, panel_with):
    source = FakeSource()
    panel = panel_with(source=source)
    start_fake_camera(qtbot, panel)
    for _ in range(3):
        qtbot.keyClick(panel, Qt.Key_Space)
    kept = [s.image.copy() for s in panel.slots[:3]]
    source.unplug()
    qtbot.waitUntil(lambda: "unplugged" in panel.camera_status.text(), timeout=5000)
    assert filled(panel) == [True] * 3 + [False] * 4
    assert all(np.array_equal(a, s.image) for a, s in zip(kept, panel.slots))
    assert not panel.capture_button.isEnabled()
    qtbot.keyClick(panel, Qt.Key_Space)  # nothing happens, nothing breaks
    assert filled(panel) == [True] * 3 + [False] * 4


def test_a_missing_camera_gives_a_clear_message(qtbot, panel_with):
    panel = panel_with(source=FakeSource(fail_open=True))
    panel.start_camera()
    qtbot.waitUntil(lambda: "cannot be opened" in panel.camera_status.text(), timeout=5000)
    assert not panel.capture_button.isEnabled()


def test_import_files_fill_in_order_then_a_folder_fills_the_rest(qtbot, panel_with, tmp_path):
    panel = panel_with()
    paths = write_photos(tmp_path / "a", 3)
    handle = panel.import_files([str(p) for p in paths])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert filled(panel) == [True] * 3 + [False] * 4
    assert panel.slots[1].original.data == paths[1].read_bytes()
    assert panel.slots[1].original.ext == "png"
    assert int(panel.slots[2].image[0, 0, 0]) == 40

    write_photos(tmp_path / "b", 6)
    panel.import_folder(str(tmp_path / "b"))
    qtbot.waitUntil(lambda: all(filled(panel)) and not panel.busy, timeout=10000)
    assert "2 file(s) not used" in panel.status.text()
    assert panel.inspect_button.isEnabled() is False  # no model for this product yet


def test_an_unreadable_file_is_named_and_skipped(qtbot, panel_with, tmp_path):
    panel = panel_with()
    good = write_photos(tmp_path, 1)[0]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    handle = panel.import_files([str(bad), str(good)])
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    assert filled(panel) == [True] + [False] * 6
    assert "broken.jpg" in panel.status.text()


def test_dropping_files_on_a_slot_fills_that_slot(qtbot, panel_with, tmp_path):
    panel = panel_with()
    paths = write_photos(tmp_path, 2)
    slot = panel.slots[4]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    # Qt routes a real Drop only inside a drag session, which offscreen tests cannot start;
    # the handlers are called as Qt would call them.
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    slot.dragEnterEvent(enter)
    assert enter.isAccepted()
    text_only = QMimeData()
    text_only.setText("not a file")
    refused = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, text_only, Qt.LeftButton, Qt.NoModifier)
    slot.dragEnterEvent(refused)
    assert not refused.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    slot.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: sum(filled(panel)) == 2 and not panel.busy, timeout=10000)
    assert filled(panel) == [True, False, False, False, True, False, False]
    assert panel.slots[4].original.data == paths[0].read_bytes()  # first file → the target slot
    assert panel.slots[0].original.data == paths[1].read_bytes()  # the rest → next empty ones


def test_without_a_model_the_panel_says_so_and_leads_an_admin_to_models(qtbot, panel_with):
    operator_panel = panel_with(Role.OPERATOR)
    text = operator_panel.product_bar.model_label.text()
    assert text == "No model is active for Beans 400 g. An admin can build one in Models."
    assert operator_panel.product_bar.build_button.isHidden()

    admin_panel = panel_with(Role.ADMIN)
    assert not admin_panel.product_bar.build_button.isHidden()
    with qtbot.waitSignal(admin_panel.open_models_requested, timeout=1000):
        qtbot.mouseClick(admin_panel.product_bar.build_button, Qt.LeftButton)
