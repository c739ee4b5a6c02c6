"""Confirm activating a model: the evaluation it rests on, its can-level figures (good cans rejected and
defective cans passed per 1000, with intervals), the products to switch, and, when the evaluation
used the model's own training images, an explicit confirmation before Activate can be pressed.

GUI thread only; the panel runs the activation (one transaction) in a worker, and the services
check the admin's rights again.
"""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model_figures import FigureRow, can_summary


class ActivateDialog(QDialog):
    def __init__(self, model, products: list, gate, rows: list[FigureRow],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Activate {model.name} {model.version}")
        self.gate_text = QLabel(gate.message, self)
        self.gate_text.setObjectName("activationGate")
        self.gate_text.setWordWrap(True)
        summary = can_summary(rows)
        self.figures_text = QLabel(
            (f"At its thresholds, on that evaluation: {summary}. A can is rejected when any of its "
             "sides is; the intervals show how little few images prove.") if summary else
            "The evaluation holds no can-level figures (it needs good and defective images).", self)
        self.figures_text.setObjectName("activationFigures")
        self.figures_text.setWordWrap(True)
        self.list = QListWidget(self)
        for p in products:
            active_elsewhere = p.model_id not in (None, model.id)
            item = QListWidgetItem(f"{p.name} ({p.sku})" + ("  – replaces its current model, which "
                                                              "stays one click away (Roll back)"
                                                              if active_elsewhere else ""))
            item.setData(Qt.UserRole, p.id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if p.model_id == model.id else Qt.Unchecked)
            if p.model_id == model.id:
                # A product always has a model once given one: it changes by activating another.
                item.setFlags(item.flags() & ~Qt.ItemIsEnabled)
            self.list.addItem(item)
        self.accept_box = QCheckBox("I accept figures measured on images the model was trained on", self)
        self.accept_box.setVisible(gate.needs_confirmation)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.activate_button = self.buttons.button(QDialogButtonBox.Ok)
        self.activate_button.setText("Activate")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._needs_confirmation = gate.needs_confirmation
        self.list.itemChanged.connect(lambda *_: self._update())
        self.accept_box.toggled.connect(lambda *_: self._update())
        layout = QVBoxLayout(self)
        layout.addWidget(self.gate_text)
        layout.addWidget(self.figures_text)
        layout.addWidget(QLabel("Inspect these products with this model:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.accept_box)
        layout.addWidget(self.buttons)
        self._update()

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

    def confirmed(self) -> bool:
        """True when no confirmation is needed or the admin ticked it."""
        return not self._needs_confirmation or self.accept_box.isChecked()

    def _update(self) -> None:
        self.activate_button.setEnabled(bool(self.chosen()) and self.confirmed())
