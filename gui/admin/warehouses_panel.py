"""Warehouses (admins): create, edit, delete when empty; capacity, stored and free space.

The numbers are the service's (stored = the products' quantities kept there) and are read again
whenever the panel is shown or a record changes, so they follow product moves made elsewhere.

Threading: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor

from db.dto import WarehouseInfo
from gui.admin.catalog_panel import CatalogPanel
from gui.admin.warehouse_dialog import WarehouseDialog
from gui.context import AppContext
from gui.table_models import Column
from gui.theme import REJECT_COLOUR, REVIEW_COLOUR

RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


def _used(w: WarehouseInfo) -> float:
    return w.stored / w.capacity if w.capacity else 1.0


def _free_colour(w: WarehouseInfo) -> QColor | None:
    # amber when nearly full, red when full: where the next delivery will not fit
    if w.free <= 0:
        return QColor(REJECT_COLOUR)
    return QColor(REVIEW_COLOUR).darker(130) if _used(w) >= 0.9 else None


COLUMNS = (
    Column("Name", lambda w: w.name),
    Column("Location", lambda w: w.location),
    Column("Capacity", lambda w: f"{w.capacity:,}", sort=lambda w: w.capacity, align=RIGHT),
    Column("Stored", lambda w: f"{w.stored:,}", sort=lambda w: w.stored, align=RIGHT),
    Column("Free", lambda w: f"{w.free:,}", sort=lambda w: w.free, align=RIGHT,
           foreground=_free_colour),
    Column("Used", lambda w: f"{_used(w):.0%}", sort=_used, align=RIGHT),
    Column("Notes", lambda w: w.notes.replace("\n", " ")),
)


class WarehousesPanel(CatalogPanel):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, "Warehouses", "Capacity and free space in cans. A warehouse can "
                         "be deleted only when no product is kept there and no inspection "
                         "refers to it.", COLUMNS,
                         lambda: ctx.station.warehouses.list(ctx.actor))
        self.add_button("New warehouse…", "newButton", self.new_warehouse,
                        needs_selection=False, primary=True)
        self.add_button("Edit…", "editButton", self.edit)
        self.delete_button = self.add_button("Delete", "deleteButton", self.delete)
        self.delete_button.setProperty("danger", True)

    def on_activated(self) -> None:
        self.edit()

    def new_warehouse(self) -> None:
        self.open_dialog(WarehouseDialog(self.ctx, None, self))

    def edit(self) -> None:
        w = self.selected()
        if w is not None:
            self.open_dialog(WarehouseDialog(self.ctx, w, self))

    def delete(self) -> None:
        w = self.selected()
        if w is None:
            return
        service, actor = self.ctx.station.warehouses, self.ctx.actor
        self.confirm(f"Delete warehouse {w.name}?",
                     lambda: self.call_service("deleting a warehouse",
                                               lambda: service.delete(actor, w.id)),
                     yes_text="Delete")
