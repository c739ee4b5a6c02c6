"""Products (admins): create, edit, move between warehouses, side names, the model to use, and
the inspection regions of each side (Regions…).

Threading: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtCore import Qt

from core.errors import StationError
from db.dto import ProductInfo
from gui.admin.catalog_panel import CatalogPanel
from gui.admin.product_dialog import ProductDialog
from gui.admin.regions_dialog import RegionsDialog
from gui.context import AppContext
from gui.errors import show_error
from gui.table_models import Column

RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


class ProductsPanel(CatalogPanel):
    def __init__(self, ctx: AppContext) -> None:
        self._model_names: dict[int, str] = {}
        columns = (
            Column("SKU", lambda p: p.sku),
            Column("Name", lambda p: p.name),
            Column("Warehouse", lambda p: p.warehouse_name),
            Column("Quantity", lambda p: f"{p.quantity:,}", sort=lambda p: p.quantity, align=RIGHT),
            Column("Model", lambda p: self._model_names.get(p.model_id, "—")),
            Column("Side names", lambda p: ", ".join(p.side_names)),
        )
        super().__init__(ctx, "Products", "Each product is kept in one warehouse; moving it or "
                         "changing its quantity must fit the warehouse's free space.", columns,
                         self._load)
        self.add_button("New product…", "newButton", self.new_product, needs_selection=False,
                        primary=True)
        self.add_button("Edit…", "editButton", self.edit)
        self.add_button("Move…", "moveButton", self.move)
        self.add_button("Regions…", "regionsButton", self.edit_regions)
        delete = self.add_button("Delete", "deleteButton", self.delete)
        delete.setProperty("danger", True)

    def _load(self) -> list[ProductInfo]:
        st, actor = self.ctx.station, self.ctx.actor
        self._model_names = {m.id: f"{m.name} {m.version}" for m in st.models.list(actor)}
        return st.products.list(actor)

    def on_activated(self) -> None:
        self.edit()

    def _dialog(self, product: ProductInfo | None) -> ProductDialog | None:
        st, actor = self.ctx.station, self.ctx.actor
        try:
            warehouses, models = st.warehouses.list(actor), st.models.list(actor)
        except Exception as exc:  # noqa: BLE001 - shown to the person
            show_error(self, exc, self.ctx.log_path, context="loading warehouses and models")
            return None
        if not warehouses:
            show_error(self, StationError("Create a warehouse first: every product is kept in "
                                          "one."), self.ctx.log_path)
            return None
        dialog = ProductDialog(self.ctx, product, warehouses, models, self)
        self.open_dialog(dialog)
        return dialog

    def new_product(self) -> None:
        self._dialog(None)

    def edit(self) -> None:
        p = self.selected()
        if p is not None:
            self._dialog(p)

    def move(self) -> None:
        p = self.selected()
        if p is not None:
            dialog = self._dialog(p)
            if dialog is not None:
                dialog.warehouse.setFocus()   # a move is a change of warehouse: start there

    def edit_regions(self) -> RegionsDialog | None:
        """Which part of each side's photo is judged (issue 8): the Regions editor."""
        p = self.selected()
        if p is None:
            return None
        dialog = RegionsDialog(self.ctx, p, self)
        self.open_dialog(dialog)
        return dialog

    def delete(self) -> None:
        p = self.selected()
        if p is None:
            return
        service, actor = self.ctx.station.products, self.ctx.actor
        self.confirm(f"Delete product {p.sku}?",
                     lambda: self.call_service("deleting a product",
                                               lambda: service.delete(actor, p.id)),
                     yes_text="Delete")
