"""The mask brush in the gallery's detail view (issue 13): a supervisor marks the defect on a
side's photo, the correction stores the mask, and training from the gallery receives it."""
from __future__ import annotations

import cv2
import numpy as np
from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt5.QtGui import QImage, QMouseEvent
from PyQt5.QtWidgets import QApplication

from app.model_jobs import BuildRequest, collect_samples
from db import Role
from gui.gallery.detail_dialog import DetailDialog
from gui.gallery.mask_dialog import MaskDialog
from tests.gui.conftest import record_inspection


def _drag(canvas, start: QPoint, end: QPoint) -> None:
    """A left-button drag as the window system sends it (QTest's mouseMove carries no buttons)."""
    def send(kind, pos: QPoint, button, buttons) -> None:
        QApplication.sendEvent(canvas, QMouseEvent(kind, QPointF(pos), button, buttons, Qt.NoModifier))

    send(QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton)
    for t in np.linspace(0.0, 1.0, 8)[1:]:
        pos = QPoint(int(start.x() + t * (end.x() - start.x())), int(start.y() + t * (end.y() - start.y())))
        send(QEvent.MouseMove, pos, Qt.NoButton, Qt.LeftButton)
    send(QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton)


def test_a_drawn_mask_is_saved_with_the_correction_and_reaches_training(qtbot, make_ctx, world):
    ids = [record_inspection(world, world.operator, "reject", seed=s) for s in range(2)]
    dialog = DetailDialog(make_ctx(Role.SUPERVISOR), ids[0])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None and not dialog.busy, timeout=10000)
    dialog.strip.setCurrentRow(1)                    # a side the machine passed
    box = dialog.corrections
    assert box.mask_button.isEnabled() and box.side_label.currentData() == "Good"
    brush = box.open_mask_dialog()
    assert isinstance(brush, MaskDialog)
    ok = brush.buttons.button(brush.buttons.Ok)
    assert not ok.isEnabled()                        # nothing marked yet
    canvas = brush.canvas
    canvas.resize(400, 400)
    frame = canvas._frame()
    start = QPoint(int(frame.x() + 0.25 * frame.width()), int(frame.y() + 0.5 * frame.height()))
    end = QPoint(int(frame.x() + 0.75 * frame.width()), int(frame.y() + 0.5 * frame.height()))
    brush.radius.setValue(3)
    _drag(canvas, start, end)
    marked = canvas.marked()
    h, w = marked.shape
    assert marked[h // 2, w // 2] and not marked[0, 0] and not marked[h // 4, w // 2]
    assert ok.isEnabled() and "marked" in brush.status.text()
    brush.accept()
    assert box.mask is not None and box.side_label.currentData() == "Anomaly"
    assert "mask" in box.mask_state.text().lower()
    with qtbot.waitSignal(dialog.corrected, timeout=5000):
        qtbot.mouseClick(box.side_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert box.mask is None                           # saved, not carried to the next correction

    side_id = world.station.inspections.get(world.supervisor, ids[0]).sides[1].id
    stored = next(s for s in world.station.inspections.labelled_sides(world.supervisor)
                  if s.side_result_id == side_id)
    assert stored.label == "Anomaly" and stored.mask_path is not None
    saved = cv2.imread(str(stored.mask_path), cv2.IMREAD_GRAYSCALE)
    assert saved.shape == marked.shape and np.array_equal(saved > 127, marked)
    samples = collect_samples(BuildRequest(name="g", source="gallery", product_id=world.product_id),
                              world.station, world.admin)
    with_masks = [s for s in samples if s.mask is not None]
    assert [str(s.source) for s in with_masks] == [str(stored.image_path)]
    assert with_masks[0].label == 1


def test_an_imported_mask_is_resized_to_the_photo_and_erasing_works(qtbot, tmp_path):
    photo = np.full((60, 80, 3), 120, np.uint8)
    brush = MaskDialog(photo, "top")
    qtbot.addWidget(brush)
    small = np.zeros((30, 40), np.uint8)
    small[5:10, 10:20] = 255
    cv2.imwrite(str(tmp_path / "m.png"), small)
    assert brush.import_mask(str(tmp_path / "m.png"))
    marked = brush.canvas.marked()
    assert marked.shape == (60, 80) and marked[15, 30] and not marked[40, 60]
    assert not brush.import_mask(str(tmp_path / "missing.png"))
    brush.canvas.stroke(brush.canvas.to_photo(QPoint(0, 0)), brush.canvas.to_photo(QPoint(0, 0)),
                        erase=True)
    png = brush.mask_png()
    assert png is not None and QImage.fromData(png).size().width() == 80
    brush.canvas.clear()
    assert brush.mask_png() is None
