"""Changing one's own password from the window, for every role (issue 11 item 3)."""
from __future__ import annotations

import pytest
from PyQt5 import sip
from PyQt5.QtCore import Qt

from db import InvalidCredentials, Role
from gui.main_window import MainWindow
from tests.gui.conftest import PASSWORD


def _submit(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sip.isdeleted(dialog) or not dialog.busy, timeout=5000)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_changes_its_own_password(qtbot, make_ctx, world, role):
    window = MainWindow(make_ctx(role))
    qtbot.addWidget(window)
    window.show()
    assert window.password_button.isVisible()
    dialog = window.change_password()
    dialog.old.setText("not my password")
    dialog.new.setText("a much better secret 42")
    dialog.confirm.setText("a much better secret 4")
    _submit(qtbot, dialog)
    assert dialog.errors.label("confirm").isVisible()
    dialog.confirm.setText("a much better secret 42")
    _submit(qtbot, dialog)
    assert "wrong" in dialog.errors.label("old_password").text()
    dialog.old.setText(PASSWORD)
    _submit(qtbot, dialog)
    qtbot.waitUntil(lambda: sip.isdeleted(dialog) or not dialog.isVisible(), timeout=5000)
    assert "password was changed" in window.statusBar().currentMessage()
    name = window.ctx.actor.username
    with pytest.raises(InvalidCredentials):
        world.station.auth.sign_in(name, PASSWORD)
    assert world.station.auth.sign_in(name, "a much better secret 42").username == name
    window.close()


def _sign_in(qtbot, flow, name: str, password: str) -> None:
    dialog = flow.dialog
    dialog.username.setText(name)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: flow.dialog is not dialog or flow.window is not None, timeout=10000)


def test_an_admin_asks_for_a_new_password_and_the_user_must_choose_one(qtbot, make_ctx, world):
    from gui.admin.users_panel import UsersPanel
    from gui.app import SessionFlow
    from gui.password_dialog import ChangePasswordDialog

    st = world.station
    panel = UsersPanel(make_ctx(Role.ADMIN))
    qtbot.addWidget(panel)
    panel.show()
    for row in range(panel.model.rowCount()):
        if panel.model.index(row, 0).data() == "otto":
            panel.table.selectRow(row)
    assert panel.force_button.text() == "Force new password"
    qtbot.mouseClick(panel.force_button, Qt.LeftButton)
    assert st.users.get(world.admin, world.operator.user_id).must_change_password
    assert "New password asked" in [panel.model.index(r, 2).data()
                                    for r in range(panel.model.rowCount())]

    flow = SessionFlow(world.settings, st, None, world.log_path)
    flow.start()
    _sign_in(qtbot, flow, "otto", PASSWORD)
    forced = flow.dialog
    assert isinstance(forced, ChangePasswordDialog) and forced.forced and flow.window is None
    assert forced.cancel_button.text() == "Sign out"
    qtbot.mouseClick(forced.cancel_button, Qt.LeftButton)          # sign out instead
    qtbot.waitUntil(lambda: flow.dialog is not forced, timeout=5000)
    assert flow.window is None and flow.dialog.objectName() == "loginDialog"

    _sign_in(qtbot, flow, "otto", PASSWORD)
    forced = flow.dialog
    forced.old.setText(PASSWORD)
    forced.new.setText("a brand new secret 77")
    forced.confirm.setText("a brand new secret 77")
    with qtbot.waitSignal(flow.window_opened, timeout=10000):
        qtbot.mouseClick(forced.ok_button, Qt.LeftButton)
    assert flow.window.ctx.actor.username == "otto"
    assert not st.users.get(world.admin, world.operator.user_id).must_change_password
    assert st.audit.list(world.admin, action="user.force_password_change")
    flow.shutdown()


def test_a_reset_password_is_temporary_by_default(qtbot, make_ctx, world):
    from gui.admin.user_dialogs import ResetPasswordDialog

    user = world.station.users.get(world.admin, world.operator.user_id)
    dialog = ResetPasswordDialog(make_ctx(Role.ADMIN), user)
    qtbot.addWidget(dialog)
    assert dialog.force.isChecked()
    dialog.password.setText("temporary password 1")
    dialog.confirm.setText("temporary password 1")
    _submit(qtbot, dialog)
    assert world.station.users.get(world.admin, user.id).must_change_password
