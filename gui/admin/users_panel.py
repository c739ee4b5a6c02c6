"""Users (admins): create, change role, deactivate / activate, reset password, unlock.

The rules (user names, password policy, "the last admin stays an admin and active") live in
``station.users``; this panel shows their messages.

Threading: GUI thread only.
"""
from __future__ import annotations

from datetime import datetime, timezone

from PyQt5.QtGui import QColor

from db.dto import UserInfo
from gui.admin.catalog_panel import CatalogPanel
from gui.admin.user_dialogs import ROLE_TEXT, NewUserDialog, ResetPasswordDialog, RoleDialog
from gui.context import AppContext
from gui.table_models import Column
from gui.theme import NEUTRAL_COLOUR, REJECT_COLOUR


def local_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def is_locked(user: UserInfo) -> bool:
    return user.locked_until is not None and user.locked_until > datetime.now(timezone.utc)


def _status(user: UserInfo) -> str:
    if not user.active:
        return "Deactivated"
    if is_locked(user):
        return "Locked"
    return "New password asked" if user.must_change_password else "Active"


def _status_colour(user: UserInfo) -> QColor | None:
    if not user.active:
        return QColor(NEUTRAL_COLOUR)
    return QColor(REJECT_COLOUR) if is_locked(user) else None


COLUMNS = (
    Column("User name", lambda u: u.username),
    Column("Role", lambda u: ROLE_TEXT[u.role]),
    Column("Status", _status, foreground=_status_colour),
    Column("Locked until", lambda u: local_time(u.locked_until) if is_locked(u) else ""),
    Column("Last sign-in", lambda u: local_time(u.last_login_at)),
    Column("Created", lambda u: local_time(u.created_at)),
)


class UsersPanel(CatalogPanel):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, "Users", "Operators capture and inspect; supervisors also browse "
                         "every inspection, correct verdicts and see statistics; admins manage "
                         "users, warehouses, products and models.", COLUMNS,
                         lambda: ctx.station.users.list(ctx.actor))
        self.add_button("New user…", "newButton", self.new_user, needs_selection=False,
                        primary=True)
        # short words: seven buttons share one row of a 1024-pixel screen
        self.role_button = self.add_button("Role…", "roleButton", self.change_role)
        self.role_button.setToolTip("Change the selected user's role")
        self.active_button = self.add_button("Deactivate", "activeButton", self.toggle_active)
        self.password_button = self.add_button("Set password…", "passwordButton",
                                               self.reset_password)
        self.unlock_button = self.add_button("Unlock", "unlockButton", self.unlock)
        self.force_button = self.add_button("Force new password", "forceButton",
                                            self.toggle_force)
        self.force_button.setToolTip("The user chooses a new password at the next sign-in, "
                                     "before anything else")

    def on_selection(self, user: UserInfo | None) -> None:
        self.active_button.setText("Activate" if user is not None and not user.active
                                   else "Deactivate")
        self.unlock_button.setEnabled(user is not None and is_locked(user))
        self.force_button.setText("Drop the request" if user is not None
                                  and user.must_change_password else "Force new password")

    def toggle_force(self) -> None:
        user = self.selected()
        if user is None:
            return
        users, actor, on = self.ctx.station.users, self.ctx.actor, not user.must_change_password
        self.call_service("asking for a new password",
                          lambda: users.force_password_change(actor, user.id, on))

    def on_activated(self) -> None:
        self.change_role()

    def new_user(self) -> None:
        self.open_dialog(NewUserDialog(self.ctx, self))

    def change_role(self) -> None:
        user = self.selected()
        if user is not None:
            self.open_dialog(RoleDialog(self.ctx, user, self))

    def reset_password(self) -> None:
        user = self.selected()
        if user is not None:
            self.open_dialog(ResetPasswordDialog(self.ctx, user, self))

    def toggle_active(self) -> None:
        user = self.selected()
        if user is None:
            return
        users, actor = self.ctx.station.users, self.ctx.actor
        if user.active:
            self.confirm(f"Deactivate {user.username}? They can no longer sign in; their "
                         "inspections stay.",
                         lambda: self.call_service("deactivating a user",
                                                   lambda: users.set_active(actor, user.id, False)),
                         yes_text="Deactivate")
        else:
            self.call_service("activating a user", lambda: users.set_active(actor, user.id, True))

    def unlock(self) -> None:
        user = self.selected()
        if user is not None:
            users, actor = self.ctx.station.users, self.ctx.actor
            self.call_service("unlocking a user", lambda: users.unlock(actor, user.id))
