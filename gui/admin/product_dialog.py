"""Create or edit a product: SKU, name, warehouse (moving it), quantity, side names, model.

Room in the target warehouse, unique SKUs and the seven side names are the service's rules; a
refusal appears under its field (a move that does not fit is shown under the warehouse).
The model is set through ``station.models.activate_for_product`` (the model registry's rule).

Threading: GUI thread only (the service calls run in ``ServiceFormDialog``'s worker).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtWidgets import QComboBox, QGridLayout, QLineEdit, QWidget

from core.sides import DEFAULT_SIDE_NAMES
from db.dto import ModelInfo, ProductInfo, WarehouseInfo
from db.errors import ValidationError
from gui.admin.form_dialog import ServiceFormDialog
from gui.admin.warehouse_dialog import cans_spin
from gui.context import AppContext


class ProductDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, product: ProductInfo | None,
                 warehouses: list[WarehouseInfo], models: list[ModelInfo],
                 parent: QWidget | None = None) -> None:
        title = "New product" if product is None else f"Edit product {product.sku}"
        super().__init__(ctx, title, "Create" if product is None else "Save", parent, width=760)
        self.product = p = product
        self.sku = self.add_row("SKU", "sku", QLineEdit(p.sku if p else "", objectName="sku"))
        self.name = self.add_row("Name", "name", QLineEdit(p.name if p else "", objectName="name"))
        self.warehouse = QComboBox(objectName="warehouse")
        for w in warehouses:
            # the product's own cans already count in its warehouse's "stored"
            room = w.free + (p.quantity if p and p.warehouse_id == w.id else 0)
            self.warehouse.addItem(f"{w.name} — room for {room:,} cans", w.id)
        if p is not None:
            self.warehouse.setCurrentIndex(max(0, self.warehouse.findData(p.warehouse_id)))
        self.add_row("Warehouse", "warehouse_id", self.warehouse)
        self.quantity = self.add_row("Quantity", "quantity", cans_spin("quantity", p.quantity if p else 0))
        self.side_edits = [QLineEdit(n, objectName=f"side{i}") for i, n in
                           enumerate(p.side_names if p else DEFAULT_SIDE_NAMES)]
        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, edit in enumerate(self.side_edits):
            grid.addWidget(edit, i // 4, i % 4)
        self.add_row("Side names", "side_names", grid_box)
        self.model = QComboBox(objectName="model")
        if p is None or p.model_id is None:
            self.model.addItem("None yet (set one before inspecting)", None)
        for m in models:
            self.model.addItem(f"{m.name} {m.version} ({m.kind}, {m.backbone})", m.id)
        if p is not None and p.model_id is not None:
            self.model.setCurrentIndex(max(0, self.model.findData(p.model_id)))
        elif models:
            self.model.setCurrentIndex(1)   # a new product gets a model at once when there is one
        self.add_row("Model", "model_id", self.model)
        self.sku.setFocus()

    def save(self) -> Callable[[], Any]:
        st, actor, p = self.ctx.station, self.ctx.actor, self.product
        values = dict(sku=self.sku.text().strip(), name=self.name.text().strip(),
                      warehouse_id=self.warehouse.currentData(), quantity=self.quantity.value(),
                      side_names=[e.text().strip() for e in self.side_edits])
        model_id = self.model.currentData()
        self._moving = p is not None and values["warehouse_id"] != p.warehouse_id
        if p is None:
            return lambda: st.products.create(actor, model_id=model_id, **values)

        def update() -> ProductInfo:
            info = st.products.update(actor, p.id, **values)
            if model_id is not None and model_id != info.model_id:
                st.models.activate_for_product(actor, model_id, p.id)
                info = st.products.get(actor, p.id)
            return info
        return update

    def on_error(self, exc: BaseException) -> None:
        # The service names "quantity" when the cans do not fit; for a move the warehouse is
        # what the person changed, so that is where the message belongs.
        if (isinstance(exc, ValidationError) and exc.field == "quantity" and self._moving
                and self.quantity.value() == self.product.quantity):
            self.errors.show("warehouse_id", exc.message)
            return
        super().on_error(exc)
