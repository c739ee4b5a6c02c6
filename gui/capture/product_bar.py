"""The product picker of the capture panel, with the state of the product's model: which model is
active, or a clear message (and, for admins, a way to the Models panel) when there is none.

Threading rule: GUI thread only. Catalogue reads are one short query each (``station`` services);
the model itself is only ever named here (its folder), loaded by the inference worker.
"""
from __future__ import annotations

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from app.regions import product_recipe
from core.scoring.calibration import Thresholds
from gui.errors import error_text
from gui.theme import error_style
from gui.widgets.elided_label import ElidedLabel


class ProductBar(QWidget):
    product_changed = pyqtSignal()
    open_models_requested = pyqtSignal()

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._products: list = []
        self.product = None          # db.dto.ProductInfo
        self.model = None            # db.dto.ModelInfo, the product's active model
        self.preload_id: int | None = None
        self.combo = QComboBox(self)
        self.combo.setObjectName("productPicker")
        self.combo.setMinimumWidth(220)
        # one line, shortened with "…" when narrow (the whole text in its tooltip): wrapped
        # into three lines it pushed the capture panel past a 640-pixel-high screen
        self.model_label = ElidedLabel("", self)
        self.model_label.setObjectName("modelState")
        self.build_button = QPushButton("Build a model…", self)
        self.build_button.setObjectName("buildModelButton")
        self.build_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Product:", self))
        layout.addWidget(self.combo)
        layout.addWidget(self.model_label, 1)
        layout.addWidget(self.build_button)
        self.combo.currentIndexChanged.connect(self._on_index)
        self.build_button.clicked.connect(self.open_models_requested)
        if ctx.inference is not None:
            ctx.inference.failed.connect(self._on_load_failed)

    @property
    def has_model(self) -> bool:
        return self.model is not None

    def refresh(self) -> None:
        """Reload the product list (keeps the selection when it still exists)."""
        keep = self.product.id if self.product is not None else None
        try:
            self._products = list(self._ctx.station.products.list(self._ctx.actor))
        except Exception as exc:  # noqa: BLE001 - shown; the panel stays usable
            self._products = []
            self.model_label.setText(error_text(exc, self._ctx.log_path, "listing products"))
        self.combo.blockSignals(True)
        self.combo.clear()
        for p in self._products:
            self.combo.addItem(f"{p.name} ({p.sku})", p.id)
        index = next((i for i, p in enumerate(self._products) if p.id == keep), 0)
        self.combo.setCurrentIndex(index if self._products else -1)
        self.combo.blockSignals(False)
        if not self._products:
            self.model_label.setText("No products yet. An admin can add one under Products.")
        self._on_index(self.combo.currentIndex())

    def select_product(self, product_id: int) -> None:
        index = self.combo.findData(product_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def _on_index(self, index: int) -> None:
        self.product = self._products[index] if 0 <= index < len(self._products) else None
        self._refresh_model()
        self.product_changed.emit()

    def _refresh_model(self) -> None:
        self.model = None
        self.build_button.hide()
        if self.product is None:
            return
        try:
            self.model = self._ctx.station.models.active_for_product(self._ctx.actor, self.product.id)
        except Exception as exc:  # noqa: BLE001
            self.model_label.setText(error_text(exc, self._ctx.log_path, "finding the model"))
            return
        if self.model is None:
            self.model_label.setText(self.no_model_text())
            self.model_label.setStyleSheet(error_style())
            self.build_button.setVisible(self._ctx.can("model.manage"))
            return
        self.model_label.setText(f"Model: {self.model.name} {self.model.version} "
                                 f"({self.model.kind}, {self.model.backbone})")
        self.model_label.setStyleSheet("")
        inference = self._ctx.inference
        if inference is not None:
            # Load ahead of the first can, so that its inspection is not the slow one.
            self.preload_id = inference.new_request_id()
            inference.load(self.model.folder, self.preload_id)

    def no_model_text(self) -> str:
        name = self.product.name if self.product is not None else "this product"
        return f"No model is active for {name}. An admin can build one in Models."

    def _on_load_failed(self, request_id: int, exc: BaseException) -> None:
        if request_id == self.preload_id and request_id is not None:
            self.show_model_error(error_text(exc, self._ctx.log_path, "loading a model"))

    def show_model_error(self, text: str) -> None:
        self.model_label.setText(text)
        self.model_label.setStyleSheet(error_style())

    def take(self, product, model) -> None:
        """What the last Inspect read (an admin may have switched models meanwhile)."""
        self.product, self.model = product, model
        if model is None:
            self.show_model_error(self.no_model_text())
            self.build_button.setVisible(self._ctx.can("model.manage"))


def fetch_for_inspection(progress, models, actor, product_id: int) -> tuple:
    """Worker side of each Inspect: ONE service call for the product and its active model, then
    the thresholds the can is judged with (the product's override, else the model's) and the
    product's inspection regions (``app.regions.product_recipe``; None: the model's default).
    Returns (product, model, thresholds, recipe)."""
    product, model = models.for_inspection(actor, product_id)
    chosen = product.thresholds or (model.thresholds if model is not None else None) or None
    return (product, model, Thresholds.from_dict(chosen) if chosen else None,
            product_recipe(product))
