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
