"""Choose the products a model becomes active for (a check list). GUI thread only; the panel makes
the service calls, which check the admin's rights again."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class ActivateDialog(QDialog):
    def __init__(self, model, products: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Activate {model.name} {model.version}")
        self.list = QListWidget(self)
        for p in products:
            active_elsewhere = p.model_id not in (None, model.id)
            item = QListWidgetItem(f"{p.name} ({p.sku})" + ("  – replaces its current model"
                                                              if active_elsewhere else ""))
            item.setData(Qt.UserRole, p.id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if p.model_id == model.id else Qt.Unchecked)
            if p.model_id == model.id:
                # A product always has a model once given one: it changes by activating another.
                item.setFlags(item.flags() & ~Qt.ItemIsEnabled)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.button(QDialogButtonBox.Ok).setText("Activate")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Inspect these products with this model:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def set_checked(self, product_ids: set[int]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if not item.flags() & Qt.ItemIsEnabled:
                continue
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in product_ids else Qt.Unchecked)

    def chosen(self) -> list[int]:
        """Products to activate the model for (those already using it are left out)."""
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked
                and self.list.item(i).flags() & Qt.ItemIsEnabled]
