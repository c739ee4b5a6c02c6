"""Admin panels driven as an admin would: users, warehouses and products, with the services'
validation shown beside the field and the numbers kept current."""
from __future__ import annotations

import pytest
from PyQt5 import sip
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMessageBox

from db import Role
from gui.admin.products_panel import ProductsPanel
from gui.admin.stations_panel import StationsPanel
from gui.admin.users_panel import UsersPanel
from gui.admin.warehouses_panel import WarehousesPanel
from tests.gui.conftest import PASSWORD


def _show(qtbot, panel):
    qtbot.addWidget(panel)
    panel.resize(1100, 650)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _select(panel, text: str, column: int = 0) -> None:
    for row in range(panel.model.rowCount()):
        if panel.model.index(row, column).data() == text:
            panel.table.selectRow(row)
            return
    raise AssertionError(f"{text!r} not in the table")


def _texts(panel, column: int = 0) -> list[str]:
    return [panel.model.index(r, column).data() for r in range(panel.model.rowCount())]


def _cell(panel, text: str, column: int) -> str:
    for row in range(panel.model.rowCount()):
        if panel.model.index(row, 0).data() == text:
            return panel.model.index(row, column).data()
    raise AssertionError(text)


def _save(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _closed(dialog) or not dialog.busy, timeout=5000)


def _closed(dialog) -> bool:
    return sip.isdeleted(dialog) or not dialog.isVisible()


def _answer(qtbot, panel, button=QMessageBox.Yes) -> None:
    boxes = [b for b in panel.findChildren(QMessageBox, "confirmBox") if b.isVisible()]
    assert len(boxes) == 1
    box = boxes[0]
    qtbot.mouseClick(box.button(button), Qt.LeftButton)


def test_users_create_with_validation_beside_the_field(qtbot, make_ctx, world):
    panel = _show(qtbot, UsersPanel(make_ctx(Role.ADMIN)))
    assert set(_texts(panel)) == {"admin", "sue", "otto"}
    qtbot.mouseClick(panel.findChild(type(panel.role_button), "newButton"), Qt.LeftButton)
    dialog = panel.dialog
    qtbot.keyClicks(dialog.username, "bad name")
    qtbot.keyClicks(dialog.password, "short")
    qtbot.keyClicks(dialog.confirm, "short")
    _save(qtbot, dialog)
    assert dialog.isVisible()
    # the service's own words, under the field they are about
    assert dialog.errors.label("username").isVisible()
    assert "user name" in dialog.errors.label("username").text().lower()
    dialog.username.setText("nina")
    _save(qtbot, dialog)
    assert "8 characters" in dialog.errors.label("password").text()
    assert not dialog.errors.label("username").isVisible()
    dialog.password.setText("long enough 1")
    dialog.confirm.setText("long enough 2")
    _save(qtbot, dialog)
    assert dialog.errors.label("confirm").text() == "The two passwords differ."
    dialog.confirm.setText("long enough 1")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.SUPERVISOR))
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: _closed(dialog))
    assert "nina" in _texts(panel)
    assert _cell(panel, "nina", 1) == "Supervisor"
    assert world.station.auth.sign_in("nina", "long enough 1").role == Role.SUPERVISOR

    # a taken name is refused beside the field too
    panel.new_user()
    dialog = panel.dialog
    dialog.username.setText("nina")
    dialog.password.setText("long enough 1")
    dialog.confirm.setText("long enough 1")
    _save(qtbot, dialog)
    assert "taken" in dialog.errors.label("username").text()
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)


def test_users_change_role_deactivate_reset_password(qtbot, make_ctx, world):
    panel = _show(qtbot, UsersPanel(make_ctx(Role.ADMIN)))
    _select(panel, "otto")
    qtbot.mouseClick(panel.role_button, Qt.LeftButton)
    dialog = panel.dialog
    dialog.role.setCurrentIndex(dialog.role.findData(Role.SUPERVISOR))
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: _cell(panel, "otto", 1) == "Supervisor")

    _select(panel, "otto")
    assert panel.active_button.text() == "Deactivate"
    qtbot.mouseClick(panel.active_button, Qt.LeftButton)
    _answer(qtbot, panel)
    assert _cell(panel, "otto", 2) == "Deactivated"
    assert panel.active_button.text() == "Activate"   # still selected after the reload
    assert not world.station.users.get(world.admin, world.operator.user_id).active

    qtbot.mouseClick(panel.password_button, Qt.LeftButton)
    dialog = panel.dialog
    dialog.password.setText("brand new pass")
    dialog.confirm.setText("brand new pass")
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: _closed(dialog))
    qtbot.mouseClick(panel.active_button, Qt.LeftButton)   # activate again: no question
    assert world.station.auth.sign_in("otto", "brand new pass").username == "otto"


