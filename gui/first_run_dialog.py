"""First run: on a database without users, create the first admin account.

``auth.create_first_admin`` enforces the password policy and the user-name rules; its
``ValidationError(field, message)`` appears under that field. The service hashes the password
(slow on purpose), so the call runs in a worker.

Threading: GUI thread only; the service call runs through ``gui.workers.start_task``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLayout, QLineEdit, QPushButton, QVBoxLayout

from gui.forms import FieldErrors, keep_default
from gui.startup import EngineProgress
from gui.workers import TaskHandle, start_task


class FirstRunDialog(QDialog):
    """Emits ``created(Actor)`` (the new admin, already signed in) and accepts."""

    created = pyqtSignal(object)

    def __init__(self, station: Any, log_path: Path, parent=None) -> None:
        super().__init__(parent)
        self._station = station
        self._task: TaskHandle | None = None
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("First start — Can inspection station")

        col = QVBoxLayout(self)
        col.setSizeConstraint(QLayout.SetFixedSize)  # follow the contents: an error line grows it
        col.setContentsMargins(28, 24, 28, 20)
        col.setSpacing(10)
        col.addWidget(QLabel("Welcome to the inspection station", objectName="panelTitle"))
        intro = QLabel("This database has no accounts yet. Create the first administrator: "
                       "this account adds the operators and supervisors, the warehouses and "
                       "the products.", objectName="hint")
        intro.setWordWrap(True)
        col.addWidget(intro)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignTop)
        form.setVerticalSpacing(8)
        self.errors = FieldErrors(QLabel(), log_path)
        self.username = QLineEdit("admin", objectName="username")
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.Password)
        self.confirm = QLineEdit(objectName="confirm")
        self.confirm.setEchoMode(QLineEdit.Password)
        for edit in (self.username, self.password, self.confirm):
            edit.setMinimumWidth(320)
        self.errors.add_row(form, "Admin user name", "username", self.username)
        self.errors.add_row(form, "Password", "password", self.password)
        self.errors.add_row(form, "Repeat password", "confirm", self.confirm)
        col.addLayout(form)
        col.addWidget(self.errors.general)

        buttons = QDialogButtonBox()
        self.create_button = QPushButton("Create admin and sign in", objectName="createButton")
        self.create_button.clicked.connect(self._submit)
        quit_button = QPushButton("Quit", objectName="cancelButton")
        keep_default(self.create_button, quit_button)
        buttons.addButton(self.create_button, QDialogButtonBox.AcceptRole)
        buttons.addButton(quit_button, QDialogButtonBox.RejectRole)
        buttons.rejected.connect(self.reject)
        self.engine = EngineProgress(self)     # start-up: the engine loading meanwhile
        col.addWidget(self.engine)
        col.addWidget(buttons)
        self.password.setFocus()

    def set_engine_progress(self, done: int, total: int, text: str) -> None:
        self.engine.set_engine_progress(done, total, text)

    def _submit(self) -> None:
        if self._task is not None and not self._task.done:
            return
        self.errors.clear()
        if self.password.text() != self.confirm.text():
            # The only check made here: the service never sees the repeated password.
            self.errors.show("confirm", "The two passwords differ.")
            return
        name, password = self.username.text().strip(), self.password.text()
        self.create_button.setEnabled(False)
        auth = self._station.auth
        self._task = start_task(self, lambda _p: auth.create_first_admin(name, password),
                                on_success=self._created,
                                on_error=lambda e: self.errors.show_exception(e, "creating the admin"),
                                on_finished=lambda: self.create_button.setEnabled(True),
                                name="first-admin")

    def _created(self, actor: object) -> None:
        self.created.emit(actor)
        self.accept()

    def reject(self) -> None:
        if self._task is not None:
            self._task.wait()
        super().reject()
