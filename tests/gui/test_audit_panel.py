"""The audit log panel (issue 11 item 2): filters who / what / when, pages over a large log,
CSV export of the filtered events."""
from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt

from db import InvalidCredentials, Role
from gui.admin.audit_panel import PAGE, AuditPanel


def _panel(qtbot, ctx) -> AuditPanel:
    panel = AuditPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1100, 650)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    return panel


def _settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)


def _many_events(world, n: int) -> None:
    for i in range(n):
        world.station.warehouses.create(world.admin, f"Bay {i:03d}", 10)


def test_pages_walk_a_large_log_newest_first(qtbot, make_ctx, world):
    _many_events(world, 2 * PAGE + 20)
    panel = _panel(qtbot, make_ctx(Role.ADMIN))
    total = world.station.audit.count(world.admin)
    assert panel.total == total and panel.model.rowCount() == PAGE
    assert f"1–{PAGE} of {total:,}" in panel.status.text()
    newest = panel.model.index(0, 4).data()
    assert "Bay 219" in newest                          # the last one made comes first
    assert not panel.newer_button.isEnabled() and panel.older_button.isEnabled()
    qtbot.mouseClick(panel.older_button, Qt.LeftButton)
    _settle(qtbot, panel)
    assert panel.offset == PAGE and f"{PAGE + 1}–{2 * PAGE}" in panel.status.text()
    qtbot.mouseClick(panel.last_button, Qt.LeftButton)
    _settle(qtbot, panel)
    assert panel.model.rowCount() == total - 2 * PAGE
    assert not panel.older_button.isEnabled()
    assert panel.model.index(panel.model.rowCount() - 1, 2).data() == "user.create_first_admin"
    qtbot.mouseClick(panel.first_button, Qt.LeftButton)
    _settle(qtbot, panel)
    assert panel.offset == 0


def test_filters_who_what_and_when(qtbot, make_ctx, world):
    st = world.station
    st.users.set_role(world.admin, world.operator.user_id, Role.SUPERVISOR)
    with pytest.raises(InvalidCredentials):      # the failure is what we want in the log
        st.auth.sign_in("mallory", "guess")
    panel = _panel(qtbot, make_ctx(Role.ADMIN))
    panel.who.setCurrentIndex(panel.who.findData("mallory"))
    _settle(qtbot, panel)
    assert panel.total == 1 and panel.model.index(0, 2).data() == "auth.sign_in_failed"
    panel.who.setCurrentIndex(0)
    panel.what.setCurrentIndex(panel.what.findData("user."))
    _settle(qtbot, panel)
    actions = {panel.model.index(r, 2).data() for r in range(panel.model.rowCount())}
    assert actions == {"user.create_first_admin", "user.create", "user.set_role"}
    assert panel.total == 4                 # the first admin, two users by the fixture, a role
    today = date.today()
    panel.since.setDate(today + timedelta(days=1))      # tomorrow: nothing yet
    _settle(qtbot, panel)
    assert panel.total == 0 and "No event" in panel.status.text()
    panel.since.setDate(today)
    _settle(qtbot, panel)
    assert panel.total == 4
    qtbot.mouseClick(panel.reset_button, Qt.LeftButton)
    _settle(qtbot, panel)
    assert panel.total == st.audit.count(world.admin)


def test_csv_export_of_the_filtered_events(qtbot, make_ctx, world, tmp_path: Path):
    panel = _panel(qtbot, make_ctx(Role.ADMIN))
    panel.what.setCurrentIndex(panel.what.findData("warehouse."))
    _settle(qtbot, panel)
    out = tmp_path / "audit.csv"
    panel.export_csv(out)
    _settle(qtbot, panel)
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [r["action"] for r in rows] == ["warehouse.create"]
    assert "1 events written" in panel.status.text()


def test_only_admins_see_the_audit_log(qtbot, make_ctx):
    from gui.main_window import MainWindow
    for role, shown in ((Role.ADMIN, True), (Role.SUPERVISOR, False), (Role.OPERATOR, False)):
        window = MainWindow(make_ctx(role))
        qtbot.addWidget(window)
        assert ("Audit log" in window.panel_titles()) is shown
