"""A dialog that edits one record through a service call, with errors beside the fields.

Subclasses add their rows with ``self.add_row(caption, field, widget)`` (``field`` is the name the
service uses in ``ValidationError``) and implement ``save()``: a function returning the service
call to run. The call runs in a worker (creating a user hashes a password, a write may wait for
another station); ``saved(result)`` is emitted and the dialog accepts only when it succeeded.

Threading: GUI thread only; ``save()``'s returned callable runs in a worker thread and must not
touch widgets (read the values in ``save()`` itself, on the GUI thread).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLayout, QPushButton, QVBoxLayout, QWidget

from gui.context import AppContext
from gui.forms import FieldErrors, keep_default
from gui.workers import TaskHandle, start_task


class LocalError(Exception):
    """A check made in the dialog itself (e.g. two passwords differ), shown beside ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ServiceFormDialog(QDialog):
    saved = pyqtSignal(object)

    def __init__(self, ctx: AppContext, title: str, ok_text: str = "Save",
                 parent: QWidget | None = None, width: int = 460) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._task: TaskHandle | None = None
        self.setWindowTitle(title)
        col = QVBoxLayout(self)
        # The dialog follows its contents: it grows when an error line appears under a field
        # (a minimum-size constraint would squeeze the rows instead).
        col.setSizeConstraint(QLayout.SetFixedSize)
        col.setContentsMargins(24, 20, 24, 16)
        col.addWidget(QLabel(title, objectName="panelTitle"))
        form_box = QWidget()
        form_box.setMinimumWidth(width)
        self.form = QFormLayout(form_box)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignRight | Qt.AlignTop)
        self.form.setVerticalSpacing(8)
        col.addWidget(form_box)
        self.errors = FieldErrors(QLabel(), ctx.log_path)
        col.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.ok_button = QPushButton(ok_text, objectName="okButton")
        self.ok_button.clicked.connect(self.submit)
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton")
        keep_default(self.ok_button, self.cancel_button)
        buttons.addButton(self.ok_button, QDialogButtonBox.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.RejectRole)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)

    def add_row(self, caption: str, field: str, widget: QWidget) -> QWidget:
        self.errors.add_row(self.form, caption, field, widget)
        return widget

    def save(self) -> Callable[[], Any]:
        """Read the inputs (GUI thread) and return the service call to run in a worker."""
        raise NotImplementedError

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def submit(self) -> None:
        if self.busy:
            return
        self.errors.clear()
        try:
            call = self.save()
        except LocalError as exc:
            self.errors.show(exc.field, exc.message)
            return
        self.ok_button.setEnabled(False)
        self._task = start_task(self, lambda _p: call(), name="save",
                                on_success=self._succeeded, on_error=self.on_error,
                                on_finished=lambda: self.ok_button.setEnabled(True))

    def on_error(self, exc: BaseException) -> None:
        """Place the service's error beside its field (subclasses may remap the field)."""
        self.errors.show_exception(exc, f"saving ({self.windowTitle()})")

    def _succeeded(self, result: object) -> None:
        self.saved.emit(result)
        self.accept()

    def reject(self) -> None:
        if self._task is not None:
            self._task.wait()   # one short transaction; the worker must not outlive the dialog
        super().reject()
