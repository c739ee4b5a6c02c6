"""Dialogs of the users panel: new user, change role, reset password.

The services check the user-name rules, the password policy and "keep one admin"; their
``ValidationError`` / ``Conflict`` appear beside the field. Only "the two passwords differ" is
checked here (the service never sees the repeated password).

Threading: GUI thread only (the service call runs in ``ServiceFormDialog``'s worker).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from db.dto import UserInfo
from db.permissions import Role
from gui.admin.form_dialog import LocalError, ServiceFormDialog
from gui.context import AppContext

ROLE_TEXT = {Role.OPERATOR: "Operator", Role.SUPERVISOR: "Supervisor", Role.ADMIN: "Admin"}


def role_combo(current: Role = Role.OPERATOR) -> QComboBox:
    combo = QComboBox(objectName="role")
    for role in Role:
        combo.addItem(ROLE_TEXT[role], role)
    combo.setCurrentIndex(list(Role).index(current))
    return combo


def password_pair(dialog: ServiceFormDialog, caption: str = "Password") -> tuple[QLineEdit, QLineEdit]:
    password = QLineEdit(objectName="password")
    password.setEchoMode(QLineEdit.Password)
    confirm = QLineEdit(objectName="confirm")
    confirm.setEchoMode(QLineEdit.Password)
    dialog.add_row(caption, "password", password)
    dialog.add_row("Repeat password", "confirm", confirm)
    return password, confirm


def _checked_password(password: QLineEdit, confirm: QLineEdit) -> str:
    if password.text() != confirm.text():
        raise LocalError("confirm", "The two passwords differ.")
    return password.text()


class NewUserDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "New user", "Create user", parent)
        self.username = self.add_row("User name", "username", QLineEdit(objectName="username"))
        self.role = self.add_row("Role", "role", role_combo())
        self.password, self.confirm = password_pair(self)
        self.username.setFocus()

    def save(self) -> Callable[[], Any]:
        password = _checked_password(self.password, self.confirm)
        name, role = self.username.text().strip(), self.role.currentData()
        users, actor = self.ctx.station.users, self.ctx.actor
        return lambda: users.create(actor, name, password, role)


class RoleDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Role of {user.username}", "Change role", parent)
        self.user = user
        self.role = self.add_row("Role", "role", role_combo(user.role))

    def save(self) -> Callable[[], Any]:
        users, actor, uid, role = self.ctx.station.users, self.ctx.actor, self.user.id, \
            self.role.currentData()
        return lambda: users.set_role(actor, uid, role)


class ResetPasswordDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"New password for {user.username}", "Set password", parent)
        self.user = user
        note = QLabel("The user signs in with this password next; tell them in person.",
                      objectName="hint")
        note.setWordWrap(True)
        self.form.addRow(note)
        self.password, self.confirm = password_pair(self, "New password")
        self.force = QCheckBox("Ask for their own at the next sign-in", objectName="forceChange")
        self.force.setChecked(True)          # a password an admin typed is a temporary one
        self.form.addRow("", self.force)
        self.password.setFocus()

    def save(self) -> Callable[[], Any]:
        password = _checked_password(self.password, self.confirm)
        users, actor, uid = self.ctx.station.users, self.ctx.actor, self.user.id
        force = self.force.isChecked()
        return lambda: users.reset_password(actor, uid, password, force_change=force)
