"""Create or edit a warehouse: name, location, capacity (cans), notes.

The service refuses a duplicate name and a capacity below what is stored; both messages appear
under their field.

Threading: GUI thread only (the service call runs in ``ServiceFormDialog``'s worker).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from db.dto import WarehouseInfo
from gui.admin.form_dialog import ServiceFormDialog
from gui.context import AppContext

MAX_CANS = 1_000_000_000


def cans_spin(name: str, value: int = 0) -> QSpinBox:
    spin = QSpinBox(objectName=name)
    spin.setRange(0, MAX_CANS)
    spin.setGroupSeparatorShown(True)
    spin.setSuffix(" cans")
    spin.setMaximumWidth(240)       # a count, not a sentence: a long field reads wrong
    spin.setValue(value)
    return spin


class WarehouseDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, warehouse: WarehouseInfo | None = None,
                 parent: QWidget | None = None) -> None:
        title = "New warehouse" if warehouse is None else f"Edit warehouse {warehouse.name}"
        super().__init__(ctx, title, "Create" if warehouse is None else "Save", parent, width=520)
        self.warehouse = warehouse
        w = warehouse
        self.name = self.add_row("Name", "name", QLineEdit(w.name if w else "", objectName="name"))
        self.location = self.add_row("Location", "location",
                                     QLineEdit(w.location if w else "", objectName="location"))
        self.capacity = self.add_row("Capacity", "capacity",
                                     cans_spin("capacity", w.capacity if w else 1000))
        if w is not None:
            self.form.addRow("", QLabel(f"{w.stored:,} cans stored now, {w.free:,} free",
                                        objectName="hint"))
        self.notes = QPlainTextEdit(w.notes if w else "", objectName="notes")
        self.notes.setFixedHeight(80)
        self.add_row("Notes", "notes", self.notes)
        self.name.setFocus()

    def save(self) -> Callable[[], Any]:
        service, actor = self.ctx.station.warehouses, self.ctx.actor
        values = dict(name=self.name.text().strip(), capacity=self.capacity.value(),
                      location=self.location.text().strip(), notes=self.notes.toPlainText())
        if self.warehouse is None:
            return lambda: service.create(actor, **values)
        wid = self.warehouse.id
        return lambda: service.update(actor, wid, **values)
