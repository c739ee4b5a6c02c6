"""Correcting a verdict: a side's label (Good / Anomaly) or the whole can's verdict, with a note;
a defective side may carry a mask drawn on its photo (``gui.gallery.mask_dialog``), kept with the
side for segdec training.

The correction is stored by ``station.corrections`` (who, when, old and new value are kept; the
machine's verdict is never overwritten). Shown only to roles that may correct; the service
checks again.

Threading: GUI thread only; each correction is one short write, run in a worker so a busy
database never freezes the window.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QComboBox, QDialog, QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton, QWidget

from db.records import LABELS
from gui.context import AppContext
from gui.forms import FieldErrors
from gui.theme import VERDICT_TEXT
from gui.workers import TaskHandle, start_task


class CorrectionBox(QGroupBox):
    """Emits ``corrected(CorrectionInfo)`` after a correction was stored."""

    corrected = pyqtSignal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Correct the verdict", parent)
        self.ctx = ctx
        self._task: TaskHandle | None = None
        self._side_id: int | None = None
        self._inspection_id: int | None = None
        self._photo: np.ndarray | None = None
        self._side_name = ""
        self.mask: bytes | None = None          # drawn, saved with the next side correction
        form = QFormLayout(self)
        self.errors = FieldErrors(QLabel(), ctx.log_path)
        self.side_label = QComboBox(objectName="sideLabel")
        for label in LABELS:
            self.side_label.addItem(label, label)
        self.errors.add_row(form, "This side is", "label", self.side_label)
        self.can_verdict = QComboBox(objectName="canVerdict")
        for key, text in VERDICT_TEXT.items():
            self.can_verdict.addItem(text.capitalize(), key)
        self.errors.add_row(form, "The can is", "verdict", self.can_verdict)
        self.mask_button = QPushButton("Mark the defect…", objectName="drawMask")
        self.mask_button.setToolTip("Draw or import where the defect is; the mask is saved with "
                                    "this side's correction and teaches the segdec detector")
        self.mask_button.clicked.connect(self.open_mask_dialog)
        self.mask_state = QLabel(objectName="maskState")
        self.errors.add_row(form, "Mask", "mask", self.mask_button)
        form.addRow(self.mask_state)
        self.note = QLineEdit(objectName="note")
        self.note.setPlaceholderText("why (optional, kept with the correction)")
        self.errors.add_row(form, "Note", "note", self.note)
        self.side_button = QPushButton("Correct side", objectName="correctSide")
        self.can_button = QPushButton("Correct can", objectName="correctCan")
        self.side_button.clicked.connect(self.correct_side)
        self.can_button.clicked.connect(self.correct_can)
        form.addRow(self.side_button, self.can_button)
        form.addRow(self.errors.general)

    def set_target(self, inspection_id: int, side_id: int | None, side_label: str,
                   can_verdict: str, photo: np.ndarray | None = None, side_name: str = "") -> None:
        """What the buttons correct: the shown side and can, preset to their current values;
        ``photo`` (RGB) is what a mask is drawn on (None: no mask can be drawn)."""
        if side_id != self._side_id or inspection_id != self._inspection_id:
            self._set_mask(None)
        self._inspection_id, self._side_id = inspection_id, side_id
        self._photo, self._side_name = photo, side_name
        self.mask_button.setEnabled(side_id is not None and photo is not None)
        self.side_label.setCurrentIndex(max(0, self.side_label.findData(side_label)))
        self.can_verdict.setCurrentIndex(max(0, self.can_verdict.findData(can_verdict)))
        self.side_button.setEnabled(side_id is not None)
        self.errors.clear()

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def correct_side(self) -> None:
        if self._side_id is None:
            return
        fn, sid = self.ctx.station.corrections.correct_side, self._side_id
        label, note, actor, mask = self.side_label.currentData(), self.note.text(), self.ctx.actor, self.mask
        self._run(lambda: fn(actor, sid, label, note, mask=mask) if mask is not None
                  else fn(actor, sid, label, note))

    def open_mask_dialog(self) -> QDialog | None:
        """The brush on the shown side's photo (window-modal; ``open``, not ``exec``)."""
        if self._photo is None or self._side_id is None:
            return None
        from gui.gallery.mask_dialog import MaskDialog

        dialog = MaskDialog(self._photo, self._side_name, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._set_mask(dialog.mask_png()))
        dialog.open()
        return dialog

    def _set_mask(self, mask: bytes | None) -> None:
        self.mask = mask
        if mask is None:
            self.mask_state.setText("")
            return
        self.side_label.setCurrentIndex(max(0, self.side_label.findData("Anomaly")))
        self.mask_state.setText("A mask is marked: “Correct side” saves it with the label Anomaly.")

    def correct_can(self) -> None:
        if self._inspection_id is None:
            return
        fn, iid = self.ctx.station.corrections.correct_can, self._inspection_id
        verdict, note, actor = self.can_verdict.currentData(), self.note.text(), self.ctx.actor
        self._run(lambda: fn(actor, iid, verdict, note))

    def _run(self, call: Callable[[], Any]) -> None:
        if self.busy:
            return
        self.errors.clear()
        for b in (self.side_button, self.can_button, self.mask_button):
            b.setEnabled(False)
        self._task = start_task(self, lambda _p: call(), name="correction",
                                on_success=self._done,
                                on_error=lambda e: self.errors.show_exception(e, "correcting"),
                                on_finished=self._idle)

    def _done(self, correction: object) -> None:
        self.note.clear()
        self._set_mask(None)
        self.corrected.emit(correction)

    def _idle(self) -> None:
        self.can_button.setEnabled(True)
        self.side_button.setEnabled(self._side_id is not None)
        self.mask_button.setEnabled(self._side_id is not None and self._photo is not None)

    def wait(self) -> None:
        if self._task is not None:
            self._task.wait()