def test_last_admin_cannot_demote_itself(qtbot, make_ctx):
    panel = _show(qtbot, UsersPanel(make_ctx(Role.ADMIN)))
    _select(panel, "admin")
    panel.change_role()
    dialog = panel.dialog
    dialog.role.setCurrentIndex(dialog.role.findData(Role.OPERATOR))
    _save(qtbot, dialog)
    assert "last active admin" in dialog.errors.label("role").text()
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)


def test_users_search_and_sort(qtbot, make_ctx):
    panel = _show(qtbot, UsersPanel(make_ctx(Role.ADMIN)))
    panel.table.sortByColumn(0, Qt.DescendingOrder)
    assert _texts(panel) == ["sue", "otto", "admin"]
    qtbot.keyClicks(panel.search, "ott")
    assert _texts(panel) == ["otto"]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "supervisor")     # searches every column, the role too
    assert _texts(panel) == ["sue"]


def test_warehouses_crud_free_space_and_delete_when_empty(qtbot, make_ctx, world):
    panel = _show(qtbot, WarehousesPanel(make_ctx(Role.ADMIN)))
    assert _cell(panel, "Hall A", 4) == "900"      # 1000 capacity, 100 cans of beans
    panel.new_warehouse()
    dialog = panel.dialog
    qtbot.keyClicks(dialog.name, "Hall A")
    dialog.capacity.setValue(500)
    _save(qtbot, dialog)
    assert "exists already" in dialog.errors.label("name").text()
    dialog.name.setText("Cold store")
    qtbot.keyClicks(dialog.location, "Basement")
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: "Cold store" in _texts(panel))
    assert _cell(panel, "Cold store", 4) == "500"

    _select(panel, "Hall A")
    panel.edit()
    dialog = panel.dialog
    dialog.capacity.setValue(50)                     # below the 100 cans stored
    _save(qtbot, dialog)
    assert "100 cans are stored" in dialog.errors.label("capacity").text()
    dialog.capacity.setValue(2000)
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: _cell(panel, "Hall A", 2) == "2,000")
    assert _cell(panel, "Hall A", 4) == "1,900"

    _select(panel, "Hall A")                          # holds beans: refused, with the reason
    qtbot.mouseClick(panel.delete_button, Qt.LeftButton)
    _answer(qtbot, panel)
    box = panel.findChild(QMessageBox, "errorBox")
    assert box is not None and "still holds products" in box.text()
    box.close()
    assert "Hall A" in _texts(panel)
    _select(panel, "Cold store")
    qtbot.mouseClick(panel.delete_button, Qt.LeftButton)
    _answer(qtbot, panel)
    assert "Cold store" not in _texts(panel)


