"""The Models panel's activation and rollback actions (a mixin of ``ModelsPanel``, kept apart so each
file reads in one sitting).

The gate (``app.model_gate.activation_gate``) rests on the selected model's stored evaluations:
none closes it; one on images the model was not trained on opens it; one that used training images
opens it only with the admin's explicit confirmation. Activation switches all chosen products in ONE
transaction (``station.models.activate``) and rollback swaps a product's model with its previous one
(``station.models.rollback``); both run in a worker through the panel's ``_start``.

Threading rule: GUI thread only.
"""
from __future__ import annotations

from PyQt5.QtWidgets import QDialog, QInputDialog

from app.model_figures import stored_rows
from app.model_gate import Gate, activate_products, activation_gate, rollback_product
from gui.models.activate_dialog import ActivateDialog
from gui.models.evaluation_view import model_thresholds
from gui.workers import TaskHandle


class ActivationActions:
    """Needs from the panel: ``selected_model()``, ``_evaluations``, ``_models``, ``_products``,
    ``_ctx``, ``_start``, ``_say``, ``refresh`` and the ``models_changed`` signal."""

    def activation_gate(self) -> Gate | None:
        model = self.selected_model()
        return None if model is None else activation_gate(model, self._evaluations)

    def activate(self, product_ids: list[int], confirmed: bool = False) -> TaskHandle | None:
        """Activate the selected model for ``product_ids`` (one transaction, in a worker) if the
        gate is open, and confirmed when its evaluation used training images."""
        model, gate = self.selected_model(), self.activation_gate()
        if model is None or not product_ids:
            return None
        if not gate.open or (gate.needs_confirmation and not confirmed):
            self._say(gate.message, error=True)
            return None
        self._say("")
        return self._start(f"Activating {model.name}", activate_products, self._ctx.station,
                           self._ctx.actor, model.id, list(product_ids),
                           on_success=lambda ids: self._on_activated(model, ids))

    def _on_activated(self, model, product_ids: list[int]) -> None:
        self.refresh(select_id=model.id)
        self._say(f"{model.name} {model.version} is active for {len(product_ids)} more product(s). "
                  "Their previous models are kept: Roll back product… returns one to it.")
        self.models_changed.emit()

    def rollback_choices(self) -> list[tuple[int, str]]:
        """Products that have a previous model, as (product id, what a rollback does)."""
        names = {m.id: f"{m.name} {m.version}" for m in self._models}
        return [(p.id, f"{p.name} ({p.sku}): back to {names.get(p.previous_model_id, '?')}")
                for p in self._products if getattr(p, "previous_model_id", None) is not None]

    def rollback(self, product_id: int) -> TaskHandle | None:
        return self._start("Rolling back", rollback_product, self._ctx.station, self._ctx.actor,
                           product_id, on_success=self._on_rolled_back)

    def _on_rolled_back(self, product) -> None:
        self.refresh()
        model = next((m for m in self._models if m.id == product.model_id), None)
        what = f"{model.name} {model.version}" if model else "its previous model"
        self._say(f"{product.name} ({product.sku}) is inspected with {what} again.")
        self.models_changed.emit()

    def activation_dialog(self) -> ActivateDialog | None:
        """The confirm dialog for the selected model, or None (and the reason shown) if the gate
        is closed."""
        model, gate = self.selected_model(), self.activation_gate()
        if model is None:
            return None
        if not gate.open:
            self._say(gate.message, error=True)
            return None
        rows = stored_rows(gate.evaluation.data, model_thresholds(model))
        return ActivateDialog(model, self._products, gate, rows, self)

    def open_activate_dialog(self) -> None:
        dialog = self.activation_dialog()
        if dialog is not None and dialog.exec_() == QDialog.Accepted:
            self.activate(dialog.chosen(), confirmed=dialog.confirmed())

    def open_rollback_dialog(self) -> None:
        choices = self.rollback_choices()
        if not choices:
            return
        text, ok = QInputDialog.getItem(self, "Roll back a product", "Give this product its previous "
                                        "model again:", [c[1] for c in choices], 0, False)
        if ok:
            self.rollback(next(pid for pid, label in choices if label == text))
