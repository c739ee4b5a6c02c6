"""Sign-in and first-run dialogs against a real Station: the services' own messages appear."""
from __future__ import annotations

from PyQt5.QtCore import Qt

from gui.first_run_dialog import FirstRunDialog
from gui.login_dialog import LoginDialog
from tests.gui.conftest import PASSWORD


def _login(qtbot, world) -> LoginDialog:
    dialog = LoginDialog(world.station, world.log_path, station_name="test-line")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _try(qtbot, dialog, name: str, password: str) -> None:
    dialog.username.setText("")
    dialog.password.setText("")
    qtbot.keyClicks(dialog.username, name)
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)


def test_wrong_password_shows_the_services_message(qtbot, world):
    dialog = _login(qtbot, world)
    signed = []
    dialog.signed_in.connect(signed.append)
    _try(qtbot, dialog, "sue", "not her password")
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "Wrong user name or password."
    assert dialog.password.text() == ""          # cleared for the next try
    assert not signed and dialog.isVisible()
    _try(qtbot, dialog, "sue", PASSWORD)
    assert [a.username for a in signed] == ["sue"]
    assert dialog.result() == dialog.Accepted


def test_empty_fields_are_asked_for_without_calling_the_service(qtbot, world):
    dialog = _login(qtbot, world)
    qtbot.mouseClick(dialog.sign_in_button, Qt.LeftButton)
    assert dialog.error_label.text() == "Enter your user name and password."
    assert not dialog.busy


def test_lock_out_message_after_too_many_failures(qtbot, world):
    dialog = _login(qtbot, world)
    for _ in range(5):
        _try(qtbot, dialog, "otto", "wrong password")
    assert "locked" in dialog.error_label.text()
    _try(qtbot, dialog, "otto", PASSWORD)       # the right password does not help now
    assert "locked" in dialog.error_label.text()
    assert dialog.isVisible()


def test_first_run_creates_the_admin_with_errors_beside_the_fields(qtbot, station, settings):
    assert not station.auth.has_users()
    dialog = FirstRunDialog(station, settings.log_dir / "station.log")
    qtbot.addWidget(dialog)
    dialog.show()
    created = []
    dialog.created.connect(created.append)
    qtbot.keyClicks(dialog.password, "short")
    qtbot.keyClicks(dialog.confirm, "short")
    qtbot.mouseClick(dialog.create_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.errors.label("password").isVisible(), timeout=5000)
    assert "at least 8 characters" in dialog.errors.label("password").text()
    dialog.password.setText("a good password")
    dialog.confirm.setText("a good passwort")
    qtbot.mouseClick(dialog.create_button, Qt.LeftButton)
    assert dialog.errors.label("confirm").text() == "The two passwords differ."
    dialog.confirm.setText("a good password")
    dialog.username.setText("chief")
    with qtbot.waitSignal(dialog.created, timeout=5000):
        qtbot.mouseClick(dialog.create_button, Qt.LeftButton)
    assert created[0].username == "chief" and created[0].role.value == "admin"
    assert station.auth.sign_in("chief", "a good password").username == "chief"