def test_products_create_move_overfill_and_free_space(qtbot, make_ctx, world):
    admin = world.admin
    world.station.warehouses.create(admin, "Small", 150)
    products = _show(qtbot, ProductsPanel(make_ctx(Role.ADMIN)))
    products.new_product()
    dialog = products.dialog
    qtbot.keyClicks(dialog.sku, "PEAS-200")
    qtbot.keyClicks(dialog.name, "Peas 200 g")
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findText("Small", Qt.MatchStartsWith))
    dialog.quantity.setValue(200)                    # more than fits into Small
    dialog.side_edits[1].setText("Lid")              # a duplicate side name
    _save(qtbot, dialog)
    assert "own name" in dialog.errors.label("side_names").text()
    dialog.side_edits[1].setText("Bottom")
    _save(qtbot, dialog)
    assert "room for 150" in dialog.errors.label("quantity").text()
    dialog.quantity.setValue(120)
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: "PEAS-200" in _texts(products))
    assert _cell(products, "PEAS-200", 2) == "Small"

    # move the beans (100 cans) into Small, where 30 are free: refused beside the warehouse
    _select(products, "BEANS-400")
    qtbot.mouseClick(products.findChild(type(dialog.ok_button), "moveButton"), Qt.LeftButton)
    dialog = products.dialog
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findText("Small", Qt.MatchStartsWith))
    _save(qtbot, dialog)
    assert "room for 30" in dialog.errors.label("warehouse_id").text()
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)

    # move the peas to Hall A instead; the warehouses panel shows the new free space
    _select(products, "PEAS-200")
    products.move()
    dialog = products.dialog
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findText("Hall A", Qt.MatchStartsWith))
    _save(qtbot, dialog)
    qtbot.waitUntil(lambda: _cell(products, "PEAS-200", 2) == "Hall A")
    warehouses = _show(qtbot, WarehousesPanel(make_ctx(Role.ADMIN)))
    assert _cell(warehouses, "Hall A", 4) == "780"
    assert _cell(warehouses, "Small", 4) == "150"


def test_locked_user_is_shown_and_unlocked(qtbot, make_ctx, world):
    from db import AccountLocked, InvalidCredentials
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            world.station.auth.sign_in("otto", "wrong password")
    with pytest.raises(AccountLocked):                 # the fifth wrong try locks
        world.station.auth.sign_in("otto", "wrong password")
    panel = _show(qtbot, UsersPanel(make_ctx(Role.ADMIN)))
    assert _cell(panel, "otto", 2) == "Locked" and _cell(panel, "otto", 3) != ""
    _select(panel, "sue")
    assert not panel.unlock_button.isEnabled()
    _select(panel, "otto")
    assert panel.unlock_button.isEnabled()
    qtbot.mouseClick(panel.unlock_button, Qt.LeftButton)
    assert _cell(panel, "otto", 2) == "Active"
    assert world.station.auth.sign_in("otto", PASSWORD).username == "otto"


def test_the_proxy_searches_and_sorts_every_row_of_a_long_list(qtbot):
    from gui.table_models import Column, ListTableModel, RowFilterProxy
    rows = [f"item {i:04d}" for i in range(250)]
    source = ListTableModel([Column("Item", lambda r: r)], lambda: rows)
    model = RowFilterProxy(source)
    source.reload()
    assert model.rowCount() == 250
    model.set_search("ITEM 02")                      # case does not matter
    assert model.rowCount() == 50
    model.sort(0, Qt.DescendingOrder)
    assert model.index(0, 0).data() == "item 0249"
    assert model.find(lambda r: r == "item 0200") == 49
    source.reload()                                  # a reload keeps the search and the order
    assert model.rowCount() == 50 and model.row(0) == "item 0249"


def test_enter_on_a_row_opens_its_editor(qtbot, make_ctx):
    panel = _show(qtbot, WarehousesPanel(make_ctx(Role.ADMIN)))
    _select(panel, "Hall A")
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key_Return)
    dialog = panel.dialog
    assert dialog.isVisible() and dialog.name.text() == "Hall A"
    qtbot.keyClick(dialog, Qt.Key_Escape)
    qtbot.waitUntil(lambda: _closed(dialog))


def test_stations_panel_lists_the_site_and_retires_a_station(qtbot, make_ctx, world):
    import uuid

    stations = world.station.stations
    one = stations.register(str(uuid.uuid4()), "line-1", "pc-1")
    stations.register(str(uuid.uuid4()), "line-2", "pc-2")
    panel = _show(qtbot, StationsPanel(make_ctx(Role.ADMIN)))
    assert _texts(panel) == ["line-1", "line-2"]
    assert _cell(panel, "line-1", 1) == "running" and _cell(panel, "line-1", 6) == "pc-1"
    _select(panel, "line-1")
    qtbot.mouseClick(panel.retire_button, Qt.LeftButton)
    _answer(qtbot, panel)
    assert _cell(panel, "line-1", 1) == "retired"
    assert [s.retired for s in stations.list(world.admin) if s.id == one.id] == [True]
    supervisor = _show(qtbot, StationsPanel(make_ctx(Role.SUPERVISOR)))
    assert not hasattr(supervisor, "retire_button")           # supervisors only look
