"""Enter never throws typed data away: after a refused Create/Save clicked with the mouse, the
accept button stays the dialog's default, so the next Enter tries again (issue 11 item 5)."""
from __future__ import annotations

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from db import Role
from gui.admin.product_dialog import ProductDialog
from gui.admin.warehouse_dialog import WarehouseDialog


def _refused_then_enter(qtbot, dialog, field) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.errors.label(field).isVisible(),
                    timeout=5000)
    assert dialog.ok_button.isDefault()
    assert not dialog.cancel_button.isDefault()
    typed = {w: w.text() for w in (dialog.findChildren(type(dialog.name)))}
    focus = QApplication.focusWidget() or dialog
    qtbot.keyClick(focus, Qt.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)
    assert dialog.isVisible(), "Enter closed the dialog and dropped what was typed"
    assert dialog.result() == 0
    assert {w: w.text() for w in typed} == typed
    assert dialog.errors.label(field).isVisible()        # tried again, refused again


def test_warehouse_dialog_keeps_enter_on_create(qtbot, make_ctx, world):
    dialog = WarehouseDialog(make_ctx(Role.ADMIN))
    dialog.name.setText("Hall A")                          # taken: refused beside the name
    dialog.location.setText("typed with care")
    _refused_then_enter(qtbot, dialog, "name")


@pytest.mark.parametrize("move", [False, True])
def test_product_dialog_keeps_enter_on_save(qtbot, make_ctx, world, move):
    st, admin = world.station, world.admin
    product = st.products.get(admin, world.product_id)
    if move:
        small = st.warehouses.create(admin, "Tiny", 10)
        dialog = ProductDialog(make_ctx(Role.ADMIN), product, st.warehouses.list(admin), [])
        dialog.warehouse.setCurrentIndex(dialog.warehouse.findData(small.id))
        field = "warehouse_id"
    else:
        dialog = ProductDialog(make_ctx(Role.ADMIN), None, st.warehouses.list(admin), [])
        dialog.sku.setText("BEANS-400")                    # taken
        dialog.name.setText("Another beans")
        field = "sku"
    _refused_then_enter(qtbot, dialog, field)
