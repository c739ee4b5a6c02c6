"""Changing one's own password (every role), also when an admin asked for it at sign-in.

The service checks the current password and the password policy; its messages appear beside the
field ("old_password", "new_password"). Only "the two passwords differ" is checked here.
``forced``: the dialog comes between sign-in and the window; its Cancel signs out.

Threading: GUI thread only (the service call runs in ``ServiceFormDialog``'s worker; hashing a
password takes a moment by design).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtWidgets import QLabel, QLineEdit, QWidget

from gui.admin.form_dialog import LocalError, ServiceFormDialog
from gui.context import AppContext


def _secret(name: str) -> QLineEdit:
    edit = QLineEdit(objectName=name)
    edit.setEchoMode(QLineEdit.Password)
    return edit


class ChangePasswordDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, forced: bool = False,
                 parent: QWidget | None = None) -> None:
        title = "Choose a new password" if forced else "Change my password"
        super().__init__(ctx, title, "Change password", parent, width=420)
        self.setObjectName("passwordDialog")
        self.forced = forced
        if forced:
            note = QLabel(f"{ctx.actor.username}, an admin asked you to choose a new password "
                          "before you go on. Cancel signs you out.", objectName="hint")
            note.setWordWrap(True)
            self.form.addRow(note)
            self.cancel_button.setText("Sign out")
        self.old = self.add_row("Current password", "old_password", _secret("oldPassword"))
        self.new = self.add_row("New password", "new_password", _secret("newPassword"))
        self.confirm = self.add_row("Repeat new password", "confirm", _secret("confirm"))
        self.old.setFocus()

    def save(self) -> Callable[[], Any]:
        if self.new.text() != self.confirm.text():
            raise LocalError("confirm", "The two new passwords differ.")
        if self.new.text() and self.new.text() == self.old.text():
            raise LocalError("new_password", "Choose a password other than the current one.")
        users, actor = self.ctx.station.users, self.ctx.actor
        old, new = self.old.text(), self.new.text()
        return lambda: users.change_own_password(actor, old, new)
