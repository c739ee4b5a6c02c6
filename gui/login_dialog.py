"""The sign-in dialog.

Checking a password is slow on purpose (argon2), so ``auth.sign_in`` runs in a worker; the
dialog stays responsive and shows the service's own words for a wrong password or a locked
account under the form.

Threading: GUI thread only; the service call runs through ``gui.workers.start_task``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLayout, QLineEdit, QPushButton, QVBoxLayout

from gui.errors import error_text
from gui.forms import keep_default
from gui.startup import EngineProgress
from gui.workers import TaskHandle, start_task


class LoginDialog(QDialog):
    """Emits ``signed_in(Actor)`` and accepts on success; rejecting means "do not sign in"."""

    signed_in = pyqtSignal(object)

    def __init__(self, station: Any, log_path: Path, parent=None, *, username: str = "",
                 station_name: str = "", cancel_text: str = "Quit") -> None:
        super().__init__(parent)
        self._station = station
        self._log_path = log_path
        self._task: TaskHandle | None = None
        self.setObjectName("loginDialog")
        self.setWindowTitle("Sign in — Can inspection station")

        col = QVBoxLayout(self)
        col.setSizeConstraint(QLayout.SetFixedSize)  # follow the contents: an error line grows it
        col.setContentsMargins(28, 24, 28, 20)
        col.setSpacing(12)
        title = QLabel("Sign in", objectName="panelTitle")
        col.addWidget(title)
        if station_name:
            col.addWidget(QLabel(f"Station {station_name}", objectName="hint"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setVerticalSpacing(10)
        self.username = QLineEdit(username, objectName="username")
        self.username.setPlaceholderText("user name")
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.Password)
        self.password.setPlaceholderText("password")
        for edit in (self.username, self.password):
            edit.setMinimumWidth(300)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        col.addLayout(form)
        self.error_label = QLabel(objectName="errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        col.addWidget(self.error_label)

        buttons = QDialogButtonBox()
        self.sign_in_button = QPushButton("Sign in", objectName="signInButton")
        self.cancel_button = QPushButton(cancel_text, objectName="cancelButton")
        keep_default(self.sign_in_button, self.cancel_button)
        buttons.addButton(self.sign_in_button, QDialogButtonBox.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.RejectRole)
        # buttons.accepted is deliberately not connected: the click starts the check, and only a
        # successful check accepts the dialog.
        buttons.rejected.connect(self.reject)
        self.sign_in_button.clicked.connect(self._submit)
        self.engine = EngineProgress(self)     # start-up: the engine loading meanwhile
        col.addWidget(self.engine)
        col.addWidget(buttons)
        (self.password if username else self.username).setFocus()

    def set_engine_progress(self, done: int, total: int, text: str) -> None:
        self.engine.set_engine_progress(done, total, text)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done

    def _submit(self) -> None:
        if self.busy:
            return
        name, password = self.username.text().strip(), self.password.text()
        if not name or not password:
            self._show("Enter your user name and password.")
            return
        self.error_label.hide()
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText("Checking…")
        auth = self._station.auth
        self._task = start_task(self, lambda _p: auth.sign_in(name, password),
                                on_success=self._succeeded, on_error=self._failed,
                                on_finished=self._idle, name="sign-in")

    def _succeeded(self, actor: object) -> None:
        self.password.clear()
        self.signed_in.emit(actor)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._show(error_text(exc, self._log_path, "signing in"))
        self.password.clear()
        self.password.setFocus()

    def _idle(self) -> None:
        self.sign_in_button.setEnabled(True)
        self.sign_in_button.setText("Sign in")

    def _show(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def reject(self) -> None:
        if self._task is not None:
            self._task.wait()  # a sign-in in flight takes well under a second; let it end
        super().reject()
